/* test/apiserver/rbac.h: authorization as kube-apiserver decides it with --authorization-mode=RBAC:
 * the group system:masters may do everything; anyone else what some ClusterRoleBinding, or a
 * RoleBinding in the request's namespace, grants to the user, a group of theirs or their
 * ServiceAccount, through the rules of its Role or ClusterRole. Also the bootstrap roles a real
 * cluster starts with (cluster-admin, system:discovery, system:basic-user,
 * system:public-info-viewer and their bindings) and the Forbidden message. Aggregated
 * ClusterRoles and the escalation check on writes to RBAC objects are not implemented. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "test/apiserver/store.h"

/* Who asks. Besides @groups, every user is in system:authenticated, and a ServiceAccount user
 * ("system:serviceaccount:NS:NAME") in system:serviceaccounts and system:serviceaccounts:NS. */
struct rbac_user {
        const char *name;
        const char *const *groups;  /* borrowed */
        size_t ngroups;
};

/* What is asked (kube-apiserver's authorizer.Attributes). Unused strings are "" or NULL. */
struct rbac_attrs {
        bool resource_request;
        const char *verb;         /* get list watch create update patch delete deletecollection
                                   * impersonate ...; for paths the lower-case method */
        const char *group;        /* API group ("" for core) */
        const char *resource;     /* plural */
        const char *subresource;  /* "status", or NULL */
        const char *ns;           /* NULL or "" for cluster-wide */
        const char *name;         /* NULL or "" for collections and creates */
        const char *path;         /* non-resource requests: "/version" */
};

/* True if @u is in @group (explicitly or implicitly). */
bool rbac_user_in_group(const struct rbac_user *u, const char *group);
/* True if the PolicyRule @rule allows @at. */
bool rbac_rule_allows(const json_t *rule, const struct rbac_attrs *at);
/* True if the binding subject @subject names @u; @binding_ns is the RoleBinding's namespace
 * (the default of a ServiceAccount subject's), "" for a ClusterRoleBinding. */
bool rbac_subject_matches(const json_t *subject, const char *binding_ns, const struct rbac_user *u);
/* Store locked. True if @u may do @at, by system:masters or the RBAC objects in @st. */
bool rbac_authorize(struct store *st, const struct rbac_user *u, const struct rbac_attrs *at);
/* kube-apiserver's Forbidden Status message for @at denied to @u, into @buf. Returns @buf. */
const char *rbac_forbidden_message(const struct rbac_user *u, const struct rbac_attrs *at, char *buf, size_t n);
/* The bootstrap ClusterRoles then ClusterRoleBindings: a new array of objects, NULL on OOM. */
json_t *rbac_bootstrap_objects(void);

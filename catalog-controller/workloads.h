/* catalog-controller/workloads.h: telling workloads that a binding's Secret has new credentials
 * (opt-in, off by default): the Deployments, StatefulSets and DaemonSets of the binding's
 * namespace that mount the Secret or load it into the environment get a pod-template annotation,
 * so they roll out with the new credentials. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/osb_error.h"
#include "catalog-controller/ctl.h"

/* On a Deployment, StatefulSet or DaemonSet: "true" asks for the roll. On a ServiceBinding:
 * "true" rolls every such workload that uses its Secret, annotated or not. */
#define WORKLOADS_ANNOTATION_OPT_IN "bindery.dev/restart-on-rotation"
/* Set on the pod template: the time of the rotation (the same value twice rolls once). */
#define WORKLOADS_ANNOTATION_STAMP "bindery.dev/credentials-rotated-at"

/* Whether @workload (an apps/v1 object, borrowed) uses Secret @secret in its pod template: a
 * secret or projected volume, or a container's or init container's envFrom.secretRef or
 * env[].valueFrom.secretKeyRef. Pure. */
bool workloads_uses_secret(const json_t *workload, const char *secret);

/* Whether @obj carries WORKLOADS_ANNOTATION_OPT_IN: "true". Pure. */
bool workloads_opted_in(const json_t *obj);

/* Sets the pod-template annotation WORKLOADS_ANNOTATION_STAMP=@stamp (merge patch) on every
 * workload of @ns that uses @secret and is opted in (@all: opted in or not), unless it already
 * has that value. A kind the API server does not serve counts as none. Returns 0 with *patched
 * the number patched, or a negative code with @err (the workloads patched so far stay). */
int workloads_restart(struct ctl *c, const char *ns, const char *secret, bool all, const char *stamp,
                      unsigned *patched, char *names, size_t names_len, struct osb_error *err);

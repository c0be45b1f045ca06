/* catalog-controller/names.h: the names and label values service-catalog gives to objects it
 * creates, so objects made by either controller are the same objects. */
#pragma once

#include <stddef.h>

/* The Kubernetes name of a class or plan with OSB id @id: service-catalog's GenerateEscapedName.
 * 'a'-'y' and '0'-'9' are kept; '.' is kept unless first, last, or after '.' or '-'; '-' is kept
 * unless first, last, or after '.'; every other code point (upper case, 'z', '_' ...) becomes
 * "z<lowercase hex of the code point>z" (an invalid UTF-8 byte counts as U+FFFD). A result
 * longer than 63 is cut to 30 characters, a trailing '.' dropped, then "-" and the 32 hex
 * digits of the MD5 of @id are appended. Returns 0 with *ret new, or -ENOMEM. */
int names_escape(const char *id, char **ret);

/* The value of a servicecatalog.k8s.io/<field> label for @value: hex SHA-224, 56 characters. */
#define NAMES_LABEL_VALUE_LEN 56
char *names_label_value(const char *value, char out[NAMES_LABEL_VALUE_LEN + 1]);

/* Label keys the controller writes. */
#define NAMES_LABEL_EXTERNAL_ID "servicecatalog.k8s.io/spec.externalID"
#define NAMES_LABEL_EXTERNAL_NAME "servicecatalog.k8s.io/spec.externalName"
#define NAMES_LABEL_CLUSTER_BROKER "servicecatalog.k8s.io/spec.clusterServiceBrokerName"
#define NAMES_LABEL_BROKER "servicecatalog.k8s.io/spec.serviceBrokerName"
#define NAMES_LABEL_CLUSTER_CLASS_REF "servicecatalog.k8s.io/spec.clusterServiceClassRef.name"
#define NAMES_LABEL_CLASS_REF "servicecatalog.k8s.io/spec.serviceClassRef.name"

/* service-catalog's finalizer, so objects migrate between the two controllers. */
#define NAMES_FINALIZER "kubernetes-incubator/service-catalog"

/* Our annotations. */
#define NAMES_ANNOTATION_ABANDON "bindery.dev/abandon"                       /* "true" */
#define NAMES_ANNOTATION_ORPHAN_MITIGATION "bindery.dev/orphan-mitigation"   /* "disabled" */
/* "true" with spec.externalID: take over what the broker already holds, without provisioning
 * or binding (docs/controller.md, "Adoption and orphaning") */
#define NAMES_ANNOTATION_ADOPT "bindery.dev/adopt"
/* on a ServiceInstance: which other namespaces may bind to it ("true"; "ns1,ns2"); the names
 * of SAP's service operator, under our prefix */
#define NAMES_ANNOTATION_ALLOW_CROSS_NS "bindery.dev/allowCrossNamespaceBinding"
#define NAMES_ANNOTATION_ALLOWED_NS "bindery.dev/allowedNamespacesForBinding"
/* on a ServiceInstance: the ServiceBinding whose Secret its status.binding.name names (servicebinding.io) */
#define NAMES_ANNOTATION_SERVICEBINDING "bindery.dev/servicebinding"

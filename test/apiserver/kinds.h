/* test/apiserver/kinds.h: defaults and validation of the workload and RBAC kinds deploy/ writes
 * (Pod, Service, PersistentVolumeClaim, Deployment, StatefulSet, DaemonSet, PodDisruptionBudget,
 * Role, ClusterRole and their bindings): the required fields and immutable fields kube-apiserver
 * enforces, and the defaults it fills in, so `kubectl apply` sees what a real cluster answers.
 * Nothing runs them: a Deployment, StatefulSet or DaemonSet just stays stored. */
#pragma once

#include <jansson.h>

#include "test/apiserver/types.h"

/* Defaults and validates @obj (a create when @old is NULL, else an update of @old) of one of
 * those kinds in place; every refusal is appended to @causes as a 422 cause (reason, field,
 * message). Other kinds are left alone. Returns 0 or -ENOMEM. */
int kinds_prepare(const struct kt_type *t, json_t *obj, const json_t *old, json_t *causes);

/* catalog-controller/condition.h: the conditions of a status held as JSON (status.conditions,
                                                                            * an array of {type, status, lastTransitionTime, reason, message}), shaped as service-catalog
 * shapes them, with status.lastConditionState kept in step. Pure: no I/O, no state. The caller
 * owns @status. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* A condition that tells, not what state the object is in (lastConditionState skips it): a
 * ServiceInstance's plan has a newer maintenance_info version. */
#define CONDITION_INFORMATIONAL "UpgradeAvailable"

/* Condition @type in @status (a JSON object), borrowed, or NULL. */
json_t *condition_get(const json_t *status, const char *type);
bool condition_is(const json_t *status, const char *type, const char *value);
/* Sets condition @type; lastTransitionTime changes only when status flips (or it is new).
 * Recomputes status.lastConditionState (the last condition's type when it is True, else its
 * reason: what `kubectl get` prints; CONDITION_INFORMATIONAL is skipped). Returns 0 or -ENOMEM. */
int condition_set(json_t *status, const char *type, const char *value, const char *reason, const char *message,
                  const char *now);
void condition_remove(json_t *status, const char *type);

/* catalog-controller/rotation.h: when a ServiceBinding's credentials are rotated (pure): its
 * spec.credentialsRotationPolicy (SAP's sap-btp-service-operator field names), the schedule
 * decision (scheduled, forced, expiry-driven) and when a retired binding is unbound. The
 * reconciler (reconcile_binding.c) carries the decision out; docs/controller.md, "Credential
 * rotation", says what a user sees. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/osb_error.h"

/* The annotation that asks for a rotation now (SAP's name; any value). */
#define ROTATION_ANNOTATION_FORCE "services.cloud.sap.com/forceRotate"
/* How long a retired binding stays bound when the policy names no rotatedBindingTTL. */
#define ROTATION_DEFAULT_TTL_S 3600

struct rotation_policy {
        bool enabled;                /* spec.credentialsRotationPolicy.enabled */
        int64_t frequency_s;         /* rotationFrequency; 0: none */
        int64_t ttl_s;               /* rotatedBindingTTL (ROTATION_DEFAULT_TTL_S when unset) */
};

/* Reads spec.credentialsRotationPolicy of @spec (borrowed; absent: disabled). Returns 0 with
 * *ret, or OSB_E_BAD_REQUEST with @err naming the field ("spec.credentialsRotationPolicy.
 * rotationFrequency: not a duration such as 720h or 90m"; the value is not quoted), with *ret
 * untouched. enabled without a rotationFrequency is an error too. */
int rotation_policy_parse(const json_t *spec, struct rotation_policy *ret, struct osb_error *err);

enum rotation_reason {
        ROTATION_NONE,
        ROTATION_SCHEDULED,          /* rotationFrequency since the last rotation */
        ROTATION_EXPIRY,             /* the broker's metadata.renew_before / expires_at */
        ROTATION_FORCED,             /* ROTATION_ANNOTATION_FORCE or `kubectl svcat rotate binding` */
        ROTATION_SPEC_CHANGED,       /* a new generation of a binding already rotated */
};

/* What is known of the current binding; 0 = unknown. */
struct rotation_times {
        time_t last;                 /* status.lastCredentialsRotationTime (or when first bound) */
        time_t expires_at;           /* the bind response's metadata.expires_at */
        time_t renew_before;         /* its metadata.renew_before */
};

/* The schedule: *next_at is when the next rotation is due (0: never: no policy and no expiry),
 * and the return value why, when it is due at @now (ROTATION_NONE while it is not yet).
 * Scheduled: last + frequency when the policy is enabled. Expiry, whatever the policy: at
 * renew_before when the broker gave one, else when four fifths of the time from @last to
 * expires_at have passed (at once when @last is unknown); the earlier of the two wins, expiry
 * on a tie. @forced: due now, whatever the rest says. */
enum rotation_reason rotation_decide(const struct rotation_policy *pol, const struct rotation_times *t, bool forced,
                                     time_t now, time_t *next_at);

/* "Scheduled", "Expiry", "Forced", "SpecChanged", or "" for ROTATION_NONE. */
const char *rotation_reason_name(enum rotation_reason r);

/* A retired binding whose rotatedBindingTTL ended at @unbind_after is unbound at @now. */
bool rotation_retired_due(time_t unbind_after, time_t now);

/* The name of the Secret that keeps a retired binding's credentials: @secret_name, '-', and
 * the first 10 hex digits of the SHA-224 of @external_id, @secret_name cut so the whole stays
 * within 253 characters. Returns a new string, or NULL (out of memory). */
char *rotation_retired_secret_name(const char *secret_name, const char *external_id);

/* catalog-controller/leader.h: leader election on a coordination.k8s.io/v1 Lease, with the
 * semantics of client-go's leaderelection. The decisions (leader_decide() and friends) are pure
 * functions of the Lease and a monotonic clock, for tests; the elector runs them on a thread of
 * its own against the API server.
 *
 * A candidate takes the Lease when it is absent, released (empty holderIdentity), held by
 * itself, or expired: no change to it was observed for leaseDurationSeconds, measured by the
 * candidate's own monotonic clock from when it last saw the record change (client-go's
 * observedTime), so clocks of different hosts never need to agree. Writes carry the
 * resourceVersion read, so of two candidates only one wins (the other gets a 409). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "kube/client.h"

/* The spec of a Lease. Strings owned (leader_record_release()); NULL when absent. */
struct leader_record {
        char *holder;                 /* spec.holderIdentity; NULL or "" once released */
        int64_t lease_duration_s;     /* spec.leaseDurationSeconds */
        char *acquire_time, *renew_time;
        int64_t transitions;          /* spec.leaseTransitions */
};

/* Reads @lease's spec. Returns 0 with *ret filled in, or -ENOMEM. */
int leader_record_from_json(const json_t *lease, struct leader_record *ret);
void leader_record_release(struct leader_record *r);

/* What a candidate has seen of the Lease. Start with LEADER_VIEW_INIT; release with
 * leader_view_release(). */
struct leader_view {
        struct leader_record seen;    /* the last record observed */
        bool have;                    /* a record was observed */
        int64_t observed_ms;          /* monotonic time at which it was first seen as it is */
};
#define LEADER_VIEW_INIT {.have = false}
void leader_view_release(struct leader_view *v);

/* Notes @rec as observed at @now_ms: the observation time moves only when the record differs
 * from the last one seen. Returns 1 when it changed, 0 when not, -ENOMEM. */
int leader_observe(struct leader_view *v, const struct leader_record *rec, int64_t now_ms);

/* Whether the record last observed has expired at @now_ms: no change seen for its
 * leaseDurationSeconds (a duration of 0 or less counts as @default_duration_ms). */
bool leader_expired(const struct leader_view *v, int64_t default_duration_ms, int64_t now_ms);

enum leader_decision {
        LEADER_CREATE,       /* no Lease: create it, holding it */
        LEADER_TAKE,         /* released, or expired: take it over (a transition) */
        LEADER_RENEW,        /* ours: renew it */
        LEADER_WAIT,         /* someone else's, still valid: wait */
};

/* The candidate @identity's move, given the Lease's record @rec (NULL: there is no Lease),
 * observed at @now_ms (leader_observe() is called on @v). */
enum leader_decision leader_decide(struct leader_view *v, const struct leader_record *rec, const char *identity,
                                   int64_t default_duration_ms, int64_t now_ms);

/* Whether a leader whose last successful renewal began at @last_renew_ms has lost leadership at
 * @now_ms: more than @renew_deadline_ms went by. */
bool leader_renew_overdue(int64_t last_renew_ms, int64_t renew_deadline_ms, int64_t now_ms);

/* The Lease to write for @d (LEADER_CREATE, LEADER_TAKE or LEADER_RENEW): @live (borrowed; NULL
 * for LEADER_CREATE) with its spec set for holder @identity at wall time @now_micro (a
 * MicroTime, "2006-01-02T15:04:05.000000Z"). TAKE sets acquireTime and adds one to
 * leaseTransitions; RENEW keeps both. @ns and @name name a new Lease. Returns new, or NULL (OOM). */
json_t *leader_lease_for(const json_t *live, enum leader_decision d, const char *ns, const char *name,
                         const char *identity, int64_t lease_duration_s, const char *now_micro);
/* The Lease @live (borrowed) released as client-go's ReleaseOnCancel does: holderIdentity "",
 * leaseDurationSeconds 1, acquireTime and renewTime @now_micro, leaseTransitions kept. Returns
 * new, or NULL (OOM). */
json_t *leader_lease_released(const json_t *live, const char *now_micro);

/* Wall time now as a MicroTime. */
void leader_now_micro(char out[40]);

/* ---- the elector ---- */

struct leader_options {
        const char *ns, *name, *identity;       /* borrowed for the elector's lifetime */
        int64_t lease_ms, renew_deadline_ms, retry_ms;
};

struct leader_elector;

/* Starts campaigning on a thread of its own. @client is borrowed (best a client of its own,
 * with a request time limit no longer than the renew deadline, and never cancelled before
 * leader_stop()). Each transition is logged as one line. When the leader cannot renew within
 * the renew deadline it logs "leadership lost" and ends the process with exit status 1 at once
 * (as client-go's default OnStoppedLeading does): reconciling must stop, and the Pod's restart
 * makes it a candidate again. Returns 0 with *ret new, -ENOMEM, or -errno. */
int leader_start(struct kube_client *client, const struct leader_options *opts, struct leader_elector **ret);
/* Whether this process leads now. NULL-safe (false). */
bool leader_leading(struct leader_elector *e);
/* For workers, before each reconcile: when the last renewal is older than the renew deadline
 * (the process was stopped, say), leadership is lost: logs it and exits as above. NULL-safe. */
void leader_check(struct leader_elector *e);
/* Stops campaigning; when @release and leading, releases the Lease so another candidate takes
 * over at once. NULL-safe; returns NULL. */
struct leader_elector *leader_stop(struct leader_elector *e, bool release);

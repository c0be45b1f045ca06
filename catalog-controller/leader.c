/* catalog-controller/leader.c: Lease-based leader election: the decisions, and the elector
 * thread that applies them. */
#include "common/osb_compat.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/leader.h"

/* ---- the decisions ---- */

static int dup_str(const json_t *v, char **ret)
{
        const char *s = json_string_value(v);
        *ret = NULL;
        if (!s)
                return 0;
        *ret = osb_strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int leader_record_from_json(const json_t *lease, struct leader_record *ret)
{
        struct leader_record r = {0};
        json_t *spec = json_object_get(lease, "spec");
        if (dup_str(json_object_get(spec, "holderIdentity"), &r.holder) < 0 ||
            dup_str(json_object_get(spec, "acquireTime"), &r.acquire_time) < 0 ||
            dup_str(json_object_get(spec, "renewTime"), &r.renew_time) < 0) {
                leader_record_release(&r);
                return -ENOMEM;
        }
        r.lease_duration_s = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
        r.transitions = json_integer_value(json_object_get(spec, "leaseTransitions"));
        *ret = r;
        return 0;
}

void leader_record_release(struct leader_record *r)
{
        osb_free(r->holder);
        osb_free(r->acquire_time);
        osb_free(r->renew_time);
        *r = (struct leader_record){0};
}

void leader_view_release(struct leader_view *v)
{
        leader_record_release(&v->seen);
        v->have = false;
}

static bool same_record(const struct leader_record *a, const struct leader_record *b)
{
        return osb_streq(a->holder, b->holder) && osb_streq(a->acquire_time, b->acquire_time) &&
               osb_streq(a->renew_time, b->renew_time) && a->lease_duration_s == b->lease_duration_s &&
               a->transitions == b->transitions;
}

int leader_observe(struct leader_view *v, const struct leader_record *rec, int64_t now_ms)
{
        if (v->have && same_record(&v->seen, rec))
                return 0;
        struct leader_record copy = {.lease_duration_s = rec->lease_duration_s, .transitions = rec->transitions};
        if ((rec->holder && !(copy.holder = osb_strdup(rec->holder))) ||
            (rec->acquire_time && !(copy.acquire_time = osb_strdup(rec->acquire_time))) ||
            (rec->renew_time && !(copy.renew_time = osb_strdup(rec->renew_time)))) {
                leader_record_release(&copy);
                return -ENOMEM;
        }
        leader_record_release(&v->seen);
        v->seen = copy;
        v->have = true;
        v->observed_ms = now_ms;
        return 1;
}

bool leader_expired(const struct leader_view *v, int64_t default_duration_ms, int64_t now_ms)
{
        if (!v->have)
                return true;
        int64_t d = v->seen.lease_duration_s > 0 ? v->seen.lease_duration_s * 1000 : default_duration_ms;
        return v->observed_ms + d <= now_ms;
}

enum leader_decision leader_decide(struct leader_view *v, const struct leader_record *rec, const char *identity,
                                   int64_t default_duration_ms, int64_t now_ms)
{
        if (!rec)
                return LEADER_CREATE;
        /* on OOM the old observation stands: at worst the candidate waits longer */
        (void) leader_observe(v, rec, now_ms);
        if (rec->holder && osb_streq(rec->holder, identity))
                return LEADER_RENEW;
        if (!rec->holder || !*rec->holder)
                return LEADER_TAKE;
        return leader_expired(v, default_duration_ms, now_ms) ? LEADER_TAKE : LEADER_WAIT;
}

bool leader_renew_overdue(int64_t last_renew_ms, int64_t renew_deadline_ms, int64_t now_ms)
{
        return now_ms - last_renew_ms > renew_deadline_ms;
}

json_t *leader_lease_for(const json_t *live, enum leader_decision d, const char *ns, const char *name,
                         const char *identity, int64_t lease_duration_s, const char *now_micro)
{
        json_auto_t *obj = live ? json_deep_copy(live) :
                           json_pack("{s:s,s:s,s:{s:s,s:s},s:{}}", "apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
                                     "metadata", "name", name, "namespace", ns, "spec");
        if (!obj)
                return NULL;
        json_t *spec = json_object_get(obj, "spec");
        if (!json_is_object(spec)) {
                spec = json_object();
                if (!spec || json_object_set_new(obj, "spec", spec) < 0)
                        return NULL;
        }
        json_int_t transitions = json_integer_value(json_object_get(spec, "leaseTransitions"));
        const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
        bool take = d != LEADER_RENEW;
        /* a transition is a change of holder: client-go counts one whenever the holder was not us */
        if (d == LEADER_TAKE && !osb_streq(holder, identity))
                transitions++;
        if (d == LEADER_CREATE)
                transitions = 0;
        if (json_object_set_new(spec, "holderIdentity", json_string(identity)) < 0 ||
            json_object_set_new(spec, "leaseDurationSeconds", json_integer(lease_duration_s)) < 0 ||
            json_object_set_new(spec, "renewTime", json_string(now_micro)) < 0 ||
            json_object_set_new(spec, "leaseTransitions", json_integer(transitions)) < 0)
                return NULL;
        if ((take || !json_object_get(spec, "acquireTime")) &&
            json_object_set_new(spec, "acquireTime", json_string(now_micro)) < 0)
                return NULL;
        return OSB_TAKE_PTR(obj);
}

json_t *leader_lease_released(const json_t *live, const char *now_micro)
{
        json_auto_t *obj = json_deep_copy(live);
        if (!obj)
                return NULL;
        json_t *spec = json_object_get(obj, "spec");
        if (!json_is_object(spec))
                return NULL;
        if (json_object_set_new(spec, "holderIdentity", json_string("")) < 0 ||
            json_object_set_new(spec, "leaseDurationSeconds", json_integer(1)) < 0 ||
            json_object_set_new(spec, "acquireTime", json_string(now_micro)) < 0 ||
            json_object_set_new(spec, "renewTime", json_string(now_micro)) < 0)
                return NULL;
        return OSB_TAKE_PTR(obj);
}

void leader_now_micro(char out[40])
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        osb_time_format_rfc3339_micro(&ts, out);
}

/* ---- the elector ---- */

struct leader_elector {
        struct kube_client *client;
        struct leader_options opts;
        struct leader_view view;            /* elector thread only */
        atomic_bool leading;
        atomic_int_least64_t last_renew_ms; /* monotonic start of the last successful write */
        atomic_bool lost;                   /* the process is on its way out */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stopping;
        pthread_t thread;
        bool started;
};

/* Leadership is gone and the process may still hold keys: end it now (client-go's
 * OnStoppedLeading is fatal by default). Only one thread logs. */
static _Noreturn void lose(struct leader_elector *e, int64_t since_ms)
{
        if (!atomic_exchange(&e->lost, true)) {
                osb_log_error("leadership lost", "lease=%s/%s identity=%s last_renew_ms_ago=%" PRId64
                              " renew_deadline_ms=%" PRId64 " action=exit", e->opts.ns, e->opts.name,
                              e->opts.identity, since_ms, e->opts.renew_deadline_ms);
                fflush(NULL);
                _exit(EXIT_FAILURE);
        }
        for (;;)
                pause();        /* the first thread is exiting the process */
}

void leader_check(struct leader_elector *e)
{
        if (!e || !atomic_load(&e->leading))
                return;
        int64_t now = osb_mono_ms(), last = atomic_load(&e->last_renew_ms);
        if (leader_renew_overdue(last, e->opts.renew_deadline_ms, now))
                lose(e, now - last);
}

bool leader_leading(struct leader_elector *e)
{
        return e && atomic_load(&e->leading);
}

/* One round of client-go's tryAcquireOrRenew. Returns 0 when we hold the Lease now, 1 when
 * someone else does, or a negative code with @err. */
static int try_acquire_or_renew(struct leader_elector *e, int64_t now_ms, struct osb_error *err)
{
        const struct leader_options *o = &e->opts;
        json_auto_t *live = NULL;
        char now[40];
        int r = kapi_get(e->client, &kube_leases, o->ns, o->name, &live, err);
        if (r < 0 && r != OSB_E_NOT_FOUND)
                return r;
        int64_t dur_s = (o->lease_ms + 999) / 1000;
        leader_now_micro(now);
        if (r == OSB_E_NOT_FOUND) {
                *err = (struct osb_error) OSB_ERROR_INIT;
                json_auto_t *obj = leader_lease_for(NULL, LEADER_CREATE, o->ns, o->name, o->identity, dur_s, now);
                if (!obj)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                r = kapi_create(e->client, &kube_leases, o->ns, obj, NULL, err);
                return r == OSB_E_CONFLICT ? 1 : r;     /* another candidate created it first */
        }
        struct leader_record rec;
        if (leader_record_from_json(live, &rec) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        const char *prev = e->view.have ? e->view.seen.holder : NULL;
        bool new_holder = !e->view.have || !osb_streq(prev, rec.holder);
        enum leader_decision d = leader_decide(&e->view, &rec, o->identity, o->lease_ms, now_ms);
        if (d == LEADER_WAIT && new_holder) {
                osb_log_info("new leader observed", "lease=%s/%s leader=%s", o->ns, o->name, rec.holder);
        }
        leader_record_release(&rec);
        if (d == LEADER_WAIT)
                return 1;
        json_auto_t *obj = leader_lease_for(live, d, o->ns, o->name, o->identity, dur_s, now);
        if (!obj)
                return osb_error_set(err, -ENOMEM, "out of memory");
        r = kapi_update(e->client, &kube_leases, o->ns, obj, NULL, err);
        return r == OSB_E_CONFLICT ? 1 : r;     /* resourceVersion moved: someone else wrote it */
}

/* Waits @ms or until stopping. Returns true when stopping. */
static bool wait_or_stop(struct leader_elector *e, int64_t ms)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (ms % 1000) * 1000000;
        ts.tv_sec += ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_mutex_lock(&e->lock);
        while (!e->stopping)
                if (pthread_cond_timedwait(&e->cond, &e->lock, &ts) == ETIMEDOUT)
                        break;
        bool s = e->stopping;
        pthread_mutex_unlock(&e->lock);
        return s;
}

static void *elector_main(void *arg)
{
        struct leader_elector *e = arg;
        const struct leader_options *o = &e->opts;
        const char *q = o->identity;
        unsigned failures = 0;
        do {
                int64_t t0 = osb_mono_ms();
                /* checked before the request too: a process stopped past the deadline (SIGSTOP,
                 * a paused VM) must not win the Lease back and carry on as if nothing happened */
                leader_check(e);
                struct osb_error err = OSB_ERROR_INIT;
                int r = try_acquire_or_renew(e, t0, &err);
                if (r == 0) {
                        atomic_store(&e->last_renew_ms, t0);
                        if (!atomic_load(&e->leading)) {
                                atomic_store(&e->leading, true);
                                osb_log_info("leadership acquired", "lease=%s/%s identity=%s transitions=%" PRId64,
                                             o->ns, o->name, q, e->view.have ? e->view.seen.transitions : 0);
                        } else if (failures) {
                                osb_log_info("lease renewed", "lease=%s/%s identity=%s after_failures=%u", o->ns,
                                             o->name, q, failures);
                        }
                        failures = 0;
                } else if (atomic_load(&e->leading)) {
                        if (r == 1)     /* someone else holds it: we are certainly not leading */
                                lose(e, t0 - atomic_load(&e->last_renew_ms));
                        failures++;
                        osb_log_warn("lease renewal failed", "lease=%s/%s identity=%s failures=%u error=%s", o->ns,
                                     o->name, q, failures, err.text);
                        leader_check(e);
                } else if (r < 0) {
                        osb_log_warn("lease read failed", "lease=%s/%s error=%s", o->ns, o->name, err.text);
                }
        } while (!wait_or_stop(e, o->retry_ms));
        return NULL;
}

int leader_start(struct kube_client *client, const struct leader_options *opts, struct leader_elector **ret)
{
        struct leader_elector *e = osb_calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->client = client;
        e->opts = *opts;
        e->view = (struct leader_view) LEADER_VIEW_INIT;
        atomic_init(&e->leading, false);
        atomic_init(&e->lost, false);
        atomic_init(&e->last_renew_ms, 0);
        pthread_mutex_init(&e->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&e->cond, &ca);
        pthread_condattr_destroy(&ca);
        int r = pthread_create(&e->thread, NULL, elector_main, e);
        if (r != 0) {
                leader_stop(e, false);
                return -r;
        }
        e->started = true;
        *ret = e;
        return 0;
}

/* Writes the released Lease when it is still ours. Returns 0, 1 (not ours any more), or an
 * error with @err. */
static int release(struct leader_elector *e, struct osb_error *err)
{
        json_auto_t *live = NULL;
        char now[40];
        int r = kapi_get(e->client, &kube_leases, e->opts.ns, e->opts.name, &live, err);
        if (r < 0)
                return r;
        const char *holder = json_string_value(json_object_get(json_object_get(live, "spec"), "holderIdentity"));
        if (!osb_streq(holder, e->opts.identity))
                return 1;
        leader_now_micro(now);
        json_auto_t *obj = leader_lease_released(live, now);
        if (!obj)
                return osb_error_set(err, -ENOMEM, "out of memory");
        return kapi_update(e->client, &kube_leases, e->opts.ns, obj, NULL, err);
}

struct leader_elector *leader_stop(struct leader_elector *e, bool rel)
{
        if (!e)
                return NULL;
        pthread_mutex_lock(&e->lock);
        e->stopping = true;
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
        if (e->started)
                pthread_join(e->thread, NULL);
        if (rel && atomic_load(&e->leading)) {
                /* past the deadline another candidate may lead already: writing would be wrong */
                leader_check(e);
                struct osb_error err = OSB_ERROR_INIT;
                const char *q = e->opts.identity;
                int r = release(e, &err);
                if (r == 0)
                        osb_log_info("leadership released", "lease=%s/%s identity=%s", e->opts.ns, e->opts.name, q);
                else
                        osb_log_warn("cannot release the lease", "lease=%s/%s identity=%s error=%s", e->opts.ns,
                                     e->opts.name, q, r == 1 ? "held by another candidate" : err.text);
                atomic_store(&e->leading, false);
        }
        leader_view_release(&e->view);
        pthread_cond_destroy(&e->cond);
        pthread_mutex_destroy(&e->lock);
        osb_free(e);
        return NULL;
}

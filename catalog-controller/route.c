/* catalog-controller/route.c: informer events to queue keys. */
#include "common/osb_compat.h"

#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/ctl.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/route.h"

static void enqueue(struct ctl *c, const char *prefix, const char *key)
{
        char *k = osb_asprintf("%s%s", prefix, key);
        if (!k || queue_add(c->queue, k) < 0)
                osb_log_error("cannot enqueue", "key=%s", key);
        osb_free(k);
}

/* Queues @prefix + the key of every object of @inf indexed under @ikey (stolen; NULL: out of
 * memory). Costs the objects found, not the cache's size. */
static void wake_indexed(struct ctl *c, struct informer *inf, const char *prefix, char *ikey)
{
        struct informer_kmeta **v = NULL;
        size_t n = 0;
        if (!inf) {             /* callers pass ctl's pointers only once ctl.started */
                osb_free(ikey);
                return;
        }
        if (!ikey || informer_index_snapshot(inf, ikey, &v, &n) < 0)
                osb_log_error("cannot look up dependents", "index=%s", ikey ? ikey : "?");
        for (size_t i = 0; i < n; i++)
                enqueue(c, prefix, v[i]->key);
        informer_snapshot_free(inf, v, n);
        osb_free(ikey);
}

/* Instances waiting for a class, plan or broker to appear (Ready=False References*). */
static void wake_unresolved(struct ctl *c)
{
        if (atomic_load(&c->started))   /* before the start every instance is reconciled anyway */
                wake_indexed(c, c->instances, CTL_KEY_INSTANCE, osb_strdup(CACHED_IKEY_UNRESOLVED));
}

void route_instance(void *userdata, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        struct ctl *c = userdata;
        const struct cached *o = (const struct cached *) (new ? new : old), *was = (const struct cached *) old;
        if (new)
                enqueue(c, CTL_KEY_INSTANCE, new->key);
        if (atomic_load(&c->started) &&
            (ev == INFORMER_ADD || ev == INFORMER_DELETE ||
             (ev == INFORMER_UPDATE && ((o->ready && !was->ready) || (new->deleting && !old->deleting)))))
                wake_indexed(c, c->bindings, CTL_KEY_BINDING, cached_ikey_instance(o->meta.ns, o->meta.name));
}

void route_binding(void *userdata, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        struct ctl *c = userdata;
        const struct cached *o = (const struct cached *) (new ? new : old);
        if (new)
                enqueue(c, CTL_KEY_BINDING, new->key);
        /* a binding that became Ready or stopped being so: its instance's status.binding may name its Secret */
        bool ready_changed = ev == INFORMER_UPDATE && ((const struct cached *) old)->ready != ((const struct cached *) new)->ready;
        if ((ev == INFORMER_DELETE || ready_changed || (ev == INFORMER_UPDATE && new->deleting && !old->deleting)) &&
            o->instance_ref) {
                char *k = osb_asprintf("%s/%s", o->instance_ns ? o->instance_ns : o->meta.ns, o->instance_ref);
                if (k)
                        enqueue(c, CTL_KEY_INSTANCE, k);
                osb_free(k);
        }
}

void route_secret(void *userdata, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        struct ctl *c = userdata;
        const struct informer_kmeta *m = new ? new : old;
        if (ev == INFORMER_RESYNC || !m->ns || !atomic_load(&c->started))
                return;
        wake_indexed(c, c->instances, CTL_KEY_INSTANCE, cached_ikey_secret(m->ns, m->name));
}

static void broker_event(struct ctl *c, const char *prefix, enum informer_event ev, const struct informer_kmeta *m)
{
        enqueue(c, prefix, m->key);
        if (ev != INFORMER_RESYNC)
                wake_unresolved(c);
}

void route_cluster_broker(void *userdata, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        broker_event(userdata, CTL_KEY_CLUSTER_BROKER, ev, new ? new : old);
}

void route_broker(void *userdata, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        broker_event(userdata, CTL_KEY_BROKER, ev, new ? new : old);
}

static const char *offering_version(const struct offering *o)
{
        return o ? json_string_value(json_object_get(o->maintenance_info, "version")) : NULL;
}

/* A plan's maintenance_info version moved: its instances say whether an upgrade is available. */
static void wake_plan_instances(struct ctl *c, const struct offering *plan)
{
        if (atomic_load(&c->started))
                wake_indexed(c, c->instances, CTL_KEY_INSTANCE, cached_ikey_plan(plan->meta.ns, plan->meta.name));
}

static void offering_event(struct ctl *c, const char *prefix, enum informer_event ev, const struct offering *old,
                           const struct offering *o)
{
        if (ev == INFORMER_RESYNC)
                return;
        wake_unresolved(c);
        if (ev == INFORMER_UPDATE && o->is_plan && !osb_streq(offering_version(old), offering_version(o)))
                wake_plan_instances(c, o);
        if (ev == INFORMER_ADD || !o->broker)
                return;
        char *key = o->meta.ns ? osb_asprintf("%s/%s", o->meta.ns, o->broker) : osb_strdup(o->broker);
        if (key)
                enqueue(c, prefix, key);
        osb_free(key);
}

void route_cluster_offering(void *userdata, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        offering_event(userdata, CTL_KEY_CLUSTER_BROKER, ev, (const struct offering *) old,
                       (const struct offering *) (new ? new : old));
}

void route_offering(void *userdata, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        offering_event(userdata, CTL_KEY_BROKER, ev, (const struct offering *) old,
                       (const struct offering *) (new ? new : old));
}

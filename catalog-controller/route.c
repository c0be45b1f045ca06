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

/* Instances waiting for a class, plan or broker to appear (Ready=False References*). */
static void wake_unresolved(struct ctl *c)
{
        struct kmeta **v = NULL;
        size_t n = 0;
        if (!atomic_load(&c->started) || informer_snapshot(c->instances, &v, &n) < 0)
                return;         /* before the start every instance is reconciled anyway */
        for (size_t i = 0; i < n; i++)
                if (((struct cached *) v[i])->unresolved)
                        enqueue(c, CTL_KEY_INSTANCE, v[i]->key);
        informer_snapshot_free(c->instances, v, n);
}

/* The bindings of instance @ns/@name (in any namespace), or every instance naming Secret
 * @ns/@secret. */
static void wake_dependents(struct ctl *c, struct informer *inf, const char *prefix, const char *ns,
                            const char *instance, const char *secret)
{
        struct kmeta **v = NULL;
        size_t n = 0;
        if (!inf || informer_snapshot(inf, &v, &n) < 0)
                return;         /* callers pass ctl's pointers only once ctl.started */
        for (size_t i = 0; i < n; i++) {
                const struct cached *o = (const struct cached *) v[i];
                if (!osb_streq(instance && o->instance_ns ? o->instance_ns : o->meta.ns, ns))
                        continue;
                bool hit = instance && osb_streq(o->instance_ref, instance);
                for (size_t k = 0; secret && !hit && k < o->nsecret_refs; k++)
                        hit = osb_streq(o->secret_refs[k], secret);
                if (hit)
                        enqueue(c, prefix, o->meta.key);
        }
        informer_snapshot_free(inf, v, n);
}

void route_instance(void *userdata, enum informer_event ev, const struct kmeta *old, const struct kmeta *new)
{
        struct ctl *c = userdata;
        const struct cached *o = (const struct cached *) (new ? new : old), *was = (const struct cached *) old;
        if (new)
                enqueue(c, CTL_KEY_INSTANCE, new->key);
        if (atomic_load(&c->started) &&
            (ev == INFORMER_DELETE || (ev == INFORMER_UPDATE && ((o->ready && !was->ready) || (new->deleting && !old->deleting)))))
                wake_dependents(c, c->bindings, CTL_KEY_BINDING, o->meta.ns, o->meta.name, NULL);
}

void route_binding(void *userdata, enum informer_event ev, const struct kmeta *old, const struct kmeta *new)
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

void route_secret(void *userdata, enum informer_event ev, const struct kmeta *old, const struct kmeta *new)
{
        struct ctl *c = userdata;
        const struct kmeta *m = new ? new : old;
        if (ev == INFORMER_RESYNC || !m->ns || !atomic_load(&c->started))
                return;
        wake_dependents(c, c->instances, CTL_KEY_INSTANCE, m->ns, NULL, m->name);
}

static void broker_event(struct ctl *c, const char *prefix, enum informer_event ev, const struct kmeta *m)
{
        enqueue(c, prefix, m->key);
        if (ev != INFORMER_RESYNC)
                wake_unresolved(c);
}

void route_cluster_broker(void *userdata, enum informer_event ev, const struct kmeta *old, const struct kmeta *new)
{
        broker_event(userdata, CTL_KEY_CLUSTER_BROKER, ev, new ? new : old);
}

void route_broker(void *userdata, enum informer_event ev, const struct kmeta *old, const struct kmeta *new)
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
        struct kmeta **v = NULL;
        size_t n = 0;
        if (!atomic_load(&c->started) || informer_snapshot(c->instances, &v, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                const struct cached *o = (const struct cached *) v[i];
                if (osb_streq(o->plan_ref, plan->meta.name) && (!plan->meta.ns || osb_streq(o->meta.ns, plan->meta.ns)))
                        enqueue(c, CTL_KEY_INSTANCE, o->meta.key);
        }
        informer_snapshot_free(c->instances, v, n);
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

void route_cluster_offering(void *userdata, enum informer_event ev, const struct kmeta *old, const struct kmeta *new)
{
        offering_event(userdata, CTL_KEY_CLUSTER_BROKER, ev, (const struct offering *) old,
                       (const struct offering *) (new ? new : old));
}

void route_offering(void *userdata, enum informer_event ev, const struct kmeta *old, const struct kmeta *new)
{
        offering_event(userdata, CTL_KEY_BROKER, ev, (const struct offering *) old,
                       (const struct offering *) (new ? new : old));
}

/* catalog-controller/dispatch.c: queue keys to reconcilers, once the informers are published. */
#include "common/osb_compat.h"
#include "catalog-controller/dispatch.h"
#include "catalog-controller/metrics.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/reconcile_binding.h"
#include "catalog-controller/reconcile_broker.h"
#include "catalog-controller/reconcile_instance.h"

static uint64_t mono_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

bool dispatch_synced(struct ctl *c)
{
        if (!atomic_load(&c->started))
                return false;
        /* the namespaced slots [1] stay NULL without --namespaced-brokers */
        for (int i = 0; i < 2; i++)
                if ((c->brokers[i] && !informer_synced(c->brokers[i])) || (c->classes[i] && !informer_synced(c->classes[i])) ||
                    (c->plans[i] && !informer_synced(c->plans[i])))
                        return false;
        return c->instances && informer_synced(c->instances) && c->bindings && informer_synced(c->bindings) &&
               c->secrets && informer_synced(c->secrets);
}

int dispatch_key(struct ctl *c, const char *key)
{
        uint64_t t0 = mono_ns();
        bool inst = osb_starts_with(key, CTL_KEY_INSTANCE);
        /* Every reconciler reads ctl's informer pointers (a broker's its broker, class and plan
         * caches and the Secret cache), which main.c stores one by one while the informers it
         * started already list and queue keys: a broker's key can come before its own informer
         * is stored. Only c->started (stored after the last one) publishes them. Instances and
         * bindings also wait for every cache: a binding being deleted whose instance is not
         * cached yet would look as if its instance were gone. */
        if (!atomic_load(&c->started) || ((inst || osb_starts_with(key, CTL_KEY_BINDING)) && !dispatch_synced(c)))
                return queue_add_after(c->queue, key, DISPATCH_WAIT_MS) < 0 ? -ENOMEM : 0;
        if (inst || osb_starts_with(key, CTL_KEY_BINDING)) {
                int r = inst ? reconcile_instance(c, key) : reconcile_binding(c, key);
                metrics_reconcile(inst ? "ServiceInstance" : "ServiceBinding", mono_ns() - t0, r < 0);
                return r;
        }
        const struct offering_flavour *fl = osb_starts_with(key, CTL_KEY_CLUSTER_BROKER) ? &offering_flavour_cluster : &offering_flavour_namespaced;
        int r = reconcile_broker(c, fl, key);
        metrics_reconcile(fl->broker_kind, mono_ns() - t0, r < 0);
        return r;
}

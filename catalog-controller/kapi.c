/* catalog-controller/kapi.c: counted wrappers over kube/client.h. */
#include "common/osb_compat.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/metrics.h"

static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;
static double rate_qps, rate_tokens, rate_burst;
static struct timespec rate_last;

void kapi_set_rate_limit(double qps, unsigned burst)
{
        pthread_mutex_lock(&rate_lock);
        rate_qps = qps > 0 ? qps : 0;
        rate_burst = burst > 0 ? burst : 1;
        rate_tokens = rate_burst;
        clock_gettime(CLOCK_MONOTONIC, &rate_last);
        pthread_mutex_unlock(&rate_lock);
}

/* Waits for a token when a limit is set. */
static void throttle(void)
{
        pthread_mutex_lock(&rate_lock);
        if (rate_qps <= 0) {
                pthread_mutex_unlock(&rate_lock);
                return;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double dt = (double) (now.tv_sec - rate_last.tv_sec) + (double) (now.tv_nsec - rate_last.tv_nsec) / 1e9;
        rate_last = now;
        rate_tokens = OSB_MIN(rate_burst, rate_tokens + dt * rate_qps);
        rate_tokens -= 1;       /* taken now; a debt is slept off below */
        double wait = rate_tokens < 0 ? -rate_tokens / rate_qps : 0;
        pthread_mutex_unlock(&rate_lock);
        if (wait > 0) {
                struct timespec ts = {(time_t) wait, (long) ((wait - (double) (time_t) wait) * 1e9)};
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
}

int kapi_get(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
             json_t **ret, struct osb_error *err)
{
        throttle();
        int r = kube_get(c, res, ns, name, ret, err);
        metrics_kube_request("get", res->plural, r);
        return r;
}

int kapi_create(struct kube_client *c, const struct kube_resource *res, const char *ns, const json_t *obj,
                json_t **ret, struct osb_error *err)
{
        throttle();
        int r = kube_create(c, res, ns, obj, ret, err);
        metrics_kube_request("create", res->plural, r);
        return r;
}

int kapi_update(struct kube_client *c, const struct kube_resource *res, const char *ns, const json_t *obj,
                json_t **ret, struct osb_error *err)
{
        throttle();
        int r = kube_update(c, res, ns, obj, ret, err);
        metrics_kube_request("update", res->plural, r);
        return r;
}

int kapi_update_status(struct kube_client *c, const struct kube_resource *res, const char *ns,
                       const json_t *obj, json_t **ret, struct osb_error *err)
{
        throttle();
        int r = kube_update_status(c, res, ns, obj, ret, err);
        char label[128];
        (void) snprintf(label, sizeof(label), "%s/status", res->plural);
        metrics_kube_request("update", label, r);
        return r;
}

int kapi_delete(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
                struct osb_error *err)
{
        throttle();
        int r = kube_delete(c, res, ns, name, NULL, err);
        metrics_kube_request("delete", res->plural, r);
        return r;
}

int kapi_list(struct kube_client *c, const struct kube_resource *res, const char *ns, kube_list_fn fn, void *userdata,
              struct osb_error *err)
{
        throttle();
        int r = kube_list(c, res, ns, NULL, fn, userdata, NULL, err);
        metrics_kube_request("list", res->plural, r);
        return r;
}

int kapi_patch(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
               const char *subresource, const json_t *patch, struct osb_error *err)
{
        throttle();
        int r = kube_patch(c, res, ns, name, subresource, KUBE_PATCH_MERGE, patch, NULL, err);
        metrics_kube_request("patch", res->plural, r);
        return r;
}

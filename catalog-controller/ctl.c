/* catalog-controller/ctl.c: the shared controller context: broker clients, Events, Secrets,
 * namespace UIDs, our-write bookkeeping and retry back-off. */
#include "common/osb_compat.h"
#include "common/osb_base64.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/ctl.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/broker.h"

/* ---- the context ---- */

struct ctl_client {
        atomic_uint refs;        /* the map holds one; each user one more */
        char fingerprint[57];
        char *quick;             /* the broker's spec and its auth Secret's resourceVersion when
                                  * built: unchanged, the client is reused without reading the Secret */
        struct osb_client *client;
};

static time_t real_now(void)
{
        return time(NULL);
}

void ctl_init(struct ctl *c)
{
        *c = (struct ctl){.now = real_now};
        atomic_init(&c->cancel, false);
        atomic_init(&c->started, false);
        pthread_mutex_init(&c->lock, NULL);
}

void ctl_client_put(struct ctl_client *cc)
{
        if (cc && atomic_fetch_sub(&cc->refs, 1) == 1) {
                osb_free(cc->quick);
                osb_client_free(cc->client);
                osb_free(cc);
        }
}

static void free_values(struct osb_strmap *m, bool clients)
{
        size_t i;
        for (struct osb_strmap_entry *e = osb_strmap_first(m, &i); e; e = osb_strmap_next(m, &i, e)) {
                if (clients)
                        ctl_client_put(e->value);
                else
                        osb_free(e->value);
        }
        osb_strmap_release(m);
}

void ctl_release(struct ctl *c)
{
        free_values(&c->clients, true);
        free_values(&c->ns_uids, false);
        free_values(&c->written, false);
        osb_strmap_release(&c->retries);    /* values are counts, not pointers */
        osb_strmap_release(&c->relists);    /* values are flags */
        pthread_mutex_destroy(&c->lock);
}

void ctl_drop_client(struct ctl *c, const char *key)
{
        pthread_mutex_lock(&c->lock);
        struct ctl_client *cc = osb_strmap_remove(&c->clients, key);
        pthread_mutex_unlock(&c->lock);
        ctl_client_put(cc);
}

/* ---- Secrets ---- */

int ctl_secret_value(struct ctl *c, const char *ns, const char *name, const char *key, char **ret, size_t *len,
                     struct osb_error *err)
{
        json_auto_t *sec = NULL;
        int r = kapi_get(c->kube, &kube_secrets, ns, name, &sec, err);
        if (r == OSB_E_NOT_FOUND)
                return osb_error_set(err, r, "Secret %s/%s not found", ns, name);
        if (r < 0) {
                osb_error_prefix(err, "cannot read Secret %s/%s: ", ns, name);
                return r;
        }
        const char *b64 = json_string_value(json_object_get(json_object_get(sec, "data"), key));
        const char *plain = json_string_value(json_object_get(json_object_get(sec, "stringData"), key));
        if (!b64 && !plain)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "Secret %s/%s has no key '%s'", ns, name, key);
        if (plain) {
                *len = strlen(plain);
                return (*ret = osb_strdup(plain)) ? 0 : osb_error_set(err, -ENOMEM, "out of memory");
        }
        r = osb_base64_decode(b64, strlen(b64), OSB_BASE64_STRICT, ret, len, NULL);
        if (r == -ENOMEM)
                return osb_error_set(err, r, "out of memory");
        if (r < 0)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "Secret %s/%s: key '%s' is not base64", ns, name, key);
        return 0;
}

static void wipe(char *s)
{
        if (s)
                explicit_bzero(s, strlen(s));
        osb_free(s);
}

/* ---- broker clients ---- */

/* A key of the broker's auth Secret; errors say "auth Secret NS/NAME ..." as users know them. */
static int auth_value(struct ctl *c, const char *ns, const char *name, const char *key, char **ret,
                      struct osb_error *err)
{
        size_t n;
        int r = ctl_secret_value(c, ns, name, key, ret, &n, err);
        if (r == OSB_E_NOT_FOUND || r == OSB_E_BAD_REQUEST)
                osb_error_prefix(err, "auth ");
        return r;
}

/* What decides the client without reading the auth Secret: the broker's resourceVersion (its
 * spec) and the auth Secret's, from the Secret cache. NULL when the Secret is not cached (then
 * it is read). */
static char *quick_key(struct ctl *c, const struct broker *b, const char *sns, const char *sname)
{
        if (!sname)
                return osb_asprintf("%s|-", b->meta.resource_version ? b->meta.resource_version : "");
        if (!c->secrets || !sns)
                return NULL;
        osb_autofree char *k = osb_asprintf("%s/%s", sns, sname);
        struct informer_kmeta *m = k ? informer_get(c->secrets, k) : NULL;
        if (!m)
                return NULL;
        char *q = osb_asprintf("%s|%s|%s", b->meta.resource_version ? b->meta.resource_version : "", k,
                               m->resource_version ? m->resource_version : "");
        informer_put(c->secrets, m);
        return q;
}

int ctl_broker_client(struct ctl *c, const struct offering_flavour *fl, const struct broker *b, struct osb_client **ret,
                      struct ctl_client **ref, struct osb_error *err)
{
        char *user = NULL, *pass = NULL, *token = NULL, *ca = NULL;
        size_t ca_len = 0;
        int r = 0;
        const char *bns = fl->namespaced ? b->meta.ns : NULL;
        osb_autofree char *key = osb_asprintf("%s%s", fl->namespaced ? CTL_KEY_BROKER : CTL_KEY_CLUSTER_BROKER, b->meta.key);
        if (!key)
                return osb_error_set(err, -ENOMEM, "out of memory");
        const char *sname = b->basic_name ? b->basic_name : b->bearer_name;
        const char *sns = bns ? bns : b->basic_name ? b->basic_ns : b->bearer_ns;
        char *quick = quick_key(c, b, sns, sname);
        if (quick) {
                pthread_mutex_lock(&c->lock);
                struct ctl_client *qc = osb_strmap_get(&c->clients, key);
                if (qc && osb_streq(qc->quick, quick))
                        atomic_fetch_add(&qc->refs, 1);
                else
                        qc = NULL;
                pthread_mutex_unlock(&c->lock);
                if (qc) {
                        osb_free(quick);
                        *ret = qc->client;
                        *ref = qc;
                        return 0;
                }
        }
        if (b->basic_name) {
                const char *ns = bns ? bns : b->basic_ns;
                if (!ns)
                        r = osb_error_set(err, OSB_E_BAD_REQUEST, "authInfo.basic.secretRef has no namespace");
                if (r >= 0)
                        r = auth_value(c, ns, b->basic_name, "username", &user, err);
                if (r >= 0)
                        r = auth_value(c, ns, b->basic_name, "password", &pass, err);
        } else if (b->bearer_name) {
                const char *ns = bns ? bns : b->bearer_ns;
                if (!ns)
                        r = osb_error_set(err, OSB_E_BAD_REQUEST, "authInfo.bearer.secretRef has no namespace");
                if (r >= 0)
                        r = auth_value(c, ns, b->bearer_name, "token", &token, err);
        }
        if (r >= 0 && b->ca_bundle) {
                /* caBundle is base64 of PEM, possibly folded over several lines */
                r = osb_base64_decode(b->ca_bundle, strlen(b->ca_bundle), OSB_BASE64_LENIENT | OSB_BASE64_SKIP_NEWLINES,
                                      &ca, &ca_len, NULL);
                if (r == -ENOMEM)
                        r = osb_error_set(err, r, "out of memory");
                else if (r < 0)
                        r = osb_error_set(err, OSB_E_BAD_REQUEST, "spec.caBundle is not base64");
        }
        if (r >= 0) {
                struct osb_client_config cfg = {
                        .broker = b->meta.key, .url = b->url, .username = user, .password = pass, .token = token,
                        .ca_pem = ca, .ca_pem_len = ca_len, .insecure_skip_tls_verify = b->insecure_skip_tls_verify,
                        .timeout_ms = (long) c->opts.osb_timeout_ms, .cancel = &c->cancel,
                        .max_concurrent = c->opts.broker_concurrency,
                };
                char fp[57];
                osb_client_fingerprint(&cfg, fp);
                pthread_mutex_lock(&c->lock);
                struct ctl_client *cc = osb_strmap_get(&c->clients, key);
                if (cc && strcmp(cc->fingerprint, fp) == 0) {
                        atomic_fetch_add(&cc->refs, 1);
                        osb_free(cc->quick);    /* under the lock: readers compare it under it too */
                        cc->quick = quick;
                        quick = NULL;
                } else {
                        cc = NULL;
                }
                pthread_mutex_unlock(&c->lock);
                if (!cc) {
                        struct osb_client *oc = NULL;
                        r = osb_client_new(&cfg, &oc, err);
                        cc = r >= 0 ? osb_calloc(1, sizeof(*cc)) : NULL;
                        if (r >= 0 && !cc) {
                                osb_client_free(oc);
                                r = osb_error_set(err, -ENOMEM, "out of memory");
                        }
                        if (r >= 0) {
                                memcpy(cc->fingerprint, fp, sizeof(fp));
                                cc->client = oc;
                                cc->quick = quick;
                                quick = NULL;
                                atomic_init(&cc->refs, 2);      /* the map's and the caller's */
                                void *old = NULL;
                                pthread_mutex_lock(&c->lock);
                                int pr = osb_strmap_put(&c->clients, key, cc, &old);
                                pthread_mutex_unlock(&c->lock);
                                if (pr < 0)     /* not cached: the caller's reference is the only one */
                                        atomic_store(&cc->refs, 1);
                                ctl_client_put(old);    /* freed once its last user is done */
                        }
                }
                if (r >= 0) {
                        *ret = cc->client;
                        *ref = cc;
                }
        }
        osb_free(quick);
        osb_free(user);
        wipe(pass);
        wipe(token);
        osb_free(ca);
        return r;
}

/* ---- namespaces ---- */

int ctl_namespace_uid(struct ctl *c, const char *ns, char **ret, struct osb_error *err)
{
        pthread_mutex_lock(&c->lock);
        const char *cached = osb_strmap_get(&c->ns_uids, ns);
        char *v = cached ? osb_strdup(cached) : NULL;
        pthread_mutex_unlock(&c->lock);
        if (cached) {
                *ret = v;
                return v ? 0 : osb_error_set(err, -ENOMEM, "out of memory");
        }
        json_auto_t *obj = NULL;
        int r = kapi_get(c->kube, &kube_namespaces, NULL, ns, &obj, err);
        if (r < 0)
                return r;
        const char *uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
        if (!uid)
                return osb_error_set(err, OSB_E_BACKEND, "namespace %s has no uid", ns);
        char *a = osb_strdup(uid), *b = osb_strdup(uid);
        if (!a || !b) {
                osb_free(a);
                osb_free(b);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        void *old = NULL;
        pthread_mutex_lock(&c->lock);
        if (osb_strmap_put(&c->ns_uids, ns, a, &old) < 0)
                old = a;        /* not cached; asked again next time */
        pthread_mutex_unlock(&c->lock);
        osb_free(old);
        *ret = b;
        return 0;
}

/* ---- Events ---- */

void ctl_event(struct ctl *c, const struct ctl_object_ref *o, bool warning, const char *reason, const char *message)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char name[320], now[OSB_TIME_RFC3339_MAX];
        osb_time_format_rfc3339(ts.tv_sec, now);
        (void) snprintf(name, sizeof(name), "%.250s.%llx", o->name,
                        (unsigned long long) ts.tv_sec * 1000000000ULL + (unsigned long long) ts.tv_nsec);
        /* an Event about a cluster-scoped object (its involvedObject has no namespace) must be in
         * "default": kube-apiserver refuses it anywhere else (legacyValidateEvent) */
        const char *ns = o->ns ? o->ns : "default";
        json_auto_t *ev = json_pack(
                "{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s,s:s,s:s},s:s,s:s,s:s,s:{s:s},s:s,s:s,s:i,s:s,s:s}",
                "apiVersion", "v1", "kind", "Event",
                "metadata", "name", name, "namespace", ns,
                "involvedObject", "apiVersion", "servicecatalog.k8s.io/v1beta1", "kind", o->kind,
                "name", o->name, "uid", o->uid ? o->uid : "",
                "resourceVersion", o->resource_version ? o->resource_version : "",
                "reason", reason, "message", message ? message : "", "type", warning ? "Warning" : "Normal",
                "source", "component", CTL_EVENT_SOURCE,
                "firstTimestamp", now, "lastTimestamp", now, "count", 1,
                "reportingComponent", CTL_EVENT_SOURCE, "reportingInstance", CTL_EVENT_SOURCE);
        if (!ev)
                return;
        if (o->ns && json_object_set_new(json_object_get(ev, "involvedObject"), "namespace", json_string(o->ns)) < 0)
                return;
        struct osb_error err = OSB_ERROR_INIT;
        int r = kapi_create(c->kube, &kube_events, ns, ev, NULL, &err);
        if (r < 0) {
                /* a namespace being deleted takes no new Events: nobody would read them */
                bool quiet = r == OSB_E_NOT_FOUND || (r == -EACCES && strstr(err.text, "being terminated"));
                osb_log(quiet ? OSB_LOG_DEBUG : OSB_LOG_WARN, "cannot record event", "kind=%s name=%s reason=%s error=%s",
                        o->kind, o->name, reason, err.text);
        }
}

/* ---- our writes ---- */

void ctl_note_write(struct ctl *c, const char *key, const json_t *written)
{
        const char *rv = json_string_value(json_object_get(json_object_get(written, "metadata"), "resourceVersion"));
        char *v = rv ? osb_strdup(rv) : NULL;
        void *old = NULL;
        pthread_mutex_lock(&c->lock);
        if (!v || osb_strmap_put(&c->written, key, v, &old) < 0) {
                /* no note: the next reconcile may use a stale cache, and a write conflict fixes it */
                old = osb_strmap_remove(&c->written, key);
                osb_free(v);
        }
        pthread_mutex_unlock(&c->lock);
        osb_free(old);
}

/* resourceVersions are opaque, but where both are numbers (etcd revisions, the test server's
 * counter) an older cache is told from a newer change by someone else. */
static bool older(const char *cached, const char *noted)
{
        char *e1, *e2;
        errno = 0;
        unsigned long long a = strtoull(cached ? cached : "", &e1, 10), b = strtoull(noted, &e2, 10);
        if (errno || !cached || e1 == cached || *e1 || e2 == noted || *e2)
                return !osb_streq(cached, noted);
        return a < b;
}

bool ctl_cache_stale(struct ctl *c, const char *key, const char *resource_version)
{
        char *gone = NULL;
        pthread_mutex_lock(&c->lock);
        const char *noted = osb_strmap_get(&c->written, key);
        bool stale = noted && older(resource_version, noted);
        if (noted && !stale)
                gone = osb_strmap_remove(&c->written, key);
        pthread_mutex_unlock(&c->lock);
        osb_free(gone);
        return stale;
}

/* ---- retry back-off ---- */

int64_t ctl_retry_fail(struct ctl *c, const char *key)
{
        pthread_mutex_lock(&c->lock);
        uintptr_t n = (uintptr_t) osb_strmap_get(&c->retries, key) + 1;
        void *old;
        (void) osb_strmap_put(&c->retries, key, (void *) n, &old);  /* OOM: the back-off stays short */
        pthread_mutex_unlock(&c->lock);
        int64_t d = 1000, cap = c->opts.max_retry_ms > 0 ? c->opts.max_retry_ms : 300000;
        for (uintptr_t i = 1; i < n && d < cap; i++)
                d *= 2;
        return OSB_MIN(d, cap);
}

void ctl_retry_reset(struct ctl *c, const char *key)
{
        pthread_mutex_lock(&c->lock);
        (void) osb_strmap_remove(&c->retries, key);
        pthread_mutex_unlock(&c->lock);
}

void ctl_relist_request(struct ctl *c, const char *key)
{
        pthread_mutex_lock(&c->lock);
        void *old;
        int r = osb_strmap_put(&c->relists, key, (void *) (uintptr_t) 1, &old);
        pthread_mutex_unlock(&c->lock);
        if (r < 0 || !c->queue || queue_add(c->queue, key) < 0)
                osb_log_error("cannot ask for a catalog relist", "key=%s", key);
}

bool ctl_relist_take(struct ctl *c, const char *key)
{
        pthread_mutex_lock(&c->lock);
        bool wanted = osb_strmap_remove(&c->relists, key) != NULL;
        pthread_mutex_unlock(&c->lock);
        return wanted;
}

void ctl_forget(struct ctl *c, const char *key)
{
        pthread_mutex_lock(&c->lock);
        (void) osb_strmap_remove(&c->retries, key);
        char *noted = osb_strmap_remove(&c->written, key);
        struct ctl_client *cc = osb_strmap_remove(&c->clients, key);
        pthread_mutex_unlock(&c->lock);
        osb_free(noted);
        ctl_client_put(cc);
}

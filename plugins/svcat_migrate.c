/* plugins/svcat_migrate.c: "kubectl svcat migrate plan|export|run|verify": from the archived
 * Kubernetes Service Catalog (v0.3, its CRD mode or objects exported from its aggregated API) to
 * Bindery without a provision, bind, update or deprovision: the objects stay where they are (or
 * are created again from the export), with their status, finalizer, externalIDs and Secrets
 * (docs/migration.md). Every step checks what is already done, so run is safe to run again. */
#include "common/osb_compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/osb_file.h"
#include "common/osb_hash.h"
#include "common/osb_mem.h"
#include "common/osb_yaml.h"
#include "plugins/svcat.h"

#define FINALIZER "kubernetes-incubator/service-catalog"
#define SNAPSHOT "objects.json"
#define MAX_FILE (256u << 20)

/* The kinds, in the order they are restored (what an object refers to comes first). */
static const struct kube_resource *const kinds[] = {
        &kube_sc_cluster_brokers, &kube_sc_cluster_classes, &kube_sc_cluster_plans, &kube_sc_brokers,
        &kube_sc_classes, &kube_sc_plans, &kube_sc_instances, &kube_sc_bindings,
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static const struct kube_resource res_deployments = {"apps", "v1", "deployments", true};
static const struct kube_resource res_mutating = {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", false};
static const struct kube_resource res_validating = {"admissionregistration.k8s.io", "v1",
                                                    "validatingwebhookconfigurations", false};

struct mig {
        struct cli *cli;
        const struct svcat_migrate_opts *o;
        json_t *crds;           /* plural → Bindery's CRD object (from --crds) */
        unsigned writes;        /* API writes made */
        unsigned refused;
};

static void mig_release(struct mig *m)
{
        if (m->crds)
                json_decref(m->crds);
}

static int oom(void)
{
        return cli_error(NULL, CLI_EXIT_ERROR, "out of memory");
}

static const char *md_str(const json_t *o, const char *f)
{
        return cli_str(o, "metadata", f, NULL);
}

/* ---- Bindery's CRDs (--crds DIR) ----------------------------------------------------------------- */

static int load_crds(struct mig *m)
{
        if (!m->o->crds)
                return cli_error(m->cli, CLI_EXIT_USAGE, "--crds DIR is needed: the directory of Bindery's CRDs "
                                 "(deploy/crds of the release)");
        m->crds = json_object();
        if (!m->crds)
                return oom();
        DIR *d = opendir(m->o->crds);
        if (!d)
                return cli_error(m->cli, CLI_EXIT_ERROR, "cannot read %s: %s", m->o->crds, strerror(errno));
        struct dirent *e;
        int rc = 0;
        while (rc == 0 && (e = readdir(d))) {
                size_t n = strlen(e->d_name);
                if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0)
                        continue;
                osb_autofree char *path = osb_asprintf("%s/%s", m->o->crds, e->d_name);
                osb_autofree char *text = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                json_t *doc = NULL;
                if (!path)
                        rc = oom();
                else if (osb_read_file_err(path, 4u << 20, &text, &err) < 0 ||
                         osb_yaml_parse(text, strlen(text), &doc, &err) < 0)
                        rc = cli_error(m->cli, CLI_EXIT_ERROR, "%s: %s", path, err.text);
                else if (!osb_streq(cli_str(doc, "kind", NULL), "CustomResourceDefinition") ||
                         !cli_str(doc, "spec", "names", "plural", NULL))
                        rc = cli_error(m->cli, CLI_EXIT_ERROR, "%s: not a CustomResourceDefinition", path);
                else if (json_object_set(m->crds, cli_str(doc, "spec", "names", "plural", NULL), doc) < 0)
                        rc = oom();
                if (doc)
                        json_decref(doc);
        }
        closedir(d);
        if (rc == 0 && json_object_size(m->crds) == 0)
                rc = cli_error(m->cli, CLI_EXIT_ERROR, "%s holds no CRD (*.yaml)", m->o->crds);
        return rc;
}

/* The properties of .spec in Bindery's schema of @plural, or NULL. */
static const json_t *spec_props(const struct mig *m, const char *plural)
{
        const json_t *v = json_array_get(cli_get(json_object_get(m->crds, plural), "spec", "versions", NULL), 0);
        return cli_get(v, "schema", "openAPIV3Schema", "properties", "spec", "properties", NULL);
}

/* ---- service-catalog's aggregated API server --------------------------------------------------------- */

static const struct kube_resource res_apiservices = {"apiregistration.k8s.io", "v1", "apiservices", false};
#define APISERVICE "v1beta1.servicecatalog.k8s.io"

/* Whether servicecatalog.k8s.io/v1beta1 is served by service-catalog's own API server (an
 * APIService with a service) rather than by CRDs. Returns 0 with *ret, or an exit code. */
static int aggregated(struct mig *m, bool *ret)
{
        json_auto_t *svc = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = kube_get(m->cli->kc, &res_apiservices, NULL, APISERVICE, &svc, &err);
        *ret = false;
        if (r == OSB_E_NOT_FOUND)
                return 0;
        if (r < 0)
                return cli_request_error(m->cli, r, &err);
        const json_t *service = cli_get(svc, "spec", "service", NULL);
        *ret = service && !json_is_null(service);
        return 0;
}

/* ---- the snapshot ---------------------------------------------------------------------------------- */

/* SHA-256 of a Secret's type and data, the bytes an application reads. */
static int secret_digest(const json_t *secret, char out[2 * OSB_HASH_SHA256_LEN + 1])
{
        json_t *v = json_pack("{s:O?,s:O?}", "type", json_object_get(secret, "type"), "data",
                              json_object_get(secret, "data"));
        char *text = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (v)
                json_decref(v);
        if (!text)
                return -ENOMEM;
        osb_hash_sha256_hex(text, strlen(text), out);
        free(text);
        return 0;
}

static const char *binding_secret(const json_t *b)
{
        const char *s = cli_str(b, "spec", "secretName", NULL);
        return s && *s ? s : md_str(b, "name");
}

/* Every object of the eight kinds (through the API: the CRDs or the aggregated API server) and
 * the digests of the bindings' Secrets: {"items": [...], "secrets": {"ns/name": digest}}. */
static int snapshot(struct mig *m, json_t **ret)
{
        json_auto_t *items = json_array(), *secrets = json_object();
        if (!items || !secrets)
                return oom();
        struct osb_error err = OSB_ERROR_INIT;
        for (size_t k = 0; k < NKINDS; k++) {
                json_t *part = NULL;
                int r = svcat_list(m->cli->kc, kinds[k], NULL, NULL, &part, &err);
                if (r == OSB_E_NOT_FOUND)
                        continue;       /* a kind this installation does not have */
                if (r < 0)
                        return cli_request_error(m->cli, r, &err);
                r = json_array_extend(items, part);
                json_decref(part);
                if (r < 0)
                        return oom();
        }
        size_t i;
        json_t *o;
        json_array_foreach(items, i, o) {
                if (!osb_streq(cli_str(o, "kind", NULL), "ServiceBinding"))
                        continue;
                const char *ns = md_str(o, "namespace"), *name = binding_secret(o);
                json_auto_t *sec = NULL;
                int r = kube_get(m->cli->kc, &kube_secrets, ns, name, &sec, &err);
                if (r == OSB_E_NOT_FOUND)
                        continue;
                if (r < 0)
                        return cli_request_error(m->cli, r, &err);
                char hex[2 * OSB_HASH_SHA256_LEN + 1];
                osb_autofree char *key = osb_asprintf("%s/%s", ns, name);
                if (!key || secret_digest(sec, hex) < 0 || json_object_set_new(secrets, key, json_string(hex)) < 0)
                        return oom();
        }
        *ret = json_pack("{s:O,s:O}", "items", items, "secrets", secrets);
        return *ret ? 0 : oom();
}

static int read_snapshot(struct mig *m, json_t **ret, bool *found)
{
        osb_autofree char *path = osb_asprintf("%s/" SNAPSHOT, m->o->dir);
        if (!path)
                return oom();
        *found = access(path, F_OK) == 0;
        if (!*found)
                return 0;
        json_error_t je;
        *ret = json_load_file(path, 0, &je);
        if (!*ret || !json_is_array(json_object_get(*ret, "items")) || !json_is_object(json_object_get(*ret, "secrets")))
                return cli_error(m->cli, CLI_EXIT_ERROR, "%s: not a snapshot written by kubectl svcat migrate export "
                                 "(line %d: %s)", path, je.line, *ret ? "no items or secrets" : je.text);
        return 0;
}

/* Written whole to a temporary file, then renamed: an interrupted export leaves no half file. */
static int write_snapshot(struct mig *m, const json_t *snap)
{
        if (mkdir(m->o->dir, 0700) < 0 && errno != EEXIST)
                return cli_error(m->cli, CLI_EXIT_ERROR, "cannot create %s: %s", m->o->dir, strerror(errno));
        osb_autofree char *path = osb_asprintf("%s/" SNAPSHOT, m->o->dir);
        osb_autofree char *tmp = osb_asprintf("%s/" SNAPSHOT ".tmp", m->o->dir);
        if (!path || !tmp)
                return oom();
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return cli_error(m->cli, CLI_EXIT_ERROR, "cannot write %s: %s", tmp, strerror(errno));
        FILE *f = fdopen(fd, "w");
        if (!f) {
                close(fd);
                return oom();
        }
        int r = json_dumpf(snap, f, JSON_INDENT(1) | JSON_SORT_KEYS);
        if (fflush(f) != 0 || fsync(fileno(f)) != 0)
                r = -1;
        if (fclose(f) != 0)
                r = -1;
        if (r < 0 || rename(tmp, path) < 0)
                return cli_error(m->cli, CLI_EXIT_ERROR, "cannot write %s: %s", path, strerror(errno));
        return 0;
}

/* ---- plan ------------------------------------------------------------------------------------------- */

/* Why @o cannot be migrated now, or NULL: written to @why. */
static const char *refusal(const struct mig *m, const json_t *o, char *why, size_t n)
{
        const char *kind = cli_str(o, "kind", NULL);
        bool ib = osb_streq(kind, "ServiceInstance") || osb_streq(kind, "ServiceBinding");
        if (cli_get(o, "metadata", "deletionTimestamp", NULL) && !json_is_null(cli_get(o, "metadata", "deletionTimestamp", NULL))) {
                snprintf(why, n, "being deleted: let service-catalog finish first");
                return why;
        }
        if (ib && json_is_true(cli_get(o, "status", "asyncOpInProgress", NULL))) {
                snprintf(why, n, "an operation is in progress (%s): wait until it ends",
                         cli_str(o, "status", "currentOperation", NULL) ? cli_str(o, "status", "currentOperation", NULL) : "?");
                return why;
        }
        if (ib && json_is_true(cli_get(o, "status", "orphanMitigationInProgress", NULL))) {
                snprintf(why, n, "orphan mitigation is in progress: wait until it ends");
                return why;
        }
        if (osb_streq(cli_str(o, "status", "deprovisionStatus", NULL), "Failed")) {
                snprintf(why, n, "its deprovision failed: settle it with the broker first");
                return why;
        }
        const char *plural = NULL;
        for (size_t k = 0; k < NKINDS; k++)
                if (osb_streq(svcat_kind_name(kinds[k]), kind))
                        plural = kinds[k]->plural;
        const json_t *props = plural ? spec_props(m, plural) : NULL;
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *) cli_get(o, "spec", NULL), key, v) {
                if (props && !json_object_get(props, key)) {
                        snprintf(why, n, "unknown field spec.%s: Bindery's CRD would drop it", key);
                        return why;
                }
        }
        return NULL;
}

/* What happens to @o. */
static const char *action(const json_t *o)
{
        const char *kind = cli_str(o, "kind", NULL);
        if (osb_streq(kind, "ServiceInstance") || osb_streq(kind, "ServiceBinding")) {
                const json_t *c = cli_condition(o, "Ready");
                if (c && osb_streq(cli_str(c, "status", NULL), "True"))
                        return "kept, Ready: status and externalID unchanged, nothing sent to the broker";
                return "kept as it is: Bindery carries on from its status";
        }
        if (strstr(kind, "Broker"))
                return "kept: Bindery fetches its catalog again (GET /v2/catalog only)";
        return "kept: owned by its broker, brought in step with the catalog";
}

static int print_plan(struct mig *m, const json_t *snap)
{
        const char *headers[] = {"KIND", "NAMESPACE", "NAME", "ACTION"};
        struct cli_table *t = cli_table_new(4, headers);
        if (!t)
                return oom();
        size_t i;
        const json_t *o;
        char why[512];
        int rc = 0;
        json_array_foreach(json_object_get(snap, "items"), i, o) {
                const char *r = refusal(m, o, why, sizeof(why));
                char act[600];
                if (r) {
                        snprintf(act, sizeof(act), "REFUSED: %s", r);
                        m->refused++;
                }
                const char *cells[] = {cli_str(o, "kind", NULL), md_str(o, "namespace") ? md_str(o, "namespace") : "-",
                                       md_str(o, "name"), r ? act : action(o)};
                if (cli_table_add(t, cells) < 0)
                        rc = -ENOMEM;
                if (osb_streq(cli_str(o, "kind", NULL), "ServiceBinding")) {
                        osb_autofree char *key = osb_asprintf("%s/%s", md_str(o, "namespace"), binding_secret(o));
                        bool have = key && json_object_get(json_object_get(snap, "secrets"), key);
                        bool ready = osb_streq(cli_str(cli_condition(o, "Ready"), "status", NULL), "True");
                        if (!have && ready)
                                m->refused++;
                        const char *sc[] = {"Secret", md_str(o, "namespace"), binding_secret(o),
                                            have ? "kept byte for byte (its digest is in the snapshot)" :
                                            ready ? "REFUSED: the Ready binding's Secret is missing" : "none yet"};
                        if (cli_table_add(t, sc) < 0)
                                rc = -ENOMEM;
                }
        }
        if (rc < 0) {
                cli_table_free(t);
                return oom();
        }
        if (cli_table_rows(t))
                cli_table_print(t, stdout);
        else
                printf("No service-catalog objects found.\n");
        return 0;
}

/* The webhook configurations of service-catalog: those with a rule for servicecatalog.k8s.io.
 * *ret: new array of {kind resource, name}. A cluster without the API has none. */
static int old_webhooks(struct mig *m, json_t **ret)
{
        json_auto_t *out = json_array();
        if (!out)
                return oom();
        const struct kube_resource *rs[] = {&res_mutating, &res_validating};
        for (size_t k = 0; k < 2; k++) {
                json_t *items = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                int r = svcat_list(m->cli->kc, rs[k], NULL, NULL, &items, &err);
                if (r == OSB_E_NOT_FOUND)
                        continue;
                if (r < 0)
                        return cli_request_error(m->cli, r, &err);
                size_t i, j, g;
                json_t *o, *w, *rule;
                json_array_foreach(items, i, o) {
                        bool ours = false;
                        json_array_foreach(json_object_get(o, "webhooks"), j, w) {
                                json_array_foreach(json_object_get(w, "rules"), g, rule) {
                                        size_t x;
                                        json_t *grp;
                                        json_array_foreach(json_object_get(rule, "apiGroups"), x, grp)
                                                ours |= osb_streq(json_string_value(grp), "servicecatalog.k8s.io");
                                }
                        }
                        if (ours && json_array_append_new(out, json_pack("{s:i,s:s}", "res", (int) k, "name",
                                                                         md_str(o, "name"))) < 0) {
                                json_decref(items);
                                return oom();
                        }
                }
                json_decref(items);
        }
        *ret = json_incref(out);
        return 0;
}

static int cmd_plan(struct mig *m)
{
        int rc = load_crds(m);
        if (rc)
                return rc;
        json_auto_t *snap = NULL;
        if ((rc = snapshot(m, &snap)))
                return rc;
        if ((rc = print_plan(m, snap)))
                return rc;
        json_auto_t *hooks = NULL;
        if ((rc = old_webhooks(m, &hooks)))
                return rc;
        size_t i;
        const json_t *h;
        json_array_foreach(hooks, i, h)
                printf("%s %s: deleted by run (its webhook server goes away with service-catalog)\n",
                       json_integer_value(json_object_get(h, "res")) ? "ValidatingWebhookConfiguration" :
                       "MutatingWebhookConfiguration", cli_str(h, "name", NULL));
        const char *plural;
        const json_t *crd;
        json_object_foreach(m->crds, plural, crd) {
                json_auto_t *live = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                int r = kube_get(m->cli->kc, &kube_crds, NULL, md_str(crd, "name"), &live, &err);
                if (r < 0 && r != OSB_E_NOT_FOUND)
                        return cli_request_error(m->cli, r, &err);
                printf("CustomResourceDefinition %s: %s\n", md_str(crd, "name"),
                       r == OSB_E_NOT_FOUND ? "created by run" :
                       json_equal(cli_get(live, "spec", "versions", NULL), cli_get(crd, "spec", "versions", NULL)) ?
                       "Bindery's already" : "replaced by run with Bindery's, keeping the stored objects");
        }
        if (m->refused) {
                fprintf(stderr, "error: kubectl svcat migrate: not safe to migrate now: %u object%s refused (see above)\n",
                        m->refused, m->refused == 1 ? "" : "s");
                return CLI_EXIT_ERROR;
        }
        printf("Safe to migrate: kubectl svcat migrate run --dir DIR --crds %s\n", m->o->crds);
        return CLI_EXIT_OK;
}

/* The ServiceBinding ownerReferences of @secret removed (in place); true when there were any. */
static bool drop_binding_owners(json_t *secret)
{
        json_t *refs = json_object_get(json_object_get(secret, "metadata"), "ownerReferences");
        bool dropped = false;
        for (size_t i = json_array_size(refs); i-- > 0;) {
                if (osb_streq(cli_str(json_array_get(refs, i), "kind", NULL), "ServiceBinding")) {
                        (void) json_array_remove(refs, i);
                        dropped = true;
                }
        }
        return dropped;
}

/* Aggregated mode: the bindings are created again with new uids, and the garbage collector
 * would delete a Secret whose owner's uid it no longer finds; so the Secrets lose their owner
 * reference now, and run gives them one to the binding as created again. */
static int detach_secrets(struct mig *m, const json_t *snap)
{
        size_t i;
        const json_t *o;
        json_array_foreach(json_object_get(snap, "items"), i, o) {
                if (!osb_streq(cli_str(o, "kind", NULL), "ServiceBinding"))
                        continue;
                json_auto_t *sec = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                int r = kube_get(m->cli->kc, &kube_secrets, md_str(o, "namespace"), binding_secret(o), &sec, &err);
                if (r == OSB_E_NOT_FOUND)
                        continue;
                if (r < 0)
                        return cli_request_error(m->cli, r, &err);
                if (!drop_binding_owners(sec))
                        continue;
                r = kube_update(m->cli->kc, &kube_secrets, md_str(o, "namespace"), sec, NULL, &err);
                if (r < 0)
                        return cli_request_error(m->cli, r, &err);
                m->writes++;
                printf("Secret %s/%s: owner reference to its ServiceBinding removed until run re-creates the binding\n",
                       md_str(o, "namespace"), binding_secret(o));
        }
        return 0;
}

static int cmd_export(struct mig *m)
{
        json_auto_t *snap = NULL;
        bool agg = false;
        int rc = aggregated(m, &agg);
        if (rc || (rc = snapshot(m, &snap)))
                return rc;
        if ((rc = write_snapshot(m, snap)))
                return rc;
        printf("Exported %zu objects and %zu Secret digests to %s/" SNAPSHOT "\n", json_array_size(json_object_get(snap, "items")),
               json_object_size(json_object_get(snap, "secrets")), m->o->dir);
        if (agg) {
                if ((rc = detach_secrets(m, snap)))
                        return rc;
                printf("service-catalog's aggregated API server serves these objects: next, stop it and delete its "
                       "APIService (kubectl delete apiservice " APISERVICE "), then run kubectl svcat migrate run --dir %s\n",
                       m->o->dir);
        }
        return CLI_EXIT_OK;
}

/* ---- run -------------------------------------------------------------------------------------------- */

static void step(int n, const char *who, const char *what)
{
        printf("%d. [%s] %s\n", n, who, what);
        fflush(stdout);
}

static void done(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void done(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("   ", stdout);
        vprintf(fmt, ap);
        putchar('\n');
        va_end(ap);
        fflush(stdout);
}

/* Step 1, the user's: service-catalog's controller-manager and webhook at zero replicas. */
static int check_scaled_down(struct mig *m)
{
        json_t *items = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = svcat_list(m->cli->kc, &res_deployments, m->o->old_ns, NULL, &items, &err);
        if (r == OSB_E_NOT_FOUND) {
                done("no Deployments API: nothing to check");
                return 0;
        }
        if (r < 0)
                return cli_request_error(m->cli, r, &err);
        json_auto_t *list = items;
        size_t i, seen = 0;
        const json_t *d;
        int rc = 0;
        json_array_foreach(list, i, d) {
                const char *name = md_str(d, "name");
                size_t n = strlen(name);
                bool cm = n >= 19 && strcmp(name + n - 19, "-controller-manager") == 0;
                bool wh = n >= 8 && strcmp(name + n - 8, "-webhook") == 0;
                if (!cm && !wh)
                        continue;
                seen++;
                json_int_t want = json_integer_value(cli_get(d, "spec", "replicas", NULL));
                json_int_t have = json_integer_value(cli_get(d, "status", "replicas", NULL));
                if (want || have) {
                        rc = cli_error(m->cli, CLI_EXIT_ERROR, "Deployment %s/%s still runs %lld replica%s: stop it first: "
                                       "kubectl scale deployment %s -n %s --replicas=0", m->o->old_ns, name,
                                       (long long) (want > have ? want : have), (want > have ? want : have) == 1 ? "" : "s",
                                       name, m->o->old_ns);
                        continue;
                }
                done("Deployment %s/%s: 0 replicas", m->o->old_ns, name);
        }
        if (!seen && !rc)
                done("no service-catalog Deployments (*-controller-manager, *-webhook) in namespace %s "
                     "(--old-namespace)", m->o->old_ns);
        return rc;
}

static int delete_webhooks(struct mig *m)
{
        json_auto_t *hooks = NULL;
        int rc = old_webhooks(m, &hooks);
        if (rc)
                return rc;
        size_t i;
        const json_t *h;
        json_array_foreach(hooks, i, h) {
                const struct kube_resource *res = json_integer_value(json_object_get(h, "res")) ? &res_validating : &res_mutating;
                struct osb_error err = OSB_ERROR_INIT;
                int r = kube_delete(m->cli->kc, res, NULL, cli_str(h, "name", NULL), NULL, &err);
                if (r < 0 && r != OSB_E_NOT_FOUND)
                        return cli_request_error(m->cli, r, &err);
                m->writes++;
                done("deleted %s %s", res == &res_validating ? "ValidatingWebhookConfiguration" : "MutatingWebhookConfiguration",
                     cli_str(h, "name", NULL));
        }
        if (!json_array_size(hooks))
                done("none left");
        return 0;
}

static int wait_established(struct mig *m, const char *name)
{
        for (int i = 0; i < 300; i++) {
                json_auto_t *live = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                int r = kube_get(m->cli->kc, &kube_crds, NULL, name, &live, &err);
                if (r < 0)
                        return cli_request_error(m->cli, r, &err);
                if (osb_streq(cli_str(cli_condition(live, "Established"), "status", NULL), "True"))
                        return 0;
                struct timespec ts = {0, 100 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        return cli_error(m->cli, CLI_EXIT_ERROR, "CustomResourceDefinition %s is not Established after 30 s", name);
}

static int install_crds(struct mig *m)
{
        const char *plural;
        json_t *crd;
        json_object_foreach(m->crds, plural, crd) {
                const char *name = md_str(crd, "name");
                json_auto_t *live = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                int r = kube_get(m->cli->kc, &kube_crds, NULL, name, &live, &err);
                if (r < 0 && r != OSB_E_NOT_FOUND)
                        return cli_request_error(m->cli, r, &err);
                if (r == OSB_E_NOT_FOUND) {
                        r = kube_create(m->cli->kc, &kube_crds, NULL, crd, NULL, &err);
                        if (r < 0)
                                return cli_request_error(m->cli, r, &err);
                        m->writes++;
                        done("created %s", name);
                } else if (json_equal(cli_get(live, "spec", "versions", NULL), cli_get(crd, "spec", "versions", NULL))) {
                        done("%s: Bindery's already", name);
                        continue;
                } else {
                        /* the same group, version and plural: the stored objects stay */
                        json_auto_t *put = json_deep_copy(crd);
                        json_t *md = put ? json_object_get(put, "metadata") : NULL;
                        if (!md || json_object_set(md, "resourceVersion", (json_t *) cli_get(live, "metadata", "resourceVersion", NULL)) < 0)
                                return oom();
                        r = kube_update(m->cli->kc, &kube_crds, NULL, put, NULL, &err);
                        if (r < 0)
                                return cli_request_error(m->cli, r, &err);
                        m->writes++;
                        done("replaced %s (the stored objects are kept)", name);
                }
                if ((r = wait_established(m, name)))
                        return r;
        }
        return 0;
}

/* What may be written back of an exported object's metadata (creating it again). */
static json_t *fresh_copy(const json_t *o)
{
        json_t *c = json_deep_copy(o);
        json_t *md = c ? json_object_get(c, "metadata") : NULL;
        if (!md)
                return c;
        const char *drop[] = {"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                              "selfLink", "ownerReferences", "deletionTimestamp", "deletionGracePeriodSeconds"};
        for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
                (void) json_object_del(md, drop[i]);
        (void) json_object_del(c, "status");
        return c;
}

static const struct kube_resource *res_of(const json_t *o)
{
        for (size_t k = 0; k < NKINDS; k++)
                if (osb_streq(svcat_kind_name(kinds[k]), cli_str(o, "kind", NULL)))
                        return kinds[k];
        return NULL;
}

/* A binding's Secret owned by @binding as it is now (after an aggregated-mode export the
 * Secret has no owner; a binding created again has a new uid). Returns 0, 1 when it wrote, or
 * minus an exit code. */
static int own_secret(struct mig *m, const json_t *binding)
{
        const char *ns = md_str(binding, "namespace"), *uid = md_str(binding, "uid");
        json_auto_t *sec = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = kube_get(m->cli->kc, &kube_secrets, ns, binding_secret(binding), &sec, &err);
        if (r == OSB_E_NOT_FOUND)
                return 0;
        if (r < 0)
                return -cli_request_error(m->cli, r, &err);
        size_t i;
        const json_t *ref;
        json_array_foreach(cli_get(sec, "metadata", "ownerReferences", NULL), i, ref)
                if (osb_streq(cli_str(ref, "uid", NULL), uid))
                        return 0;
        (void) drop_binding_owners(sec);
        json_t *md = json_object_get(sec, "metadata");
        json_t *refs = json_object_get(md, "ownerReferences");
        if (!json_is_array(refs)) {
                refs = json_array();
                if (!refs || json_object_set_new(md, "ownerReferences", refs) < 0)
                        return -oom();
        }
        if (json_array_append_new(refs, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "apiVersion", "servicecatalog.k8s.io/v1beta1",
                                                  "kind", "ServiceBinding", "name", md_str(binding, "name"), "uid",
                                                  uid ? uid : "", "controller", 1, "blockOwnerDeletion", 1)) < 0)
                return -oom();
        r = kube_update(m->cli->kc, &kube_secrets, ns, sec, NULL, &err);
        if (r < 0)
                return -cli_request_error(m->cli, r, &err);
        m->writes++;
        return 1;
}

/* Step 5: every object of the snapshot in the cluster (created from an export when missing),
 * with the snapshot's status written through the status subresource where it differs. */
static int restore(struct mig *m, const json_t *snap)
{
        unsigned created = 0, restored = 0, same = 0, owned = 0;
        size_t i;
        const json_t *o;
        json_array_foreach(json_object_get(snap, "items"), i, o) {
                const struct kube_resource *res = res_of(o);
                if (!res)
                        continue;
                const char *ns = md_str(o, "namespace"), *name = md_str(o, "name");
                json_auto_t *live = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                int r = kube_get(m->cli->kc, res, ns, name, &live, &err);
                if (r == OSB_E_NOT_FOUND) {
                        json_auto_t *c = fresh_copy(o);
                        if (!c)
                                return oom();
                        r = kube_create(m->cli->kc, res, ns, c, &live, &err);
                        if (r < 0)
                                return cli_request_error(m->cli, r, &err);
                        m->writes++;
                        created++;
                }
                if (r < 0)
                        return cli_request_error(m->cli, r, &err);
                if (res == &kube_sc_bindings) {
                        int w = own_secret(m, live);
                        if (w < 0)
                                return -w;
                        owned += w == 1;
                }
                const json_t *want = json_object_get(o, "status");
                if (!want || json_equal(json_object_get(live, "status"), (json_t *) want)) {
                        same++;
                        continue;
                }
                if (json_object_set(live, "status", (json_t *) want) < 0)
                        return oom();
                json_auto_t *out = NULL;
                r = kube_update_status(m->cli->kc, res, ns, live, &out, &err);
                if (r < 0)
                        return cli_request_error(m->cli, r, &err);
                m->writes++;
                restored++;
        }
        done("%u object%s created, %u status%s restored, %u already as in the snapshot; %u Secret%s given to %s binding "
             "again", created, created == 1 ? "" : "s", restored, restored == 1 ? "" : "es", same, owned, owned == 1 ? "" : "s",
             owned == 1 ? "its" : "their");
        return 0;
}

/* Step 6: service-catalog's finalizer is Bindery's: make sure each instance and binding has it. */
static int ensure_finalizers(struct mig *m, const json_t *snap)
{
        unsigned added = 0, had = 0;
        size_t i;
        const json_t *o;
        json_array_foreach(json_object_get(snap, "items"), i, o) {
                const struct kube_resource *res = res_of(o);
                if (res != &kube_sc_instances && res != &kube_sc_bindings)
                        continue;
                json_auto_t *live = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                int r = kube_get(m->cli->kc, res, md_str(o, "namespace"), md_str(o, "name"), &live, &err);
                if (r < 0)
                        return cli_request_error(m->cli, r, &err);
                json_t *md = json_object_get(live, "metadata");
                json_t *fins = json_object_get(md, "finalizers");
                bool has = false;
                size_t j;
                json_t *f;
                json_array_foreach(fins, j, f)
                        has |= osb_streq(json_string_value(f), FINALIZER);
                if (has) {
                        had++;
                        continue;
                }
                if (!json_is_array(fins)) {
                        fins = json_array();
                        if (!fins || json_object_set_new(md, "finalizers", fins) < 0)
                                return oom();
                }
                if (json_array_append_new(fins, json_string(FINALIZER)) < 0)
                        return oom();
                r = kube_update(m->cli->kc, res, md_str(o, "namespace"), live, NULL, &err);
                if (r < 0)
                        return cli_request_error(m->cli, r, &err);
                m->writes++;
                added++;
        }
        done("%u had it, %u got it", had, added);
        return 0;
}

static int cmd_run(struct mig *m)
{
        int rc = load_crds(m);
        if (rc)
                return rc;
        printf("Migrating from service-catalog to Bindery, in this order (steps marked [you] are yours):\n");
        step(1, "you", "scale service-catalog's controller-manager and webhook Deployments to 0 replicas (checked)");
        if ((rc = check_scaled_down(m)))
                return rc;
        bool agg = false;
        if ((rc = aggregated(m, &agg)))
                return rc;
        if (agg)
                return cli_error(m->cli, CLI_EXIT_ERROR, "servicecatalog.k8s.io is served by service-catalog's aggregated "
                                 "API server (APIService " APISERVICE "): first kubectl svcat migrate export --dir %s, then "
                                 "stop that server and kubectl delete apiservice " APISERVICE ", then run again", m->o->dir);
        int last = m->o->stop_after > 0 ? m->o->stop_after : 7;
        step(2, "run", "snapshot every object and the digests of the bindings' Secrets");
        json_auto_t *snap = NULL;
        bool found = false;
        if ((rc = read_snapshot(m, &snap, &found)))
                return rc;
        if (!found && (rc = snapshot(m, &snap)))
                return rc;
        /* a snapshot exported earlier is checked too: it is what step 5 writes back */
        size_t i;
        const json_t *o;
        char why[512];
        json_array_foreach(json_object_get(snap, "items"), i, o) {
                const char *r = refusal(m, o, why, sizeof(why));
                if (!r && osb_streq(cli_str(o, "kind", NULL), "ServiceBinding") &&
                    osb_streq(cli_str(cli_condition(o, "Ready"), "status", NULL), "True")) {
                        osb_autofree char *key = osb_asprintf("%s/%s", md_str(o, "namespace"), binding_secret(o));
                        if (!key)
                                return oom();
                        if (!json_object_get(json_object_get(snap, "secrets"), key))
                                r = "the Ready binding's Secret is missing";
                }
                if (r) {
                        fprintf(stderr, "error: kubectl svcat migrate: %s %s%s%s: %s\n", cli_str(o, "kind", NULL),
                                md_str(o, "namespace") ? md_str(o, "namespace") : "", md_str(o, "namespace") ? "/" : "",
                                md_str(o, "name"), r);
                        m->refused++;
                }
        }
        if (m->refused)
                return cli_error(m->cli, CLI_EXIT_ERROR, "not safe to migrate now (kubectl svcat migrate plan says why)%s",
                                 found ? "; the snapshot in --dir was taken then: export again once it is settled" :
                                 "; nothing was changed");
        if (found) {
                done("%s/" SNAPSHOT " taken earlier: kept (%zu objects)", m->o->dir, json_array_size(json_object_get(snap, "items")));
        } else {
                if ((rc = write_snapshot(m, snap)))
                        return rc;
                done("%s/" SNAPSHOT ": %zu objects, %zu Secret digests", m->o->dir, json_array_size(json_object_get(snap, "items")),
                     json_object_size(json_object_get(snap, "secrets")));
        }
        if (last >= 3) {
                step(3, "run", "delete service-catalog's webhook configurations");
                if ((rc = delete_webhooks(m)))
                        return rc;
        }
        if (last >= 4) {
                step(4, "run", "install Bindery's CRDs over service-catalog's, keeping the stored objects");
                if ((rc = install_crds(m)))
                        return rc;
        }
        if (last >= 5) {
                step(5, "run", "create the objects missing from the cluster and restore each status through the status subresource");
                if ((rc = restore(m, snap)))
                        return rc;
        }
        if (last >= 6) {
                step(6, "run", "give every instance and binding the finalizer " FINALIZER " (service-catalog's and Bindery's)");
                if ((rc = ensure_finalizers(m, snap)))
                        return rc;
        }
        if (last < 7) {
                printf("Stopped after step %d (--stop-after): run again to carry on.\n", last);
                return CLI_EXIT_OK;
        }
        step(7, "you", "start Bindery's controller (kubectl apply -k deploy/, or the Helm chart), then: "
             "kubectl svcat migrate verify --dir DIR");
        printf("Done: %u change%s made in the cluster.\n", m->writes, m->writes == 1 ? "" : "s");
        return CLI_EXIT_OK;
}

/* ---- verify ----------------------------------------------------------------------------------------- */

static int cmd_verify(struct mig *m)
{
        json_auto_t *snap = NULL;
        bool found = false;
        int rc = read_snapshot(m, &snap, &found);
        if (rc)
                return rc;
        if (!found)
                return cli_error(m->cli, CLI_EXIT_ERROR, "%s/" SNAPSHOT " does not exist: run kubectl svcat migrate run "
                                 "(or export) with --dir %s first", m->o->dir, m->o->dir);
        const char *headers[] = {"KIND", "NAMESPACE", "NAME", "RESULT"};
        struct cli_table *t = cli_table_new(4, headers);
        if (!t)
                return oom();
        unsigned bad = 0, ok = 0;
        size_t i;
        const json_t *o;
        json_array_foreach(json_object_get(snap, "items"), i, o) {
                const struct kube_resource *res = res_of(o);
                if (res != &kube_sc_instances && res != &kube_sc_bindings)
                        continue;
                const char *ns = md_str(o, "namespace"), *name = md_str(o, "name");
                json_auto_t *live = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                int r = kube_get(m->cli->kc, res, ns, name, &live, &err);
                char result[600] = "";
                bool was_ready = osb_streq(cli_str(cli_condition(o, "Ready"), "status", NULL), "True");
                if (r == OSB_E_NOT_FOUND) {
                        snprintf(result, sizeof(result), "FAILED: gone");
                } else if (r < 0) {
                        cli_table_free(t);
                        return cli_request_error(m->cli, r, &err);
                } else if (!osb_streq(cli_str(o, "spec", "externalID", NULL), cli_str(live, "spec", "externalID", NULL))) {
                        snprintf(result, sizeof(result), "FAILED: spec.externalID changed");
                } else if (was_ready && !osb_streq(cli_str(cli_condition(live, "Ready"), "status", NULL), "True")) {
                        snprintf(result, sizeof(result), "FAILED: was Ready, now %s",
                                 cli_status_reason(live)[0] ? cli_status_reason(live) : "not");
                } else if (was_ready && !osb_streq(cli_str(live, "status", "lastOperation", NULL),
                                                   cli_str(o, "status", "lastOperation", NULL)) &&
                           json_is_true(cli_get(live, "status", "asyncOpInProgress", NULL))) {
                        snprintf(result, sizeof(result), "FAILED: an operation started");
                } else {
                        snprintf(result, sizeof(result), "ok: %s, externalID %s", was_ready ? "Ready" : "as before",
                                 cli_str(o, "spec", "externalID", NULL) ? cli_str(o, "spec", "externalID", NULL) : "-");
                }
                if (!strncmp(result, "FAILED", 6))
                        bad++;
                else
                        ok++;
                const char *cells[] = {cli_str(o, "kind", NULL), ns, name, result};
                if (cli_table_add(t, cells) < 0) {
                        cli_table_free(t);
                        return oom();
                }
                if (res != &kube_sc_bindings)
                        continue;
                osb_autofree char *key = osb_asprintf("%s/%s", ns, binding_secret(o));
                const char *want = key ? json_string_value(json_object_get(json_object_get(snap, "secrets"), key)) : NULL;
                if (!want)
                        continue;
                json_auto_t *sec = NULL;
                char hex[2 * OSB_HASH_SHA256_LEN + 1] = "";
                r = kube_get(m->cli->kc, &kube_secrets, ns, binding_secret(o), &sec, &err);
                if (r < 0 && r != OSB_E_NOT_FOUND) {
                        cli_table_free(t);
                        return cli_request_error(m->cli, r, &err);
                }
                if (r == 0 && secret_digest(sec, hex) < 0) {
                        cli_table_free(t);
                        return oom();
                }
                const char *sr = r == OSB_E_NOT_FOUND ? "FAILED: gone" : osb_streq(hex, want) ? "ok: byte for byte unchanged" :
                                 "FAILED: its data changed";
                if (!strncmp(sr, "FAILED", 6))
                        bad++;
                else
                        ok++;
                const char *sc[] = {"Secret", ns, binding_secret(o), sr};
                if (cli_table_add(t, sc) < 0) {
                        cli_table_free(t);
                        return oom();
                }
        }
        cli_table_print(t, stdout);
        if (bad) {
                fprintf(stderr, "error: kubectl svcat migrate verify: %u of %u checks failed\n", bad, bad + ok);
                return CLI_EXIT_ERROR;
        }
        printf("Verified: %u checks passed. Check the broker's request log for the migration window too: it "
               "must show no PUT, PATCH or DELETE of /v2/service_instances.\n", ok);
        return CLI_EXIT_OK;
}

int svcat_migrate(struct cli *cli, const char *sub, const struct svcat_migrate_opts *o)
{
        struct mig m = {.cli = cli, .o = o};
        int rc;
        if (!o->dir && strcmp(sub, "plan") != 0)
                return cli_error(cli, CLI_EXIT_USAGE, "migrate %s needs --dir DIR (where the snapshot is kept)", sub);
        if (strcmp(sub, "plan") == 0)
                rc = cmd_plan(&m);
        else if (strcmp(sub, "export") == 0)
                rc = cmd_export(&m);
        else if (strcmp(sub, "run") == 0)
                rc = cmd_run(&m);
        else if (strcmp(sub, "verify") == 0)
                rc = cmd_verify(&m);
        else
                rc = cli_error(cli, CLI_EXIT_USAGE, "migrate takes plan, export, run or verify, not \"%s\"", sub);
        mig_release(&m);
        return rc;
}

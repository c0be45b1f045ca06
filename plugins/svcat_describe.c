/* plugins/svcat_describe.c: kubectl svcat describe: an object as text, the way kubectl describe
 * shows one (fields, conditions, related objects, Events newest last). Secret values are never
 * printed: of a Secret only its name and its keys. */
#include "common/osb_compat.h"

#include "common/osb_base64.h"
#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "plugins/svcat.h"
#include "plugins/svcat_params.h"

#define LABEL_WIDTH 24

/* "Label:   value", the value "<none>" when NULL or empty. */
static void field(const char *label, const char *value)
{
        char l[64];
        snprintf(l, sizeof(l), "%s:", label);
        printf("%-*s%s\n", LABEL_WIDTH, l, value && *value ? value : "<none>");
}

static void field_json(const char *label, const json_t *v)
{
        if (json_is_string(v)) {
                field(label, json_string_value(v));
                return;
        }
        osb_autofree char *s = v ? osb_json_dump_flags(v, JSON_COMPACT | JSON_ENCODE_ANY, NULL) : NULL;
        field(label, s);
}

/* Prints @t (freed) with every line indented by two spaces. */
static void print_indented(struct cli_table *t)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
                cli_table_free(t);
                return;
        }
        cli_table_print(t, f);
        fclose(f);
        for (const char *line = buf; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t n = nl ? (size_t) (nl - line) : strlen(line);
                printf("  %.*s\n", (int) n, line);
                line = nl ? nl + 1 : NULL;
        }
        free(buf);   /* open_memstream's buffer is the C library's */
}

static void conditions(const json_t *obj)
{
        static const char *const head[] = {"Type", "Status", "Reason", "Message", "Last Transition"};
        const json_t *conds = cli_get(obj, "status", "conditions", NULL);
        if (json_array_size(conds) == 0) {
                field("Conditions", NULL);
                return;
        }
        printf("Conditions:\n");
        struct cli_table *t = cli_table_new(5, head);
        if (!t)
                return;
        size_t i;
        const json_t *c;
        json_array_foreach(conds, i, c) {
                const char *row[] = {cli_str(c, "type", NULL), cli_str(c, "status", NULL), cli_str(c, "reason", NULL),
                                     cli_str(c, "message", NULL), cli_str(c, "lastTransitionTime", NULL)};
                (void) cli_table_add(t, row);
        }
        print_indented(t);
}

/* spec.parameters, one line per top-level key. */
static void parameters(const json_t *obj)
{
        const json_t *p = cli_get(obj, "spec", "parameters", NULL);
        if (json_object_size(p) == 0) {
                field("Parameters", NULL);
                return;
        }
        printf("Parameters:\n");
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *) p, k, v) {
                osb_autofree char *s = osb_json_dump_flags(v, JSON_COMPACT | JSON_ENCODE_ANY, NULL);
                printf("  %s: %s\n", k, json_is_string(v) ? json_string_value(v) : s ? s : "?");
        }
}

/* spec.parametersFrom: the Secret and key each names, and the parameters that key holds, their
 * values redacted. */
static void parameters_from(struct cli *cli, const json_t *obj)
{
        const json_t *pf = cli_get(obj, "spec", "parametersFrom", NULL);
        if (json_array_size(pf) == 0) {
                field("Parameters From", NULL);
                return;
        }
        printf("Parameters From:\n");
        size_t i;
        const json_t *ref;
        json_array_foreach(pf, i, ref) {
                const char *name = cli_str(ref, "secretKeyRef", "name", NULL);
                const char *key = cli_str(ref, "secretKeyRef", "key", NULL);
                printf("  Secret %s, key %s:\n", name ? name : "<none>", key ? key : "<none>");
                if (!name || !key)
                        continue;
                struct osb_error err = OSB_ERROR_INIT;
                osb_autojson json_t *secret = NULL;
                int r = kube_get(cli->kc, &kube_secrets, cli_str(obj, "metadata", "namespace", NULL), name, &secret, &err);
                if (r == OSB_E_NOT_FOUND) {
                        printf("    (the Secret does not exist)\n");
                        continue;
                }
                if (r < 0) {
                        printf("    (cannot read the Secret: %s)\n", err.text);
                        continue;
                }
                const char *b64 = cli_str(secret, "data", key, NULL);
                if (!b64) {
                        printf("    (the Secret has no key %s)\n", key);
                        continue;
                }
                osb_autofree char *raw = NULL;
                size_t len = 0;
                osb_autojson json_t *params = NULL;
                if (osb_base64_decode(b64, strlen(b64), OSB_BASE64_STRICT, &raw, &len, NULL) < 0 ||
                    osb_json_parse_object(raw, len, &params, &err) < 0) {
                        printf("    (the value is not a JSON object)\n");
                        continue;
                }
                const char *k;
                const json_t *v;
                json_object_foreach(params, k, v)
                        printf("    %s: <REDACTED>\n", k);
        }
}

static int by_event_time(const void *a, const void *b)
{
        const json_t *x = *(const json_t *const *) a, *y = *(const json_t *const *) b;
        const char *p = cli_str(x, "lastTimestamp", NULL), *q = cli_str(y, "lastTimestamp", NULL);
        if (!p)
                p = cli_str(x, "eventTime", NULL);
        if (!q)
                q = cli_str(y, "eventTime", NULL);
        return strcmp(p ? p : "", q ? q : "");
}

/* The Events about @obj: those in its namespace (every namespace for a cluster-scoped object)
 * whose involvedObject has its uid, or its name and kind. Oldest first, as kubectl shows them. */
static void events(struct cli *cli, const json_t *obj)
{
        static const char *const head[] = {"Type", "Reason", "Age", "From", "Message"};
        const char *name = cli_str(obj, "metadata", "name", NULL);
        const char *uid = cli_str(obj, "metadata", "uid", NULL);
        const char *kind = cli_str(obj, "kind", NULL);
        osb_autofree char *sel = osb_asprintf("involvedObject.name=%s", name ? name : "");
        struct osb_error err = OSB_ERROR_INIT;
        osb_autojson json_t *items = NULL;
        if (!sel || svcat_list(cli->kc, &kube_events, cli_str(obj, "metadata", "namespace", NULL), sel, &items, &err) < 0) {
                printf("Events:                 (cannot list them: %s)\n", err.text);
                return;
        }
        size_t n = 0, i;
        const json_t *e;
        osb_autofree const json_t **v = osb_calloc(json_array_size(items) + 1, sizeof(*v));
        if (!v)
                return;
        json_array_foreach(items, i, e) {
                const char *euid = cli_str(e, "involvedObject", "uid", NULL);
                if (euid && uid ? osb_streq(euid, uid) : osb_streq(cli_str(e, "involvedObject", "kind", NULL), kind))
                        v[n++] = e;
        }
        if (n == 0) {
                field("Events", NULL);
                return;
        }
        qsort(v, n, sizeof(*v), by_event_time);
        printf("Events:\n");
        struct cli_table *t = cli_table_new(5, head);
        if (!t)
                return;
        for (i = 0; i < n; i++) {
                const char *last = cli_str(v[i], "lastTimestamp", NULL);
                if (!last)
                        last = cli_str(v[i], "eventTime", NULL);
                char age[32], first[32], when[96];
                cli_age(last, age, sizeof(age));
                json_int_t count = json_integer_value(cli_get(v[i], "count", NULL));
                if (count > 1) {
                        cli_age(cli_str(v[i], "firstTimestamp", NULL), first, sizeof(first));
                        snprintf(when, sizeof(when), "%s (x%lld over %s)", age, (long long) count, first);
                } else {
                        snprintf(when, sizeof(when), "%s", age);
                }
                const char *from = cli_str(v[i], "source", "component", NULL);
                if (!from)
                        from = cli_str(v[i], "reportingComponent", NULL);
                const char *row[] = {cli_str(v[i], "type", NULL), cli_str(v[i], "reason", NULL), when, from,
                                     cli_str(v[i], "message", NULL)};
                (void) cli_table_add(t, row);
        }
        print_indented(t);
}

static void metadata(const json_t *obj)
{
        field("Name", cli_str(obj, "metadata", "name", NULL));
        if (cli_str(obj, "metadata", "namespace", NULL))
                field("Namespace", cli_str(obj, "metadata", "namespace", NULL));
        field("UID", cli_str(obj, "metadata", "uid", NULL));
        field("Created", cli_str(obj, "metadata", "creationTimestamp", NULL));
        /* kubectl apply's copy of the whole object is left out: long, and nothing new */
        static const char last_applied[] = "kubectl.kubernetes.io/last-applied-configuration";
        json_t *ann = (json_t *) cli_get(obj, "metadata", "annotations", NULL);
        size_t shown = json_object_size(ann) - (json_object_get(ann, last_applied) ? 1 : 0);
        if (shown == 0)
                field("Annotations", NULL);
        else
                printf("Annotations:\n");
        const char *k;
        const json_t *v;
        json_object_foreach(ann, k, v) {
                if (strcmp(k, last_applied) != 0)
                        printf("  %s: %s\n", k, json_is_string(v) ? json_string_value(v) : "");
        }
        if (cli_str(obj, "metadata", "deletionTimestamp", NULL))
                field("Deletion Requested", cli_str(obj, "metadata", "deletionTimestamp", NULL));
}

static void operation(const json_t *obj)
{
        field("Status", cli_status_reason(obj));
        field("Current Operation", cli_str(obj, "status", "currentOperation", NULL));
        field("Last Operation", cli_str(obj, "status", "lastOperation", NULL));
        field("Async In Progress", json_is_true(cli_get(obj, "status", "asyncOpInProgress", NULL)) ? "true" : "false");
        if (cli_str(obj, "status", "operationStartTime", NULL))
                field("Operation Started", cli_str(obj, "status", "operationStartTime", NULL));
        if (cli_str(obj, "status", "nextRetryTime", NULL))
                field("Next Retry", cli_str(obj, "status", "nextRetryTime", NULL));
        if (json_is_true(cli_get(obj, "status", "orphanMitigationInProgress", NULL)))
                field("Orphan Mitigation", "in progress");
}

static int describe_instance(struct cli *cli, const json_t *si)
{
        struct osb_error err = OSB_ERROR_INIT;
        metadata(si);
        char buf[512];
        const char *cref = cli_str(si, "spec", "clusterServiceClassRef", "name", NULL);
        const char *pref = cli_str(si, "spec", "clusterServicePlanRef", "name", NULL);
        const char *ckind = "ClusterServiceClass", *pkind = "ClusterServicePlan";
        if (!cref) {
                cref = cli_str(si, "spec", "serviceClassRef", "name", NULL);
                pref = cli_str(si, "spec", "servicePlanRef", "name", NULL);
                ckind = "ServiceClass", pkind = "ServicePlan";
        }
        const char *cname = svcat_instance_class(si), *pname = svcat_instance_plan(si);
        if (cref)
                snprintf(buf, sizeof(buf), "%s (%s %s)", cname ? cname : "", ckind, cref);
        field("Class", cref ? buf : cname);
        if (pref)
                snprintf(buf, sizeof(buf), "%s (%s %s)", pname ? pname : "", pkind, pref);
        field("Plan", pref ? buf : pname);
        field("External ID", cli_str(si, "spec", "externalID", NULL));
        field("Dashboard URL", cli_str(si, "status", "dashboardURL", NULL));
        field_json("Update Requests", cli_get(si, "spec", "updateRequests", NULL));
        operation(si);
        field("Provision Status", cli_str(si, "status", "provisionStatus", NULL));
        field("Deprovision Status", cli_str(si, "status", "deprovisionStatus", NULL));
        conditions(si);
        parameters(si);
        parameters_from(cli, si);

        /* the bindings that name it */
        osb_autojson json_t *bindings = NULL;
        const char *name = cli_str(si, "metadata", "name", NULL);
        if (svcat_list(cli->kc, &kube_sc_bindings, cli_str(si, "metadata", "namespace", NULL), NULL, &bindings, &err) < 0) {
                printf("Bindings:               (cannot list them: %s)\n", err.text);
        } else {
                static const char *const head[] = {"Name", "Secret", "Status"};
                struct cli_table *t = cli_table_new(3, head);
                size_t i;
                const json_t *b;
                json_array_foreach(bindings, i, b) {
                        if (!t || !osb_streq(cli_str(b, "spec", "instanceRef", "name", NULL), name))
                                continue;
                        const char *bname = cli_str(b, "metadata", "name", NULL);
                        const char *secret = cli_str(b, "spec", "secretName", NULL);
                        const char *row[] = {bname, secret ? secret : bname, cli_status_reason(b)};
                        (void) cli_table_add(t, row);
                }
                if (t && cli_table_rows(t)) {
                        printf("Bindings:\n");
                        print_indented(t);
                } else {
                        cli_table_free(t);
                        field("Bindings", NULL);
                }
        }
        events(cli, si);
        return CLI_EXIT_OK;
}

static const char *or_none(const char *s)
{
        return s ? s : "<none>";
}

/* Credential rotation (issue 19): the policy, the current binding id, what is in progress, the
 * retired bindings and the history. Nothing when the binding has neither a policy nor state. */
static void rotation(const json_t *sb)
{
        const json_t *pol = cli_get(sb, "spec", "credentialsRotationPolicy", NULL);
        const json_t *cr = cli_get(sb, "status", "credentialsRotation", NULL);
        if (!json_is_object(pol) && !json_is_object(cr))
                return;
        char buf[256];
        if (json_is_object(pol)) {
                const char *freq = cli_str(pol, "rotationFrequency", NULL), *ttl = cli_str(pol, "rotatedBindingTTL", NULL);
                snprintf(buf, sizeof(buf), "%s, every %s, old credentials kept %s",
                         json_is_true(json_object_get(pol, "enabled")) ? "enabled" : "disabled", freq ? freq : "<none>",
                         ttl ? ttl : "1h (default)");
                field("Rotation Policy", buf);
        } else {
                field("Rotation Policy", NULL);
        }
        field("Current Binding ID", cli_str(cr, "currentExternalID", NULL) ? cli_str(cr, "currentExternalID", NULL) :
                                    cli_str(sb, "spec", "externalID", NULL));
        field("Last Rotation", cli_str(sb, "status", "lastCredentialsRotationTime", NULL));
        field("Next Rotation", cli_str(cr, "nextRotationTime", NULL));
        if (cli_str(cr, "expiresAt", NULL))
                field("Expires At", cli_str(cr, "expiresAt", NULL));
        const json_t *pending = cli_get(cr, "pending", NULL);
        if (json_is_object(pending)) {
                snprintf(buf, sizeof(buf), "binding %s (%s, %s, since %s)", or_none(cli_str(pending, "externalID", NULL)),
                         or_none(cli_str(pending, "reason", NULL)), or_none(cli_str(pending, "method", NULL)),
                         or_none(cli_str(pending, "startTime", NULL)));
                field("Rotation In Progress", buf);
        }
        size_t i;
        const json_t *e;
        const json_t *retired = cli_get(cr, "retired", NULL);
        if (json_array_size(retired)) {
                static const char *const head[] = {"Binding ID", "Secret", "Retired", "Unbind After"};
                printf("Retired Bindings:\n");
                struct cli_table *t = cli_table_new(4, head);
                if (t) {
                        json_array_foreach(retired, i, e) {
                                const char *row[] = {cli_str(e, "externalID", NULL), cli_str(e, "secretName", NULL),
                                                     cli_str(e, "retiredTime", NULL), cli_str(e, "unbindAfter", NULL)};
                                (void) cli_table_add(t, row);
                        }
                        print_indented(t);
                }
        }
        const json_t *hist = cli_get(cr, "history", NULL);
        if (json_array_size(hist)) {
                static const char *const head[] = {"Time", "Reason", "Method", "From", "To", "Old Unbound"};
                printf("Rotation History:\n");
                struct cli_table *t = cli_table_new(6, head);
                if (t) {
                        json_array_foreach(hist, i, e) {
                                const char *ub = cli_str(e, "retiredUnboundTime", NULL);
                                const char *row[] = {cli_str(e, "time", NULL), cli_str(e, "reason", NULL),
                                                     cli_str(e, "method", NULL), cli_str(e, "fromExternalID", NULL),
                                                     cli_str(e, "toExternalID", NULL), ub ? ub : "-"};
                                (void) cli_table_add(t, row);
                        }
                        print_indented(t);
                }
        }
}

static int describe_binding(struct cli *cli, const json_t *sb)
{
        metadata(sb);
        const char *name = cli_str(sb, "metadata", "name", NULL);
        const char *secret = cli_str(sb, "spec", "secretName", NULL);
        if (!secret)
                secret = name;
        field("Instance", cli_str(sb, "spec", "instanceRef", "name", NULL));
        field("External ID", cli_str(sb, "spec", "externalID", NULL));
        field("Secret", secret);
        struct osb_error err = OSB_ERROR_INIT;
        osb_autojson json_t *s = NULL;
        int r = kube_get(cli->kc, &kube_secrets, cli_str(sb, "metadata", "namespace", NULL), secret, &s, &err);
        if (r == OSB_E_NOT_FOUND) {
                field("Secret Keys", "(the Secret does not exist)");
        } else if (r < 0) {
                printf("%-*s(cannot read the Secret: %s)\n", LABEL_WIDTH, "Secret Keys:", err.text);
        } else {
                /* the keys, never the values */
                struct osb_buf keys;
                osb_buf_init(&keys, 64 * 1024);
                const char *k;
                const json_t *v;
                json_t *data = (json_t *) cli_get(s, "data", NULL);
                json_object_foreach(data, k, v) {
                        if ((keys.len && osb_buf_appends(&keys, ", ") < 0) || osb_buf_appends(&keys, k) < 0)
                                break;
                }
                field("Secret Keys", keys.data);
                osb_buf_release(&keys);
        }
        operation(sb);
        field("Unbind Status", cli_str(sb, "status", "unbindStatus", NULL));
        rotation(sb);
        conditions(sb);
        parameters(sb);
        parameters_from(cli, sb);
        events(cli, sb);
        return CLI_EXIT_OK;
}

static const char *broker_auth(const json_t *b, char *buf, size_t n)
{
        const char *basic = cli_str(b, "spec", "authInfo", "basic", "secretRef", "name", NULL);
        const char *bearer = cli_str(b, "spec", "authInfo", "bearer", "secretRef", "name", NULL);
        if (!basic && !bearer)
                return NULL;
        snprintf(buf, n, "%s, Secret %s", basic ? "basic" : "bearer token", basic ? basic : bearer);
        return buf;
}

static int describe_broker(struct cli *cli, const json_t *b)
{
        char buf[512];
        metadata(b);
        field("URL", cli_str(b, "spec", "url", NULL));
        field("Authentication", broker_auth(b, buf, sizeof(buf)));
        field("Relist Behavior", cli_str(b, "spec", "relistBehavior", NULL));
        field("Relist Duration", cli_str(b, "spec", "relistDuration", NULL));
        field_json("Relist Requests", cli_get(b, "spec", "relistRequests", NULL));
        field("Status", cli_status_reason(b));
        field("Catalog Retrieved", cli_str(b, "status", "lastCatalogRetrievalTime", NULL));
        conditions(b);
        /* its classes */
        struct osb_error err = OSB_ERROR_INIT;
        osb_autojson json_t *classes = json_array();
        bool ns = cli_str(b, "metadata", "namespace", NULL) != NULL;
        if (classes && svcat_list_both(cli, SVCAT_CLASS, false, classes, &err) == 0) {
                static const char *const head[] = {"Class", "Description"};
                struct cli_table *t = cli_table_new(2, head);
                size_t i;
                const json_t *c;
                json_array_foreach(classes, i, c) {
                        const char *owner = cli_str(c, "spec", ns ? "serviceBrokerName" : "clusterServiceBrokerName", NULL);
                        if (!t || !osb_streq(owner, cli_str(b, "metadata", "name", NULL)))
                                continue;
                        const char *row[] = {cli_str(c, "spec", "externalName", NULL), cli_str(c, "spec", "description", NULL)};
                        (void) cli_table_add(t, row);
                }
                if (t && cli_table_rows(t)) {
                        printf("Classes:\n");
                        print_indented(t);
                } else {
                        cli_table_free(t);
                        field("Classes", NULL);
                }
        }
        events(cli, b);
        return CLI_EXIT_OK;
}

static void offering_common(const json_t *o)
{
        field("Name", cli_str(o, "spec", "externalName", NULL));
        field("Kubernetes Name", cli_str(o, "metadata", "name", NULL));
        if (cli_str(o, "metadata", "namespace", NULL))
                field("Namespace", cli_str(o, "metadata", "namespace", NULL));
        field("External ID", cli_str(o, "spec", "externalID", NULL));
        field("Description", cli_str(o, "spec", "description", NULL));
        const char *broker = cli_str(o, "spec", "clusterServiceBrokerName", NULL);
        field("Broker", broker ? broker : cli_str(o, "spec", "serviceBrokerName", NULL));
        field("Removed From Catalog", json_is_true(cli_get(o, "status", "removedFromBrokerCatalog", NULL)) ? "true" : "false");
}

static int describe_class(struct cli *cli, const json_t *c)
{
        offering_common(c);
        field("Bindable", json_is_true(cli_get(c, "spec", "bindable", NULL)) ? "true" : "false");
        field("Plan Updatable", json_is_true(cli_get(c, "spec", "planUpdatable", NULL)) ? "true" : "false");
        field_json("Tags", cli_get(c, "spec", "tags", NULL));
        struct osb_error err = OSB_ERROR_INIT;
        osb_autojson json_t *plans = json_array();
        if (plans && svcat_list_both(cli, SVCAT_PLAN, false, plans, &err) == 0) {
                static const char *const head[] = {"Plan", "Free", "Description"};
                struct cli_table *t = cli_table_new(3, head);
                const char *cname = cli_str(c, "metadata", "name", NULL);
                const char *cns = cli_str(c, "metadata", "namespace", NULL);
                size_t i;
                const json_t *p;
                json_array_foreach(plans, i, p) {
                        const char *ref = cli_str(p, "spec", cns ? "serviceClassRef" : "clusterServiceClassRef", "name", NULL);
                        if (!t || !osb_streq(ref, cname) || !osb_streq(cli_str(p, "metadata", "namespace", NULL), cns))
                                continue;
                        const char *row[] = {cli_str(p, "spec", "externalName", NULL),
                                             json_is_true(cli_get(p, "spec", "free", NULL)) ? "yes" : "no",
                                             cli_str(p, "spec", "description", NULL)};
                        (void) cli_table_add(t, row);
                }
                if (t && cli_table_rows(t)) {
                        printf("Plans:\n");
                        print_indented(t);
                } else {
                        cli_table_free(t);
                        field("Plans", NULL);
                }
        }
        return CLI_EXIT_OK;
}

/* @s (the broker's text) cut to @n bytes, with bytes that are not printable ASCII as '?'. */
static const char *safe_text(const char *s, char *out, size_t n)
{
        size_t k = 0;
        for (; s && *s && k + 1 < n; s++)
                out[k++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
        out[k] = '\0';
        return out;
}

static int describe_plan(struct cli *cli, const json_t *p)
{
        offering_common(p);
        const char *cref = cli_str(p, "spec", "clusterServiceClassRef", "name", NULL);
        bool ns = !cref;
        if (ns)
                cref = cli_str(p, "spec", "serviceClassRef", "name", NULL);
        osb_autojson json_t *cls = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        char buf[512];
        if (cref && kube_get(cli->kc, svcat_resource(SVCAT_CLASS, ns), cli_str(p, "metadata", "namespace", NULL), cref,
                             &cls, &err) == 0) {
                snprintf(buf, sizeof(buf), "%s (%s %s)", cli_str(cls, "spec", "externalName", NULL) ? cli_str(cls, "spec", "externalName", NULL) : "",
                         ns ? "ServiceClass" : "ClusterServiceClass", cref);
                field("Class", buf);
        } else {
                field("Class", cref);
        }
        field("Free", json_is_true(cli_get(p, "spec", "free", NULL)) ? "true" : "false");
        const json_t *bindable = cli_get(p, "spec", "bindable", NULL);
        field("Bindable", !bindable ? "(as the class)" : json_is_true(bindable) ? "true" : "false");
        const json_t *mi = cli_get(p, "spec", "maintenanceInfo", NULL);
        if (mi) {
                char v[200];
                field("Maintenance Version", safe_text(cli_str(mi, "version", NULL), v, sizeof(v)));
                if (cli_str(mi, "description", NULL))
                        field("Maintenance Notes", safe_text(cli_str(mi, "description", NULL), v, sizeof(v)));
        }
        svcat_params_describe("Provision Schema", cli_get(p, "spec", "instanceCreateParameterSchema", NULL));
        svcat_params_describe("Update Schema", cli_get(p, "spec", "instanceUpdateParameterSchema", NULL));
        svcat_params_describe("Binding Schema", cli_get(p, "spec", "serviceBindingCreateParameterSchema", NULL));
        return CLI_EXIT_OK;
}

int svcat_cmd_describe(struct cli *cli, const struct svcat_args *a)
{
        struct osb_error err = OSB_ERROR_INIT;
        enum svcat_kind kind;
        if (svcat_kind_parse(a->pos[0], &kind) < 0)
                return cli_error(cli, CLI_EXIT_USAGE,
                                 "unknown resource kind \"%s\": instance, binding, broker, class or plan\n"
                                 "Run '%s describe --help' for usage.", a->pos[0], cli->prog);
        const char *name = a->pos[1];
        if (kind == SVCAT_CLASS || kind == SVCAT_PLAN) {
                osb_autojson json_t *found = NULL;
                int r = svcat_find_offering(cli, kind, name, &found, &err);
                if (r < 0)
                        return cli_request_error(cli, r, &err);
                if (json_array_size(found) == 0)
                        return svcat_not_found(svcat_resource(kind, false), name);
                size_t i;
                const json_t *o;
                json_array_foreach(found, i, o) {
                        if (i)
                                printf("\n\n");
                        if (kind == SVCAT_CLASS)
                                describe_class(cli, o);
                        else
                                describe_plan(cli, o);
                }
                return CLI_EXIT_OK;
        }
        bool ns_first = kind != SVCAT_BROKER || cli->namespace_given;
        const struct kube_resource *res = svcat_resource(kind, ns_first);
        osb_autojson json_t *obj = NULL;
        int r = kube_get(cli->kc, res, cli->namespace, name, &obj, &err);
        if (r == OSB_E_NOT_FOUND && kind == SVCAT_BROKER) {
                err = (struct osb_error) OSB_ERROR_INIT;
                r = kube_get(cli->kc, svcat_resource(kind, !ns_first), cli->namespace, name, &obj, &err);
        }
        if (r == OSB_E_NOT_FOUND)
                return svcat_not_found(res, name);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        if (!json_object_get(obj, "kind"))
                (void) json_object_set_new(obj, "kind", json_string(svcat_kind_name(res)));
        switch (kind) {
        case SVCAT_INSTANCE:
                return describe_instance(cli, obj);
        case SVCAT_BINDING:
                return describe_binding(cli, obj);
        default:
                return describe_broker(cli, obj);
        }
}

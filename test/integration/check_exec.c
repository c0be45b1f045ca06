/* test/integration/check_exec.c: the exec backend against real programs (the shell scripts in
 * data/exec/, and deploy/examples/exec/): what a program reads on stdin and in its
 * environment, how its answers become OSB responses (201, 202 and last_operation, credentials),
 * every way it can fail (a description on stdout or stderr, an exit status, a crash, a
 * time-out, too much output, no JSON), and the catalog mistakes that stop the broker. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "test/integration/itest.h"
#include "test/lib/check_main.h"

#include <dirent.h>
#include <pthread.h>

#define SVC "exec-svc"
#define PLAN_OK "exec-plan-ok"
#define PLAN_OK2 "exec-plan-ok2"
#define PLAN_NOUPDATE "exec-plan-noupdate"
#define PLAN_ASYNC "exec-plan-async"
#define PLAN_BEHAVE "exec-plan-behave"
#define PLAN_PATIENT "exec-plan-patient"
#define PLAN_PATIENT_SYNC "exec-plan-patient-sync"

/* A broker on a copy of data/exec-catalog.json in a private directory: @OUT@ replaced by
 * DIR/out (where the programs write what they saw), and DIR/exec linking to data/exec, so the
 * catalog's relative program paths resolve against its own directory. */
struct xt {
        struct it t;
        char *dir;   /* realpath of the catalog's directory */
        char *out;
};

/* @text with every @from replaced by @to. New (osb_free). */
static char *replace_all(const char *text, const char *from, const char *to)
{
        size_t n = 0, fl = strlen(from), tl = strlen(to);
        for (const char *p = strstr(text, from); p; p = strstr(p + fl, from))
                n++;
        char *out = osb_malloc(strlen(text) + n * tl + 1), *o = out;
        ck_assert_ptr_nonnull(out);
        for (const char *p = text;;) {
                const char *m = strstr(p, from);
                size_t k = m ? (size_t) (m - p) : strlen(p);
                memcpy(o, p, k);
                o += k;
                if (!m)
                        break;
                memcpy(o, to, tl);
                o += tl;
                p = m + fl;
        }
        *o = '\0';
        return out;
}

static char *top_srcdir(void)
{
        const char *top = getenv("top_srcdir");
        char *s = osb_strdup(top && *top ? top : IT_SRCDIR);
        ck_assert_ptr_nonnull(s);
        return s;
}

/* Starts a broker like it_start() does, on the catalog file @catalog (an absolute path). */
static void start_on(struct it *t, const char *catalog, const char *const *extra)
{
        *t = (struct it){0};
        http_response_init(&t->resp);
        struct broker_proc_config cfg = {
                .broker = it_broker_path(),
                .catalog = catalog,
                .username = IT_USER,
                .password = IT_PASSWORD,
                .start_timeout_ms = 30000,
                .keep_dir_on_failure = true,
                .extra_args = extra,
        };
        struct osb_error err = OSB_ERROR_INIT;
        int r = broker_proc_start(&cfg, &t->bp, &err);
        ck_assert_msg(r >= 0, "cannot start %s: %s", cfg.broker, err.text);
        ck_assert_int_eq(http_client_new(&t->hc), 0);
}

static void xt_start_args(struct xt *x, const char *const *extra);

static void xt_start(struct xt *x)
{
        xt_start_args(x, NULL);
}

static void xt_start_args(struct xt *x, const char *const *extra)
{
        osb_autofree char *tmp = it_mkdtemp();
        char *real = realpath(tmp, NULL);
        ck_assert_ptr_nonnull(real);
        x->dir = osb_strdup(real);
        free(real);
        x->out = osb_asprintf("%s/out", x->dir);
        ck_assert_int_eq(mkdir(x->out, 0700), 0);
        osb_autofree char *tmpl_path = it_data_path("exec-catalog.json");
        osb_autofree char *tmpl = it_read_file(tmpl_path);
        ck_assert_ptr_nonnull(tmpl);
        osb_autofree char *text = replace_all(tmpl, "@OUT@", x->out);
        osb_autofree char *cat = osb_asprintf("%s/exec-catalog.json", x->dir);
        it_write_file(cat, text);
        osb_autofree char *progs = it_data_path("exec");
        osb_autofree char *link = osb_asprintf("%s/exec", x->dir);
        ck_assert_int_eq(symlink(progs, link), 0);
        start_on(&x->t, cat, extra);
}

static void xt_stop(struct xt *x)
{
        it_stop(&x->t);
        it_rmtree(x->dir);
        osb_free(x->dir);
        osb_free(x->out);
}

/* The file @name in DIR/out, parsed as JSON (fails the test when absent or not JSON). */
static json_t *out_json(const struct xt *x, const char *name)
{
        osb_autofree char *path = osb_asprintf("%s/%s", x->out, name);
        osb_autofree char *text = it_read_file(path);
        ck_assert_msg(text != NULL, "the program did not write %s", path);
        json_error_t jerr;
        json_t *j = json_loads(text, 0, &jerr);
        ck_assert_msg(j != NULL, "%s is not JSON (%s): %s", path, jerr.text, text);
        return j;
}

static char *out_text(const struct xt *x, const char *name)
{
        osb_autofree char *path = osb_asprintf("%s/%s", x->out, name);
        return it_read_file(path);
}

static const char *jstr(const json_t *j, const char *path)
{
        /* "a.b": one level of nesting is all the tests need. */
        const char *dot = strchr(path, '.');
        if (!dot)
                return json_string_value(json_object_get(j, path));
        char head[64];
        (void) snprintf(head, sizeof(head), "%.*s", (int) (dot - path), path);
        return json_string_value(json_object_get(json_object_get(j, head), dot + 1));
}

static void provision(struct xt *x, const char *id, const char *plan, const char *params, long want)
{
        osb_autofree char *path = osb_asprintf("/v2/service_instances/%s", id);
        osb_autofree char *body = it_provision_body(SVC, plan, params, "{\"platform\":\"test\"}");
        long s = it_req(&x->t, "PUT", path, body, NULL);
        ck_assert_msg(s == want, "provision %s: %ld %s", id, s, x->t.resp.body.data);
}

/* Provisions @id on the behave plan in @mode: a 500 whose description is returned (borrowed
 * until the next request), and no instance left behind. */
static const char *provision_fails(struct xt *x, const char *id, const char *mode)
{
        osb_autofree char *params = osb_asprintf("{\"mode\":\"%s\"}", mode);
        provision(x, id, PLAN_BEHAVE, params, 500);
        osb_autofree char *path = osb_asprintf("/v2/service_instances/%s", id);
        ck_assert_int_eq(it_req(&x->t, "GET", path, NULL, NULL), 404);
        /* Provisioning again answers again: the same failure. */
        provision(x, id, PLAN_BEHAVE, params, 500);
        const char *d = it_str(&x->t, "description");
        ck_assert_msg(d && *d, "no description: %s", x->t.resp.body.data);
        return d;
}

/* Processes whose parent is @pid (zombies included), or -1 without a Linux /proc. */
static int count_children(pid_t pid)
{
        DIR *d = opendir("/proc");
        if (!d)
                return -1;
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (!isdigit((unsigned char) e->d_name[0]))
                        continue;
                char path[300];
                (void) snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
                osb_autofree char *stat = it_read_file(path);
                /* "PID (COMM) STATE PPID ...": COMM may hold anything but ends at the last ')'. */
                const char *p = stat ? strrchr(stat, ')') : NULL;
                /* then " STATE PPID ..." */
                const char *state = p ? p + 1 + strspn(p + 1, " ") : NULL;
                int64_t ppid;
                if (state && *state && osb_parse_int64_word(state + 1, 0, INT32_MAX, &ppid, NULL) == 0 && ppid == (int64_t) pid)
                        n++;
        }
        closedir(d);
        return n;
}

/* The broker has no program left running and no zombie to reap. */
static void assert_no_children(const struct xt *x)
{
        pid_t pid = broker_proc_pid(x->t.bp);
        int n = count_children(pid);
        ck_assert_msg(n <= 0, "the broker (pid %d) has %d child processes left", (int) pid, n);
}

/* ---- success --------------------------------------------------------------------------- */

START_TEST(sync_provision_bind_unbind_deprovision_run_the_programs_with_the_documented_stdin)
{
        struct xt x;
        xt_start(&x);
        provision(&x, "i1", PLAN_OK, "{\"size\":3}", 201);
        ck_assert_str_eq(it_str(&x.t, "dashboard_url"), "https://dash.example/i1");
        json_auto_t *in = out_json(&x, "provision-i1.json");
        ck_assert_str_eq(jstr(in, "operation"), "provision");
        ck_assert_str_eq(jstr(in, "instance_id"), "i1");
        ck_assert_str_eq(jstr(in, "service.id"), SVC);
        ck_assert_str_eq(jstr(in, "service.name"), "exec-db");
        ck_assert_str_eq(jstr(in, "plan.id"), PLAN_OK);
        ck_assert_str_eq(jstr(in, "plan.name"), "ok");
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(in, "parameters"), "size")), 3);
        ck_assert_str_eq(jstr(in, "context.platform"), "test");
        ck_assert(json_is_true(json_object_get(in, "synchronous")));
        ck_assert_ptr_null(json_object_get(in, "binding_id"));
        /* The program ran in the catalog's directory (relative paths resolve against it). */
        osb_autofree char *pwd = out_text(&x, "provision-i1.pwd");
        ck_assert_ptr_nonnull(pwd);
        pwd[strcspn(pwd, "\n")] = '\0';
        ck_assert_str_eq(pwd, x.dir);
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/i1", NULL, NULL), 200);
        ck_assert_str_eq(it_str(&x.t, "dashboard_url"), "https://dash.example/i1");

        osb_autofree char *bb = it_bind_body(SVC, PLAN_OK, "{\"role\":\"ro\"}", "app-7");
        ck_assert_int_eq(it_req(&x.t, "PUT", "/v2/service_instances/i1/service_bindings/b1", bb, NULL), 201);
        json_t *creds = json_object_get(x.t.json, "credentials");
        ck_assert_str_eq(jstr(creds, "user"), "u-b1");
        ck_assert_str_eq(jstr(creds, "instance"), "i1");
        ck_assert_msg(json_is_array(json_object_get(x.t.json, "endpoints")), "%s", x.t.resp.body.data);
        ck_assert_msg(!json_object_get(x.t.json, "not_copied"), "%s", x.t.resp.body.data);
        json_auto_t *bin = out_json(&x, "bind-i1-b1.json");
        ck_assert_str_eq(jstr(bin, "operation"), "bind");
        ck_assert_str_eq(jstr(bin, "binding_id"), "b1");
        ck_assert_str_eq(jstr(bin, "app_guid"), "app-7");
        ck_assert_str_eq(jstr(bin, "parameters.role"), "ro");
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(bin, "instance_parameters"), "size")), 3);
        /* The stored binding serves what the program answered. */
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/i1/service_bindings/b1", NULL, NULL), 200);
        ck_assert_str_eq(jstr(json_object_get(x.t.json, "credentials"), "user"), "u-b1");
        /* The same bind again is answered from the broker's records. */
        ck_assert_int_eq(it_req(&x.t, "PUT", "/v2/service_instances/i1/service_bindings/b1", bb, NULL), 200);

        ck_assert_int_eq(it_req(&x.t, "DELETE", "/v2/service_instances/i1/service_bindings/b1?service_id=" SVC
                                "&plan_id=" PLAN_OK, NULL, NULL), 200);
        json_auto_t *uin = out_json(&x, "unbind-i1-b1.json");
        ck_assert_str_eq(jstr(uin, "operation"), "unbind");
        ck_assert_str_eq(jstr(uin, "binding_id"), "b1");
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/i1/service_bindings/b1", NULL, NULL), 404);

        ck_assert_int_eq(it_req(&x.t, "DELETE", "/v2/service_instances/i1?service_id=" SVC "&plan_id=" PLAN_OK,
                                NULL, NULL), 200);
        json_auto_t *din = out_json(&x, "deprovision-i1.json");
        ck_assert_str_eq(jstr(din, "operation"), "deprovision");
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/i1", NULL, NULL), 404);
        xt_stop(&x);
}
END_TEST

START_TEST(programs_see_only_the_declared_environment)
{
        /* The broker has it (started from this process): the programs must not. */
        ck_assert_int_eq(setenv("BINDERY_EXEC_TEST_SECRET", "must-not-leak", 1), 0);
        struct xt x;
        xt_start(&x);
        ck_assert_int_eq(unsetenv("BINDERY_EXEC_TEST_SECRET"), 0);
        provision(&x, "env1", PLAN_OK, NULL, 201);
        osb_autofree char *env = out_text(&x, "provision-env1.env");
        ck_assert_ptr_nonnull(env);
        osb_autofree char *want_out = osb_asprintf("OUT=%s\n", x.out);
        ck_assert_msg(strstr(env, want_out), "no OUT: %s", env);
        ck_assert_msg(strstr(env, "GREETING=hello world\n"), "no GREETING: %s", env);
        ck_assert_msg(strstr(env, "PATH=/usr/local/bin:/usr/bin:/bin\n"), "no default PATH: %s", env);
        ck_assert_msg(strstr(env, "LANG=C.UTF-8\n"), "no default LANG: %s", env);
        ck_assert_msg(!strstr(env, "BINDERY_EXEC_TEST_SECRET"), "the broker's environment leaked: %s", env);
        ck_assert_msg(!strstr(env, "HOME="), "the broker's environment leaked: %s", env);
        /* Nothing else but what the shell itself sets. */
        static const char *const allowed[] = {"OUT=", "GREETING=", "PATH=", "LANG=", "PWD=", "SHLVL=", "_="};
        for (const char *line = env; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != '\0')) {
                bool ok = false;
                for (size_t i = 0; i < OSB_ELEMENTSOF(allowed); i++)
                        ok = ok || strncmp(line, allowed[i], strlen(allowed[i])) == 0;
                ck_assert_msg(ok, "unexpected variable: %.*s", (int) strcspn(line, "\n"), line);
        }
        /* No descriptor of the broker's: stdin, stdout, stderr and the one ls itself opened. */
        osb_autofree char *fds = out_text(&x, "provision-env1.fds");
        if (fds)
                ck_assert_str_eq(fds, "0\n1\n2\n3\n");
        xt_stop(&x);
}
END_TEST

START_TEST(update_passes_previous_values_and_a_plan_without_an_update_program_just_updates)
{
        struct xt x;
        xt_start(&x);
        provision(&x, "u1", PLAN_OK, "{\"size\":1}", 201);
        const char *patch = "{\"service_id\":\"" SVC "\",\"plan_id\":\"" PLAN_OK2 "\",\"parameters\":{\"size\":2},"
                            "\"previous_values\":{\"plan_id\":\"" PLAN_OK "\"}}";
        ck_assert_int_eq(it_req(&x.t, "PATCH", "/v2/service_instances/u1", patch, NULL), 200);
        json_auto_t *in = out_json(&x, "update-u1.json");
        ck_assert_str_eq(jstr(in, "operation"), "update");
        ck_assert_str_eq(jstr(in, "plan.id"), PLAN_OK2);
        ck_assert_str_eq(jstr(in, "previous_values.plan_id"), PLAN_OK);
        json_t *prev = json_object_get(in, "previous_values");
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(prev, "parameters"), "size")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(in, "parameters"), "size")), 2);
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/u1", NULL, NULL), 200);
        ck_assert_str_eq(it_str(&x.t, "plan_id"), PLAN_OK2);

        provision(&x, "u2", PLAN_NOUPDATE, "{\"size\":1}", 201);
        const char *patch2 = "{\"service_id\":\"" SVC "\",\"plan_id\":\"" PLAN_NOUPDATE "\","
                             "\"parameters\":{\"size\":5}}";
        ck_assert_int_eq(it_req(&x.t, "PATCH", "/v2/service_instances/u2", patch2, NULL), 200);
        osb_autofree char *none = out_text(&x, "update-u2.json");
        ck_assert_msg(none == NULL, "a program ran for a plan without an update program");
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/u2", NULL, NULL), 200);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(x.t.json, "parameters"), "size")), 5);
        xt_stop(&x);
}
END_TEST

START_TEST(async_provision_is_202_in_progress_then_succeeded_after_exit_75_reruns)
{
        struct xt x;
        xt_start(&x);
        osb_autofree char *body = it_provision_body(SVC, PLAN_ASYNC, "{\"a\":1}", NULL);
        ck_assert_int_eq(it_req(&x.t, "PUT", "/v2/service_instances/a1?accepts_incomplete=true", body, NULL), 202);
        osb_autofree char *op = osb_strdup(it_str(&x.t, "operation"));
        ck_assert_msg(op && *op, "no operation: %s", x.t.resp.body.data);
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/a1/last_operation?operation=%s", op);
        /* Two "in progress" answers a second apart: still running at the first poll. */
        ck_assert_int_eq(it_req(&x.t, "GET", lop, NULL, NULL), 200);
        ck_assert_str_eq(it_str(&x.t, "state"), "in progress");
        /* What the program said with its exit 75 is the description while it runs. */
        for (unsigned i = 0; i < 40 && !it_str(&x.t, "description"); i++) {
                it_sleep_ms(50);
                ck_assert_int_eq(it_req(&x.t, "GET", lop, NULL, NULL), 200);
        }
        ck_assert_str_eq(it_str(&x.t, "state"), "in progress");
        ck_assert_str_eq(it_str(&x.t, "description"), "creating the database");
        ck_assert_str_eq(it_wait_op(&x.t, lop, 20000), "succeeded");
        ck_assert_ptr_null(it_str(&x.t, "description"));
        osb_autofree char *count = out_text(&x, "async-a1.count");
        ck_assert_ptr_nonnull(count);
        ck_assert_int_eq(strtol(count, NULL, 10), 3);
        /* Every run read the same document: the operation's id, asynchronous. */
        json_auto_t *first = out_json(&x, "async-a1-1.json");
        json_auto_t *third = out_json(&x, "async-a1-3.json");
        ck_assert_msg(json_equal(first, third), "the runs read different documents");
        ck_assert_str_eq(jstr(first, "operation_id"), op);
        ck_assert(json_is_false(json_object_get(first, "synchronous")));
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/a1", NULL, NULL), 200);
        ck_assert_str_eq(it_str(&x.t, "dashboard_url"), "https://dash.example/async");

        /* Without accepts_incomplete the broker waits the reruns out and answers 201. */
        provision(&x, "a2", PLAN_ASYNC, NULL, 201);
        osb_autofree char *count2 = out_text(&x, "async-a2.count");
        ck_assert_ptr_nonnull(count2);
        ck_assert_int_eq(strtol(count2, NULL, 10), 3);
        xt_stop(&x);
}
END_TEST

/* ---- synchronous requests run outside the write lock ----------------------------------- */

struct pending {
        const char *base, *path, *body;
        long status;
        char *response;
};

static void *send_pending(void *arg)
{
        struct pending *p = arg;
        struct http_client *hc = NULL;
        struct http_response resp;
        http_response_init(&resp);
        if (http_client_new(&hc) == 0)
                p->status = it_do(hc, p->base, "PUT", p->path, p->body, NULL, &resp);
        p->response = osb_strdup(resp.body.data ? resp.body.data : "");
        http_response_release(&resp);
        http_client_free(hc);
        return NULL;
}

static void wait_for_file(const struct xt *x, const char *name)
{
        osb_autofree char *path = osb_asprintf("%s/%s", x->out, name);
        for (unsigned i = 0; i < 200 && !it_file_exists(path); i++)
                it_sleep_ms(50);
        ck_assert_msg(it_file_exists(path), "%s never appeared", path);
}

START_TEST(a_synchronous_request_waiting_on_a_program_does_not_block_other_requests)
{
        struct xt x;
        xt_start(&x);
        /* s1's program waits until the test says go; meanwhile the broker must provision, bind
         * and deprovision other instances (it would hang here if s1 held the write lock). */
        osb_autofree char *body = it_provision_body(SVC, PLAN_PATIENT, "{\"mode\":\"wait-go\"}", NULL);
        struct pending p = {.base = broker_proc_url(x.t.bp), .path = "/v2/service_instances/s1", .body = body};
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, send_pending, &p), 0);
        wait_for_file(&x, "waiting");
        provision(&x, "s2", PLAN_OK, NULL, 201);
        osb_autofree char *bbody = it_bind_body(SVC, PLAN_OK, NULL, NULL);
        ck_assert_int_eq(it_req(&x.t, "PUT", "/v2/service_instances/s2/service_bindings/b2", bbody, NULL), 201);
        /* s1 is recorded as being provisioned while its program runs. */
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/s1", NULL, NULL), 404);
        ck_assert_msg(strstr(it_str(&x.t, "description"), "provisioning"), "%s", x.t.resp.body.data);
        osb_autofree char *go = osb_asprintf("%s/go", x.out);
        it_write_file(go, "");
        pthread_join(th, NULL);
        ck_assert_msg(p.status == 201, "s1: %ld %s", p.status, p.response);
        osb_free(p.response);
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/s1", NULL, NULL), 200);
        xt_stop(&x);
}
END_TEST

/* A plan that never runs asynchronously: a repeat of a provision still running is another
 * request's, which the platform cannot follow with last_operation: 422 ConcurrencyError, with
 * or without accepts_incomplete (never a 202 or AsyncRequired). */
START_TEST(a_repeat_of_a_running_provision_on_a_synchronous_only_plan_is_a_concurrency_error)
{
        struct xt x;
        xt_start(&x);
        osb_autofree char *body = it_provision_body(SVC, PLAN_PATIENT_SYNC, "{\"mode\":\"wait-go\"}", NULL);
        struct pending p = {.base = broker_proc_url(x.t.bp), .path = "/v2/service_instances/n1", .body = body};
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, send_pending, &p), 0);
        wait_for_file(&x, "waiting");
        const char *paths[] = {"/v2/service_instances/n1", "/v2/service_instances/n1?accepts_incomplete=true"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(paths); i++) {
                ck_assert_int_eq(it_req(&x.t, "PUT", paths[i], body, NULL), 422);
                ck_assert_str_eq(it_str(&x.t, "error"), "ConcurrencyError");
        }
        osb_autofree char *go = osb_asprintf("%s/go", x.out);
        it_write_file(go, "");
        pthread_join(th, NULL);
        ck_assert_msg(p.status == 201, "n1: %ld %s", p.status, p.response);
        osb_free(p.response);
        ck_assert_int_eq(it_req(&x.t, "PUT", "/v2/service_instances/n1", body, NULL), 200);
        xt_stop(&x);
}
END_TEST

START_TEST(a_synchronous_request_past_sync_timeout_leaves_the_operation_running_in_the_background)
{
        struct xt x;
        xt_start_args(&x, (const char *const[]){"--sync-timeout", "1s", NULL});
        provision(&x, "u1", PLAN_PATIENT, "{\"mode\":\"until-done\"}", 500);
        const char *d = it_str(&x.t, "description");
        ck_assert_msg(d && strstr(d, "the provision did not finish within 1s; it goes on in the background (operation "),
                      "%s", x.t.resp.body.data);
        const char *op = strstr(d, "(operation ") + strlen("(operation ");
        osb_autofree char *op_id = osb_strndup(op, 36);
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/u1/last_operation?operation=%s", op_id);
        ck_assert_int_eq(it_req(&x.t, "GET", lop, NULL, NULL), 200);
        ck_assert_str_eq(it_str(&x.t, "state"), "in progress");
        /* Repeated without accepts_incomplete: 422; with it: 202 and the same operation. */
        osb_autofree char *body = it_provision_body(SVC, PLAN_PATIENT, "{\"mode\":\"until-done\"}",
                                                     "{\"platform\":\"test\"}");
        ck_assert_int_eq(it_req(&x.t, "PUT", "/v2/service_instances/u1", body, NULL), 422);
        ck_assert_int_eq(it_req(&x.t, "PUT", "/v2/service_instances/u1?accepts_incomplete=true", body, NULL), 202);
        ck_assert_str_eq(it_str(&x.t, "operation"), op_id);
        osb_autofree char *done = osb_asprintf("%s/done", x.out);
        it_write_file(done, "");
        ck_assert_str_eq(it_wait_op(&x.t, lop, 20000), "succeeded");
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/u1", NULL, NULL), 200);
        xt_stop(&x);
}
END_TEST

/* ---- failures -------------------------------------------------------------------------- */

START_TEST(failures_take_their_description_from_stdout_else_stderr_else_the_exit_status)
{
        struct xt x;
        xt_start(&x);
        ck_assert_str_eq(provision_fails(&x, "f1", "fail-stdout"), "quota exceeded for organization org-1");
        const char *d = provision_fails(&x, "f2", "fail-stderr");
        ck_assert_msg(strstr(d, "connecting to the database\nfatal: disk full on /data"), "description: %s", d);
        ck_assert_str_eq(provision_fails(&x, "f3", "fail-silent"), "exec/behave.sh exited with status 4");

        /* Asynchronously, last_operation carries the same description. */
        osb_autofree char *body = it_provision_body(SVC, PLAN_BEHAVE, "{\"mode\":\"fail-stdout\"}", NULL);
        ck_assert_int_eq(it_req(&x.t, "PUT", "/v2/service_instances/f4?accepts_incomplete=true", body, NULL), 202);
        ck_assert_str_eq(it_wait_op(&x.t, "/v2/service_instances/f4/last_operation", 20000), "failed");
        ck_assert_str_eq(it_str(&x.t, "description"), "quota exceeded for organization org-1");
        assert_no_children(&x);
        xt_stop(&x);
}
END_TEST

START_TEST(a_program_past_its_timeout_is_killed_with_its_process_group)
{
        struct xt x;
        xt_start(&x);
        uint64_t t0 = it_now_ms();
        ck_assert_str_eq(provision_fails(&x, "t1", "slow"), "exec/behave.sh did not finish within 1s");
        /* Two runs of a 1s time-out, not two of the program's 30s sleep. */
        ck_assert_msg(it_now_ms() - t0 < 20000, "took %" PRIu64 " ms", it_now_ms() - t0);
        /* The program's background child went with it. */
        osb_autofree char *pidtext = out_text(&x, "slow-child.pid");
        ck_assert_ptr_nonnull(pidtext);
        pid_t child = (pid_t) strtol(pidtext, NULL, 10);
        ck_assert_int_gt(child, 1);
        uint64_t deadline = it_now_ms() + 5000;
        while (kill(child, 0) == 0 && it_now_ms() < deadline)
                it_sleep_ms(50);
        ck_assert_msg(kill(child, 0) < 0 && errno == ESRCH, "the program's child %d still runs", (int) child);
        assert_no_children(&x);
        xt_stop(&x);
}
END_TEST

START_TEST(output_over_max_output_crashes_and_bad_answers_are_failures_that_say_so)
{
        struct xt x;
        xt_start(&x);
        ck_assert_str_eq(provision_fails(&x, "h1", "huge"), "exec/behave.sh wrote more than 65536 bytes");
        ck_assert_str_eq(provision_fails(&x, "c1", "crash"),
                         "exec/behave.sh was killed by signal 11 (SIGSEGV): about to crash");
        const char *d = provision_fails(&x, "g1", "garbage");
        ck_assert_msg(strncmp(d, "exec/behave.sh printed no JSON object on stdout: line 1 column ", 63) == 0,
                      "description: %s", d);

        /* A bind that answers no credentials fails and leaves no binding. */
        provision(&x, "g2", PLAN_BEHAVE, "{\"mode\":\"ok\"}", 201);
        osb_autofree char *bb = it_bind_body(SVC, PLAN_BEHAVE, NULL, NULL);
        ck_assert_int_eq(it_req(&x.t, "PUT", "/v2/service_instances/g2/service_bindings/b", bb, NULL), 500);
        ck_assert_str_eq(it_str(&x.t, "description"), "exec/nocreds.sh printed no \"credentials\" object on stdout");
        ck_assert_int_eq(it_req(&x.t, "GET", "/v2/service_instances/g2/service_bindings/b", NULL, NULL), 404);
        assert_no_children(&x);
        xt_stop(&x);
}
END_TEST

START_TEST(malformed_output_is_described_by_where_it_failed_never_by_what_it_said)
{
        struct xt x;
        xt_start(&x);
        const char *d = provision_fails(&x, "s1", "garbage-secret");
        ck_assert_msg(strstr(d, "secret") == NULL && strstr(d, "\\q") == NULL, "description quotes stdout: %s", d);
        ck_assert_msg(strstr(d, "line 1 column ") && strstr(d, "byte "), "description: %s", d);

        /* The operation's description, and so last_operation's, says no more. */
        osb_autofree char *body = it_provision_body(SVC, PLAN_BEHAVE, "{\"mode\":\"garbage-secret\"}", NULL);
        ck_assert_int_eq(it_req(&x.t, "PUT", "/v2/service_instances/s2?accepts_incomplete=true", body, NULL), 202);
        ck_assert_str_eq(it_wait_op(&x.t, "/v2/service_instances/s2/last_operation", 20000), "failed");
        d = it_str(&x.t, "description");
        ck_assert_msg(d && !strstr(d, "secret") && !strstr(d, "\\q"), "last_operation quotes stdout: %s", d);

        /* Nor the broker's log. */
        osb_autofree char *log = it_read_file(broker_proc_log_path(x.t.bp));
        ck_assert_ptr_nonnull(log);
        ck_assert_msg(strstr(log, "qsecret") == NULL, "the log quotes stdout: %s", log);
        assert_no_children(&x);
        xt_stop(&x);
}
END_TEST

/* ---- configuration --------------------------------------------------------------------- */

struct bad_config {
        const char *backend;  /* the plan's x-bindery-backend; PROG is the executable ok.sh */
        const char *path;     /* what stderr must name */
        const char *message;  /* and say */
};

static const struct bad_config bad_configs[] = {
        {"{\"type\":\"exec\",\"provision\":[\"missing.sh\"],\"deprovision\":[\"PROG\"],\"bind\":[\"PROG\"],"
         "\"unbind\":[\"PROG\"]}",
         "services[0].plans[0].x-bindery-backend.provision", "missing.sh is not an executable file"},
        {"{\"type\":\"exec\",\"provision\":[\"PROG\"],\"deprovision\":[\"noexec.sh\"],\"bind\":[\"PROG\"],"
         "\"unbind\":[\"PROG\"]}",
         "services[0].plans[0].x-bindery-backend.deprovision", "noexec.sh is not an executable file"},
        {"{\"type\":\"exec\",\"provision\":[\"PROG\"],\"deprovision\":[\"PROG\"],\"bind\":[\"PROG\"],"
         "\"unbind\":[\"PROG\"],\"timeout_s\":3}",
         "services[0].plans[0].x-bindery-backend.timeout_s", "unknown setting"},
        {"{\"type\":\"exec\",\"provision\":[\"PROG\"],\"deprovision\":[\"PROG\"]}",
         "services[0].plans[0].x-bindery-backend.bind", "is required"},
        {"{\"type\":\"exec\",\"provision\":\"PROG\",\"deprovision\":[\"PROG\"],\"bind\":[\"PROG\"],"
         "\"unbind\":[\"PROG\"]}",
         "services[0].plans[0].x-bindery-backend.provision", "non-empty array"},
        {"{\"type\":\"exec\",\"provision\":[\"PROG\"],\"deprovision\":[\"PROG\"],\"bind\":[\"PROG\"],"
         "\"unbind\":[\"PROG\"],\"dir\":\"no-such-dir\"}",
         "services[0].plans[0].x-bindery-backend.dir", "is not a directory"},
        {"{\"type\":\"exec\",\"provision\":[\"PROG\"],\"deprovision\":[\"PROG\"],\"bind\":[\"PROG\"],"
         "\"unbind\":[\"PROG\"],\"env\":{\"A\":1}}",
         "services[0].plans[0].x-bindery-backend.env.A", "must be a string"},
        {"{\"type\":\"exec\",\"provision\":[\"PROG\"],\"deprovision\":[\"PROG\"],\"bind\":[\"PROG\"],"
         "\"unbind\":[\"PROG\"],\"max_output\":\"lots\"}",
         "services[0].plans[0].x-bindery-backend.max_output", "byte count"},
};

START_TEST(catalog_mistakes_in_an_exec_plan_refuse_to_start_naming_the_json_path)
{
        const struct bad_config *bc = &bad_configs[_i];
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *ok = it_data_path("exec/ok.sh");
        osb_autofree char *backend = replace_all(bc->backend, "PROG", ok);
        osb_autofree char *text = osb_asprintf(
                "{\"services\":[{\"name\":\"x\",\"id\":\"s1\",\"description\":\"d\",\"bindable\":true,\"plans\":["
                "{\"id\":\"p1\",\"name\":\"p\",\"description\":\"d\",\"x-bindery-backend\":%s}]}]}", backend);
        osb_autofree char *cat = osb_asprintf("%s/exec-catalog.json", dir);
        osb_autofree char *noexec = osb_asprintf("%s/noexec.sh", dir);
        osb_autofree char *db = osb_asprintf("%s/broker.db", dir);
        osb_autofree char *port_file = osb_asprintf("%s/port", dir);
        it_write_file(cat, text);
        it_write_file(noexec, "#!/bin/sh\nexit 0\n");
        ck_assert_int_eq(chmod(noexec, 0644), 0);
        const char *args[] = {"--listen", "127.0.0.1", "--port", "0", "--port-file", port_file, "--db", db,
                              "--catalog", cat, "--log-level", "off", NULL};
        osb_autofree char *err = NULL;
        int code = it_run_broker(dir, args, 30000, &err);
        ck_assert_msg(code > 0 && code < 128, "exit status %d, stderr: %s", code, err);
        ck_assert_msg(strstr(err, cat) != NULL, "stderr does not name %s: %s", cat, err);
        ck_assert_msg(strstr(err, bc->path) != NULL, "stderr does not name %s: %s", bc->path, err);
        ck_assert_msg(strstr(err, bc->message) != NULL, "stderr does not say '%s': %s", bc->message, err);
        ck_assert_msg(!it_file_exists(port_file), "the broker listened with an invalid catalog");
        it_rmtree(dir);
}
END_TEST

/* ---- the example ----------------------------------------------------------------------- */

START_TEST(the_deploy_example_provisions_binds_unbinds_and_deprovisions)
{
        osb_autofree char *top = top_srcdir();
        osb_autofree char *tmp = it_mkdtemp();
        osb_autofree char *yaml_path = osb_asprintf("%s/deploy/examples/exec/catalog.yaml", top);
        osb_autofree char *yaml = it_read_file(yaml_path);
        ck_assert_ptr_nonnull(yaml);
        osb_autofree char *data = osb_asprintf("%s/data", tmp);
        ck_assert_msg(strstr(yaml, "/tmp/bindery-exec-example"), "the example's DATA_DIR changed");
        osb_autofree char *text = replace_all(yaml, "/tmp/bindery-exec-example", data);
        osb_autofree char *cat = osb_asprintf("%s/catalog.yaml", tmp);
        it_write_file(cat, text);
        osb_autofree char *bin = osb_asprintf("%s/deploy/examples/exec/bin", top);
        osb_autofree char *link = osb_asprintf("%s/bin", tmp);
        ck_assert_int_eq(symlink(bin, link), 0);

        static const char svc[] = "5b0f3c52-6f7e-4d8a-9a51-0c1f2f7c6e11";
        static const char plan[] = "8e2a4f0d-3b6c-4f59-8d1e-7a9b2c4d6e80";
        struct it t;
        start_on(&t, cat, NULL);
        osb_autofree char *pb = it_provision_body(svc, plan, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/inst-1", pb, NULL), 201);
        osb_autofree char *idir = osb_asprintf("%s/instances/inst-1", data);
        ck_assert_msg(it_file_exists(idir), "no %s", idir);

        osb_autofree char *bb = it_bind_body(svc, plan, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/inst-1/service_bindings/bind-1", bb, NULL), 201);
        json_t *creds = json_object_get(t.json, "credentials");
        ck_assert_str_eq(jstr(creds, "username"), "bind-1");
        ck_assert_str_eq(jstr(creds, "path"), idir);
        ck_assert_int_eq(strlen(jstr(creds, "password")), 32);
        osb_autofree char *cfile = osb_asprintf("%s/bindings/bind-1.json", idir);
        ck_assert_msg(it_file_exists(cfile), "no %s", cfile);

        /* An id the programs refuse: the description is theirs. */
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/.hidden", pb, NULL), 500);
        ck_assert_msg(strstr(it_str(&t, "description"), "instance ids must be made of"), "%s", t.resp.body.data);

        osb_autofree char *q = osb_asprintf("?service_id=%s&plan_id=%s", svc, plan);
        osb_autofree char *ub = osb_asprintf("/v2/service_instances/inst-1/service_bindings/bind-1%s", q);
        ck_assert_int_eq(it_req(&t, "DELETE", ub, NULL, NULL), 200);
        ck_assert_msg(!it_file_exists(cfile), "%s is still there", cfile);
        osb_autofree char *dp = osb_asprintf("/v2/service_instances/inst-1%s", q);
        ck_assert_int_eq(it_req(&t, "DELETE", dp, NULL, NULL), 200);
        ck_assert_msg(!it_file_exists(idir), "%s is still there", idir);
        it_stop(&t);
        it_rmtree(tmp);
}
END_TEST

static Suite *exec_suite(void)
{
        Suite *s = suite_create("exec");
        TCase *tc = tcase_create("exec");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, sync_provision_bind_unbind_deprovision_run_the_programs_with_the_documented_stdin);
        tcase_add_test(tc, programs_see_only_the_declared_environment);
        tcase_add_test(tc, update_passes_previous_values_and_a_plan_without_an_update_program_just_updates);
        tcase_add_test(tc, async_provision_is_202_in_progress_then_succeeded_after_exit_75_reruns);
        tcase_add_test(tc, a_synchronous_request_waiting_on_a_program_does_not_block_other_requests);
        tcase_add_test(tc, a_repeat_of_a_running_provision_on_a_synchronous_only_plan_is_a_concurrency_error);
        tcase_add_test(tc, a_synchronous_request_past_sync_timeout_leaves_the_operation_running_in_the_background);
        tcase_add_test(tc, failures_take_their_description_from_stdout_else_stderr_else_the_exit_status);
        tcase_add_test(tc, a_program_past_its_timeout_is_killed_with_its_process_group);
        tcase_add_test(tc, output_over_max_output_crashes_and_bad_answers_are_failures_that_say_so);
        tcase_add_test(tc, malformed_output_is_described_by_where_it_failed_never_by_what_it_said);
        tcase_add_loop_test(tc, catalog_mistakes_in_an_exec_plan_refuse_to_start_naming_the_json_path, 0,
                            (int) OSB_ELEMENTSOF(bad_configs));
        tcase_add_test(tc, the_deploy_example_provisions_binds_unbinds_and_deprovisions);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(exec_suite)

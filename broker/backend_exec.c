/* broker/backend_exec.c: the "exec" backend. Each operation runs a program the platform team
 * wrote (argv from the catalog, never a shell) with one JSON document on stdin; its exit status
 * and the JSON object it prints on stdout are the outcome. docs/backends.md is the protocol
 * for program authors; this file keeps the broker's side: a minimal declared environment, no
 * broker file descriptor in the child, its own process group killed as a whole on time-out,
 * bounded output, and no zombie on any path. */
#include "common/osb_compat.h"

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>

#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "common/osb_parse.h"
#include "broker/backend_exec.h"

/* posix_spawn_file_actions_addclosefrom_np() came with glibc 2.34. Without it the broker's own
 * descriptors still do not reach programs as long as they are close-on-exec (ours are). */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define EXEC_HAVE_CLOSEFROM 1
#endif

#define EXEC_TIMEOUT_DEFAULT_MS (60 * 1000)
#define EXEC_TIMEOUT_MAX_MS (24 * 3600 * 1000)
#define EXEC_MAX_OUTPUT_DEFAULT (1024 * 1024)
#define EXEC_MAX_OUTPUT_MAX (64u * 1024u * 1024u)
#define EXEC_RETRY_AFTER_DEFAULT_S 5
#define EXEC_RETRY_AFTER_MAX_S (24 * 3600)
#define EXEC_KILL_GRACE_MS 2000
#define EXEC_DEFAULT_PATH "PATH=/usr/local/bin:/usr/bin:/bin"
#define EXEC_DEFAULT_LANG "LANG=C.UTF-8"

struct exec_prog {
        const char *name;   /* the program as the catalog names it (borrowed), for messages */
        char *path;         /* new: absolute */
        const char **argv;  /* new array, NULL-terminated: path, then the arguments (borrowed);
                             * NULL when the plan has no program for this operation */
};

struct exec_plan {
        const struct backend *be;  /* must be first: see backend_of() */
        struct exec_prog progs[OP_KIND_MAX];
        char **envp;               /* new, NULL-terminated, each entry new */
        char *dir;                 /* new: absolute working directory */
        int64_t timeout_ms;
        size_t max_output;
        int64_t retry_after_ms;
        enum backend_async async, bind_async;
};

/* ---- output: a pure function (fuzzed by test/fuzz/fuzz_exec_output.c) ------------------ */

void exec_sanitize_text(char *s)
{
        unsigned char *p = (unsigned char *) s;
        size_t n = strlen(s);
        for (size_t i = 0; i < n;) {
                size_t len = osb_json_utf8_len(p + i, n - i);
                if (len == 0) {
                        p[i++] = '?';
                        continue;
                }
                if (len == 1 && (p[i] < 0x20 || p[i] == 0x7f) && p[i] != '\n' && p[i] != '\t')
                        p[i] = ' ';
                i += len;
        }
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Writes into @out (EXEC_STDERR_TAIL_MAX + 1 bytes) the last EXEC_STDERR_TAIL_MAX bytes of
 * @s, starting at a character boundary, NUL bytes as spaces, whitespace trimmed, sanitized. */
static void tail_of(const char *s, size_t len, char *out)
{
        size_t start = len > EXEC_STDERR_TAIL_MAX ? len - EXEC_STDERR_TAIL_MAX : 0;
        for (unsigned i = 0; i < 3 && start < len && start > 0 && ((unsigned char) s[start] & 0xc0) == 0x80; i++)
                start++;
        while (start < len && is_space(s[start]))
                start++;
        while (len > start && is_space(s[len - 1]))
                len--;
        size_t n = len - start;
        for (size_t i = 0; i < n; i++)
                out[i] = s[start + i] ? s[start + i] : ' ';
        out[n] = '\0';
        exec_sanitize_text(out);
}

/* Fails with OSB_E_BACKEND: the formatted message, then ": " and as much of the end of @tail
 * (may be NULL or "") as fits, sanitized. */
static int fail_tail(struct osb_error *err, const char *tail, const char *fmt, ...) OSB_PRINTF(3, 4);
static int fail_tail(struct osb_error *err, const char *tail, const char *fmt, ...)
{
        if (!err)
                return OSB_E_BACKEND;
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(err->text, sizeof(err->text), fmt, ap);
        va_end(ap);
        size_t used = strlen(err->text), room = sizeof(err->text) - 1 - used;
        if (tail && *tail && room > 2) {
                size_t n = strlen(tail), keep = OSB_MIN(n, room - 2);
                const char *t = tail + (n - keep);
                /* Cut at a character boundary: the end of stderr is what explains a failure. */
                while (*t && ((unsigned char) *t & 0xc0) == 0x80)
                        t++;
                (void) snprintf(err->text + used, room + 1, ": %s", t);
        }
        exec_sanitize_text(err->text);
        err->code = OSB_E_BACKEND;
        return OSB_E_BACKEND;
}

#define fail(err, ...) fail_tail((err), NULL, __VA_ARGS__)

static const char *signal_name(int sig)
{
        static const struct {
                int sig;
                const char *name;
        } names[] = {
                {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
                {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
                {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
                {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"},
                {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
        };
        for (unsigned i = 0; i < OSB_ELEMENTSOF(names); i++)
                if (names[i].sig == sig)
                        return names[i].name;
        return "unknown signal";
}

/* Parses stdout when it holds more than whitespace. Returns 0 with *ret new (NULL: empty),
 * OSB_E_BACKEND with the problem in @err, or -ENOMEM. */
static int parse_stdout(const char *prog, const char *out, size_t len, json_t **ret, struct osb_error *err)
{
        size_t i = 0;
        while (i < len && is_space(out[i]))
                i++;
        if (i == len) {
                *ret = NULL;
                return 0;
        }
        json_error_t jerr;
        size_t failures = osb_mem_failures();
        json_t *j = json_loadb(out, len, JSON_REJECT_DUPLICATES, &jerr);
        if (osb_mem_failures() != failures) {
                json_decref(j);
                return osb_error_set(err, -ENOMEM, "out of memory while reading the output of %s", prog);
        }
        if (!j)
                return fail(err, "%s printed no JSON object on stdout: line %d column %d (byte %d of %zu): %s",
                            prog, jerr.line, jerr.column, jerr.position, len, osb_json_error_reason(&jerr));
        if (!json_is_object(j)) {
                const char *t = osb_json_type_name(j);
                json_decref(j);
                return fail(err, "%s printed no JSON object on stdout: it printed %s", prog, t);
        }
        *ret = j;
        return 0;
}

static int parse_success(enum op_kind kind, const char *prog, json_t *obj, struct backend_result *res,
                         struct osb_error *err)
{
        switch (kind) {
        case OP_PROVISION:
        case OP_UPDATE: {
                json_t *url = json_object_get(obj, "dashboard_url");
                if (url && !json_is_string(url))
                        return fail(err, "%s printed a value of \"dashboard_url\" that is not a string", prog);
                if (url) {
                        char *copy = osb_strdup(json_string_value(url));
                        if (!copy)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                        res->dashboard_url = copy;
                }
                return 0;
        }
        case OP_BIND: {
                json_t *creds = json_object_get(obj, "credentials");
                if (!json_is_object(creds))
                        return fail(err, "%s printed no \"credentials\" object on stdout", prog);
                static const struct {
                        const char *key;
                        json_type type;
                } extras[] = {
                        {"syslog_drain_url", JSON_STRING}, {"route_service_url", JSON_STRING},
                        {"volume_mounts", JSON_ARRAY},     {"endpoints", JSON_ARRAY},
                        {"metadata", JSON_OBJECT},
                };
                json_auto_t *body = json_object();
                if (!body || json_object_set(body, "credentials", creds) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                for (unsigned i = 0; i < OSB_ELEMENTSOF(extras); i++) {
                        json_t *v = json_object_get(obj, extras[i].key);
                        if (!v)
                                continue;
                        if (json_typeof(v) != extras[i].type)
                                return fail(err, "%s printed a value of \"%s\" that is not %s", prog, extras[i].key,
                                            extras[i].type == JSON_STRING  ? "a string"
                                            : extras[i].type == JSON_ARRAY ? "an array"
                                                                           : "an object");
                        if (json_object_set(body, extras[i].key, v) < 0)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                }
                res->response = OSB_TAKE_PTR(body);
                return 0;
        }
        case OP_DEPROVISION:
        case OP_UNBIND:
        default:
                return 0;
        }
}

int exec_output_parse(enum op_kind kind, const char *prog, int wait_status, const char *out,
                      size_t out_len, const char *errout, size_t err_len, int64_t retry_after_ms,
                      struct backend_result *res, struct osb_error *err)
{
        char tail[EXEC_STDERR_TAIL_MAX + 1];
        tail_of(errout ? errout : "", errout ? err_len : 0, tail);
        if (!out)
                out_len = 0;

        if (WIFSIGNALED(wait_status)) {
                int sig = WTERMSIG(wait_status);
                return fail_tail(err, tail, "%s was killed by signal %d (%s)", prog, sig, signal_name(sig));
        }
        if (!WIFEXITED(wait_status))
                return fail_tail(err, tail, "%s ended with wait status 0x%x", prog, (unsigned) wait_status);

        int code = WEXITSTATUS(wait_status);
        json_auto_t *obj = NULL;
        struct osb_error perr = OSB_ERROR_INIT;
        int r = parse_stdout(prog, out, out_len, &obj, &perr);
        if (r == -ENOMEM)
                return osb_error_set(err, r, "%s", perr.text);

        if (code == 0) {
                if (r < 0) {
                        if (err)
                                *err = perr;
                        return r;
                }
                if (!obj && kind == OP_BIND)
                        return fail(err, "%s printed no \"credentials\" object on stdout", prog);
                struct backend_result out_res = {0};
                r = obj ? parse_success(kind, prog, obj, &out_res, err) : 0;
                if (r < 0) {
                        backend_result_release(&out_res);
                        return r;
                }
                *res = out_res;
                return 0;
        }

        if (code == EXEC_EXIT_IN_PROGRESS) {
                /* Output that is not an object is only chatter here: the answer is the status. */
                int64_t ms = retry_after_ms > 0 ? retry_after_ms : EXEC_RETRY_AFTER_DEFAULT_S * 1000;
                json_t *ra = json_object_get(obj, "retry_after");
                if (json_is_integer(ra) && json_integer_value(ra) >= 1)
                        ms = OSB_MIN(json_integer_value(ra), (json_int_t) EXEC_RETRY_AFTER_MAX_S) * 1000;
                const char *progress = json_string_value(json_object_get(obj, "description"));
                *res = (struct backend_result){.retry_after_ms = ms};
                if (progress && *progress && !(res->progress = osb_strdup(progress)))
                        return fail(err, "out of memory");
                return 0;
        }

        const char *desc = json_string_value(json_object_get(obj, "description"));
        while (desc && is_space(*desc))
                desc++;
        if (desc && *desc)
                return fail(err, "%s", desc);
        if (tail[0])
                return fail(err, "%s", tail);
        return fail(err, "%s exited with status %d", prog, code);
}

/* ---- configuration ---------------------------------------------------------------------- */

static void exec_plan_free(struct exec_plan *ep)
{
        if (!ep)
                return;
        for (unsigned k = 0; k < OP_KIND_MAX; k++) {
                osb_free(ep->progs[k].path);
                osb_free(ep->progs[k].argv);
        }
        for (size_t i = 0; ep->envp && ep->envp[i]; i++)
                osb_free(ep->envp[i]);
        osb_free(ep->envp);
        osb_free(ep->dir);
        osb_free(ep);
}
OSB_DEFINE_AUTO(exec_plan_freep, struct exec_plan *, exec_plan_free)

/* A string without NUL characters (jansson allows "\u0000"). */
static const char *plain_string(const json_t *v)
{
        const char *s = json_string_value(v);
        return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* Absolute form of @p (new): itself when absolute, else @base/@p. NULL on OOM. */
static char *resolve(const char *base, const char *p)
{
        return p[0] == '/' ? osb_strdup(p) : osb_asprintf("%s/%s", base, p);
}

/* The absolute directory of the catalog file. Returns 0 with *ret new, or a negative code. */
static int catalog_dir(const struct catalog_plan *plan, char **ret)
{
        const char *src = plan->catalog_source ? plan->catalog_source : ".";
        const char *slash = strrchr(src, '/');
        osb_autofree char *dir = !slash ? osb_strdup(".")
                                 : osb_strndup(src, slash == src ? 1 : (size_t) (slash - src));
        if (!dir)
                return -ENOMEM;
        char *abs = realpath(dir, NULL);
        if (!abs)
                return -errno;
        *ret = osb_strdup(abs);
        free(abs);
        return *ret ? 0 : -ENOMEM;
}

static int parse_prog(const json_t *v, const char *path, const char *key, const char *base,
                      struct exec_prog *ret, struct backend_problems *bp)
{
        size_t n = json_array_size(v);
        if (!json_is_array(v) || n == 0)
                return backend_problem(bp, "%s.%s: must be a non-empty array of strings: the program and its arguments",
                                       path, key);
        for (size_t i = 0; i < n; i++)
                if (!plain_string(json_array_get(v, i)))
                        return backend_problem(bp, "%s.%s[%zu]: must be a string without NUL characters", path, key, i);
        const char *name = json_string_value(json_array_get(v, 0));
        if (!*name)
                return backend_problem(bp, "%s.%s[0]: must name a program", path, key);
        osb_autofree char *abs = resolve(base, name);
        if (!abs)
                return -ENOMEM;
        struct stat st;
        const char *why = NULL;
        if (stat(abs, &st) < 0)
                why = errno == ENOENT ? "it does not exist" : strerror(errno);
        else if (!S_ISREG(st.st_mode))
                why = "it is not a regular file";
        else if (access(abs, X_OK) < 0)
                why = "it is not executable";
        if (why)
                return backend_problem(bp, "%s.%s: %s is not an executable file (%s)", path, key, abs, why);
        const char **argv = osb_calloc(n + 1, sizeof(*argv));
        if (!argv)
                return -ENOMEM;
        argv[0] = abs;
        for (size_t i = 1; i < n; i++)
                argv[i] = json_string_value(json_array_get(v, i));
        *ret = (struct exec_prog){.name = name, .path = OSB_TAKE_PTR(abs), .argv = argv};
        return 0;
}

static int parse_env(const json_t *v, const char *path, struct exec_plan *ep, struct backend_problems *bp)
{
        if (v && !json_is_object(v))
                return backend_problem(bp, "%s.env: must be an object of strings", path);
        ep->envp = osb_calloc(json_object_size(v) + 3, sizeof(*ep->envp));
        if (!ep->envp)
                return -ENOMEM;
        size_t n = 0, problems_before = bp->count;
        bool has_path = false, has_lang = false;
        const char *name;
        json_t *e;
        json_object_foreach((json_t *) v, name, e) {
                if (!backend_env_name_valid(name)) {
                        (void) backend_problem(bp, "%s.env.%s: is not a valid variable name (letters, digits and _)",
                                               path, name);
                        continue;
                }
                const char *value = plain_string(e);
                if (!value) {
                        (void) backend_problem(bp, "%s.env.%s: must be a string without NUL characters", path, name);
                        continue;
                }
                ep->envp[n] = osb_asprintf("%s=%s", name, value);
                if (!ep->envp[n++])
                        return -ENOMEM;
                has_path = has_path || strcmp(name, "PATH") == 0;
                has_lang = has_lang || strcmp(name, "LANG") == 0;
        }
        if (bp->count > problems_before)
                return OSB_E_INVALID_CONFIG;
        const char *defaults[] = {has_path ? NULL : EXEC_DEFAULT_PATH, has_lang ? NULL : EXEC_DEFAULT_LANG};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(defaults); i++) {
                if (!defaults[i])
                        continue;
                ep->envp[n] = osb_strdup(defaults[i]);
                if (!ep->envp[n++])
                        return -ENOMEM;
        }
        return 0;
}

static int parse_size(const json_t *v, const char *path, const char *key, size_t *ret,
                      struct backend_problems *bp)
{
        uint64_t n = 0;
        if (!v)
                return 0;
        if (json_is_integer(v) && json_integer_value(v) > 0)
                n = (uint64_t) json_integer_value(v);
        else if (json_is_string(v) && osb_parse_size(json_string_value(v), EXEC_MAX_OUTPUT_MAX, &n) < 0)
                n = 0;
        if (n == 0 || n > EXEC_MAX_OUTPUT_MAX)
                return backend_problem(bp, "%s.%s: must be a byte count or a size such as \"64KiB\" or \"1MiB\", "
                                       "at most 64MiB", path, key);
        *ret = (size_t) n;
        return 0;
}

static int exec_configure(struct catalog_plan *plan, struct backend_problems *bp)
{
        size_t problems_before = bp->count;
        const char *path = plan->backend_path;
        json_t *cfg = plan->backend;
        static const char *const known[] = {"type", "provision", "update", "deprovision", "bind", "unbind",
                                            "env", "timeout", "max_output", "async", "bind_async", "dir",
                                            "retry_after"};
        const char *key;
        json_t *v;
        json_object_foreach(cfg, key, v) {
                bool ok = false;
                for (unsigned i = 0; i < OSB_ELEMENTSOF(known); i++)
                        ok = ok || strcmp(key, known[i]) == 0;
                if (!ok)
                        (void) backend_problem(bp, "%s.%s: unknown setting of the exec backend", path, key);
        }

        osb_auto(exec_plan_freep) struct exec_plan *ep = osb_calloc(1, sizeof(*ep));
        if (!ep)
                return -ENOMEM;
        ep->be = &backend_exec;
        ep->timeout_ms = EXEC_TIMEOUT_DEFAULT_MS;
        ep->max_output = EXEC_MAX_OUTPUT_DEFAULT;
        ep->retry_after_ms = EXEC_RETRY_AFTER_DEFAULT_S * 1000;
        ep->async = BACKEND_ASYNC_OPTIONAL;
        ep->bind_async = BACKEND_ASYNC_NEVER;

        osb_autofree char *base = NULL;
        int r = catalog_dir(plan, &base);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return backend_problem(bp, "%s: cannot find the catalog file's directory: %s", path, strerror(-r));

        for (unsigned k = 0; k < OP_KIND_MAX; k++) {
                const char *name = op_kind_name((enum op_kind) k);
                v = json_object_get(cfg, name);
                bool required = k == OP_PROVISION || k == OP_DEPROVISION ||
                                ((k == OP_BIND || k == OP_UNBIND) && plan->bindable);
                if (!v && required)
                        (void) backend_problem(bp, "%s.%s: is required%s: the program that runs a %s, as an "
                                               "array [\"program\", \"argument\", ...]", path, name,
                                               k == OP_BIND || k == OP_UNBIND ? " (the plan is bindable)" : "",
                                               name);
                if (v && parse_prog(v, path, name, base, &ep->progs[k], bp) == -ENOMEM)
                        return -ENOMEM;
        }
        if (parse_env(json_object_get(cfg, "env"), path, ep, bp) == -ENOMEM)
                return -ENOMEM;
        v = json_object_get(cfg, "dir");
        if (v) {
                const char *d = plain_string(v);
                struct stat st;
                if (!d || !*d)
                        (void) backend_problem(bp, "%s.dir: must be a non-empty string", path);
                else if (!(ep->dir = resolve(base, d)))
                        return -ENOMEM;
                else if (stat(ep->dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        (void) backend_problem(bp, "%s.dir: %s is not a directory", path, ep->dir);
        } else {
                ep->dir = OSB_TAKE_PTR(base);
        }
        (void) backend_setting_duration(cfg, path, "timeout", 1, EXEC_TIMEOUT_MAX_MS, &ep->timeout_ms, bp);
        (void) parse_size(json_object_get(cfg, "max_output"), path, "max_output", &ep->max_output, bp);
        (void) backend_setting_async(cfg, path, "async", &ep->async, bp);
        (void) backend_setting_async(cfg, path, "bind_async", &ep->bind_async, bp);
        if (ep->bind_async != BACKEND_ASYNC_NEVER && !plan->service->bindings_retrievable)
                (void) backend_problem(bp, "%s.bind_async: asynchronous bindings need the service to "
                                       "set \"bindings_retrievable\": true", path);
        v = json_object_get(cfg, "retry_after");
        if (v) {
                if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                    json_integer_value(v) > EXEC_RETRY_AFTER_MAX_S)
                        (void) backend_problem(bp, "%s.retry_after: must be a whole number of seconds from 1 to %d",
                                               path, EXEC_RETRY_AFTER_MAX_S);
                else
                        ep->retry_after_ms = json_integer_value(v) * 1000;
        }
        if (bp->count > problems_before)
                return OSB_E_INVALID_CONFIG;
        plan->backend_state = OSB_TAKE_PTR(ep);
        return 0;
}

static void exec_release(struct catalog_plan *plan)
{
        exec_plan_free(plan->backend_state);
        plan->backend_state = NULL;
}

static const struct exec_plan *ep_of(const struct catalog_plan *plan)
{
        return plan->backend_state;
}

static enum backend_async exec_async_mode(const struct catalog_plan *plan, enum op_kind kind)
{
        const struct exec_plan *ep = ep_of(plan);
        return kind == OP_BIND || kind == OP_UNBIND ? ep->bind_async : ep->async;
}

static int64_t exec_first_run_delay_ms(const struct catalog_plan *plan, enum op_kind kind)
{
        return 0;
}

/* While a program runs (the operation is due now or overdue) the plan's retry_after; while
 * the broker waits to run it again, the time until then. */
static int64_t exec_retry_after_s(const struct catalog_plan *plan, int64_t due_in_ms)
{
        if (due_in_ms > 0)
                return (due_in_ms + 999) / 1000;
        return ep_of(plan)->retry_after_ms / 1000;
}

static bool exec_requires_app(const struct catalog_plan *plan)
{
        return false;
}

/* ---- running a program ----------------------------------------------------------------- */

/* The JSON document a program reads on stdin, with a final newline. New (osb_free), or NULL
 * with the reason in @err. */
static char *stdin_document(const struct backend_call *call, size_t *ret_len, struct osb_error *err)
{
        const struct catalog_plan *plan = call->plan;
        bool binding = call->kind == OP_BIND || call->kind == OP_UNBIND;
        size_t failures = osb_mem_failures();
        json_auto_t *doc = json_object();
        int r = doc ? 0 : -1;
        r |= json_object_set_new(doc, "operation", json_string(op_kind_name(call->kind)));
        if (call->operation_id)
                r |= json_object_set_new(doc, "operation_id", json_string(call->operation_id));
        r |= json_object_set_new(doc, "instance_id", json_string(call->instance_id));
        if (binding && call->binding_id)
                r |= json_object_set_new(doc, "binding_id", json_string(call->binding_id));
        r |= json_object_set_new(doc, "service", json_pack("{s:s, s:s}", "id", plan->service->id, "name",
                                                           plan->service->name));
        r |= json_object_set_new(doc, "plan", json_pack("{s:s, s:s}", "id", plan->id, "name", plan->name));
        /* jansson's reference counts are atomic: sharing the caller's values is thread-safe. */
        if (call->parameters)
                r |= json_object_set(doc, "parameters", (json_t *) call->parameters);
        if (binding && call->instance_parameters)
                r |= json_object_set(doc, "instance_parameters", (json_t *) call->instance_parameters);
        if (call->context)
                r |= json_object_set(doc, "context", (json_t *) call->context);
        if (call->kind == OP_UPDATE) {
                json_t *prev = json_object();
                if (prev && call->previous_plan)
                        r |= json_object_set_new(prev, "plan_id", json_string(call->previous_plan->id));
                if (prev && call->instance_parameters)
                        r |= json_object_set(prev, "parameters", (json_t *) call->instance_parameters);
                r |= json_object_set_new(doc, "previous_values", prev);
        }
        if (binding && call->app_guid)
                r |= json_object_set_new(doc, "app_guid", json_string(call->app_guid));
        r |= json_object_set_new(doc, "synchronous", json_boolean(call->synchronous));
        size_t len = 0;
        /* One line, in the order above: simple programs find the ids with sed (docs/backends.md). */
        char *text = r == 0 ? osb_json_dump_flags(doc, JSON_COMPACT | JSON_PRESERVE_ORDER, &len) : NULL;
        char *grown = text ? osb_realloc(text, len + 2) : NULL;
        if (!grown) {
                osb_free(text);
                if (osb_mem_failures() != failures)
                        (void) osb_error_set(err, -ENOMEM, "out of memory");
                else
                        (void) fail(err, "cannot encode the request for the program as JSON");
                return NULL;
        }
        grown[len++] = '\n';
        grown[len] = '\0';
        *ret_len = len;
        return grown;
}

struct child {
        pid_t pid;          /* 0: none */
        bool reaped;
        int status;         /* waitpid()'s, once reaped */
        int in, out, err;   /* our ends of the pipes; -1 when closed */
        struct osb_buf out_buf, err_buf;
};

static void close_fd(int *fd)
{
        if (*fd >= 0)
                (void) close(*fd);
        *fd = -1;
}

/* SIGTERM to the whole process group, SIGKILL after EXEC_KILL_GRACE_MS, then reaps. */
static void child_terminate(struct child *c)
{
        (void) kill(-c->pid, SIGTERM);
        int64_t until = osb_mono_ms() + EXEC_KILL_GRACE_MS;
        while (!c->reaped && osb_mono_ms() < until) {
                pid_t w = waitpid(c->pid, &c->status, WNOHANG);
                if (w == c->pid || (w < 0 && errno != EINTR))
                        c->reaped = true;
                else
                        osb_sleep_ms(10);
        }
        /* Also whatever the program left running in its group. */
        (void) kill(-c->pid, SIGKILL);
        while (!c->reaped) {
                pid_t w = waitpid(c->pid, &c->status, 0);
                if (w == c->pid || (w < 0 && errno != EINTR))
                        c->reaped = true;
        }
}

/* Cleanup of every path: no descriptor and no zombie left behind. */
static void child_release(struct child *c)
{
        close_fd(&c->in);
        close_fd(&c->out);
        close_fd(&c->err);
        if (c->pid > 0 && !c->reaped)
                child_terminate(c);
        osb_buf_release(&c->out_buf);
        osb_buf_release(&c->err_buf);
}

/* A pipe whose ends are close-on-exec and not 0, 1 or 2 (the broker may run with its standard
 * descriptors closed; the dup2() actions below must not clobber one pipe with another). */
static int make_pipe(int fds[2])
{
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        for (unsigned i = 0; i < 2; i++)
                if (fds[i] < 3) {
                        int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                        int e = errno;
                        (void) close(fds[i]);
                        fds[i] = fd;
                        if (fd < 0) {
                                close_fd(&fds[1 - i]);
                                return -e;
                        }
                }
        return 0;
}

static int set_nonblock(int fd)
{
        int fl = fcntl(fd, F_GETFL);
        return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

/* Starts @prog in its own process group, in the plan's directory, with the plan's environment,
 * every signal at its default and none blocked (the broker blocks SIGTERM for its sigwait()
 * and ignores SIGPIPE; a program must not inherit either). Returns 0 or -errno. */
static int child_spawn(const struct exec_plan *ep, const struct exec_prog *prog, struct child *c)
{
        int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
        int r = make_pipe(in);
        if (r == 0)
                r = make_pipe(out);
        if (r == 0)
                r = make_pipe(er);
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        bool fa_ok = false, attr_ok = false;
        if (r == 0) {
                r = -posix_spawn_file_actions_init(&fa);
                fa_ok = r == 0;
        }
        if (r == 0) {
                r = -posix_spawnattr_init(&attr);
                attr_ok = r == 0;
        }
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        if (r == 0)
                r = -posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        if (r == 0)
                r = -posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        if (r == 0)
                r = -posix_spawn_file_actions_adddup2(&fa, er[1], STDERR_FILENO);
#ifdef EXEC_HAVE_CLOSEFROM
        if (r == 0)
                r = -posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
        if (r == 0)
                r = -posix_spawn_file_actions_addchdir_np(&fa, ep->dir);
        if (r == 0)
                r = -posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                             POSIX_SPAWN_SETSIGDEF);
        if (r == 0)
                r = -posix_spawnattr_setpgroup(&attr, 0);
        if (r == 0)
                r = -posix_spawnattr_setsigmask(&attr, &none);
        if (r == 0)
                r = -posix_spawnattr_setsigdefault(&attr, &all);
        pid_t pid = 0;
        if (r == 0)
                r = -posix_spawn(&pid, prog->path, &fa, &attr, (char *const *) prog->argv, ep->envp);
        if (fa_ok)
                (void) posix_spawn_file_actions_destroy(&fa);
        if (attr_ok)
                (void) posix_spawnattr_destroy(&attr);
        close_fd(&in[0]);
        close_fd(&out[1]);
        close_fd(&er[1]);
        if (r == 0) {
                c->pid = pid;
                c->in = in[1];
                c->out = out[0];
                c->err = er[0];
                in[1] = out[0] = er[0] = -1;
                if (set_nonblock(c->in) < 0 || set_nonblock(c->out) < 0 || set_nonblock(c->err) < 0)
                        r = -errno;
        }
        close_fd(&in[1]);
        close_fd(&out[0]);
        close_fd(&er[0]);
        return r;
}

/* write() that never raises SIGPIPE in the broker, whatever its disposition: a program that
 * exits without reading its stdin is then just EPIPE. */
static ssize_t write_nosigpipe(int fd, const void *p, size_t n)
{
        sigset_t pipe_set, old, pending;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        ssize_t w = write(fd, p, n);
        int e = errno;
        if (w < 0 && e == EPIPE && !was_pending) {
                struct timespec zero = {0, 0};
                while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                        ;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        errno = e;
        return w;
}

enum child_end { CHILD_EXITED, CHILD_TIMED_OUT, CHILD_TOO_MUCH_OUTPUT };

/* Reads what is available on *@fd into @b. Returns 0, 1 when over the limit, or -ENOMEM. */
static int read_some(int *fd, struct osb_buf *b)
{
        char chunk[16384];
        for (;;) {
                ssize_t n = read(*fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return 0;
                if (n <= 0) {
                        close_fd(fd);
                        return 0;
                }
                int r = osb_buf_append(b, chunk, (size_t) n);
                if (r == -E2BIG)
                        return 1;
                if (r < 0)
                        return r;
        }
}

/* Feeds @input to the child and collects its output until it exits, @deadline passes or it
 * writes too much. Returns 0 with *ret, or a negative code (-ENOMEM, -ECHILD). */
static int child_communicate(struct child *c, const char *input, size_t input_len, int64_t deadline,
                             enum child_end *ret)
{
        size_t written = 0;
        for (;;) {
                if (!c->reaped) {
                        pid_t w = waitpid(c->pid, &c->status, WNOHANG);
                        if (w < 0 && errno == ECHILD) {  /* reaped by someone else: SIGCHLD ignored? */
                                c->reaped = true;
                                return -ECHILD;
                        }
                        c->reaped = w == c->pid;
                }
                if (c->reaped) {
                        /* What it wrote before it exited (a descendant may hold the pipes open:
                         * its later output is not the program's answer). */
                        int r = 0;
                        if (c->out >= 0)
                                r = read_some(&c->out, &c->out_buf);
                        if (r == 0 && c->err >= 0)
                                r = read_some(&c->err, &c->err_buf);
                        if (r < 0)
                                return r;
                        *ret = r ? CHILD_TOO_MUCH_OUTPUT : CHILD_EXITED;
                        return 0;
                }
                int64_t now = osb_mono_ms();
                if (now >= deadline) {
                        *ret = CHILD_TIMED_OUT;
                        return 0;
                }
                struct pollfd fds[3];
                int *owners[3];
                nfds_t n = 0;
                if (c->in >= 0) {
                        fds[n] = (struct pollfd){.fd = c->in, .events = POLLOUT};
                        owners[n++] = &c->in;
                }
                if (c->out >= 0) {
                        fds[n] = (struct pollfd){.fd = c->out, .events = POLLIN};
                        owners[n++] = &c->out;
                }
                if (c->err >= 0) {
                        fds[n] = (struct pollfd){.fd = c->err, .events = POLLIN};
                        owners[n++] = &c->err;
                }
                /* Wake up now and then to notice an exit while a descendant holds the pipes. */
                int64_t wait = OSB_MIN(deadline - now, n ? 100 : 2);
                int pr = poll(fds, n, (int) wait);
                if (pr < 0 && errno != EINTR)
                        return -errno;
                for (nfds_t i = 0; pr > 0 && i < n; i++) {
                        if (!fds[i].revents)
                                continue;
                        if (owners[i] == &c->in) {
                                ssize_t w = write_nosigpipe(c->in, input + written, input_len - written);
                                if (w > 0)
                                        written += (size_t) w;
                                /* EPIPE: the program does not read its stdin; that is its choice. */
                                if (written == input_len || (w < 0 && errno != EAGAIN && errno != EINTR))
                                        close_fd(&c->in);
                                continue;
                        }
                        int r = read_some(owners[i], owners[i] == &c->out ? &c->out_buf : &c->err_buf);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                *ret = CHILD_TOO_MUCH_OUTPUT;
                                return 0;
                        }
                }
        }
}

static void format_ms(int64_t ms, char *buf, size_t size)
{
        if (ms % 1000 == 0)
                (void) snprintf(buf, size, "%" PRId64 "s", ms / 1000);
        else
                (void) snprintf(buf, size, "%" PRId64 "ms", ms);
}

static int exec_run(const struct backend_call *call, struct backend_result *res, struct osb_error *err)
{
        const struct exec_plan *ep = ep_of(call->plan);
        const struct exec_prog *prog = &ep->progs[call->kind];
        if (!prog->argv)  /* an update without a program: only the broker's records change */
                return 0;
        size_t input_len = 0;
        osb_autofree char *input = stdin_document(call, &input_len, err);
        if (!input)
                return err ? err->code : -ENOMEM;

        osb_auto(child_release) struct child c = {.in = -1, .out = -1, .err = -1};
        osb_buf_init(&c.out_buf, ep->max_output);
        osb_buf_init(&c.err_buf, ep->max_output);
        int64_t deadline = osb_mono_ms() + ep->timeout_ms;
        int r = child_spawn(ep, prog, &c);
        if (r < 0) {
                char buf[128];
                return fail(err, "cannot start %s: %s", prog->name, strerror_r(-r, buf, sizeof(buf)));
        }
        enum child_end end = CHILD_EXITED;
        r = child_communicate(&c, input, input_len, deadline, &end);
        if (r == -ENOMEM)
                return osb_error_set(err, r, "out of memory while reading the output of %s", prog->name);
        if (r < 0) {
                char buf[128];
                return fail(err, "lost track of %s: %s", prog->name, strerror_r(-r, buf, sizeof(buf)));
        }
        if (end == CHILD_TIMED_OUT) {
                char d[32];
                format_ms(ep->timeout_ms, d, sizeof(d));
                return fail(err, "%s did not finish within %s", prog->name, d);
        }
        if (end == CHILD_TOO_MUCH_OUTPUT)
                return fail(err, "%s wrote more than %zu bytes", prog->name, ep->max_output);
        return exec_output_parse(call->kind, prog->name, c.status, c.out_buf.data, c.out_buf.len,
                                 c.err_buf.data, c.err_buf.len, ep->retry_after_ms, res, err);
}

const struct backend backend_exec = {
        .type = "exec",
        .blocking = true,
        .configure = exec_configure,
        .release = exec_release,
        .async_mode = exec_async_mode,
        .first_run_delay_ms = exec_first_run_delay_ms,
        .retry_after_s = exec_retry_after_s,
        .requires_app = exec_requires_app,
        .run = exec_run,
};

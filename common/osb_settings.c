/* common/osb_settings.c: table-driven flags and environment variables. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "common/osb_settings.h"

static int apply(const struct osb_setting *s, const char *value, const char *source,
                 struct osb_error *err)
{
        int r = 0;
        switch (s->kind) {
        case OSB_SETTING_STRING: {
                char **t = s->target;
                char *v = value ? osb_strdup(value) : NULL;
                if (value && !v)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                osb_free(*t);
                *t = v;
                return 0;
        }
        case OSB_SETTING_INT: {
                int64_t min = s->min, max = s->max;
                if (min == 0 && max == 0) {
                        min = INT64_MIN;
                        max = INT64_MAX;
                }
                r = osb_parse_int64(value, min, max, s->target);
                if (r == -ERANGE)
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "%s: '%s' is out of range (%" PRId64 "..%" PRId64 ")",
                                             source, value, min, max);
                break;
        }
        case OSB_SETTING_BOOL:
                r = osb_parse_bool(value, s->target);
                break;
        case OSB_SETTING_SIZE:
                r = osb_parse_size(value, s->max ? (uint64_t) s->max : UINT64_MAX, s->target);
                if (r == -ERANGE)
                        return osb_error_set(err, OSB_E_BAD_REQUEST, "%s: '%s' is larger than %" PRId64 " bytes",
                                             source, value, s->max);
                break;
        case OSB_SETTING_DURATION:
                r = osb_parse_duration_ms(value, s->target);
                break;
        }
        if (r < 0) {
                static const char *const expect[] = {
                        [OSB_SETTING_STRING] = "a string",
                        [OSB_SETTING_INT] = "an integer",
                        [OSB_SETTING_BOOL] = "true or false",
                        [OSB_SETTING_SIZE] = "a size such as 4096, 64k or 1m",
                        [OSB_SETTING_DURATION] = "a duration such as 30, 500ms, 30s or 5m",
                };
                return osb_error_set(err, OSB_E_BAD_REQUEST, "%s: '%s' is not %s", source,
                                     value ? value : "", expect[s->kind]);
        }
        return 0;
}

static const struct osb_setting *find(const struct osb_setting *tab, size_t n, const char *name,
                                      size_t len)
{
        for (size_t i = 0; i < n; i++)
                if (strlen(tab[i].name) == len && strncmp(tab[i].name, name, len) == 0)
                        return &tab[i];
        return NULL;
}

void osb_settings_usage(const struct osb_setting *tab, size_t n, const struct osb_program *prog,
                        FILE *f)
{
        fprintf(f, "Usage: %s [OPTION]...\n%s\n\nOptions (each can also be set by the environment "
                   "variable shown; flags win):\n",
                prog->name, prog->summary);
        for (size_t i = 0; i < n; i++) {
                const struct osb_setting *s = &tab[i];
                char flag[96];
                if (s->kind == OSB_SETTING_BOOL)
                        (void) snprintf(flag, sizeof(flag), "--%s[=BOOL]", s->name);
                else
                        (void) snprintf(flag, sizeof(flag), "--%s=%s", s->name,
                                        s->metavar ? s->metavar : "VALUE");
                fprintf(f, "  %-28s %s", flag, s->help);
                if (s->def && *s->def)
                        fprintf(f, " [default: %s]", s->def);
                if (s->env)
                        fprintf(f, " [env: %s]", s->env);
                fputc('\n', f);
        }
        fprintf(f, "  %-28s %s\n  %-28s %s\n", "-h, --help", "Show this help and exit.",
                "--version", "Show the version and exit.");
        if (prog->footer)
                fprintf(f, "\n%s\n", prog->footer);
}

int osb_settings_load(const struct osb_setting *tab, size_t n, const struct osb_program *prog,
                      int argc, char **argv, struct osb_error *err)
{
        for (size_t i = 0; i < n; i++) {
                char src[128];
                (void) snprintf(src, sizeof(src), "default of --%s", tab[i].name);
                if (tab[i].def) {
                        int r = apply(&tab[i], tab[i].def, src, err);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < n; i++) {
                const char *v = tab[i].env ? getenv(tab[i].env) : NULL;
                if (!v)
                        continue;
                char src[128];
                (void) snprintf(src, sizeof(src), "environment variable %s", tab[i].env);
                int r = apply(&tab[i], v, src, err);
                if (r < 0)
                        return r;
        }
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        osb_settings_usage(tab, n, prog, stdout);
                        return 1;
                }
                if (strcmp(a, "--version") == 0) {
                        printf("%s (%s) %s\n", prog->name, PACKAGE_NAME, PACKAGE_VERSION);
                        return 1;
                }
                if (strncmp(a, "--", 2) != 0)
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "unexpected argument '%s' (try --help)", a);
                const char *name = a + 2;
                const char *eq = strchr(name, '=');
                size_t len = eq ? (size_t) (eq - name) : strlen(name);
                const struct osb_setting *s = find(tab, n, name, len);
                const char *value = eq ? eq + 1 : NULL;
                if (!s && !eq && strncmp(name, "no-", 3) == 0) {
                        s = find(tab, n, name + 3, len - 3);
                        if (s && s->kind == OSB_SETTING_BOOL)
                                value = "false";
                        else
                                s = NULL;
                }
                if (!s)
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "unknown option '--%.*s' (try --help)", (int) len, name);
                if (!value) {
                        if (s->kind == OSB_SETTING_BOOL)
                                value = "true";
                        else if (i + 1 < argc)
                                value = argv[++i];
                        else
                                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                                     "option '--%s' needs a value", s->name);
                }
                char src[128];
                (void) snprintf(src, sizeof(src), "--%s", s->name);
                int r = apply(s, value, src, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void osb_settings_release(const struct osb_setting *tab, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (tab[i].kind == OSB_SETTING_STRING) {
                        char **t = tab[i].target;
                        osb_free(*t);
                        *t = NULL;
                }
}

int osb_settings_main(const struct osb_setting *tab, size_t n, const struct osb_program *prog,
                      int argc, char **argv, int (*run)(void))
{
        osb_mem_setup();
        struct osb_error err = OSB_ERROR_INIT;
        int r = osb_settings_load(tab, n, prog, argc, argv, &err);
        if (r != 0) {
                if (r < 0)
                        fprintf(stderr, "%s: %s\n", prog->name, err.text);
                osb_settings_release(tab, n);
                return r < 0 ? 2 : EXIT_SUCCESS;
        }
        int code = run();
        osb_settings_release(tab, n);
        return code;
}

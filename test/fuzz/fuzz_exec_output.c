/* test/fuzz/fuzz_exec_output.c: what an exec-backend program can make the broker read. The
 * first line is "OPERATION STATUS": an operation name (anything else picks one from the line's
 * length) and the exit status as a number, "sig N" for a program killed by signal N, or
 * "raw N" for any waitpid() status. The rest is stdout, up to a line "--stderr--", then stderr.
 * Runs exec_output_parse() and checks its contract: a known code; on failure a non-empty
 * description that is valid UTF-8 without control characters and @res untouched; on success
 * the answer the operation needs (bind: a credentials object) and @err untouched. Also
 * exec_sanitize_text() over the whole input. */
#include "common/osb_compat.h"

#include <sys/wait.h>

#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "broker/backend_exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                           \
        do {                                                                                    \
                if (!(cond)) {                                                                  \
                        fprintf(stderr, "fuzz_exec_output: invariant failed: %s\n", #cond);     \
                        abort();                                                                \
                }                                                                               \
        } while (0)

#define SEPARATOR "\n--stderr--\n"

static bool clean_text(const char *s)
{
        for (const char *p = s; *p; p++)
                if (((unsigned char) *p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
                        return false;
        json_t *j = json_string(s);  /* jansson checks UTF-8 */
        bool ok = j != NULL;
        json_decref(j);
        return ok;
}

/* Parses the header line; false when it is not one. */
static bool parse_header(const char *line, enum op_kind *kind, int *status)
{
        /* "NAME CODE", "NAME sig N" or "NAME raw STATUS" */
        char name[16];
        size_t len = strcspn(line, " \t\r\n");
        if (len == 0 || len >= sizeof(name))
                return false;
        memcpy(name, line, len);
        name[len] = '\0';
        const char *rest = line + len + strspn(line + len, " \t");
        int64_t n;
        if (strncmp(rest, "sig ", 4) == 0 && osb_parse_int64_word(rest + 4, 1, 126, &n, NULL) == 0)
                *status = (int) n;  /* WIFSIGNALED: the signal in the low 7 bits */
        else if (strncmp(rest, "raw ", 4) == 0 && osb_parse_int64_word(rest + 4, INT_MIN, INT_MAX, &n, NULL) == 0)
                *status = (int) n;
        else if (osb_parse_int64_word(rest, 0, 255, &n, NULL) == 0)
                *status = (int) (n << 8);
        else
                return false;
        if (op_kind_parse(name, kind) < 0)
                *kind = (enum op_kind) (strlen(line) % OP_KIND_MAX);
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                ready = true;
        }
        const char *text = (const char *) data;
        const char *nl = memchr(text, '\n', size);
        size_t line_len = nl ? (size_t) (nl - text) : size;
        char line[128];
        (void) snprintf(line, sizeof(line), "%.*s", (int) OSB_MIN(line_len, sizeof(line) - 1), text);
        enum op_kind kind = OP_PROVISION;
        int status = 0;
        if (!parse_header(line, &kind, &status))
                status = (int) (line_len * 2654435761u);
        const char *out = nl ? nl + 1 : text + size;
        size_t rest = size - (size_t) (out - text);
        const char *sep = memmem(out, rest, SEPARATOR, strlen(SEPARATOR));
        size_t out_len = sep ? (size_t) (sep - out) : rest;
        const char *errout = sep ? sep + strlen(SEPARATOR) : NULL;
        size_t err_len = sep ? rest - out_len - strlen(SEPARATOR) : 0;

        struct backend_result res = {.retry_after_ms = -7};
        struct osb_error err = {12345, "untouched"};
        int r = exec_output_parse(kind, "prog", status, out, out_len, errout, err_len, 5000, &res, &err);
        if (r < 0) {
                REQUIRE(r == OSB_E_BACKEND || r == -ENOMEM);
                REQUIRE(err.code == r && err.text[0] != '\0');
                REQUIRE(strnlen(err.text, sizeof(err.text)) < sizeof(err.text));
                if (r == OSB_E_BACKEND)
                        REQUIRE(clean_text(err.text));
                /* A program that exited 0 printed its answer, credentials included: a failure to
                 * read it is the broker's own fixed words, never a quote of what it printed
                 * (jansson's error text quotes the input "near '...'"). */
                if (r == OSB_E_BACKEND && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        REQUIRE(strncmp(err.text, "prog printed ", 13) == 0 && !strstr(err.text, "near"));
                REQUIRE(res.retry_after_ms == -7 && !res.response && !res.dashboard_url);
        } else {
                REQUIRE(r == 0);
                REQUIRE(err.code == 12345 && strcmp(err.text, "untouched") == 0);
                REQUIRE(WIFEXITED(status));
                if (res.retry_after_ms > 0) {
                        REQUIRE(WEXITSTATUS(status) == EXEC_EXIT_IN_PROGRESS);
                        REQUIRE(!res.response && !res.dashboard_url);
                } else {
                        REQUIRE(res.retry_after_ms == 0 && WEXITSTATUS(status) == 0);
                        REQUIRE(kind == OP_BIND ? json_is_object(json_object_get(res.response, "credentials"))
                                                : res.response == NULL);
                        REQUIRE(!res.dashboard_url || kind == OP_PROVISION || kind == OP_UPDATE);
                }
                backend_result_release(&res);
        }

        char *copy = osb_strndup(text, size);
        if (copy) {
                exec_sanitize_text(copy);
                REQUIRE(clean_text(copy));
                osb_free(copy);
        }
        return 0;
}

/* broker/backend_postgresql.c: the "postgresql" backend. An instance is a database of its own on
 * a PostgreSQL server, owned by a NOLOGIN role of its own; a binding is a login role with a
 * generated password and the plan's grants. The plan names the server by a connection URL kept
 * out of the catalog (a file or an environment variable, read at every call, so a rotated file
 * is picked up); docs/backends.md is the user guide.
 *
 * Every name is derived from the ids alone (a SHA-256 digest: valid, short, never colliding
 * between tenants), and every step looks before it creates or drops with IF EXISTS, so an
 * operation run again after a crash finishes what the first run started. */
#include "common/osb_compat.h"
#include "common/osb_hash.h"
#include "common/osb_buf.h"
#include "common/osb_file.h"
#include "common/osb_mem.h"
#include "broker/backend.h"
#include "broker/pqlib.h"
#include "broker/pqtext.h"

#include <sys/random.h>

#define ADMIN_URL_MAX (16 * 1024)   /* a longer admin URL file is refused */
#define CONNECT_TIMEOUT_S "10"      /* unless the admin URL sets connect_timeout */
#define PASSWORD_LEN 32
#define DIGEST_HEX 24               /* 96 bits of SHA-256 per id */
#define NAME_PREFIX "bindery_"

enum pg_grants { PG_GRANTS_READWRITE, PG_GRANTS_READONLY };

struct pg_plan {
        const struct backend *be;   /* must be first: see backend_of() */
        char *url_file;             /* new: admin_url_file, resolved; or NULL */
        const char *url_env;        /* borrowed: admin_url_env; or NULL */
        const char *host;           /* borrowed: credentials' host; NULL: the admin URL's */
        int64_t port;               /* credentials' port; 0: the admin URL's */
        int64_t connection_limit;   /* -1: unlimited */
        enum pg_grants grants;
        enum backend_async async;
        int64_t retry_after_s;
};

/* ---- names ------------------------------------------------------------------------------- */

/* The first DIGEST_HEX hex digits of SHA-256(@s) into @out (DIGEST_HEX + 1 bytes). */
static void digest_hex(const char *s, char *out)
{
        char full[2 * OSB_HASH_SHA256_LEN + 1];
        osb_hash_sha256_hex(s, strlen(s), full);
        memcpy(out, full, DIGEST_HEX);
        out[DIGEST_HEX] = '\0';
}

/* An instance's (and a binding's) names on the server: at most 59 bytes, [a-z0-9_] only. */
struct pg_names {
        char db[64];       /* bindery_<digest of the instance id>: the database */
        char owner[64];    /* <db>_owner: the NOLOGIN role that owns it */
        char prefix[64];   /* <db>_b_: every binding role of the instance starts with it */
        char binding[64];  /* <prefix><digest of the binding id>, or "" */
};

static void names_init(struct pg_names *n, const char *instance_id, const char *binding_id)
{
        char d[DIGEST_HEX + 1], b[DIGEST_HEX + 1];
        digest_hex(instance_id, d);
        (void) snprintf(n->db, sizeof(n->db), NAME_PREFIX "%s", d);
        (void) snprintf(n->owner, sizeof(n->owner), NAME_PREFIX "%s_owner", d);
        (void) snprintf(n->prefix, sizeof(n->prefix), NAME_PREFIX "%s_b_", d);
        n->binding[0] = '\0';
        if (binding_id) {
                digest_hex(binding_id, b);
                (void) snprintf(n->binding, sizeof(n->binding), NAME_PREFIX "%s_b_%s", d, b);
        }
}

/* ---- configuration ------------------------------------------------------------------------- */

/* @name against the directory of the catalog file @plan came from. New (osb_free) or NULL. */
static char *resolve_path(const struct catalog_plan *plan, const char *name)
{
        const char *cat = plan->catalog_source;
        const char *slash = cat ? strrchr(cat, '/') : NULL;
        if (name[0] == '/' || !slash)
                return osb_strdup(name);
        return osb_asprintf("%.*s/%s", (int) (slash - cat), cat, name);
}

static void pg_release(struct catalog_plan *plan)
{
        struct pg_plan *pp = plan->backend_state;
        if (!pp)
                return;
        osb_free(pp->url_file);
        osb_free(pp);
        plan->backend_state = NULL;
}

static void pg_planp_free(struct pg_plan **pp)
{
        if (*pp)
                osb_free((*pp)->url_file);
        osb_free(*pp);
        *pp = NULL;
}

static int pg_configure(struct catalog_plan *plan, struct backend_problems *bp)
{
        size_t problems_before = bp->count;
        const char *path = plan->backend_path;
        json_t *cfg = plan->backend;
        static const char *const known[] = {"type", "admin_url_file", "admin_url_env", "host", "port",
                                            "connection_limit", "grants", "async", "retry_after"};
        const char *key;
        json_t *v;
        json_object_foreach(cfg, key, v) {
                bool ok = false;
                for (unsigned i = 0; i < OSB_ELEMENTSOF(known); i++)
                        ok = ok || strcmp(key, known[i]) == 0;
                if (!ok)
                        (void) backend_problem(bp, "%s.%s: unknown setting of the postgresql backend (known: "
                                               "admin_url_file, admin_url_env, host, port, connection_limit, "
                                               "grants, async, retry_after)", path, key);
        }

        osb_auto(pg_planp_free) struct pg_plan *pp = osb_calloc(1, sizeof(*pp));
        if (!pp)
                return -ENOMEM;
        pp->be = &backend_postgresql;
        pp->connection_limit = -1;
        pp->grants = PG_GRANTS_READWRITE;
        pp->async = BACKEND_ASYNC_OPTIONAL;
        pp->retry_after_s = 1;

        json_t *file = json_object_get(cfg, "admin_url_file"), *env = json_object_get(cfg, "admin_url_env");
        if (!file == !env)
                (void) backend_problem(bp, "%s: set exactly one of \"admin_url_file\" and \"admin_url_env\" (the "
                                       "PostgreSQL server's admin connection URL never goes in the catalog)", path);
        if (file && (!json_is_string(file) || !*json_string_value(file))) {
                (void) backend_problem(bp, "%s.admin_url_file: must be a non-empty file name", path);
        } else if (file) {
                pp->url_file = resolve_path(plan, json_string_value(file));
                if (!pp->url_file)
                        return -ENOMEM;
                osb_autofree char *text = NULL;
                size_t len = 0;
                int r = osb_read_file(pp->url_file, ADMIN_URL_MAX, &text, &len, NULL);
                if (r == -ENOMEM)
                        return -ENOMEM;
                bool blank = true;
                for (size_t i = 0; i < len; i++)
                        blank = blank && isspace((unsigned char) text[i]);
                if (text)
                        explicit_bzero(text, len);
                if (r < 0)
                        (void) backend_problem(bp, "%s.admin_url_file: cannot read '%s': %s", path, pp->url_file,
                                               r == -E2BIG ? "larger than 16 KiB" : strerror(-r));
                else if (blank)
                        (void) backend_problem(bp, "%s.admin_url_file: '%s' is empty", path, pp->url_file);
        } else if (env) {
                if (!json_is_string(env) || !backend_env_name_valid(json_string_value(env)))
                        (void) backend_problem(bp, "%s.admin_url_env: must be the name of an environment variable",
                                               path);
                pp->url_env = json_string_value(env);
        }

        v = json_object_get(cfg, "host");
        if (v) {
                if (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) > 253)
                        (void) backend_problem(bp, "%s.host: must be a host name or address", path);
                pp->host = json_string_value(v);
        }
        v = json_object_get(cfg, "port");
        if (v) {
                if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
                        (void) backend_problem(bp, "%s.port: must be a port number (1-65535)", path);
                pp->port = json_integer_value(v);
        }
        v = json_object_get(cfg, "connection_limit");
        if (v) {
                if (!json_is_integer(v) || json_integer_value(v) < -1 || json_integer_value(v) > INT32_MAX)
                        (void) backend_problem(bp, "%s.connection_limit: must be a whole number, -1 for unlimited", path);
                pp->connection_limit = json_integer_value(v);
        }
        v = json_object_get(cfg, "grants");
        if (v) {
                if (osb_streq(json_string_value(v), "readwrite"))
                        pp->grants = PG_GRANTS_READWRITE;
                else if (osb_streq(json_string_value(v), "readonly"))
                        pp->grants = PG_GRANTS_READONLY;
                else
                        (void) backend_problem(bp, "%s.grants: must be \"readwrite\" or \"readonly\"", path);
        }
        (void) backend_setting_async(cfg, path, "async", &pp->async, bp);
        v = json_object_get(cfg, "retry_after");
        if (v) {
                if (!json_is_integer(v) || json_integer_value(v) < 0)
                        (void) backend_problem(bp, "%s.retry_after: must be a whole number of seconds", path);
                pp->retry_after_s = json_integer_value(v);
        }
        if (bp->count > problems_before)
                return OSB_E_INVALID_CONFIG;
        plan->backend_state = OSB_TAKE_PTR(pp);
        return 0;
}

static const struct pg_plan *pp_of(const struct catalog_plan *plan)
{
        return plan->backend_state;
}

static enum backend_async pg_async_mode(const struct catalog_plan *plan, enum op_kind kind)
{
        /* An asynchronous binding is fetched with GET, which the service must allow. */
        if ((kind == OP_BIND || kind == OP_UNBIND) && !plan->service->bindings_retrievable)
                return BACKEND_ASYNC_NEVER;
        return pp_of(plan)->async;
}

static int64_t pg_first_run_delay_ms(const struct catalog_plan *plan, enum op_kind kind)
{
        return 0;
}

static int64_t pg_retry_after_s(const struct catalog_plan *plan, int64_t due_in_ms)
{
        return pp_of(plan)->retry_after_s;
}

static bool pg_requires_app(const struct catalog_plan *plan)
{
        return false;
}

/* ---- the admin connection ------------------------------------------------------------------ */

/* The admin URL of one call, and what must never appear in a message. */
struct admin {
        char *url;          /* new */
        char *password;     /* new or NULL: the password, decoded */
        char *raw_password; /* new or NULL: the password as written in the URL */
        char host[256];     /* the first host named, or "" */
        char port[16];      /* the first port named, or "" (5432) */
        char where[300];    /* "HOST:PORT" for messages */
};

static void admin_release(struct admin *a)
{
        char **secrets[] = {&a->url, &a->password, &a->raw_password};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(secrets); i++)
                if (*secrets[i]) {
                        explicit_bzero(*secrets[i], strlen(*secrets[i]));
                        osb_free(*secrets[i]);
                        *secrets[i] = NULL;
                }
}

/* @msg (a libpq or server message) made fit for a description: each password of @a replaced by
 * "***", runs of white space (libpq's are multi-line) folded into one space. */
static void redact(const struct admin *a, const char *msg, char *out, size_t n)
{
        const char *secrets[] = {a->password, a->raw_password};
        pqtext_scrub(msg, secrets, OSB_ELEMENTSOF(secrets), out, n);
}

/* A failed statement's error fit for a description: the server's primary message and SQLSTATE
 * only, redacted. Never PQresultErrorMessage(): libpq adds the statement's text around the
 * error position ("LINE 1: ... PASSWORD 'SCRAM-SHA-256$...'") and the server's DETAIL quotes
 * values; @secret (may be NULL), such as a password verifier in @sql, is cut out too. */
static void server_message(const struct admin *a, PGconn *c, const PGresult *res, const char *secret,
                           char *out, size_t n)
{
        const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        char msg[400];
        if (primary)
                (void) snprintf(msg, sizeof(msg), "%s (SQLSTATE %s)", primary, state ? state : "?");
        else
                (void) snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        const char *secrets[] = {a->password, a->raw_password, secret};
        pqtext_scrub(msg, secrets, OSB_ELEMENTSOF(secrets), out, n);
}

/* The password as written in a URI's user info ("scheme://user:PASSWORD@host"), or NULL. Used
 * to redact messages about a URL libpq cannot parse. New (osb_free). */
static char *raw_uri_password(const char *url)
{
        size_t len = 0;
        const char *pw = pqtext_uri_password(url, &len);
        return pw && len ? osb_strndup(pw, len) : NULL;
}

static void copy_first(char *out, size_t n, const char *list)
{
        (void) snprintf(out, n, "%.*s", (int) strcspn(list ? list : "", ","), list ? list : "");
}

/* Reads the plan's admin URL (at every call: a rotated file is used at once) into @a. */
static int admin_load(const struct pg_plan *pp, struct admin *a, struct osb_error *err)
{
        *a = (struct admin){0};
        int lr = pqlib_load(err);
        if (lr < 0)
                return lr;
        if (pp->url_file) {
                int r = osb_read_file(pp->url_file, ADMIN_URL_MAX, &a->url, NULL, NULL);
                if (r == -ENOMEM)
                        return osb_error_set(err, r, "out of memory");
                if (r < 0)
                        return osb_error_set(err, OSB_E_BACKEND, "cannot read the PostgreSQL admin URL file '%s': %s",
                                             pp->url_file, r == -E2BIG ? "larger than 16 KiB" : strerror(-r));
        } else {
                const char *v = getenv(pp->url_env);
                if (!v || !*v)
                        return osb_error_set(err, OSB_E_BACKEND,
                                             "the environment variable %s (the PostgreSQL admin URL) is not set",
                                             pp->url_env);
                a->url = osb_strdup(v);
                if (!a->url)
                        return osb_error_set(err, -ENOMEM, "out of memory");
        }
        /* A file usually ends with a newline; a URL has no white space of its own at the ends. */
        size_t len = strlen(a->url), start = 0;
        while (len > 0 && isspace((unsigned char) a->url[len - 1]))
                a->url[--len] = '\0';
        while (start < len && isspace((unsigned char) a->url[start]))
                start++;
        memmove(a->url, a->url + start, len - start + 1);
        /* (An empty string would be a valid conninfo: the local server's defaults.) */
        if (!a->url[0])
                return osb_error_set(err, OSB_E_BACKEND, "the PostgreSQL admin URL (%s %s) is empty",
                                     pp->url_file ? "file" : "environment variable",
                                     pp->url_file ? pp->url_file : pp->url_env);
        a->raw_password = raw_uri_password(a->url);

        char *perr = NULL;
        PQconninfoOption *opts = PQconninfoParse(a->url, &perr);
        if (!opts) {
                char msg[400];
                redact(a, perr ? perr : "out of memory", msg, sizeof(msg));
                PQfreemem(perr);
                return osb_error_set(err, OSB_E_BACKEND, "the PostgreSQL admin URL (%s %s) is not valid: %s",
                                     pp->url_file ? "file" : "environment variable",
                                     pp->url_file ? pp->url_file : pp->url_env, msg);
        }
        const char *host = NULL, *hostaddr = NULL, *port = NULL;
        int r = 0;
        for (PQconninfoOption *o = opts; o->keyword; o++) {
                if (!o->val || !*o->val)
                        continue;
                if (strcmp(o->keyword, "host") == 0)
                        host = o->val;
                else if (strcmp(o->keyword, "hostaddr") == 0)
                        hostaddr = o->val;
                else if (strcmp(o->keyword, "port") == 0)
                        port = o->val;
                else if (strcmp(o->keyword, "password") == 0 && !(a->password = osb_strdup(o->val)))
                        r = -ENOMEM;
        }
        copy_first(a->host, sizeof(a->host), host ? host : hostaddr);
        copy_first(a->port, sizeof(a->port), port);
        for (PQconninfoOption *o = opts; o->keyword; o++)
                if (o->val)
                        explicit_bzero(o->val, strlen(o->val));
        PQconninfoFree(opts);
        if (r < 0)
                return osb_error_set(err, r, "out of memory");
        (void) snprintf(a->where, sizeof(a->where), "%s:%s", a->host[0] ? a->host : "localhost",
                        a->port[0] ? a->port : "5432");
        return 0;
}

static void ignore_notice(void *arg, const char *message)
{
}

static void pq_finishp(PGconn **c)
{
        if (*c)
                PQfinish(*c);
        *c = NULL;
}

static void pq_clearp(PGresult **res)
{
        PQclear(*res);
        *res = NULL;
}

/* Connects as the admin URL says, to @dbname instead of its database when not NULL. */
static int admin_connect(const struct admin *a, const char *dbname, PGconn **ret, struct osb_error *err)
{
        /* Later keywords win: the URL overrides the defaults before it, @dbname overrides the URL. */
        const char *keys[] = {"connect_timeout", "application_name", "dbname", "dbname", NULL};
        const char *vals[] = {CONNECT_TIMEOUT_S, "bindery-osb-broker", a->url, dbname, NULL};
        if (!dbname)
                keys[3] = NULL;
        PGconn *c = PQconnectdbParams(keys, vals, 1);
        if (!c)
                return osb_error_set(err, -ENOMEM, "out of memory");
        if (PQstatus(c) != CONNECTION_OK) {
                char msg[400];
                redact(a, PQerrorMessage(c), msg, sizeof(msg));
                PQfinish(c);
                return osb_error_set(err, OSB_E_BACKEND, "cannot connect to the PostgreSQL server %s%s%s: %s",
                                     a->where, dbname ? ", database " : "", dbname ? dbname : "", msg);
        }
        PQsetNoticeProcessor(c, ignore_notice, NULL);
        *ret = c;
        return 0;
}

static bool is_superuser(PGconn *c)
{
        return osb_streq(PQparameterStatus(c, "is_superuser"), "on");
}

/* Runs one statement (never several: CREATE DATABASE cannot run in a transaction block, and a
 * multi-statement string is one). A failure whose SQLSTATE is in @accept (NULL-terminated, may
 * be NULL), such as "already exists" after a concurrent run, counts as success. @what names
 * the step in the description. */
static int exec_secret(PGconn *c, const struct admin *a, const char *sql, const char *const *accept,
                       const char *secret, const char *what, struct osb_error *err)
{
        if (!sql)
                return osb_error_set(err, -ENOMEM, "out of memory");
        osb_auto(pq_clearp) PGresult *res = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(res);
        if (res && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK))
                return 0;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        for (size_t i = 0; accept && accept[i] && state; i++)
                if (strcmp(state, accept[i]) == 0)
                        return 0;
        char msg[400];
        server_message(a, c, res, secret, msg, sizeof(msg));
        return osb_error_set(err, OSB_E_BACKEND, "PostgreSQL server %s: cannot %s: %s", a->where, what, msg);
}

static int exec_accepting(PGconn *c, const struct admin *a, const char *sql, const char *const *accept,
                          const char *what, struct osb_error *err)
{
        return exec_secret(c, a, sql, accept, NULL, what, err);
}

static int exec_sql(PGconn *c, const struct admin *a, const char *sql, const char *what, struct osb_error *err)
{
        return exec_accepting(c, a, sql, NULL, what, err);
}

/* Runs @sql with text parameters @p1 and @p2 (NULL: fewer); *ret receives its rows (new). */
static int query(PGconn *c, const struct admin *a, const char *sql, const char *p1, const char *p2,
                 PGresult **ret, const char *what, struct osb_error *err)
{
        const char *params[] = {p1, p2};
        PGresult *res = PQexecParams(c, sql, p2 ? 2 : p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
                *ret = res;
                return 0;
        }
        char msg[400];
        server_message(a, c, res, NULL, msg, sizeof(msg));
        PQclear(res);
        return osb_error_set(err, OSB_E_BACKEND, "PostgreSQL server %s: cannot %s: %s", a->where, what, msg);
}

/* Whether @sql (one parameter) returns a row. */
static int exists(PGconn *c, const struct admin *a, const char *sql, const char *param, bool *ret,
                  struct osb_error *err)
{
        osb_auto(pq_clearp) PGresult *res = NULL;
        int r = query(c, a, sql, param, NULL, &res, "look up what exists", err);
        if (r < 0)
                return r;
        *ret = PQntuples(res) > 0;
        return 0;
}

static int role_exists(PGconn *c, const struct admin *a, const char *role, bool *ret, struct osb_error *err)
{
        return exists(c, a, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", role, ret, err);
}

static int database_exists(PGconn *c, const struct admin *a, const char *db, bool *ret, struct osb_error *err)
{
        return exists(c, a, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", db, ret, err);
}

/* PQescapeIdentifier / PQescapeLiteral into our own memory. New (osb_free) or NULL. */
static char *quote(PGconn *c, const char *s, bool literal)
{
        char *q = literal ? PQescapeLiteral(c, s, strlen(s)) : PQescapeIdentifier(c, s, strlen(s));
        if (!q)
                return NULL;
        char *out = osb_strdup(q);
        PQfreemem(q);
        return out;
}

/* Runs the statement @fmt, its %s (up to three) replaced by @i1, @i2, @i3 as quoted identifiers. */
static int exec_idents(PGconn *c, const struct admin *a, const char *fmt, const char *const *accept,
                       const char *what, struct osb_error *err, const char *i1, const char *i2, const char *i3)
{
        osb_autofree char *q1 = i1 ? quote(c, i1, false) : NULL;
        osb_autofree char *q2 = i2 ? quote(c, i2, false) : NULL;
        osb_autofree char *q3 = i3 ? quote(c, i3, false) : NULL;
        if ((i1 && !q1) || (i2 && !q2) || (i3 && !q3))
                return osb_error_set(err, -ENOMEM, "out of memory");
        osb_autofree char *sql = osb_asprintf(fmt, q1 ? q1 : "", q2 ? q2 : "", q3 ? q3 : "");
        return exec_accepting(c, a, sql, accept, what, err);
}

/* Gives the admin role (when not a superuser) membership of @role, which PostgreSQL asks of it
 * for CREATE DATABASE ... OWNER, REASSIGN OWNED and ALTER DEFAULT PRIVILEGES FOR ROLE. */
static int admin_join(PGconn *c, const struct admin *a, const char *role, struct osb_error *err)
{
        if (is_superuser(c))
                return 0;
        return exec_idents(c, a, "GRANT %s TO CURRENT_USER", NULL, "grant the admin role membership", err,
                           role, NULL, NULL);
}

/* Ends every session of @role (waiting up to 5 s for them on PostgreSQL 14 and later). */
static int terminate_sessions(PGconn *c, const struct admin *a, const char *role, struct osb_error *err)
{
        const char *sql = PQserverVersion(c) >= 140000
                                  ? "SELECT pg_catalog.pg_terminate_backend(pid, 5000) FROM pg_catalog.pg_stat_activity "
                                    "WHERE usename = $1 AND pid <> pg_catalog.pg_backend_pid()"
                                  : "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity "
                                    "WHERE usename = $1 AND pid <> pg_catalog.pg_backend_pid()";
        osb_auto(pq_clearp) PGresult *res = NULL;
        return query(c, a, sql, role, NULL, &res, "end the sessions of a binding's role", err);
}

/* SQLSTATEs of "it is already there", for steps that may race a concurrent or earlier run. */
static const char *const already_exists[] = {"42710" /* duplicate_object */, "42P04" /* duplicate_database */,
                                             "23505" /* unique_violation (catalog) */, NULL};

/* ---- operations ---------------------------------------------------------------------------- */

static int run_provision(const struct pg_plan *pp, const struct backend_call *call, struct admin *a,
                         const struct pg_names *n, struct osb_error *err)
{
        osb_auto(pq_finishp) PGconn *c = NULL;
        int r = admin_connect(a, NULL, &c, err);
        if (r < 0)
                return r;
        bool have;
        r = role_exists(c, a, n->owner, &have, err);
        if (r >= 0 && !have)
                r = exec_idents(c, a, "CREATE ROLE %s NOLOGIN", already_exists, "create the database's owner role",
                                err, n->owner, NULL, NULL);
        if (r >= 0)
                r = admin_join(c, a, n->owner, err);
        if (r >= 0)
                r = database_exists(c, a, n->db, &have, err);
        if (r >= 0 && !have) {
                osb_autofree char *fmt = osb_asprintf("CREATE DATABASE %%s OWNER %%s CONNECTION LIMIT %" PRId64,
                                                      pp->connection_limit);
                if (!fmt)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                r = exec_idents(c, a, fmt, already_exists, "create the database", err, n->db, n->owner, NULL);
        } else if (r >= 0) {
                /* Made by an earlier run (or by hand): it gets the plan's settings all the same. */
                osb_autofree char *fmt = osb_asprintf("ALTER DATABASE %%s CONNECTION LIMIT %" PRId64,
                                                      pp->connection_limit);
                if (!fmt)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                r = exec_idents(c, a, fmt, NULL, "set the database's connection limit", err, n->db, NULL, NULL);
                if (r >= 0)
                        r = exec_idents(c, a, "ALTER DATABASE %s OWNER TO %s", NULL, "give the database to its owner role",
                                        err, n->db, n->owner, NULL);
        }
        if (r >= 0)
                r = exec_idents(c, a, "REVOKE CONNECT, TEMPORARY ON DATABASE %s FROM PUBLIC", NULL,
                                "revoke the public's access to the database", err, n->db, NULL, NULL);
        if (r < 0)
                return r;
        /* So an administrator can tell whose it is. */
        osb_autofree char *comment = osb_asprintf("Bindery service instance %s", call->instance_id);
        osb_autofree char *lit = comment ? quote(c, comment, true) : NULL;
        osb_autofree char *qdb = quote(c, n->db, false);
        osb_autofree char *sql = lit && qdb ? osb_asprintf("COMMENT ON DATABASE %s IS %s", qdb, lit) : NULL;
        r = exec_sql(c, a, sql, "comment on the database", err);
        if (r < 0)
                return r;

        /* Inside the database: the schema public belongs to the owner role (PostgreSQL 15 makes it
         * pg_database_owner's, older versions the bootstrap superuser's), and only it creates there. */
        osb_auto(pq_finishp) PGconn *d = NULL;
        r = admin_connect(a, n->db, &d, err);
        if (r < 0)
                return r;
        r = exists(d, a, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", "public", &have, err);
        if (r >= 0 && have)
                r = exec_idents(d, a, "ALTER SCHEMA public OWNER TO %s", NULL, "give the schema public to the owner role",
                                err, n->owner, NULL, NULL);
        if (r >= 0 && have)
                r = exec_sql(d, a, "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                             "revoke the public's CREATE on the schema public", err);
        return r;
}

/* The admin connection for an operation on an existing instance: fails (naming it) when the
 * instance's database is not there. *ret new (PQfinish). */
static int connect_instance(const struct admin *a, const struct pg_names *n, const struct backend_call *call,
                            PGconn **ret, struct osb_error *err)
{
        osb_auto(pq_finishp) PGconn *c = NULL;
        int r = admin_connect(a, NULL, &c, err);
        if (r < 0)
                return r;
        bool have;
        r = database_exists(c, a, n->db, &have, err);
        if (r < 0)
                return r;
        if (!have)
                return osb_error_set(err, OSB_E_BACKEND, "PostgreSQL server %s: the database %s of instance '%s' "
                                     "does not exist", a->where, n->db, call->instance_id);
        *ret = OSB_TAKE_PTR(c);
        return 0;
}

static int run_update(const struct pg_plan *pp, const struct backend_call *call, struct admin *a,
                      const struct pg_names *n, struct osb_error *err)
{
        osb_auto(pq_finishp) PGconn *c = NULL;
        int r = connect_instance(a, n, call, &c, err);
        if (r < 0)
                return r;
        osb_autofree char *fmt = osb_asprintf("ALTER DATABASE %%s CONNECTION LIMIT %" PRId64, pp->connection_limit);
        if (!fmt)
                return osb_error_set(err, -ENOMEM, "out of memory");
        return exec_idents(c, a, fmt, NULL, "change the database's connection limit", err, n->db, NULL, NULL);
}

static int run_deprovision(const struct backend_call *call, struct admin *a, const struct pg_names *n,
                           struct osb_error *err)
{
        osb_auto(pq_finishp) PGconn *c = NULL;
        int r = admin_connect(a, NULL, &c, err);
        if (r < 0)
                return r;
        if (PQserverVersion(c) >= 130000) {
                r = exec_idents(c, a, "DROP DATABASE IF EXISTS %s WITH (FORCE)", NULL, "drop the database", err,
                                n->db, NULL, NULL);
        } else {
                osb_auto(pq_clearp) PGresult *res = NULL;
                r = query(c, a, "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity "
                          "WHERE datname = $1", n->db, NULL, &res, "end the database's sessions", err);
                if (r >= 0)
                        r = exec_idents(c, a, "DROP DATABASE IF EXISTS %s", NULL, "drop the database", err,
                                        n->db, NULL, NULL);
        }
        if (r < 0)
                return r;

        /* Binding roles left behind (unbinds that never came): their objects went with the database. */
        char len[16];
        (void) snprintf(len, sizeof(len), "%zu", strlen(n->prefix));
        osb_auto(pq_clearp) PGresult *roles = NULL;
        r = query(c, a, "SELECT rolname FROM pg_catalog.pg_roles WHERE substr(rolname, 1, $2::int) = $1", n->prefix,
                  len, &roles, "list the instance's binding roles", err);
        for (int i = 0; r >= 0 && i < PQntuples(roles); i++) {
                const char *role = PQgetvalue(roles, i, 0);
                r = terminate_sessions(c, a, role, err);
                if (r >= 0)
                        r = exec_idents(c, a, "DROP ROLE IF EXISTS %s", NULL, "drop a binding's role", err, role,
                                        NULL, NULL);
        }
        if (r >= 0)
                r = exec_idents(c, a, "DROP ROLE IF EXISTS %s", NULL, "drop the database's owner role", err,
                                n->owner, NULL, NULL);
        return r;
}

static int random_password(char *out, size_t n)
{
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        size_t o = 0;
        while (o < n) {
                uint8_t buf[64];
                ssize_t got = getrandom(buf, sizeof(buf), 0);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        return -errno;
                /* 248 = 4 * 62: rejecting the rest keeps every character equally likely. */
                for (ssize_t i = 0; i < got && o < n; i++)
                        if (buf[i] < 248)
                                out[o++] = alphabet[buf[i] % 62];
                explicit_bzero(buf, sizeof(buf));
        }
        out[n] = '\0';
        return 0;
}

/* Percent-encodes @s (RFC 3986: every byte but the unreserved ones) onto @b. */
static int append_pct(struct osb_buf *b, const char *s)
{
        int r = 0;
        for (; *s && r >= 0; s++) {
                unsigned char ch = (unsigned char) *s;
                if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~')
                        r = osb_buf_append(b, s, 1);
                else
                        r = osb_buf_appendf(b, "%%%02X", ch);
        }
        return r;
}

/* "SCHEME://HOST:PORT/DB" with the user and password where the format wants them. New. */
static char *build_url(bool jdbc, const char *host, const char *port, const char *db, const char *user,
                       const char *password)
{
        struct osb_buf b;
        osb_buf_init(&b, 4096);
        /* An IPv6 address goes in brackets. */
        bool v6 = strchr(host, ':') != NULL;
        int r = osb_buf_appends(&b, jdbc ? "jdbc:postgresql://" : "postgresql://");
        if (r >= 0 && !jdbc) {
                r = append_pct(&b, user);
                if (r >= 0)
                        r = osb_buf_appends(&b, ":");
                if (r >= 0)
                        r = append_pct(&b, password);
                if (r >= 0)
                        r = osb_buf_appends(&b, "@");
        }
        if (r >= 0)
                r = osb_buf_appendf(&b, "%s%s%s:%s/", v6 ? "[" : "", host, v6 ? "]" : "", port);
        if (r >= 0)
                r = append_pct(&b, db);
        if (r >= 0 && jdbc) {
                r = osb_buf_appends(&b, "?user=");
                if (r >= 0)
                        r = append_pct(&b, user);
                if (r >= 0)
                        r = osb_buf_appends(&b, "&password=");
                if (r >= 0)
                        r = append_pct(&b, password);
        }
        if (r < 0) {
                osb_buf_release(&b);
                return NULL;
        }
        return osb_buf_detach(&b, NULL);
}

/* The binding's answer: {"credentials": {uri, host, port, database, username, password, jdbcUrl}}. */
static json_t *credentials(const struct pg_plan *pp, const struct admin *a, const struct pg_names *n,
                           const char *password)
{
        /* An admin URL without a host, or with a socket directory, means this machine. */
        const char *host = pp->host ? pp->host : a->host[0] && a->host[0] != '/' ? a->host : "localhost";
        char port[16];
        if (pp->port)
                (void) snprintf(port, sizeof(port), "%" PRId64, pp->port);
        else
                (void) snprintf(port, sizeof(port), "%s", a->port[0] ? a->port : "5432");
        int64_t port_num = 0;
        for (const char *p = port; isdigit((unsigned char) *p) && port_num < 65536; p++)
                port_num = port_num * 10 + (*p - '0');
        osb_autofree char *uri = build_url(false, host, port, n->db, n->binding, password);
        osb_autofree char *jdbc = build_url(true, host, port, n->db, n->binding, password);
        if (!uri || !jdbc)
                return NULL;
        return json_pack("{s:{s:s, s:s, s:I, s:s, s:s, s:s, s:s}}", "credentials", "uri", uri, "host", host,
                         "port", (json_int_t) port_num, "database", n->db, "username", n->binding,
                         "password", password, "jdbcUrl", jdbc);
}

static int run_bind(const struct pg_plan *pp, const struct backend_call *call, struct admin *a,
                    const struct pg_names *n, struct backend_result *res, struct osb_error *err)
{
        osb_auto(pq_finishp) PGconn *c = NULL;
        int r = connect_instance(a, n, call, &c, err);
        if (r < 0)
                return r;

        /* A run again after a crash sets a new password: the answer is stored only at the end. */
        char password[PASSWORD_LEN + 1];
        r = random_password(password, PASSWORD_LEN);
        if (r < 0)
                return osb_error_set(err, r, "cannot generate a password: %s", strerror(-r));
        /* The server gets the password's verifier (SCRAM, as password_encryption says), never the
         * password itself, so it cannot end up in the server's log. */
        char *verifier = PQencryptPasswordConn(c, password, n->binding, NULL);
        if (!verifier) {
                char msg[400];
                redact(a, PQerrorMessage(c), msg, sizeof(msg));
                explicit_bzero(password, sizeof(password));
                return osb_error_set(err, OSB_E_BACKEND, "PostgreSQL server %s: cannot encrypt the password: %s",
                                     a->where, msg);
        }
        osb_autofree char *lit = quote(c, verifier, true);
        PQfreemem(verifier);
        osb_autofree char *qrole = quote(c, n->binding, false);
        osb_autofree char *create = lit && qrole ? osb_asprintf("CREATE ROLE %s LOGIN PASSWORD %s", qrole, lit) : NULL;
        osb_autofree char *alter = lit && qrole ? osb_asprintf("ALTER ROLE %s LOGIN PASSWORD %s", qrole, lit) : NULL;
        if (!create || !alter) {
                explicit_bzero(password, sizeof(password));
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        bool have;
        r = role_exists(c, a, n->binding, &have, err);
        if (r >= 0 && !have)
                r = exec_secret(c, a, create, already_exists, lit, "create the binding's role", err);
        /* Whether it was there or a concurrent run just made it: this password is the one. */
        if (r >= 0)
                r = exec_secret(c, a, alter, NULL, lit, "set the binding role's password", err);
        if (r >= 0)
                r = admin_join(c, a, n->binding, err);
        if (r >= 0 && pp->grants == PG_GRANTS_READWRITE)
                r = exec_idents(c, a, "GRANT %s TO %s", NULL, "make the binding's role a member of the owner role",
                                err, n->owner, n->binding, NULL);
        if (r >= 0 && pp->grants == PG_GRANTS_READONLY)
                r = exec_idents(c, a, "GRANT CONNECT ON DATABASE %s TO %s", NULL, "grant CONNECT on the database",
                                err, n->db, n->binding, NULL);
        if (r < 0) {
                explicit_bzero(password, sizeof(password));
                return r;
        }

        osb_auto(pq_finishp) PGconn *d = NULL;
        r = admin_connect(a, n->db, &d, err);
        if (r >= 0 && pp->grants == PG_GRANTS_READWRITE) {
                /* What this role creates is shared with the owner role, so every other read-write
                 * binding (a member of it) may use it; unbind hands it to the owner role. */
                static const char *const kinds[] = {"TABLES", "SEQUENCES", "FUNCTIONS", "TYPES", "SCHEMAS"};
                for (unsigned i = 0; r >= 0 && i < OSB_ELEMENTSOF(kinds); i++) {
                        osb_autofree char *f = osb_asprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %%s GRANT ALL ON %s "
                                                            "TO %%s", kinds[i]);
                        r = f ? exec_idents(d, a, f, NULL, "share the binding role's objects with the owner role",
                                            err, n->binding, n->owner, NULL)
                              : osb_error_set(err, -ENOMEM, "out of memory");
                }
        } else if (r >= 0) {
                static const char *const steps[] = {
                        "GRANT USAGE ON SCHEMA public TO %s",
                        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO %s",
                        "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO %s",
                };
                for (unsigned i = 0; r >= 0 && i < OSB_ELEMENTSOF(steps); i++)
                        r = exec_idents(d, a, steps[i], NULL, "grant read access to the schema public", err,
                                        n->binding, NULL, NULL);
                static const char *const future[] = {
                        "ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA public GRANT SELECT ON TABLES TO %s",
                        "ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA public GRANT SELECT ON SEQUENCES TO %s",
                };
                for (unsigned i = 0; r >= 0 && i < OSB_ELEMENTSOF(future); i++)
                        r = exec_idents(d, a, future[i], NULL, "grant read access to the owner's future tables", err,
                                        n->owner, n->binding, NULL);
        }
        if (r < 0) {
                explicit_bzero(password, sizeof(password));
                return r;
        }
        res->response = credentials(pp, a, n, password);
        explicit_bzero(password, sizeof(password));
        if (!res->response)
                return osb_error_set(err, -ENOMEM, "out of memory");
        return 0;
}

static int run_unbind(const struct backend_call *call, struct admin *a, const struct pg_names *n,
                      struct osb_error *err)
{
        osb_auto(pq_finishp) PGconn *c = NULL;
        int r = admin_connect(a, NULL, &c, err);
        if (r < 0)
                return r;
        bool have_role, have_db, have_owner;
        r = role_exists(c, a, n->binding, &have_role, err);
        if (r < 0 || !have_role)
                return r;
        /* No new session, then none left, before its objects change hands. */
        r = exec_idents(c, a, "ALTER ROLE %s NOLOGIN", NULL, "disable the binding's login", err, n->binding,
                        NULL, NULL);
        if (r >= 0)
                r = terminate_sessions(c, a, n->binding, err);
        if (r >= 0)
                r = admin_join(c, a, n->binding, err);
        if (r >= 0)
                r = database_exists(c, a, n->db, &have_db, err);
        if (r >= 0)
                r = role_exists(c, a, n->owner, &have_owner, err);
        if (r < 0)
                return r;
        if (have_db) {
                osb_auto(pq_finishp) PGconn *d = NULL;
                r = admin_connect(a, n->db, &d, err);
                if (r >= 0 && have_owner)
                        r = exec_idents(d, a, "REASSIGN OWNED BY %s TO %s", NULL,
                                        "hand the binding's objects to the owner role", err, n->binding, n->owner, NULL);
                if (r >= 0)
                        r = exec_idents(d, a, "DROP OWNED BY %s", NULL, "revoke the binding's privileges", err,
                                        n->binding, NULL, NULL);
                if (r < 0)
                        return r;
        }
        return exec_idents(c, a, "DROP ROLE IF EXISTS %s", NULL, "drop the binding's role", err, n->binding, NULL,
                           NULL);
}

static int pg_run(const struct backend_call *call, struct backend_result *res, struct osb_error *err)
{
        const struct pg_plan *pp = pp_of(call->plan);
        struct pg_names n;
        names_init(&n, call->instance_id, call->binding_id);
        struct admin a;
        int r = admin_load(pp, &a, err);
        if (r >= 0) {
                switch (call->kind) {
                case OP_PROVISION:
                        r = run_provision(pp, call, &a, &n, err);
                        break;
                case OP_UPDATE:
                        r = run_update(pp, call, &a, &n, err);
                        break;
                case OP_DEPROVISION:
                        r = run_deprovision(call, &a, &n, err);
                        break;
                case OP_BIND:
                        r = run_bind(pp, call, &a, &n, res, err);
                        break;
                case OP_UNBIND:
                        r = run_unbind(call, &a, &n, err);
                        break;
                default:
                        r = osb_error_set(err, -EINVAL, "unknown operation");
                        break;
                }
        }
        admin_release(&a);
        return r;
}

const struct backend backend_postgresql = {
        .type = "postgresql",
        .blocking = true,
        .configure = pg_configure,
        .release = pg_release,
        .async_mode = pg_async_mode,
        .first_run_delay_ms = pg_first_run_delay_ms,
        .retry_after_s = pg_retry_after_s,
        .requires_app = pg_requires_app,
        .run = pg_run,
};

/* broker/store_pg.c: the broker's state in PostgreSQL (--store postgresql://...), so that
 * several replicas share it. Same tables and the same contract as the SQLite store. A
 * transaction locks what it touches: the first read or write of an instance's rows (the
 * instance, its bindings, their operations) takes a transaction-scoped advisory lock keyed by
 * the instance id, so requests on different instances run in parallel, on one replica or many,
 * and requests on one instance are decided one after another, each seeing the last one's
 * commit (READ COMMITTED: every statement after the lock does). Migrations take one lock for
 * the whole database. An operation is run by one connection at a time under a session-scoped
 * advisory lock on its id. Every value is a
 * bound parameter; no SQL is built from request data. */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "broker/migrations.h"
#include "broker/pqlib.h"
#include "broker/pqtext.h"
#include "broker/store_pg.h"

/* Advisory lock keys (the two-int4 form, which never collides with the one-bigint form):
 * (WRITE_LOCK, 0) serialises migrations; (ROW_LOCK, hashtext(instance id)) the transactions on
 * one instance's rows; (OP_LOCK, hashtext(op id)) is held while an operation runs. A hash
 * collision only makes one instance (operation) wait for another's. "BIND", "BINE", "BINF". */
#define WRITE_LOCK "1112100420"
#define OP_LOCK "1112100421"
#define ROW_LOCK "1112100422"
#define CONNECT_TIMEOUT_S "10"
/* More than the statements of this file, so each is prepared once per connection. */
#define PREPARED_MAX 48
/* SQLSTATE invalid_sql_statement_name: a prepared statement the session no longer has. */
#define SQLSTATE_NO_STATEMENT "26000"

#define INSTANCE_COLS "id, service_id, plan_id, request_key, parameters, context, " \
        "organization_guid, space_guid, maintenance_version, dashboard_url, metadata, state, " \
        "op_id, created_at, updated_at"
#define BINDING_COLS "instance_id, id, service_id, plan_id, request_key, parameters, context, " \
        "app_guid, predecessor_id, response, state, op_id, created_at, updated_at"
#define OP_COLS "id, kind, instance_id, binding_id, state, description, request, due_at, " \
        "attempts, instance_usable, update_repeatable, created_at, finished_at"

/* INSERT OR REPLACE: the whole row, whichever existed. */
static const char put_instance_sql[] =
        "INSERT INTO instances (" INSTANCE_COLS ") VALUES "
        "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
        "ON CONFLICT (id) DO UPDATE SET service_id = EXCLUDED.service_id, "
        "plan_id = EXCLUDED.plan_id, request_key = EXCLUDED.request_key, "
        "parameters = EXCLUDED.parameters, context = EXCLUDED.context, "
        "organization_guid = EXCLUDED.organization_guid, space_guid = EXCLUDED.space_guid, "
        "maintenance_version = EXCLUDED.maintenance_version, dashboard_url = EXCLUDED.dashboard_url, "
        "metadata = EXCLUDED.metadata, state = EXCLUDED.state, op_id = EXCLUDED.op_id, "
        "created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at";
static const char put_binding_sql[] =
        "INSERT INTO bindings (" BINDING_COLS ") VALUES "
        "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
        "ON CONFLICT (instance_id, id) DO UPDATE SET service_id = EXCLUDED.service_id, "
        "plan_id = EXCLUDED.plan_id, request_key = EXCLUDED.request_key, "
        "parameters = EXCLUDED.parameters, context = EXCLUDED.context, "
        "app_guid = EXCLUDED.app_guid, predecessor_id = EXCLUDED.predecessor_id, "
        "response = EXCLUDED.response, state = EXCLUDED.state, op_id = EXCLUDED.op_id, "
        "created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at";
/* seq = EXCLUDED.seq: a new sequence number, as SQLite's REPLACE gives the row a new rowid. */
static const char put_op_sql[] =
        "INSERT INTO operations (" OP_COLS ") VALUES "
        "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
        "ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, instance_id = EXCLUDED.instance_id, "
        "binding_id = EXCLUDED.binding_id, state = EXCLUDED.state, "
        "description = EXCLUDED.description, request = EXCLUDED.request, "
        "due_at = EXCLUDED.due_at, attempts = EXCLUDED.attempts, "
        "instance_usable = EXCLUDED.instance_usable, update_repeatable = EXCLUDED.update_repeatable, "
        "created_at = EXCLUDED.created_at, finished_at = EXCLUDED.finished_at, seq = EXCLUDED.seq";

struct store_pg {
        struct store base;
        PGconn *conn;
        unsigned schema_version;
        bool in_tx;
        char locked[128];               /* in a transaction: the instance id locked, "" if none */
        char *password, *raw_password;  /* only to keep them out of messages */
        char last_error[400];           /* of the last statement that failed, scrubbed */
        char where[256];                /* the URL without its password, for the log */
        bool fault_logged;              /* this failure episode is logged: until a commit works */
        /* The statements prepared on conn (named "s<index>"), by the address of their text:
         * every statement is a string constant. Only after the migrations (a statement cannot
         * be prepared before its tables exist); forgotten when the connection is reset. */
        bool prepare;
        unsigned n_prepared;
        unsigned epoch;                 /* +1 at each forgetting: new names never meet old ones */
        const char *prepared[PREPARED_MAX];
};

/* A statement that failed is logged once per episode, with the server (the URL without its
 * password) and the server's message: the answer to the request says only that the broker's
 * storage failed. Like store.c's SQLite faults, logged here, where the cause is known. */
static struct store_pg *to_pg(struct store *st)
{
        return (struct store_pg *) st;
}

static void log_fault(struct store_pg *pg)
{
        if (pg->fault_logged)
                return;
        pg->fault_logged = true;
        osb_log_error("the PostgreSQL store failed", "store=%s error=%s", pg->where, pg->last_error);
}

static void pq_clearp(PGresult **res)
{
        PQclear(*res);
        *res = NULL;
}

static void ignore_notice(void *arg, const char *message)
{
}

static bool pg_claims(const char *location)
{
        return location && (strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0);
}

static char *pg_redact_url(const char *url)
{
        struct osb_buf b;
        osb_buf_init(&b, strlen(url) + 64);
        size_t plen = 0;
        const char *pw = pqtext_uri_password(url, &plen);
        const char *s = url;
        int r = 0;
        if (pw) {
                r = osb_buf_append(&b, s, (size_t) (pw - s));
                if (r >= 0)
                        r = osb_buf_appends(&b, "***");
                s = pw + plen;
        }
        /* A password=... query parameter. */
        const char *q = strchr(s, '?');
        while (r >= 0 && q) {
                const char *v = q + 1;
                const char *next = strchr(v, '&');
                bool secret = strncmp(v, "password=", 9) == 0;
                r = osb_buf_append(&b, s, (size_t) (v - s));
                if (r >= 0 && secret)
                        r = osb_buf_appends(&b, "password=***");
                else if (r >= 0)
                        r = osb_buf_append(&b, v, next ? (size_t) (next - v) : strlen(v));
                s = next ? next : v + strlen(v);
                q = next;
        }
        if (r >= 0)
                r = osb_buf_appends(&b, s);
        if (r < 0) {
                osb_buf_release(&b);
                return NULL;
        }
        return osb_buf_detach(&b, NULL);
}

/* @msg (from libpq or the server) with each password replaced by "***" and its white space
 * folded into single spaces. */
static void scrub(const struct store_pg *pg, const char *msg, char *out, size_t n)
{
        const char *secrets[] = {pg->password, pg->raw_password};
        pqtext_scrub(msg, secrets, OSB_ELEMENTSOF(secrets), out, n);
}

/* A failed statement's message for the log and the answer: the server's primary message and
 * SQLSTATE, scrubbed. Not PQresultErrorMessage(): the server's DETAIL quotes row values
 * ("Failing row contains (...)": a binding's credentials), which belong in neither. */
static void result_message(const struct store_pg *pg, const PGresult *res, char *out, size_t n)
{
        const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        char msg[400];
        if (primary)
                (void) snprintf(msg, sizeof(msg), "%s (SQLSTATE %s)", primary, state ? state : "?");
        else
                (void) snprintf(msg, sizeof(msg), "%s", PQerrorMessage(pg->conn));
        scrub(pg, msg, out, n);
}

/* Forgets the statements prepared on the connection. The next names differ from every earlier
 * one, so preparing again never collides with a statement the session still has (a pooler may
 * hand back a session that had them). */
static void forget_prepared(struct store_pg *pg)
{
        pg->n_prepared = 0;
        pg->epoch++;
}

/* A connection that broke between transactions is reset (the server restarted, a proxy closed
 * an idle connection); inside a transaction the failure is the caller's to see. */
static void revive(struct store_pg *pg)
{
        if (!pg->in_tx && PQstatus(pg->conn) == CONNECTION_BAD) {
                PQreset(pg->conn);
                forget_prepared(pg);
        }
}

/* Prepares @sql on the connection the first time it runs there; its name into @name. Returns
 * true when it is prepared; false when it runs unprepared (before the migrations: a statement
 * cannot be prepared before its tables exist; or the table is full), or when the server
 * refused to prepare it: then *ret_error is that result (which also aborted any transaction). */
static bool prepared_name(struct store_pg *pg, const char *sql, int n, char name[static 24], PGresult **ret_error)
{
        *ret_error = NULL;
        if (!pg->prepare)
                return false;
        unsigned i = 0;
        while (i < pg->n_prepared && pg->prepared[i] != sql)
                i++;
        (void) snprintf(name, 24, "s%u_%u", pg->epoch, i);
        if (i < pg->n_prepared)
                return true;
        if (i == PREPARED_MAX)
                return false;
        PGresult *res = PQprepare(pg->conn, name, sql, n, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                *ret_error = res;
                return false;
        }
        PQclear(res);
        pg->prepared[pg->n_prepared++] = sql;
        return true;
}

/* Runs one statement with text parameters, prepared once per connection (the server parses
 * and plans it once). Returns the result of a statement that worked (PQclear it), or NULL. */
static PGresult *run(struct store_pg *pg, const char *sql, int n, const char *const *params)
{
        revive(pg);
        char name[24];
        PGresult *res = NULL;
        if (prepared_name(pg, sql, n, name, &res))
                res = PQexecPrepared(pg->conn, name, n, params, NULL, NULL, 0);
        else if (!res)
                res = PQexecParams(pg->conn, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType s = PQresultStatus(res);
        if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
                return res;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (state && osb_streq(state, SQLSTATE_NO_STATEMENT))
                forget_prepared(pg);  /* e.g. a pooler gave us another session: prepare again */
        result_message(pg, res, pg->last_error, sizeof(pg->last_error));
        log_fault(pg);
        PQclear(res);
        return NULL;
}

/* Runs @sql (several statements allowed), the message of a failure in @err. */
static int exec_err(struct store_pg *pg, const char *sql, struct osb_error *err)
{
        revive(pg);
        osb_auto(pq_clearp) PGresult *res = PQexec(pg->conn, sql);
        ExecStatusType s = PQresultStatus(res);
        if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
                return 0;
        char msg[400];
        result_message(pg, res, msg, sizeof(msg));
        if (!msg[0])
                scrub(pg, PQerrorMessage(pg->conn), msg, sizeof(msg));
        return osb_error_set(err, -EIO, "%s", msg);
}

static int run_done(struct store_pg *pg, const char *sql, int n, const char *const *params)
{
        osb_auto(pq_clearp) PGresult *res = run(pg, sql, n, params);
        return res ? 0 : -EIO;
}

static int64_t col_int(const PGresult *res, int row, int col)
{
        int64_t v = 0;
        if (!PQgetisnull(res, row, col))
                (void) osb_parse_int64(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX, &v);
        return v;
}

static int col_tri(const PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col) ? -1 : col_int(res, row, col) != 0;
}

/* Copies a text column; a NULL column stays NULL. Returns false on OOM. */
static bool col_str(const PGresult *res, int row, int col, char **ret)
{
        if (PQgetisnull(res, row, col)) {
                *ret = NULL;
                return true;
        }
        *ret = osb_strndup(PQgetvalue(res, row, col), (size_t) PQgetlength(res, row, col));
        return *ret != NULL;
}

static int pg_begin(struct store *st, struct osb_error *err);
static int pg_commit(struct store *st, struct osb_error *err);
static void pg_rollback(struct store *st);

static int migrate(struct store_pg *pg, struct osb_error *err)
{
        /* Under the database's lock: replicas starting together migrate one after the other,
         * and CREATE TABLE IF NOT EXISTS is not safe to race. */
        int r = pg_begin(&pg->base, err);
        if (r >= 0) {
                r = run_done(pg, "SELECT pg_advisory_xact_lock(" WRITE_LOCK ", 0)", 0, NULL);
                if (r < 0) {
                        (void) osb_error_set(err, r, "cannot lock the database: %s", pg->last_error);
                        pg_rollback(&pg->base);
                }
        }
        if (r < 0)
                return r;
        r = exec_err(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                     err);
        if (r < 0)
                goto rollback;
        PGresult *res = run(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL);
        if (!res || PQntuples(res) != 1) {
                PQclear(res);
                r = osb_error_set(err, -EIO, "cannot read schema_migrations: %s", pg->last_error);
                goto rollback;
        }
        unsigned have = (unsigned) col_int(res, 0, 0);
        PQclear(res);

        r = store_schema_known(have, pg_migrations, n_pg_migrations, err);
        if (r < 0)
                goto rollback;
        for (unsigned i = 0; i < n_pg_migrations; i++) {
                if (pg_migrations[i].version <= have)
                        continue;
                r = exec_err(pg, pg_migrations[i].sql, err);
                if (r < 0) {
                        osb_error_prefix(err, "migration %s: ", pg_migrations[i].name);
                        goto rollback;
                }
                char ver[16], now[24];
                (void) snprintf(ver, sizeof(ver), "%u", pg_migrations[i].version);
                (void) snprintf(now, sizeof(now), "%" PRId64, store_now_ms());
                const char *p[] = {ver, pg_migrations[i].name, now};
                r = run_done(pg, "INSERT INTO schema_migrations VALUES ($1, $2, $3)", 3, p);
                if (r < 0) {
                        r = osb_error_set(err, -EIO, "cannot record migration %s: %s",
                                          pg_migrations[i].name, pg->last_error);
                        goto rollback;
                }
                have = pg_migrations[i].version;
        }
        pg->schema_version = have;
        r = pg_commit(&pg->base, err);
        pg->prepare = r >= 0;
        return r;
rollback:
        pg_rollback(&pg->base);
        return r;
}

/* The password of @url, decoded, as libpq sees it; NULL when none. */
static int parse_password(const char *url, char **ret)
{
        char *perr = NULL;
        PQconninfoOption *opts = PQconninfoParse(url, &perr);
        PQfreemem(perr);
        *ret = NULL;
        if (!opts)
                return 0;  /* PQconnectdbParams reports it */
        int r = 0;
        for (PQconninfoOption *o = opts; o->keyword; o++) {
                if (o->val && *o->val && strcmp(o->keyword, "password") == 0 && !(*ret = osb_strdup(o->val)))
                        r = -ENOMEM;
                if (o->val)
                        explicit_bzero(o->val, strlen(o->val));
        }
        PQconninfoFree(opts);
        return r;
}

static void pg_close(struct store *st);

static int pg_open(const char *url, enum store_sync sync, struct store **ret, struct osb_error *err)
{
        (void) sync;  /* the server's business */
        int r = pqlib_load(err);
        if (r < 0)
                return r;
        osb_autofree char *where = pg_redact_url(url);
        struct store_pg *pg = osb_calloc(1, sizeof(*pg));
        if (!pg || !where) {
                osb_free(pg);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        pg->base.impl = &store_pg_impl;
        (void) snprintf(pg->where, sizeof(pg->where), "%s", where);
        size_t plen = 0;
        const char *raw = pqtext_uri_password(url, &plen);
        if ((raw && plen && !(pg->raw_password = osb_strndup(raw, plen))) || parse_password(url, &pg->password) < 0) {
                pg_close(&pg->base);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        /* Later keywords win: the URL may set its own application_name or connect_timeout. */
        const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
        const char *vals[] = {CONNECT_TIMEOUT_S, "osb-broker", url, NULL};
        pg->conn = PQconnectdbParams(keys, vals, 1);
        if (!pg->conn) {
                pg_close(&pg->base);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        if (PQstatus(pg->conn) != CONNECTION_OK) {
                char msg[400];
                scrub(pg, PQerrorMessage(pg->conn), msg, sizeof(msg));
                pg_close(&pg->base);
                return osb_error_set(err, -EIO, "cannot connect to PostgreSQL database '%s': %s", where, msg);
        }
        PQsetNoticeProcessor(pg->conn, ignore_notice, NULL);
        r = migrate(pg, err);
        if (r < 0) {
                if (r != OSB_E_INVALID_CONFIG)
                        osb_error_prefix(err, "database '%s': ", where);
                pg_close(&pg->base);
                return r;
        }
        *ret = &pg->base;
        return 0;
}

static void pg_close(struct store *st)
{
        struct store_pg *pg = to_pg(st);
        if (pg->in_tx)
                pg_rollback(&pg->base);
        if (pg->conn)
                PQfinish(pg->conn);
        char *secrets[] = {pg->password, pg->raw_password};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(secrets); i++)
                if (secrets[i]) {
                        explicit_bzero(secrets[i], strlen(secrets[i]));
                        osb_free(secrets[i]);
                }
        osb_free(pg);
}

static unsigned pg_schema_version(struct store *st)
{
        struct store_pg *pg = to_pg(st);
        return pg->schema_version;
}

static int pg_ping(struct store *st)
{
        struct store_pg *pg = to_pg(st);
        return run_done(pg, "SELECT 1", 0, NULL);
}

static int pg_begin(struct store *st, struct osb_error *err)
{
        struct store_pg *pg = to_pg(st);
        assert(!pg->in_tx);
        /* The locks come with the rows touched (lock_instance()). */
        int r = exec_err(pg, "BEGIN", err);
        if (r < 0) {
                (void) exec_err(pg, "ROLLBACK", NULL);
                osb_error_prefix(err, "cannot start a transaction: ");
                return r;
        }
        pg->in_tx = true;
        pg->locked[0] = '\0';
        return 0;
}

/* Inside a transaction: locks the rows of instance @instance_id (the instance, its bindings,
 * their operations) to its end; once per transaction. Outside one: nothing. Returns 0 or -EIO. */
static int lock_instance(struct store_pg *pg, const char *instance_id)
{
        if (!pg->in_tx || !instance_id || osb_streq(pg->locked, instance_id))
                return 0;
        const char *p[] = {instance_id};
        int r = run_done(pg, "SELECT pg_advisory_xact_lock(" ROW_LOCK ", hashtext($1))", 1, p);
        if (r >= 0 && strlen(instance_id) < sizeof(pg->locked))
                (void) snprintf(pg->locked, sizeof(pg->locked), "%s", instance_id);
        return r;
}

static int pg_commit(struct store *st, struct osb_error *err)
{
        struct store_pg *pg = to_pg(st);
        assert(pg->in_tx);
        osb_auto(pq_clearp) PGresult *res = PQexec(pg->conn, "COMMIT");
        /* A transaction with a failed statement "commits" as ROLLBACK. */
        if (PQresultStatus(res) != PGRES_COMMAND_OK || !osb_streq(PQcmdStatus(res), "COMMIT")) {
                char msg[400];
                result_message(pg, res, msg, sizeof(msg));
                (void) osb_error_set(err, -EIO, "cannot commit: %s", msg[0] ? msg : "the transaction was aborted");
                (void) snprintf(pg->last_error, sizeof(pg->last_error), "%.360s",
                                msg[0] ? msg : "the transaction was aborted");
                log_fault(pg);
                pg_rollback(&pg->base);
                return -EIO;
        }
        pg->in_tx = false;
        pg->fault_logged = false;
        return 0;
}

static void pg_rollback(struct store *st)
{
        struct store_pg *pg = to_pg(st);
        if (!pg->in_tx)
                return;
        PQclear(PQexec(pg->conn, "ROLLBACK"));
        pg->in_tx = false;
}

static int fetch_one(struct store_pg *pg, const char *sql, int n, const char *const *params,
                     void *(*load)(const PGresult *), void **ret)
{
        osb_auto(pq_clearp) PGresult *res = run(pg, sql, n, params);
        if (!res)
                return -EIO;
        if (PQntuples(res) == 0)
                return OSB_E_NOT_FOUND;
        void *row = load(res);
        if (!row)
                return -ENOMEM;
        *ret = row;
        return 0;
}

static void *load_instance(const PGresult *res)
{
        struct instance_row *r = osb_calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        char **f[] = {&r->id, &r->service_id, &r->plan_id, &r->request_key, &r->parameters,
                      &r->context, &r->organization_guid, &r->space_guid, &r->maintenance_version,
                      &r->dashboard_url, &r->metadata, &r->state, &r->op_id};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                if (!col_str(res, 0, (int) i, f[i])) {
                        instance_row_free(r);
                        return NULL;
                }
        r->created_at = col_int(res, 0, 13);
        r->updated_at = col_int(res, 0, 14);
        return r;
}

static void *load_binding(const PGresult *res)
{
        struct binding_row *r = osb_calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        char **f[] = {&r->instance_id, &r->id, &r->service_id, &r->plan_id, &r->request_key,
                      &r->parameters, &r->context, &r->app_guid, &r->predecessor_id,
                      &r->response, &r->state, &r->op_id};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                if (!col_str(res, 0, (int) i, f[i])) {
                        binding_row_free(r);
                        return NULL;
                }
        r->created_at = col_int(res, 0, 12);
        r->updated_at = col_int(res, 0, 13);
        return r;
}

static void *load_op(const PGresult *res)
{
        struct op_row *r = osb_calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        char **f[] = {&r->id, &r->kind, &r->instance_id, &r->binding_id, &r->state,
                      &r->description, &r->request};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                if (!col_str(res, 0, (int) i, f[i])) {
                        op_row_free(r);
                        return NULL;
                }
        r->due_at = col_int(res, 0, 7);
        r->attempts = col_int(res, 0, 8);
        r->instance_usable = col_tri(res, 0, 9);
        r->update_repeatable = col_tri(res, 0, 10);
        r->created_at = col_int(res, 0, 11);
        r->finished_at = col_int(res, 0, 12);
        return r;
}

static int pg_get_instance(struct store *st, const char *id, struct instance_row **ret)
{
        struct store_pg *pg = to_pg(st);
        int locked = lock_instance(pg, id);
        if (locked < 0)
                return locked;
        const char *p[] = {id};
        return fetch_one(pg, "SELECT " INSTANCE_COLS " FROM instances WHERE id = $1", 1, p,
                         load_instance, (void **) ret);
}

static int pg_get_binding(struct store *st, const char *instance_id, const char *id,
                         struct binding_row **ret)
{
        struct store_pg *pg = to_pg(st);
        int locked = lock_instance(pg, instance_id);
        if (locked < 0)
                return locked;
        const char *p[] = {instance_id, id};
        return fetch_one(pg, "SELECT " BINDING_COLS " FROM bindings WHERE instance_id = $1 AND id = $2",
                         2, p, load_binding, (void **) ret);
}

static int pg_get_op(struct store *st, const char *id, struct op_row **ret)
{
        struct store_pg *pg = to_pg(st);
        const char *p[] = {id};
        struct op_row *op = NULL;
        int r = fetch_one(pg, "SELECT " OP_COLS " FROM operations WHERE id = $1", 1, p, load_op,
                          (void **) &op);
        if (r < 0 || !pg->in_tx || osb_streq(pg->locked, op->instance_id)) {
                if (r >= 0)
                        *ret = op;
                return r;
        }
        /* In a transaction: lock its instance's rows, then read it again as it is now. */
        r = lock_instance(pg, op->instance_id);
        op_row_free(op);
        if (r < 0)
                return r;
        return fetch_one(pg, "SELECT " OP_COLS " FROM operations WHERE id = $1", 1, p, load_op,
                         (void **) ret);
}

static int pg_latest_op(struct store *st, const char *instance_id, const char *binding_id,
                       const char *kind, struct op_row **ret)
{
        struct store_pg *pg = to_pg(st);
        int locked = lock_instance(pg, instance_id);
        if (locked < 0)
                return locked;
        const char *p[] = {instance_id, kind, binding_id};
        if (binding_id)
                return fetch_one(pg, "SELECT " OP_COLS " FROM operations WHERE instance_id = $1 AND "
                                     "binding_id = $3 AND ($2::text IS NULL OR kind = $2) "
                                     "ORDER BY created_at DESC, seq DESC LIMIT 1",
                                 3, p, load_op, (void **) ret);
        return fetch_one(pg, "SELECT " OP_COLS " FROM operations WHERE instance_id = $1 AND "
                             "binding_id IS NULL AND ($2::text IS NULL OR kind = $2) "
                             "ORDER BY created_at DESC, seq DESC LIMIT 1",
                         2, p, load_op, (void **) ret);
}

static int pg_put_instance(struct store *st, const struct instance_row *r)
{
        struct store_pg *pg = to_pg(st);
        int locked = lock_instance(pg, r->id);
        if (locked < 0)
                return locked;
        char created[24], updated[24];
        (void) snprintf(created, sizeof(created), "%" PRId64, r->created_at);
        (void) snprintf(updated, sizeof(updated), "%" PRId64, r->updated_at);
        const char *p[] = {r->id, r->service_id, r->plan_id, r->request_key, r->parameters,
                           r->context, r->organization_guid, r->space_guid, r->maintenance_version,
                           r->dashboard_url, r->metadata, r->state, r->op_id, created, updated};
        return run_done(pg, put_instance_sql, (int) OSB_ELEMENTSOF(p), p);
}

static int pg_put_binding(struct store *st, const struct binding_row *r)
{
        struct store_pg *pg = to_pg(st);
        int locked = lock_instance(pg, r->instance_id);
        if (locked < 0)
                return locked;
        char created[24], updated[24];
        (void) snprintf(created, sizeof(created), "%" PRId64, r->created_at);
        (void) snprintf(updated, sizeof(updated), "%" PRId64, r->updated_at);
        const char *p[] = {r->instance_id, r->id, r->service_id, r->plan_id, r->request_key,
                           r->parameters, r->context, r->app_guid, r->predecessor_id,
                           r->response, r->state, r->op_id, created, updated};
        return run_done(pg, put_binding_sql, (int) OSB_ELEMENTSOF(p), p);
}

static const char *tri_text(int v)
{
        return v < 0 ? NULL : v ? "1" : "0";
}

static int pg_put_op(struct store *st, const struct op_row *r)
{
        struct store_pg *pg = to_pg(st);
        int locked = lock_instance(pg, r->instance_id);
        if (locked < 0)
                return locked;
        char due[24], attempts[24], created[24], finished[24];
        (void) snprintf(due, sizeof(due), "%" PRId64, r->due_at);
        (void) snprintf(attempts, sizeof(attempts), "%" PRId64, r->attempts);
        (void) snprintf(created, sizeof(created), "%" PRId64, r->created_at);
        (void) snprintf(finished, sizeof(finished), "%" PRId64, r->finished_at);
        const char *p[] = {r->id, r->kind, r->instance_id, r->binding_id, r->state,
                           r->description, r->request, due, attempts,
                           tri_text(r->instance_usable), tri_text(r->update_repeatable), created,
                           r->finished_at ? finished : NULL};
        return run_done(pg, put_op_sql, (int) OSB_ELEMENTSOF(p), p);
}

static int pg_delete_instance(struct store *st, const char *id)
{
        struct store_pg *pg = to_pg(st);
        int locked = lock_instance(pg, id);
        if (locked < 0)
                return locked;
        const char *p[] = {id};
        int r = run_done(pg, "DELETE FROM bindings WHERE instance_id = $1", 1, p);
        if (r < 0)
                return r;
        return run_done(pg, "DELETE FROM instances WHERE id = $1", 1, p);
}

static int pg_delete_binding(struct store *st, const char *instance_id, const char *id)
{
        struct store_pg *pg = to_pg(st);
        int locked = lock_instance(pg, instance_id);
        if (locked < 0)
                return locked;
        const char *p[] = {instance_id, id};
        return run_done(pg, "DELETE FROM bindings WHERE instance_id = $1 AND id = $2", 2, p);
}

static int count(struct store_pg *pg, const char *sql, const char *arg, int64_t *ret)
{
        const char *p[] = {arg};
        osb_auto(pq_clearp) PGresult *res = run(pg, sql, arg ? 1 : 0, arg ? p : NULL);
        if (!res || PQntuples(res) != 1)
                return -EIO;
        *ret = col_int(res, 0, 0);
        return 0;
}

static int pg_count_bindings(struct store *st, const char *instance_id, int64_t *ret)
{
        struct store_pg *pg = to_pg(st);
        int locked = lock_instance(pg, instance_id);
        if (locked < 0)
                return locked;
        return count(pg, "SELECT count(*) FROM bindings WHERE instance_id = $1 AND state != '" STORE_TYPES_FAILED "'",
                     instance_id, ret);
}

static int pg_count(struct store *st, int64_t *ret_instances, int64_t *ret_bindings,
                   int64_t *ret_ops_in_progress)
{
        struct store_pg *pg = to_pg(st);
        int r = count(pg, "SELECT count(*) FROM instances WHERE state != '" STORE_TYPES_FAILED "'", NULL, ret_instances);
        if (r >= 0)
                r = count(pg, "SELECT count(*) FROM bindings WHERE state != '" STORE_TYPES_FAILED "'", NULL, ret_bindings);
        if (r >= 0)
                r = count(pg, "SELECT count(*) FROM operations WHERE state = '" STORE_TYPES_IN_PROGRESS "'", NULL,
                          ret_ops_in_progress);
        return r;
}

static int pg_each_pending_op(struct store *st,
                             int (*fn)(void *userdata, const char *id, int64_t due_at),
                             void *userdata)
{
        struct store_pg *pg = to_pg(st);
        osb_auto(pq_clearp) PGresult *res =
                run(pg, "SELECT id, due_at FROM operations WHERE state = '" STORE_TYPES_IN_PROGRESS "' ORDER BY due_at", 0, NULL);
        if (!res)
                return -EIO;
        for (int i = 0; i < PQntuples(res); i++) {
                int r = fn(userdata, PQgetvalue(res, i, 0), col_int(res, i, 1));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int pg_lock_op(struct store *st, const char *op_id)
{
        struct store_pg *pg = to_pg(st);
        const char *p[] = {op_id};
        osb_auto(pq_clearp) PGresult *res =
                run(pg, "SELECT pg_try_advisory_lock(" OP_LOCK ", hashtext($1))", 1, p);
        if (!res || PQntuples(res) != 1)
                return -EIO;
        return osb_streq(PQgetvalue(res, 0, 0), "t") ? 0 : -EBUSY;
}

static void pg_unlock_op(struct store *st, const char *op_id)
{
        struct store_pg *pg = to_pg(st);
        const char *p[] = {op_id};
        (void) run_done(pg, "SELECT pg_advisory_unlock(" OP_LOCK ", hashtext($1))", 1, p);
}

const struct store_impl store_pg_impl = {
        .name = "postgresql",
        .shared = true,
        .claims = pg_claims,
        .open = pg_open,
        .close = pg_close,
        .redact_location = pg_redact_url,
        .schema_version = pg_schema_version,
        .ping = pg_ping,
        .begin = pg_begin,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .get_instance = pg_get_instance,
        .get_binding = pg_get_binding,
        .get_op = pg_get_op,
        .latest_op = pg_latest_op,
        .put_instance = pg_put_instance,
        .put_binding = pg_put_binding,
        .put_op = pg_put_op,
        .delete_instance = pg_delete_instance,
        .delete_binding = pg_delete_binding,
        .count_bindings = pg_count_bindings,
        .count = pg_count,
        .each_pending_op = pg_each_pending_op,
        .lock_op = pg_lock_op,
        .unlock_op = pg_unlock_op,
};

/* broker/store_sqlite.c: the store in SQLite (struct store_impl store_sqlite_impl): migrations,
 * group commit of the writers' transactions, and row access with cached prepared statements. No
 * SQL is ever built from request data: every value is a bound parameter. The contracts are
 * those of broker/store.h.
 *
 * Group commit: every state change in this process is made on one connection per file (struct
 * writer), by one request at a time (its "turn"). The first request finding no transaction open
 * BEGINs IMMEDIATE; each request decides inside its own SAVEPOINT, so a request that fails rolls
 * back only itself. A request done deciding hands the turn to the next waiting request, which
 * decides in the same transaction, and waits for that batch's COMMIT; the request that finds no
 * one waiting (or a full batch) commits the batch and tells every member its result. So a
 * request returns from store_commit() only once its changes are durable, or with the batch's
 * failure; nothing is answered that a crash could lose. */
#include "common/osb_compat.h"
#include <semaphore.h>
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "broker/migrations.h"
#include "broker/store_sqlite.h"

enum stmt {
        S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
        S_GET_INSTANCE, S_PUT_INSTANCE, S_DEL_INSTANCE, S_DEL_INSTANCE_BINDINGS,
        S_GET_BINDING, S_PUT_BINDING, S_DEL_BINDING, S_COUNT_BINDINGS,
        S_GET_OP, S_LATEST_OP_INSTANCE, S_LATEST_OP_BINDING, S_PUT_OP,
        S_PENDING_OPS, S_COUNT_INSTANCES, S_COUNT_ALL_BINDINGS, S_COUNT_OPS, S_PING,
        S_MAX
};

#define INSTANCE_COLS "id, service_id, plan_id, request_key, parameters, context, " \
        "organization_guid, space_guid, maintenance_version, dashboard_url, metadata, state, " \
        "op_id, created_at, updated_at"
#define BINDING_COLS "instance_id, id, service_id, plan_id, request_key, parameters, context, " \
        "app_guid, predecessor_id, response, state, op_id, created_at, updated_at"
#define OP_COLS "id, kind, instance_id, binding_id, state, description, request, due_at, " \
        "attempts, instance_usable, update_repeatable, created_at, finished_at"

static const char *const stmt_sql[S_MAX] = {
        [S_BEGIN] = "BEGIN IMMEDIATE",
        [S_COMMIT] = "COMMIT",
        [S_ROLLBACK] = "ROLLBACK",
        [S_SAVEPOINT] = "SAVEPOINT request",
        [S_RELEASE] = "RELEASE request",
        [S_ROLLBACK_TO] = "ROLLBACK TO request",
        [S_GET_INSTANCE] = "SELECT " INSTANCE_COLS " FROM instances WHERE id = ?1",
        [S_PUT_INSTANCE] = "INSERT OR REPLACE INTO instances (" INSTANCE_COLS ") VALUES "
                           "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        [S_DEL_INSTANCE] = "DELETE FROM instances WHERE id = ?1",
        [S_DEL_INSTANCE_BINDINGS] = "DELETE FROM bindings WHERE instance_id = ?1",
        [S_GET_BINDING] = "SELECT " BINDING_COLS " FROM bindings WHERE instance_id = ?1 AND id = ?2",
        [S_PUT_BINDING] = "INSERT OR REPLACE INTO bindings (" BINDING_COLS ") VALUES "
                          "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        [S_DEL_BINDING] = "DELETE FROM bindings WHERE instance_id = ?1 AND id = ?2",
        [S_COUNT_BINDINGS] = ("SELECT count(*) FROM bindings WHERE instance_id = ?1 AND state != '" STORE_TYPES_FAILED "'"),
        [S_GET_OP] = "SELECT " OP_COLS " FROM operations WHERE id = ?1",
        [S_LATEST_OP_INSTANCE] = "SELECT " OP_COLS " FROM operations WHERE instance_id = ?1 AND "
                                 "binding_id IS NULL AND (?2 IS NULL OR kind = ?2) "
                                 "ORDER BY created_at DESC, rowid DESC LIMIT 1",
        [S_LATEST_OP_BINDING] = "SELECT " OP_COLS " FROM operations WHERE instance_id = ?1 AND "
                                "binding_id = ?3 AND (?2 IS NULL OR kind = ?2) "
                                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
        [S_PUT_OP] = "INSERT OR REPLACE INTO operations (" OP_COLS ") VALUES "
                     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        [S_PENDING_OPS] = ("SELECT id, due_at FROM operations WHERE state = '" STORE_TYPES_IN_PROGRESS "' ORDER BY due_at"),
        [S_COUNT_INSTANCES] = ("SELECT count(*) FROM instances WHERE state != '" STORE_TYPES_FAILED "'"),
        [S_COUNT_ALL_BINDINGS] = ("SELECT count(*) FROM bindings WHERE state != '" STORE_TYPES_FAILED "'"),
        [S_COUNT_OPS] = ("SELECT count(*) FROM operations WHERE state = '" STORE_TYPES_IN_PROGRESS "'"),
        [S_PING] = "SELECT 1",
};

/* A connection and its cached statements. */
struct conn {
        sqlite3 *db;
        sqlite3_stmt *stmts[S_MAX];
};

/* A member of a batch waiting for its COMMIT: woken on its own semaphore by the request that
 * ends the batch, which writes the result here first (so a woken member never touches the batch,
 * and no member wakes another batch's members). */
struct batch_waiter {
        struct batch_waiter *next;
        sem_t woken;
        int result;         /* of the COMMIT: 0 or a negative code, text in text */
        char text[200];
};

/* One transaction on a writer's connection, shared by the requests decided in it. Freed by the
 * request that ends it, after it has woken every waiting member. */
struct batch {
        unsigned members;                /* requests whose changes it holds */
        struct batch_waiter *waiters;    /* members waiting for its end */
        char text[200];                  /* why its COMMIT failed */
};

/* The writers of one database file in this process (every field under writers_lock). */
struct writer {
        struct writer *next;
        unsigned refs;           /* handles open on the file */
        char *key;               /* the file's real path */
        char *path;              /* as the first handle named it */
        struct conn conn;        /* the connection of every transaction; opened at the first */
        int conn_sync;           /* its PRAGMA synchronous (enum store_sync), -1 before it opens */
        bool owned;              /* a request (or a migration, a checkpoint) has the turn */
        unsigned waiting;        /* requests waiting for the turn */
        unsigned exclusive;      /* migrations and checkpoints waiting for no open batch */
        struct batch *open;      /* the transaction open on conn, NULL when none */
        bool wal_known;          /* wal_dev, wal_ino: the -wal file conn has open */
        dev_t wal_dev;
        ino_t wal_ino;
        pthread_cond_t turn;     /* the turn was given up (requests wait on it) */
        pthread_cond_t idle;     /* the turn was given up with no batch open (exclusive waiters) */
};

/* A batch commits once it holds this many requests even if more are waiting: a bound on the
 * latency of its first member. */
#define BATCH_MAX 128

/* A request waiting for the turn first polls it a little (TURN_SPINS rounds of at most 64
 * pause instructions, tens of microseconds in all) before it sleeps: the turn is usually handed
 * on within that, and a sleep costs a futex wake and a context switch on each side. On the
 * benchmark's 2-CPU machine, 64 rounds gave 8-16 % more provisions/s at 64 connections and a
 * third off the p99 against none; 256 and 1,024 rounds were slower than none. */
#define TURN_SPINS 64

static pthread_mutex_t writers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct writer *writers;

struct store_sqlite {
        struct store base;
        struct conn own;          /* reads outside a transaction */
        struct conn *cur;         /* own, or the writer's connection inside a transaction */
        struct writer *w;
        struct batch *batch;      /* inside a transaction: the one it joined */
        enum store_sync sync;
        unsigned schema_version;
        bool in_tx;
        bool exclusive;           /* the transaction is a migration's, on own */
};

static struct store_sqlite *sq(struct store *base)
{
        return (struct store_sqlite *) base;
}

/* Set while a store_checkpointer runs: new handles then turn automatic checkpoints off. */
static atomic_int external_checkpoints;

/* Storage faults, process-wide (one broker, one file). Once SQLite has reported the file damaged
 * (SQLITE_CORRUPT, SQLITE_NOTADB, or store_check() at start), nothing it says is trusted:
 * "not found" may be a damaged page, so reads that find nothing fail instead of answering
 * 404/410, writes are refused, and store_ping() fails readiness. */
static atomic_bool damaged;
/* A full disk is logged once per episode: again only after a commit has succeeded since. */
static atomic_bool full_logged, damage_logged, moved_logged;
/* The writer found its database file or -wal removed or replaced: readiness fails from then on. */
static atomic_bool moved;
static pthread_mutex_t path_lock = PTHREAD_MUTEX_INITIALIZER;
static char db_path[1024];

/* This module logs storage faults itself (unlike the rest of the store): they are found deep
 * in row access, where no caller has the file name, and must never go unlogged. */
static void log_fault(atomic_bool *once, const char *msg, const char *detail)
{
        if (atomic_exchange(once, true))
                return;
        char path[sizeof(db_path)];
        pthread_mutex_lock(&path_lock);
        (void) snprintf(path, sizeof(path), "%s", db_path);
        pthread_mutex_unlock(&path_lock);
        osb_log_error(msg, "file=%s error=%s", path, detail);
}

static void mark_damaged(const char *detail)
{
        atomic_store(&damaged, true);
        log_fault(&damage_logged, "the database file is damaged: reads that find nothing and all writes now fail",
                  detail);
}

/* True when the database file @db has open is no longer the one at its path: removed, or
 * replaced by another file. SQLite goes on writing to the unlinked inode in WAL mode without an
 * error, so every commit would be answered and then lost at the next start. (SQLite keeps no
 * inode for the -wal: see wal_moved().) */
static bool file_moved(sqlite3 *db)
{
        int has_moved = 0;
        return sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &has_moved) == SQLITE_OK && has_moved;
}

/* True when the -wal file that @w's connection opened is no longer at its path. SQLite deletes
 * the WAL only when the last connection to the file closes, and conn stays open: so another
 * file there (or none) means someone removed it, and commits would go to the unlinked one. The
 * first call (with a transaction open, so the WAL is open) records the file. */
static bool wal_moved(struct writer *w)
{
        const char *wal = sqlite3_filename_wal(sqlite3_db_filename(w->conn.db, "main"));
        struct stat sb;
        if (!wal || !*wal)
                return false;
        if (stat(wal, &sb) < 0)
                return w->wal_known;
        if (!w->wal_known) {
                w->wal_known = true;
                w->wal_dev = sb.st_dev;
                w->wal_ino = sb.st_ino;
                return false;
        }
        return sb.st_dev != w->wal_dev || sb.st_ino != w->wal_ino;
}

static int sqlerr(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                mark_damaged(sqlite3_errstr(rc));
                return -EUCLEAN;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                log_fault(&full_logged, "cannot write the database", sqlite3_errstr(rc));
                return -ENOSPC;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        default:
                return -EIO;
        }
}

static sqlite3_stmt *conn_stmt(struct conn *c, enum stmt s)
{
        if (!c->stmts[s]) {
                if (sqlite3_prepare_v3(c->db, stmt_sql[s], -1, SQLITE_PREPARE_PERSISTENT,
                                       &c->stmts[s], NULL) != SQLITE_OK)
                        return NULL;
        }
        return c->stmts[s];
}

static sqlite3_stmt *stmt(struct store_sqlite *st, enum stmt s)
{
        return conn_stmt(st->cur, s);
}

static int conn_exec(struct conn *c, const char *sql, struct osb_error *err)
{
        char *msg = NULL;
        int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
                int r = osb_error_set(err, sqlerr(rc), "%s", msg ? msg : sqlite3_errstr(rc));
                sqlite3_free(msg);
                return r;
        }
        return 0;
}

static int step_done(sqlite3_stmt *q)
{
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sqlerr(rc);
}

static void bind_str(sqlite3_stmt *q, int i, const char *s)
{
        if (s)
                sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(q, i);
}

static void bind_tri(sqlite3_stmt *q, int i, int v)
{
        if (v < 0)
                sqlite3_bind_null(q, i);
        else
                sqlite3_bind_int(q, i, v);
}

/* Copies a text column; a NULL column stays NULL. Returns false on OOM. */
static bool col_str(sqlite3_stmt *q, int i, char **ret)
{
        const unsigned char *t = sqlite3_column_text(q, i);
        if (!t) {
                *ret = NULL;
                return sqlite3_errcode(sqlite3_db_handle(q)) != SQLITE_NOMEM;
        }
        *ret = osb_strndup((const char *) t, (size_t) sqlite3_column_bytes(q, i));
        return *ret != NULL;
}

static int col_tri(sqlite3_stmt *q, int i)
{
        return sqlite3_column_type(q, i) == SQLITE_NULL ? -1 : sqlite3_column_int(q, i) != 0;
}

/* ---- the writers of a file: turns and batches (under writers_lock) -------------------------- */

static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
}

/* Waits for the turn to decide on @w's connection (polling first, see TURN_SPINS). A request
 * does not open a new batch while a migration or checkpoint waits for the file to be idle. */
static void take_turn(struct writer *w)
{
        w->waiting++;
        for (int spin = 0; spin < TURN_SPINS && (w->owned || (w->exclusive > 0 && !w->open)); spin++) {
                pthread_mutex_unlock(&writers_lock);
                for (int i = 0; i < 64 && __atomic_load_n(&w->owned, __ATOMIC_RELAXED); i++)
                        cpu_pause();
                pthread_mutex_lock(&writers_lock);
        }
        while (w->owned || (w->exclusive > 0 && !w->open))
                pthread_cond_wait(&w->turn, &writers_lock);
        w->waiting--;
        __atomic_store_n(&w->owned, true, __ATOMIC_RELAXED);  /* polled in take_turn() */
}

/* The turn with no batch open and none opening: for migrations and checkpoints. */
static void take_exclusive(struct writer *w)
{
        w->exclusive++;
        while (w->owned || w->open)
                pthread_cond_wait(&w->idle, &writers_lock);
        w->exclusive--;
        __atomic_store_n(&w->owned, true, __ATOMIC_RELAXED);  /* polled in take_turn() */
}

static void give_turn(struct writer *w)
{
        __atomic_store_n(&w->owned, false, __ATOMIC_RELAXED);
        if (!w->open && w->exclusive > 0)
                pthread_cond_broadcast(&w->idle);
        else if (w->waiting > 0)
                pthread_cond_signal(&w->turn);
}

/* With writers_lock held: joins the waiters of batch @b, gives up the turn and the lock, and
 * sleeps until the batch has ended. Returns its result (message in @err); the lock is not held. */
static int batch_wait(struct writer *w, struct batch *b, struct osb_error *err)
{
        struct batch_waiter me = {.next = b->waiters};
        (void) sem_init(&me.woken, 0, 0);
        b->waiters = &me;
        give_turn(w);
        pthread_mutex_unlock(&writers_lock);
        while (sem_wait(&me.woken) < 0)
                ;  /* EINTR */
        (void) sem_destroy(&me.woken);
        if (me.result < 0)
                (void) osb_error_set(err, me.result, "%s", me.text);
        return me.result;
}

/* Tells every waiting member of the ended batch @b (already off the writer) its result @r, then
 * frees it. Without writers_lock: nothing else reaches @b any more. */
static void batch_end(struct batch *b, int r)
{
        struct batch_waiter *next;
        for (struct batch_waiter *m = b->waiters; m; m = next) {
                next = m->next;  /* read first: a woken member's node goes with its stack */
                m->result = r;
                if (r < 0)
                        (void) snprintf(m->text, sizeof(m->text), "%s", b->text);
                (void) sem_post(&m->woken);
        }
        osb_free(b);
}

static void conn_close(struct conn *c)
{
        for (unsigned i = 0; i < S_MAX; i++) {
                sqlite3_finalize(c->stmts[i]);
                c->stmts[i] = NULL;
        }
        sqlite3_close(c->db);
        c->db = NULL;
}

/* @writer: the connection of every transaction on the file, with the page cache of 1 MiB;
 * a handle's own connection only reads a few rows outside transactions (and migrates at
 * open), so it keeps a small cache and no lookaside (SQLite's 120 KB per connection, which
 * every request thread's handle would pay). */
/* SQLite's memory statistics (nothing here reads them) take a process-wide mutex on every
 * allocation and free, some thirty of each per request: off, before SQLite initialises. A call
 * after that (another SQLite user in the process came first) fails harmlessly. */
static void sqlite_setup(void)
{
        (void) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* @create: the file may be created (only the first handle on a path: a later one that finds it
 * missing must fail, not serve a new empty database next to the writer's removed one). */
static int conn_open(const char *path, enum store_sync sync, bool writer, bool create, struct conn *c,
                     struct osb_error *err)
{
        static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
        (void) pthread_once(&setup_once, sqlite_setup);
        int rc = sqlite3_open_v2(path, &c->db,
                                 SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX,
                                 NULL);
        if (rc != SQLITE_OK) {
                int r = osb_error_set(err, sqlerr(rc), "cannot open database '%s': %s", path,
                                      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
                conn_close(c);
                return r;
        }
        sqlite3_busy_timeout(c->db, 5000);
        if (!writer)
                (void) sqlite3_db_config(c->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0);
        static const char *const sync_sql[] = {
                [STORE_SYNC_OFF] = "PRAGMA synchronous=OFF",
                [STORE_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
                [STORE_SYNC_FULL] = "PRAGMA synchronous=FULL",
        };
        int r = conn_exec(c, "PRAGMA journal_mode=WAL", err);
        if (r >= 0)
                r = conn_exec(c, sync_sql[sync], err);
        if (r >= 0)
                r = conn_exec(c, writer ? "PRAGMA cache_size=-1024; PRAGMA temp_store=MEMORY"
                                        : "PRAGMA cache_size=-256; PRAGMA temp_store=MEMORY", err);
        if (r >= 0 && atomic_load(&external_checkpoints) > 0)
                r = conn_exec(c, "PRAGMA wal_autocheckpoint=0", err);
        /* Test hook: a database that can grow only this many pages, so a test sees SQLITE_FULL
         * (a full disk) without root or a small file system. */
        const char *max_pages = getenv("OSB_BROKER_TEST_MAX_PAGE_COUNT");
        if (r >= 0 && max_pages && *max_pages) {
                char sql[64];
                (void) snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%ld", strtol(max_pages, NULL, 10));
                r = conn_exec(c, sql, err);
        }
        /* SQLite falls back to read-only when it cannot open the file for writing; with its -wal
         * and -shm present it then even reads: a broker that can store nothing must not start. */
        if (r >= 0 && sqlite3_db_readonly(c->db, "main") == 1)
                r = osb_error_set(err, -EROFS, "the file is read-only");
        if (r < 0) {
                /* The caller prefixes the file's name only while the connection is open. */
                osb_error_prefix(err, "cannot open database '%s': ", path);
                conn_close(c);
        }
        return r;
}

/* The writer of the file @path (opened by @db), a new reference. NULL on OOM. */
static struct writer *writer_get(const char *path, sqlite3 *db)
{
        const char *file = sqlite3_db_filename(db, "main");
        char *key = osb_strdup(file && *file ? file : path);
        if (!key)
                return NULL;
        pthread_mutex_lock(&writers_lock);
        struct writer *w = writers;
        while (w && !osb_streq(w->key, key))
                w = w->next;
        if (w) {
                w->refs++;
                osb_free(key);
        } else if ((w = osb_calloc(1, sizeof(*w))) && (w->path = osb_strdup(path))) {
                w->key = key;
                w->refs = 1;
                w->conn_sync = -1;
                pthread_cond_init(&w->turn, NULL);
                pthread_cond_init(&w->idle, NULL);
                w->next = writers;
                writers = w;
        } else {
                if (w)
                        osb_free(w);
                w = NULL;
                osb_free(key);
        }
        pthread_mutex_unlock(&writers_lock);
        return w;
}

static void writer_put(struct writer *w)
{
        pthread_mutex_lock(&writers_lock);
        if (--w->refs > 0) {
                pthread_mutex_unlock(&writers_lock);
                return;
        }
        for (struct writer **p = &writers; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        pthread_mutex_unlock(&writers_lock);
        assert(!w->owned && !w->open);
        conn_close(&w->conn);
        pthread_cond_destroy(&w->turn);
        pthread_cond_destroy(&w->idle);
        osb_free(w->key);
        osb_free(w->path);
        osb_free(w);
}

/* ---- exclusive transactions on a handle's own connection: migrations ---------------------- */

static int exclusive_begin(struct store_sqlite *st, struct osb_error *err)
{
        assert(!st->in_tx);
        pthread_mutex_lock(&writers_lock);
        take_exclusive(st->w);
        pthread_mutex_unlock(&writers_lock);
        sqlite3_stmt *q = conn_stmt(&st->own, S_BEGIN);
        int r = q ? step_done(q) : -EIO;
        if (r < 0) {
                pthread_mutex_lock(&writers_lock);
                give_turn(st->w);
                pthread_mutex_unlock(&writers_lock);
                return osb_error_set(err, r, "cannot start a transaction: %s", sqlite3_errmsg(st->own.db));
        }
        st->in_tx = st->exclusive = true;
        return 0;
}

/* Commits (@commit) or rolls back the exclusive transaction. Returns 0 or a negative code. */
static int exclusive_end(struct store_sqlite *st, bool commit, struct osb_error *err)
{
        assert(st->in_tx && st->exclusive);
        int r = 0;
        if (commit) {
                sqlite3_stmt *q = conn_stmt(&st->own, S_COMMIT);
                r = q ? step_done(q) : -EIO;
                if (r < 0)
                        (void) osb_error_set(err, r, "cannot commit: %s", sqlite3_errmsg(st->own.db));
        }
        if (!commit || r < 0) {
                sqlite3_stmt *q = conn_stmt(&st->own, S_ROLLBACK);
                if (!q || step_done(q) < 0)
                        (void) sqlite3_exec(st->own.db, "ROLLBACK", NULL, NULL, NULL);
        }
        st->in_tx = st->exclusive = false;
        pthread_mutex_lock(&writers_lock);
        give_turn(st->w);
        pthread_mutex_unlock(&writers_lock);
        return r;
}

static int migrate(struct store_sqlite *st, struct osb_error *err)
{
        int r = conn_exec(&st->own, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                          err);
        if (r < 0)
                return r;
        r = exclusive_begin(st, err);
        if (r < 0)
                return r;

        sqlite3 *db = st->own.db;
        sqlite3_stmt *q = NULL;
        unsigned have = 0;
        if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                               &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
                have = (unsigned) sqlite3_column_int(q, 0);
        sqlite3_finalize(q);

        r = store_schema_known(have, migrations, n_migrations, err);
        if (r < 0) {
                (void) exclusive_end(st, false, err);
                return r;
        }
        for (unsigned i = 0; i < n_migrations; i++) {
                if (migrations[i].version <= have)
                        continue;
                r = conn_exec(&st->own, migrations[i].sql, err);
                if (r < 0) {
                        osb_error_prefix(err, "migration %s: ", migrations[i].name);
                        (void) exclusive_end(st, false, err);
                        return r;
                }
                q = NULL;
                if (sqlite3_prepare_v2(db, "INSERT INTO schema_migrations VALUES (?1, ?2, ?3)",
                                       -1, &q, NULL) != SQLITE_OK) {
                        r = osb_error_set(err, -EIO, "%s", sqlite3_errmsg(db));
                        (void) exclusive_end(st, false, err);
                        return r;
                }
                sqlite3_bind_int(q, 1, (int) migrations[i].version);
                sqlite3_bind_text(q, 2, migrations[i].name, -1, SQLITE_STATIC);
                sqlite3_bind_int64(q, 3, store_now_ms());
                int rc = sqlite3_step(q);
                sqlite3_finalize(q);
                if (rc != SQLITE_DONE) {
                        r = osb_error_set(err, sqlerr(rc), "%s", sqlite3_errstr(rc));
                        (void) exclusive_end(st, false, err);
                        return r;
                }
                have = migrations[i].version;
        }
        st->schema_version = have;
        return exclusive_end(st, true, err);
}

static void sq_close(struct store *base);

static int sq_open(const char *path, enum store_sync sync, struct store **ret, struct osb_error *err)
{
        struct store_sqlite *st = osb_calloc(1, sizeof(*st));
        if (!st)
                return osb_error_set(err, -ENOMEM, "out of memory");
        st->base.impl = &store_sqlite_impl;
        st->cur = &st->own;
        st->sync = sync;
        pthread_mutex_lock(&path_lock);
        if (!db_path[0])
                (void) snprintf(db_path, sizeof(db_path), "%s", path);
        pthread_mutex_unlock(&path_lock);
        /* Create the file only if no handle of this process has it open yet. */
        bool create = true;
        pthread_mutex_lock(&writers_lock);
        for (struct writer *w = writers; w && create; w = w->next)
                if (osb_streq(w->path, path))
                        create = false;
        pthread_mutex_unlock(&writers_lock);
        int r = conn_open(path, sync, false, create, &st->own, err);
        if (r >= 0) {
                st->w = writer_get(path, st->own.db);
                if (!st->w)
                        r = osb_error_set(err, -ENOMEM, "out of memory");
        }
        if (r >= 0)
                r = migrate(st, err);
        if (r < 0) {
                if (r != OSB_E_INVALID_CONFIG && st->own.db)
                        osb_error_prefix(err, "database '%s': ", path);
                sq_close(&st->base);
                return r;
        }
        *ret = &st->base;
        return 0;
}

static int sq_abandon(struct store *base, struct osb_error *err);

static void sq_close(struct store *base)
{
        struct store_sqlite *st = sq(base);
        if (st->in_tx) {
                struct osb_error ignored = OSB_ERROR_INIT;
                (void) sq_abandon(&st->base, &ignored);
        }
        conn_close(&st->own);
        if (st->w)
                writer_put(st->w);
        osb_free(st);
}

static unsigned sq_schema_version(struct store *base)
{
        struct store_sqlite *st = sq(base);
        return st->schema_version;
}

static int sq_check(struct store *base, struct osb_error *err)
{
        struct store_sqlite *st = sq(base);
        sqlite3 *db = st->own.db;
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &q, NULL) != SQLITE_OK)
                return osb_error_set(err, sqlerr(sqlite3_errcode(db)), "cannot check the database: %s",
                                     sqlite3_errmsg(db));
        int rc = sqlite3_step(q);
        char first[256] = "";
        if (rc == SQLITE_ROW)
                (void) snprintf(first, sizeof(first), "%s", (const char *) sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
        if (rc == SQLITE_ROW && strcmp(first, "ok") == 0)
                return 0;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return osb_error_set(err, sqlerr(rc), "the database check failed: %s", sqlite3_errstr(rc));
        mark_damaged(first[0] ? first : "quick_check found a problem");
        return osb_error_set(err, -EUCLEAN, "the database is damaged: %s", first);
}

static int sq_ping(struct store *base)
{
        struct store_sqlite *st = sq(base);
        if (atomic_load(&damaged))
                return -EUCLEAN;
        if (atomic_load(&moved) || file_moved(st->own.db))
                return -EIO;
        sqlite3_stmt *q = stmt(st, S_PING);
        if (!q)
                return -EIO;
        return step_done(q);
}

/* ---- transactions: a request's part of a batch ------------------------------------------ */

static int fail_commit(void *unused)
{
        (void) unused;
        return 1;
}

unsigned store_sqlite_waiting(struct store *base)
{
        struct store_sqlite *st = sq(base);
        pthread_mutex_lock(&writers_lock);
        unsigned n = st->w->waiting;
        pthread_mutex_unlock(&writers_lock);
        return n;
}

/* With the turn: opens the writer's connection if needed, sets its synchronous mode to
 * @sync, and BEGINs a batch. Returns 0 or a negative code. */
static int batch_open(struct writer *w, enum store_sync sync, struct osb_error *err)
{
        int r = 0;
        if (!w->conn.db) {
                r = conn_open(w->path, sync, true, false, &w->conn, err);
                if (r < 0) {
                        /* The message names the file: for the log, not for an answer. */
                        osb_log_error("cannot open the database", "error=%s", err->text);
                        return osb_error_set(err, r, "cannot open the database");
                }
                w->conn_sync = (int) sync;
                const char *fail = getenv("OSB_BROKER_TEST_FAIL_COMMIT");
                if (fail && *fail)
                        sqlite3_commit_hook(w->conn.db, fail_commit, NULL);
        }
        if (w->conn_sync != (int) sync) {
                static const char *const sync_sql[] = {
                        [STORE_SYNC_OFF] = "PRAGMA synchronous=OFF",
                        [STORE_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
                        [STORE_SYNC_FULL] = "PRAGMA synchronous=FULL",
                };
                r = conn_exec(&w->conn, sync_sql[sync], err);
                if (r < 0)
                        return r;
                w->conn_sync = (int) sync;
        }
        sqlite3_stmt *q = conn_stmt(&w->conn, S_BEGIN);
        r = q ? step_done(q) : -EIO;
        if (r < 0)
                return osb_error_set(err, r, "cannot start a transaction: %s", sqlite3_errmsg(w->conn.db));
        if (!w->wal_known)
                (void) wal_moved(w);  /* records the WAL the transaction has open */
        struct batch *b = osb_calloc(1, sizeof(*b));
        if (!b) {
                (void) sqlite3_exec(w->conn.db, "ROLLBACK", NULL, NULL, NULL);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        pthread_mutex_lock(&writers_lock);
        w->open = b;
        pthread_mutex_unlock(&writers_lock);
        return 0;
}

/* Ends the open batch of @w (the turn held, the batch taken off w->open): COMMIT when it holds
 * changes, else ROLLBACK; @lost: SQLite already rolled it back after error @lost_rc. Returns
 * the batch's result (the text of a failure in @b). */
static int batch_close(struct writer *w, struct batch *b, bool lost, int lost_rc)
{
        int r = 0;
        sqlite3 *db = w->conn.db;
        if (lost) {
                r = sqlerr(lost_rc);
                (void) snprintf(b->text, sizeof(b->text), "cannot commit: the transaction was lost: %s",
                                sqlite3_errstr(lost_rc));
        } else if (b->members == 0) {
                sqlite3_stmt *q = conn_stmt(&w->conn, S_ROLLBACK);
                if (!q || step_done(q) < 0)
                        (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        } else if (file_moved(db) || wal_moved(w)) {
                r = -EIO;
                (void) snprintf(b->text, sizeof(b->text), "cannot commit: the database file was removed or replaced");
                atomic_store(&moved, true);
                log_fault(&moved_logged, "the database file was removed or replaced: all writes now fail",
                          "the file or its -wal at that path is not the one open (restart the broker)");
                (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        } else {
                sqlite3_stmt *q = conn_stmt(&w->conn, S_COMMIT);
                r = q ? step_done(q) : -EIO;
                if (r < 0) {
                        (void) snprintf(b->text, sizeof(b->text), "cannot commit: %s", sqlite3_errmsg(db));
                        if (!sqlite3_get_autocommit(db))
                                (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                } else {
                        atomic_store(&full_logged, false);
                }
        }
        return r;
}

static int sq_begin(struct store *base, struct osb_error *err)
{
        struct store_sqlite *st = sq(base);
        assert(!st->in_tx);
        if (atomic_load(&damaged))
                return osb_error_set(err, -EUCLEAN, "cannot start a transaction: the database is damaged");
        struct writer *w = st->w;
        pthread_mutex_lock(&writers_lock);
        take_turn(w);
        struct batch *b = w->open;
        pthread_mutex_unlock(&writers_lock);
        int r = 0;
        if (!b) {
                r = batch_open(w, st->sync, err);
                if (r < 0) {
                        pthread_mutex_lock(&writers_lock);
                        give_turn(w);
                        pthread_mutex_unlock(&writers_lock);
                        return r;
                }
                b = w->open;
        }
        st->in_tx = true;
        st->batch = b;
        st->cur = &w->conn;
        sqlite3_stmt *q = stmt(st, S_SAVEPOINT);
        r = q ? step_done(q) : -EIO;
        if (r < 0) {
                (void) osb_error_set(err, r, "cannot start a transaction: %s", sqlite3_errmsg(w->conn.db));
                struct osb_error ignored = OSB_ERROR_INIT;
                (void) sq_abandon(&st->base, &ignored);
                return r;
        }
        return 0;
}

/* Gives up the turn after the request's part: @joined when its changes are in the batch.
 * Hands the turn to a waiting request while the batch may grow, else ends the batch here.
 * Waits for the batch's result when the request joined it, or read changes of members before
 * it. Returns 0 or that result (message in @err). */
static int leave(struct store_sqlite *st, bool joined, struct osb_error *err)
{
        struct writer *w = st->w;
        struct batch *b = st->batch;
        sqlite3 *db = w->conn.db;
        /* After some errors (SQLITE_FULL, IOERR, NOMEM) SQLite rolls the whole transaction back. */
        bool lost = sqlite3_get_autocommit(db) != 0;
        int lost_rc = lost ? sqlite3_extended_errcode(db) : 0;
        st->in_tx = false;
        st->batch = NULL;
        st->cur = &st->own;

        pthread_mutex_lock(&writers_lock);
        if (joined)
                b->members++;
        bool wait = b->members > 0;
        if (!lost && w->waiting > 0 && w->exclusive == 0 && b->members < BATCH_MAX) {
                if (wait)
                        return batch_wait(w, b, err);
                give_turn(w);
                pthread_mutex_unlock(&writers_lock);
                return 0;
        }
        w->open = NULL;
        pthread_mutex_unlock(&writers_lock);

        int r = batch_close(w, b, lost, lost_rc);
        if (wait && r < 0)
                (void) osb_error_set(err, r, "%s", b->text);

        pthread_mutex_lock(&writers_lock);
        give_turn(w);
        pthread_mutex_unlock(&writers_lock);
        batch_end(b, r);
        return wait ? r : 0;
}

static int sq_commit(struct store *base, struct osb_error *err)
{
        struct store_sqlite *st = sq(base);
        assert(st->in_tx && !st->exclusive);
        sqlite3_stmt *q = stmt(st, S_RELEASE);
        int r = q ? step_done(q) : -EIO;
        if (r < 0) {
                (void) osb_error_set(err, r, "cannot commit: %s", sqlite3_errmsg(st->cur->db));
                struct osb_error ignored = OSB_ERROR_INIT;
                (void) sq_abandon(&st->base, &ignored);
                return r;
        }
        return leave(st, true, err);
}

static int sq_abandon(struct store *base, struct osb_error *err)
{
        struct store_sqlite *st = sq(base);
        if (!st->in_tx)
                return 0;
        assert(!st->exclusive);
        sqlite3 *db = st->cur->db;
        if (!sqlite3_get_autocommit(db)) {
                sqlite3_stmt *q = stmt(st, S_ROLLBACK_TO);
                if (q && step_done(q) >= 0) {
                        q = stmt(st, S_RELEASE);
                        if (q)
                                (void) step_done(q);
                }
        }
        return leave(st, false, err);
}

static void sq_rollback(struct store *base)
{
        struct osb_error ignored = OSB_ERROR_INIT;
        (void) sq_abandon(base, &ignored);
}

/* Runs a prepared single-row SELECT whose parameters are bound; @load copies the row. */
static int fetch_one(sqlite3_stmt *q, void *(*load)(sqlite3_stmt *), void **ret)
{
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE) {
                sqlite3_reset(q);
                /* On a damaged file, "no such row" may be a damaged page. */
                return atomic_load(&damaged) ? -EUCLEAN : OSB_E_NOT_FOUND;
        }
        if (rc != SQLITE_ROW) {
                sqlite3_reset(q);
                return sqlerr(rc);
        }
        void *row = load(q);
        sqlite3_reset(q);
        if (!row)
                return -ENOMEM;
        *ret = row;
        return 0;
}

static void *load_instance(sqlite3_stmt *q)
{
        struct instance_row *r = osb_calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        char **f[] = {&r->id, &r->service_id, &r->plan_id, &r->request_key, &r->parameters,
                      &r->context, &r->organization_guid, &r->space_guid, &r->maintenance_version,
                      &r->dashboard_url, &r->metadata, &r->state, &r->op_id};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                if (!col_str(q, (int) i, f[i])) {
                        instance_row_free(r);
                        return NULL;
                }
        r->created_at = sqlite3_column_int64(q, 13);
        r->updated_at = sqlite3_column_int64(q, 14);
        return r;
}

static void *load_binding(sqlite3_stmt *q)
{
        struct binding_row *r = osb_calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        char **f[] = {&r->instance_id, &r->id, &r->service_id, &r->plan_id, &r->request_key,
                      &r->parameters, &r->context, &r->app_guid, &r->predecessor_id,
                      &r->response, &r->state, &r->op_id};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                if (!col_str(q, (int) i, f[i])) {
                        binding_row_free(r);
                        return NULL;
                }
        r->created_at = sqlite3_column_int64(q, 12);
        r->updated_at = sqlite3_column_int64(q, 13);
        return r;
}

static void *load_op(sqlite3_stmt *q)
{
        struct op_row *r = osb_calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        char **f[] = {&r->id, &r->kind, &r->instance_id, &r->binding_id, &r->state,
                      &r->description, &r->request};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                if (!col_str(q, (int) i, f[i])) {
                        op_row_free(r);
                        return NULL;
                }
        r->due_at = sqlite3_column_int64(q, 7);
        r->attempts = sqlite3_column_int64(q, 8);
        r->instance_usable = col_tri(q, 9);
        r->update_repeatable = col_tri(q, 10);
        r->created_at = sqlite3_column_int64(q, 11);
        r->finished_at = sqlite3_column_int64(q, 12);
        return r;
}

static int sq_get_instance(struct store *base, const char *id, struct instance_row **ret)
{
        struct store_sqlite *st = sq(base);
        sqlite3_stmt *q = stmt(st, S_GET_INSTANCE);
        if (!q)
                return -EIO;
        bind_str(q, 1, id);
        return fetch_one(q, load_instance, (void **) ret);
}

static int sq_get_binding(struct store *base, const char *instance_id, const char *id,
                      struct binding_row **ret)
{
        struct store_sqlite *st = sq(base);
        sqlite3_stmt *q = stmt(st, S_GET_BINDING);
        if (!q)
                return -EIO;
        bind_str(q, 1, instance_id);
        bind_str(q, 2, id);
        return fetch_one(q, load_binding, (void **) ret);
}

static int sq_get_op(struct store *base, const char *id, struct op_row **ret)
{
        struct store_sqlite *st = sq(base);
        sqlite3_stmt *q = stmt(st, S_GET_OP);
        if (!q)
                return -EIO;
        bind_str(q, 1, id);
        return fetch_one(q, load_op, (void **) ret);
}

static int sq_latest_op(struct store *base, const char *instance_id, const char *binding_id,
                    const char *kind, struct op_row **ret)
{
        struct store_sqlite *st = sq(base);
        sqlite3_stmt *q = stmt(st, binding_id ? S_LATEST_OP_BINDING : S_LATEST_OP_INSTANCE);
        if (!q)
                return -EIO;
        bind_str(q, 1, instance_id);
        bind_str(q, 2, kind);
        if (binding_id)
                bind_str(q, 3, binding_id);
        return fetch_one(q, load_op, (void **) ret);
}

static int sq_put_instance(struct store *base, const struct instance_row *r)
{
        struct store_sqlite *st = sq(base);
        sqlite3_stmt *q = stmt(st, S_PUT_INSTANCE);
        if (!q)
                return -EIO;
        const char *f[] = {r->id, r->service_id, r->plan_id, r->request_key, r->parameters,
                           r->context, r->organization_guid, r->space_guid, r->maintenance_version,
                           r->dashboard_url, r->metadata, r->state, r->op_id};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                bind_str(q, (int) i + 1, f[i]);
        sqlite3_bind_int64(q, 14, r->created_at);
        sqlite3_bind_int64(q, 15, r->updated_at);
        return step_done(q);
}

static int sq_put_binding(struct store *base, const struct binding_row *r)
{
        struct store_sqlite *st = sq(base);
        sqlite3_stmt *q = stmt(st, S_PUT_BINDING);
        if (!q)
                return -EIO;
        const char *f[] = {r->instance_id, r->id, r->service_id, r->plan_id, r->request_key,
                           r->parameters, r->context, r->app_guid, r->predecessor_id,
                           r->response, r->state, r->op_id};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                bind_str(q, (int) i + 1, f[i]);
        sqlite3_bind_int64(q, 13, r->created_at);
        sqlite3_bind_int64(q, 14, r->updated_at);
        return step_done(q);
}

static int sq_put_op(struct store *base, const struct op_row *r)
{
        struct store_sqlite *st = sq(base);
        sqlite3_stmt *q = stmt(st, S_PUT_OP);
        if (!q)
                return -EIO;
        const char *f[] = {r->id, r->kind, r->instance_id, r->binding_id, r->state,
                           r->description, r->request};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                bind_str(q, (int) i + 1, f[i]);
        sqlite3_bind_int64(q, 8, r->due_at);
        sqlite3_bind_int64(q, 9, r->attempts);
        bind_tri(q, 10, r->instance_usable);
        bind_tri(q, 11, r->update_repeatable);
        sqlite3_bind_int64(q, 12, r->created_at);
        if (r->finished_at)
                sqlite3_bind_int64(q, 13, r->finished_at);
        else
                sqlite3_bind_null(q, 13);
        return step_done(q);
}

static int sq_delete_instance(struct store *base, const char *id)
{
        struct store_sqlite *st = sq(base);
        sqlite3_stmt *q = stmt(st, S_DEL_INSTANCE_BINDINGS);
        if (!q)
                return -EIO;
        bind_str(q, 1, id);
        int r = step_done(q);
        if (r < 0)
                return r;
        q = stmt(st, S_DEL_INSTANCE);
        if (!q)
                return -EIO;
        bind_str(q, 1, id);
        return step_done(q);
}

static int sq_delete_binding(struct store *base, const char *instance_id, const char *id)
{
        struct store_sqlite *st = sq(base);
        sqlite3_stmt *q = stmt(st, S_DEL_BINDING);
        if (!q)
                return -EIO;
        bind_str(q, 1, instance_id);
        bind_str(q, 2, id);
        return step_done(q);
}

static int count(struct store_sqlite *st, enum stmt s, const char *arg, int64_t *ret)
{
        sqlite3_stmt *q = stmt(st, s);
        if (!q)
                return -EIO;
        if (arg)
                bind_str(q, 1, arg);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        return rc == SQLITE_ROW ? 0 : sqlerr(rc);
}

static int sq_count_bindings(struct store *base, const char *instance_id, int64_t *ret)
{
        struct store_sqlite *st = sq(base);
        return count(st, S_COUNT_BINDINGS, instance_id, ret);
}

static int sq_count(struct store *base, int64_t *ret_instances, int64_t *ret_bindings,
                int64_t *ret_ops_in_progress)
{
        struct store_sqlite *st = sq(base);
        int r = count(st, S_COUNT_INSTANCES, NULL, ret_instances);
        if (r >= 0)
                r = count(st, S_COUNT_ALL_BINDINGS, NULL, ret_bindings);
        if (r >= 0)
                r = count(st, S_COUNT_OPS, NULL, ret_ops_in_progress);
        return r;
}

static int sq_each_pending_op(struct store *base, int (*fn)(void *userdata, const char *id, int64_t due_at),
                          void *userdata)
{
        struct store_sqlite *st = sq(base);
        sqlite3_stmt *q = stmt(st, S_PENDING_OPS);
        if (!q)
                return -EIO;
        int rc, r = 0;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                r = fn(userdata, (const char *) sqlite3_column_text(q, 0), sqlite3_column_int64(q, 1));
                if (r < 0)
                        break;
        }
        sqlite3_reset(q);
        if (r < 0)
                return r;
        return rc == SQLITE_DONE ? 0 : sqlerr(rc);
}

struct sqlite_checkpointer {
        struct store_checkpointer base;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        unsigned interval_ms;
        struct store *st;
};

/* Copies the bulk of the WAL into the database without blocking anyone, then the few frames
 * appended meanwhile with the writers' turn and no batch open: a checkpoint that completes lets the next writer
 * restart the WAL from its beginning, so it stops growing. */
static void checkpoint(struct store *base)
{
        struct store_sqlite *st = sq(base);
        int log = 0, done = 0;
        (void) sqlite3_wal_checkpoint_v2(st->own.db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        pthread_mutex_lock(&writers_lock);
        take_exclusive(st->w);
        pthread_mutex_unlock(&writers_lock);
        (void) sqlite3_wal_checkpoint_v2(st->own.db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        pthread_mutex_lock(&writers_lock);
        give_turn(st->w);
        pthread_mutex_unlock(&writers_lock);
}

static void *checkpointer_main(void *arg)
{
        struct sqlite_checkpointer *c = arg;
        pthread_mutex_lock(&c->lock);
        while (!c->stop) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                int64_t ns = ts.tv_nsec + (int64_t) c->interval_ms * 1000000;
                ts.tv_sec += ns / 1000000000;
                ts.tv_nsec = ns % 1000000000;
                pthread_cond_timedwait(&c->cond, &c->lock, &ts);
                if (c->stop)
                        break;
                pthread_mutex_unlock(&c->lock);
                checkpoint(c->st);
                pthread_mutex_lock(&c->lock);
        }
        pthread_mutex_unlock(&c->lock);
        return NULL;
}

static int sq_checkpointer_start(const char *path, unsigned interval_ms, struct store_checkpointer **ret,
                                 struct osb_error *err)
{
        struct sqlite_checkpointer *c = osb_calloc(1, sizeof(*c));
        if (!c)
                return osb_error_set(err, -ENOMEM, "out of memory");
        c->base.impl = &store_sqlite_impl;
        atomic_fetch_add(&external_checkpoints, 1);
        int r = sq_open(path, STORE_SYNC_NORMAL, &c->st, err);
        if (r < 0) {
                atomic_fetch_sub(&external_checkpoints, 1);
                osb_free(c);
                return r;
        }
        c->interval_ms = interval_ms ? interval_ms : 500;
        pthread_mutex_init(&c->lock, NULL);
        pthread_cond_init(&c->cond, NULL);
        if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
                atomic_fetch_sub(&external_checkpoints, 1);
                sq_close(c->st);
                osb_free(c);
                return osb_error_set(err, -EAGAIN, "cannot start the checkpoint thread");
        }
        *ret = &c->base;
        return 0;
}

static void sq_checkpointer_stop(struct store_checkpointer *base)
{
        struct sqlite_checkpointer *c = (struct sqlite_checkpointer *) base;
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
        checkpoint(c->st);
        sq_close(c->st);
        atomic_fetch_sub(&external_checkpoints, 1);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->cond);
        osb_free(c);
}

/* Any location that no other implementation claims is a file name. */
static bool sq_claims(const char *location)
{
        (void) location;
        return true;
}

const struct store_impl store_sqlite_impl = {
        .name = "sqlite",
        .shared = false,
        .claims = sq_claims,
        .open = sq_open,
        .close = sq_close,
        .schema_version = sq_schema_version,
        .ping = sq_ping,
        .check = sq_check,
        .begin = sq_begin,
        .commit = sq_commit,
        .rollback = sq_rollback,
        .abandon = sq_abandon,
        .get_instance = sq_get_instance,
        .get_binding = sq_get_binding,
        .get_op = sq_get_op,
        .latest_op = sq_latest_op,
        .put_instance = sq_put_instance,
        .put_binding = sq_put_binding,
        .put_op = sq_put_op,
        .delete_instance = sq_delete_instance,
        .delete_binding = sq_delete_binding,
        .count_bindings = sq_count_bindings,
        .count = sq_count,
        .each_pending_op = sq_each_pending_op,
        .checkpointer_start = sq_checkpointer_start,
        .checkpointer_stop = sq_checkpointer_stop,
};

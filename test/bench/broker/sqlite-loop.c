/* test/bench/broker/sqlite-loop.c: the reference of the broker benchmark: what SQLite itself
 * allows for the broker's provision, in one thread with no HTTP. Copies one instance row of a
 * database the broker made (so the schema, its indexes and the row's bytes are the broker's) and
 * inserts it again and again under fresh ids, each insert its own transaction, in WAL mode with
 * the broker's pragmas, for a number of seconds.
 *
 *   sqlite-loop DATABASE normal|full SECONDS
 *
 * Prints "SQLITE_LOOP rows=N duration_us=D rows_per_s=R" on stdout. Exit status 1 on any error
 * (message on stderr). */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int fail(sqlite3 *db, const char *what)
{
        fprintf(stderr, "sqlite-loop: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
        return 1;
}

int main(int argc, char **argv)
{
        if (argc != 4 || (strcmp(argv[2], "normal") != 0 && strcmp(argv[2], "full") != 0)) {
                fprintf(stderr, "usage: sqlite-loop DATABASE normal|full SECONDS\n");
                return 2;
        }
        char *end = NULL;
        long seconds = strtol(argv[3], &end, 10);
        if (!end || *end || seconds < 1 || seconds > 3600) {
                fprintf(stderr, "sqlite-loop: SECONDS must be 1..3600\n");
                return 2;
        }
        sqlite3 *db = NULL;
        if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
                return fail(db, "open");
        char pragmas[160];
        (void) snprintf(pragmas, sizeof(pragmas),
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA cache_size=-1024; "
                        "PRAGMA temp_store=MEMORY", strcmp(argv[2], "full") == 0 ? "FULL" : "NORMAL");
        if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
                return fail(db, "pragmas");

        /* The template: the broker's first instance row, all 15 columns. */
        sqlite3_stmt *get = NULL, *put = NULL;
        if (sqlite3_prepare_v2(db, "SELECT * FROM instances LIMIT 1", -1, &get, NULL) != SQLITE_OK)
                return fail(db, "prepare select");
        if (sqlite3_step(get) != SQLITE_ROW)
                return fail(db, "the database has no instance row to copy");
        int ncol = sqlite3_column_count(get);
        char sql[1024] = "INSERT OR REPLACE INTO instances VALUES (?1";
        for (int i = 2; i <= ncol; i++) {
                size_t n = strlen(sql);
                (void) snprintf(sql + n, sizeof(sql) - n, ", ?%d", i);
        }
        size_t n = strlen(sql);
        (void) snprintf(sql + n, sizeof(sql) - n, ")");
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &put, NULL) != SQLITE_OK)
                return fail(db, "prepare insert");
        int id_col = -1;
        for (int i = 0; i < ncol; i++) {
                if (strcmp(sqlite3_column_name(get, i), "id") == 0)
                        id_col = i;
                else if (sqlite3_bind_value(put, i + 1, sqlite3_column_value(get, i)) != SQLITE_OK)
                        return fail(db, "bind");
        }
        if (id_col < 0)
                return fail(db, "no id column");
        const char *template_id = (const char *) sqlite3_column_text(get, id_col);
        char idbuf[128];
        int64_t rows = 0, t0 = now_us(), deadline = t0 + (int64_t) seconds * 1000000, t1 = t0;
        /* Each insert in its own transaction (autocommit), as one provision is. */
        while (t1 < deadline) {
                (void) snprintf(idbuf, sizeof(idbuf), "%.60s-loop-%lld", template_id ? template_id : "x",
                                (long long) rows);
                sqlite3_bind_text(put, id_col + 1, idbuf, -1, SQLITE_TRANSIENT);
                if (sqlite3_step(put) != SQLITE_DONE)
                        return fail(db, "insert");
                sqlite3_reset(put);
                rows++;
                if ((rows & 63) == 0)
                        t1 = now_us();
        }
        t1 = now_us();
        sqlite3_finalize(get);
        sqlite3_finalize(put);
        sqlite3_close(db);
        printf("SQLITE_LOOP rows=%lld duration_us=%lld rows_per_s=%.0f\n", (long long) rows,
               (long long) (t1 - t0), (double) rows / ((double) (t1 - t0) / 1e6));
        return 0;
}

/* broker/migrations.h: the schema migrations compiled into osb-broker from the migrations directory
 * (generated into broker/migrations.c by build-aux/sql2c.sh). Append-only, applied in order. */
#pragma once

struct migration {
        unsigned version;  /* NNNN of NNNN_name.sql */
        const char *name;  /* "0001_init" */
        const char *sql;
};

/* SQLite: migrations/NNNN_name.sql. */
extern const struct migration migrations[];
extern const unsigned n_migrations;
/* PostgreSQL (--store postgresql://): migrations/postgresql/NNNN_name.sql, the same versions
 * with the same meaning. */
extern const struct migration pg_migrations[];
extern const unsigned n_pg_migrations;

/* broker/migrations.h: the schema migrations compiled into osb-broker from the migrations directory
 * (generated into broker/migrations.c by build-aux/sql2c.sh). Append-only, applied in order. */
#pragma once

struct migration {
        unsigned version;  /* NNNN of NNNN_name.sql */
        const char *name;  /* "0001_init" */
        const char *sql;
};

extern const struct migration migrations[];
extern const unsigned n_migrations;

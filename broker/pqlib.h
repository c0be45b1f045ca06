/* broker/pqlib.h: libpq, loaded when the broker first needs it. A broker whose store is a SQLite
 * file and whose catalog has no PostgreSQL backend never maps libpq and what it pulls in
 * (OpenSSL, Kerberos, LDAP, SASL: some 2.7 MB of resident pages at start). The two users of
 * libpq (store_pg.c, backend_postgresql.c) include this header instead of <libpq-fe.h>, call
 * pqlib_load() before their first libpq call, and then call libpq by its usual names, which
 * the macros below send through the table of the library actually loaded. */
#pragma once

#include "common/osb_error.h"

#include <libpq-fe.h>

/* The libpq functions the broker calls (name, return type, parameter list). */
#define PQLIB_FUNCTIONS(X)                                                                          \
        X(PQconnectdbParams, PGconn *, (const char *const *, const char *const *, int))             \
        X(PQstatus, ConnStatusType, (const PGconn *))                                               \
        X(PQerrorMessage, char *, (const PGconn *))                                                 \
        X(PQfinish, void, (PGconn *))                                                               \
        X(PQreset, void, (PGconn *))                                                                \
        X(PQsetNoticeProcessor, PQnoticeProcessor, (PGconn *, PQnoticeProcessor, void *))           \
        X(PQserverVersion, int, (const PGconn *))                                                   \
        X(PQparameterStatus, const char *, (const PGconn *, const char *))                          \
        X(PQexec, PGresult *, (PGconn *, const char *))                                             \
        X(PQexecParams, PGresult *, (PGconn *, const char *, int, const Oid *, const char *const *, \
                                     const int *, const int *, int))                                \
        X(PQprepare, PGresult *, (PGconn *, const char *, const char *, int, const Oid *))           \
        X(PQexecPrepared, PGresult *, (PGconn *, const char *, int, const char *const *, const int *, \
                                       const int *, int))                                           \
        X(PQresultStatus, ExecStatusType, (const PGresult *))                                       \
        X(PQresultErrorField, char *, (const PGresult *, int))                                      \
        X(PQresultErrorMessage, char *, (const PGresult *))                                         \
        X(PQcmdStatus, char *, (PGresult *))                                                        \
        X(PQntuples, int, (const PGresult *))                                                       \
        X(PQgetvalue, char *, (const PGresult *, int, int))                                         \
        X(PQgetlength, int, (const PGresult *, int, int))                                           \
        X(PQgetisnull, int, (const PGresult *, int, int))                                           \
        X(PQclear, void, (PGresult *))                                                              \
        X(PQfreemem, void, (void *))                                                                \
        X(PQescapeLiteral, char *, (PGconn *, const char *, size_t))                                \
        X(PQescapeIdentifier, char *, (PGconn *, const char *, size_t))                             \
        X(PQconninfoParse, PQconninfoOption *, (const char *, char **))                             \
        X(PQconninfoFree, void, (PQconninfoOption *))                                               \
        X(PQencryptPasswordConn, char *, (PGconn *, const char *, const char *, const char *))

#define PQLIB_POINTER(name, ret, params) ret(*name) params;
struct pqlib {
        PQLIB_FUNCTIONS(PQLIB_POINTER)
};
#undef PQLIB_POINTER

/* Filled by the first successful pqlib_load(); read only after it. */
extern struct pqlib pqlib;

/* Loads libpq (libpq.so.5) once per process and fills pqlib. Thread-safe; cheap after the first
 * call. Returns 0, or OSB_E_INVALID_CONFIG with a message naming the library when it cannot be
 * loaded (Debian package: libpq5). */
int pqlib_load(struct osb_error *err);

#ifndef PQLIB_IMPLEMENTATION
#define PQconnectdbParams pqlib.PQconnectdbParams
#define PQstatus pqlib.PQstatus
#define PQerrorMessage pqlib.PQerrorMessage
#define PQfinish pqlib.PQfinish
#define PQreset pqlib.PQreset
#define PQsetNoticeProcessor pqlib.PQsetNoticeProcessor
#define PQserverVersion pqlib.PQserverVersion
#define PQparameterStatus pqlib.PQparameterStatus
#define PQexec pqlib.PQexec
#define PQexecParams pqlib.PQexecParams
#define PQprepare pqlib.PQprepare
#define PQexecPrepared pqlib.PQexecPrepared
#define PQresultStatus pqlib.PQresultStatus
#define PQresultErrorField pqlib.PQresultErrorField
#define PQresultErrorMessage pqlib.PQresultErrorMessage
#define PQcmdStatus pqlib.PQcmdStatus
#define PQntuples pqlib.PQntuples
#define PQgetvalue pqlib.PQgetvalue
#define PQgetlength pqlib.PQgetlength
#define PQgetisnull pqlib.PQgetisnull
#define PQclear pqlib.PQclear
#define PQfreemem pqlib.PQfreemem
#define PQescapeLiteral pqlib.PQescapeLiteral
#define PQescapeIdentifier pqlib.PQescapeIdentifier
#define PQconninfoParse pqlib.PQconninfoParse
#define PQconninfoFree pqlib.PQconninfoFree
#define PQencryptPasswordConn pqlib.PQencryptPasswordConn
#endif

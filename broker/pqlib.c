/* broker/pqlib.c: libpq loaded with dlopen() at its first use (see pqlib.h). */
#define PQLIB_IMPLEMENTATION
#include "common/osb_compat.h"
#include "common/osb_macro.h"
#include "broker/pqlib.h"

#include <dlfcn.h>

/* The soname of libpq's ABI 5 (every libpq since PostgreSQL 8.0). */
#define PQLIB_SONAME "libpq.so.5"

struct pqlib pqlib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[300];  /* empty when loaded */

#define PQLIB_ENTRY(name, ret, params) {#name, offsetof(struct pqlib, name)},
static const struct {
        const char *name;
        size_t offset;
} functions[] = {PQLIB_FUNCTIONS(PQLIB_ENTRY)};
#undef PQLIB_ENTRY

static void load(void)
{
        /* Never closed: libpq stays loaded for the life of the process once a user needed it. */
        void *lib = dlopen(PQLIB_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
                const char *why = dlerror();
                (void) snprintf(load_error, sizeof(load_error),
                                "cannot load the PostgreSQL client library %s (Debian package libpq5): %s",
                                PQLIB_SONAME, why ? why : "unknown error");
                return;
        }
        struct pqlib table;
        for (size_t i = 0; i < OSB_ELEMENTSOF(functions); i++) {
                void *fn = dlsym(lib, functions[i].name);
                if (!fn) {
                        (void) snprintf(load_error, sizeof(load_error),
                                        "the PostgreSQL client library %s has no function %s (too old?)",
                                        PQLIB_SONAME, functions[i].name);
                        return;
                }
                memcpy((char *) &table + functions[i].offset, &fn, sizeof(fn));
        }
        pqlib = table;
}

int pqlib_load(struct osb_error *err)
{
        (void) pthread_once(&load_once, load);
        if (load_error[0])
                return osb_error_set(err, OSB_E_INVALID_CONFIG, "%s", load_error);
        return 0;
}

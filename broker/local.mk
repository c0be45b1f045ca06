# broker/: osb-broker. Every module but main.c also goes into libbroker.a so tests link the
# exact objects that ship.
noinst_LIBRARIES += broker/libbroker.a
broker_libbroker_a_SOURCES = \
	broker/catalog.c broker/catalog.h \
	broker/store.c broker/store.h \
	broker/store_types.c broker/store_types.h \
	broker/store_sqlite.c broker/store_sqlite.h \
	broker/store_pg.c broker/store_pg.h \
	broker/migrations.h \
	broker/backend.c broker/backend.h \
	broker/backend_static.c \
	broker/backend_exec.c broker/backend_exec.h \
	broker/backend_postgresql.c \
	broker/pqlib.c broker/pqlib.h \
	broker/pqtext.c broker/pqtext.h \
	broker/lifecycle.c broker/lifecycle.h \
	broker/ops.c broker/ops.h \
	broker/api.c broker/api.h \
	broker/request.c broker/request.h \
	broker/auth.c broker/auth.h \
	broker/metrics.c broker/metrics.h \
	broker/router.c broker/router.h \
	broker/democatalog.c
nodist_broker_libbroker_a_SOURCES = broker/migrations.c broker/migrations_pg.c
MIGRATIONS = $(sort $(wildcard $(srcdir)/migrations/*.sql))
PG_MIGRATIONS = $(sort $(wildcard $(srcdir)/migrations/postgresql/*.sql))
broker/migrations.c: $(srcdir)/build-aux/sql2c.sh $(MIGRATIONS)
	$(AM_V_GEN)$(MKDIR_P) broker && $(SHELL) $(srcdir)/build-aux/sql2c.sh $@ $(MIGRATIONS)
broker/migrations_pg.c: $(srcdir)/build-aux/sql2c.sh $(PG_MIGRATIONS)
	$(AM_V_GEN)$(MKDIR_P) broker && $(SHELL) $(srcdir)/build-aux/sql2c.sh --name pg_migrations $@ $(PG_MIGRATIONS)
BUILT_SOURCES += broker/migrations.c broker/migrations_pg.c
CLEANFILES += broker/migrations.c broker/migrations_pg.c

bin_PROGRAMS += broker/osb-broker
broker_osb_broker_SOURCES = broker/main.c
broker_osb_broker_LDADD = broker/libbroker.a common/libosbcommon.a $(DEP_LIBS)
dist_man1_MANS += docs/osb-broker.1

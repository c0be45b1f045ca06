# test/integration/: real osb-broker processes ($OSB_BROKER) on loopback, driven over HTTP: one
# check program per theme, sharing itest.{c,h} on top of test/lib/libosbtest.a. Each test runs
# its broker in a private temporary directory under $TMPDIR (or /tmp).
INTEGRATION_TESTS = \
	test/integration/check_persistence \
	test/integration/check_crash \
	test/integration/check_concurrency \
	test/integration/check_http \
	test/integration/check_postgresql \
	test/integration/check_exec
check_PROGRAMS += $(INTEGRATION_TESTS) test/integration/check_replicas
TESTS += $(INTEGRATION_TESTS)
# The same programs against a PostgreSQL store (one server for all), and two replicas on one.
TESTS += test/integration/run-on-postgresql.sh
EXTRA_DIST += test/integration/run-on-postgresql.sh
INTEGRATION_CPPFLAGS = $(AM_CPPFLAGS) -DIT_SRCDIR='"$(abs_top_srcdir)"' -DIT_BUILDDIR='"$(abs_top_builddir)"'
INTEGRATION_LIBS = test/lib/libosbtest.a $(TEST_LIBS) $(CHECK_LIBS)
INTEGRATION_COMMON = test/integration/itest.c test/integration/itest.h test/lib/check_main.h

test_integration_check_persistence_SOURCES = test/integration/check_persistence.c $(INTEGRATION_COMMON)
test_integration_check_persistence_CPPFLAGS = $(INTEGRATION_CPPFLAGS)
test_integration_check_persistence_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_integration_check_persistence_LDADD = $(INTEGRATION_LIBS)
test_integration_check_crash_SOURCES = test/integration/check_crash.c $(INTEGRATION_COMMON)
test_integration_check_crash_CPPFLAGS = $(INTEGRATION_CPPFLAGS)
test_integration_check_crash_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_integration_check_crash_LDADD = $(INTEGRATION_LIBS)
test_integration_check_concurrency_SOURCES = test/integration/check_concurrency.c $(INTEGRATION_COMMON)
test_integration_check_concurrency_CPPFLAGS = $(INTEGRATION_CPPFLAGS)
test_integration_check_concurrency_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_integration_check_concurrency_LDADD = $(INTEGRATION_LIBS)
test_integration_check_http_SOURCES = test/integration/check_http.c $(INTEGRATION_COMMON)
test_integration_check_http_CPPFLAGS = $(INTEGRATION_CPPFLAGS)
test_integration_check_http_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_integration_check_http_LDADD = $(INTEGRATION_LIBS)
test_integration_check_postgresql_SOURCES = test/integration/check_postgresql.c $(INTEGRATION_COMMON)
test_integration_check_postgresql_CPPFLAGS = $(INTEGRATION_CPPFLAGS)
test_integration_check_postgresql_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_integration_check_postgresql_LDADD = $(INTEGRATION_LIBS)
test_integration_check_replicas_SOURCES = test/integration/check_replicas.c $(INTEGRATION_COMMON)
test_integration_check_replicas_CPPFLAGS = $(INTEGRATION_CPPFLAGS)
test_integration_check_replicas_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_integration_check_replicas_LDADD = $(INTEGRATION_LIBS)
test_integration_check_exec_SOURCES = test/integration/check_exec.c $(INTEGRATION_COMMON)
test_integration_check_exec_CPPFLAGS = $(INTEGRATION_CPPFLAGS)
test_integration_check_exec_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_integration_check_exec_LDADD = $(INTEGRATION_LIBS)

EXTRA_DIST += test/integration/data

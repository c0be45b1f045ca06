# test/apiserver/: kube-testserver, the in-memory Kubernetes API server the e2e tests and the
# controller's tests run against. Built only for `make check`, never installed. Every module but
# main.c also goes into libkts.a, so the unit tests link the objects the server runs.
check_LIBRARIES = test/apiserver/libkts.a
test_apiserver_libkts_a_SOURCES = \
	test/apiserver/util.c test/apiserver/util.h \
	test/apiserver/selector.c test/apiserver/selector.h \
	test/apiserver/patch.c test/apiserver/patch.h \
	test/apiserver/schema.c test/apiserver/schema.h \
	test/apiserver/types.c test/apiserver/types.h \
	test/apiserver/store.c test/apiserver/store.h \
	test/apiserver/table.c test/apiserver/table.h \
	test/apiserver/kinds.c test/apiserver/kinds.h \
	test/apiserver/rbac.c test/apiserver/rbac.h \
	test/apiserver/api.c test/apiserver/api.h \
	test/apiserver/openapi.c test/apiserver/openapi.h \
	test/apiserver/protobuf.c test/apiserver/protobuf.h \
	test/apiserver/server.c test/apiserver/server.h

KTS_LIBS = test/apiserver/libkts.a common/libosbcommon.a $(DEP_LIBS)

check_PROGRAMS += test/apiserver/kube-testserver
test_apiserver_kube_testserver_SOURCES = test/apiserver/main.c
test_apiserver_kube_testserver_LDADD = $(KTS_LIBS)

KTS_TESTS = \
	test/apiserver/check_kts_selector \
	test/apiserver/check_kts_patch \
	test/apiserver/check_kts_schema \
	test/apiserver/check_kts_store \
	test/apiserver/check_kts_rbac \
	test/apiserver/check_kts_validation
check_PROGRAMS += $(KTS_TESTS)
TESTS += $(KTS_TESTS)
test_apiserver_check_kts_selector_SOURCES = test/apiserver/check_kts_selector.c test/lib/check_main.h
test_apiserver_check_kts_selector_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_apiserver_check_kts_selector_LDADD = $(KTS_LIBS) $(CHECK_LIBS)
test_apiserver_check_kts_patch_SOURCES = test/apiserver/check_kts_patch.c
test_apiserver_check_kts_patch_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_apiserver_check_kts_patch_LDADD = $(KTS_LIBS) $(CHECK_LIBS)
test_apiserver_check_kts_schema_SOURCES = test/apiserver/check_kts_schema.c
test_apiserver_check_kts_schema_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_apiserver_check_kts_schema_LDADD = $(KTS_LIBS) $(CHECK_LIBS)
test_apiserver_check_kts_store_SOURCES = test/apiserver/check_kts_store.c
test_apiserver_check_kts_store_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_apiserver_check_kts_store_LDADD = $(KTS_LIBS) $(CHECK_LIBS)
test_apiserver_check_kts_rbac_SOURCES = test/apiserver/check_kts_rbac.c
test_apiserver_check_kts_rbac_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_apiserver_check_kts_rbac_LDADD = $(KTS_LIBS) $(CHECK_LIBS)
test_apiserver_check_kts_validation_SOURCES = test/apiserver/check_kts_validation.c
test_apiserver_check_kts_validation_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
test_apiserver_check_kts_validation_LDADD = $(KTS_LIBS) $(CHECK_LIBS)

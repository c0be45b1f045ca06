# test/osb/: the OSB conformance runner over osb-spec/cases (format: osb-spec/cases/README.md),
# and the helpers in test/lib/ that start brokers and speak HTTP to them; integration tests link
# the same library (test/lib/broker_proc.h, test/lib/http_client.h).
noinst_LIBRARIES += test/lib/libosbtest.a
test_lib_libosbtest_a_SOURCES = \
	test/lib/broker_proc.c test/lib/broker_proc.h \
	test/lib/http_client.c test/lib/http_client.h

check_PROGRAMS += test/osb/osb-conformance
test_osb_osb_conformance_SOURCES = test/osb/osb-conformance.c
test_osb_osb_conformance_LDADD = test/lib/libosbtest.a $(TEST_LIBS)

TESTS += test/osb/run-conformance.sh
EXTRA_DIST += test/osb/run-conformance.sh

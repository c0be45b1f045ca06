# test/: every kind of test has its own fragment, owned by whoever works on it.
TEST_LIBS = broker/libbroker.a common/libosbcommon.a $(DEP_LIBS) $(PQ_LIBS)
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
if VALGRIND_TESTS
LOG_COMPILER = $(VALGRIND) --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --quiet
endif
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	OSB_BROKER='$(abs_top_builddir)/broker/osb-broker'; export OSB_BROKER; \
	OSB_SPEC_DIR='$(abs_top_srcdir)/osb-spec'; export OSB_SPEC_DIR; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1; export ASAN_OPTIONS; \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; export UBSAN_OPTIONS; \
	CK_DEFAULT_TIMEOUT=60; export CK_DEFAULT_TIMEOUT;

EXTRA_DIST += test/lib/check_main.h test/lib/pg-server.sh

include test/unit/local.mk
include test/osb/local.mk
include test/integration/local.mk
include test/fuzz/local.mk
include test/bench/local.mk
include test/apiserver/local.mk
include test/e2e/local.mk
include test/deploy/local.mk
include test/docs/local.mk
include test/local/local.mk

# What `make distcheck` runs from the tarball when test.sh asks for it
# (make distcheck TESTS='$(DISTCHECK_TESTS)'): every program is still built from the tarball, and
# the unit tests, the fuzz corpora, the OSB conformance cases, one integration program with a real
# broker, and the static checks of deploy/ and docs/ prove that what they read was shipped. The
# whole suite runs in the build tree already (twice, plain and with sanitizers).
DISTCHECK_TESTS = $(UNIT_TESTS) $(KTS_TESTS) $(FUZZ_REPLAY_TESTSCRIPTS_LIST) \
	test/osb/run-conformance.sh test/integration/check_http \
	test/deploy/check-dockerfiles.sh test/docs/check-help.sh

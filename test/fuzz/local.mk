# test/fuzz/: libFuzzer targets, one file each defining LLVMFuzzerTestOneInput(). Every target
# is also linked with replay_main.c into a check program, and a replay-*.sh test runs it over
# the target's corpus (test/fuzz/corpus/NAME/) under `make check`, with any compiler.
# With --enable-fuzzing (CC=clang) the real libFuzzer binaries are built too; their sources
# are listed so they get compiled with coverage instrumentation, not taken from the libraries:
#   test/fuzz/fuzz_catalog -max_total_time=60 test/fuzz/corpus/catalog
# To add a target NAME: test/fuzz/fuzz_NAME.c, test/fuzz/replay-NAME.sh, a corpus directory,
# and the blocks below.

FUZZ_REPLAY_PROGS = \
	test/fuzz/fuzz_catalog_replay \
	test/fuzz/fuzz_yaml_replay
FUZZ_REPLAY_TESTSCRIPTS_LIST = \
	test/fuzz/replay-catalog.sh \
	test/fuzz/replay-yaml.sh
check_PROGRAMS += $(FUZZ_REPLAY_PROGS)
TESTS += $(FUZZ_REPLAY_TESTSCRIPTS_LIST)
EXTRA_DIST += $(FUZZ_REPLAY_TESTSCRIPTS_LIST) \
	test/fuzz/corpus/catalog \
	test/fuzz/corpus/yaml

test_fuzz_fuzz_catalog_replay_SOURCES = test/fuzz/fuzz_catalog.c test/fuzz/replay_main.c
test_fuzz_fuzz_catalog_replay_LDADD = $(TEST_LIBS)
test_fuzz_fuzz_yaml_replay_SOURCES = test/fuzz/fuzz_yaml.c test/fuzz/replay_main.c
test_fuzz_fuzz_yaml_replay_LDADD = $(TEST_LIBS)

if FUZZING
FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
FUZZ_COMMON_SRC = \
	common/osb_mem.c common/osb_error.c common/osb_buf.c common/osb_json.c common/osb_yaml.c \
	common/osb_base64.c common/osb_file.c common/osb_time.c common/osb_schema.c common/osb_parse.c
noinst_PROGRAMS += \
	test/fuzz/fuzz_catalog \
	test/fuzz/fuzz_yaml

test_fuzz_fuzz_catalog_SOURCES = test/fuzz/fuzz_catalog.c \
	broker/catalog.c broker/democatalog.c $(FUZZ_COMMON_SRC)
test_fuzz_fuzz_catalog_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_catalog_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_catalog_LDADD = $(DEP_LIBS)

test_fuzz_fuzz_yaml_SOURCES = test/fuzz/fuzz_yaml.c $(FUZZ_COMMON_SRC)
test_fuzz_fuzz_yaml_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_yaml_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_yaml_LDADD = $(DEP_LIBS)
endif

# fuzz_request (request bodies) and fuzz_headers (API version, originating identity,
# Authorization, base64, percent-decoding): the broker's untrusted request input.
FUZZ_REPLAY_PROGS += \
	test/fuzz/fuzz_request_replay \
	test/fuzz/fuzz_headers_replay
FUZZ_REPLAY_TESTSCRIPTS_LIST += \
	test/fuzz/replay-request.sh \
	test/fuzz/replay-headers.sh
EXTRA_DIST += \
	test/fuzz/corpus/request \
	test/fuzz/corpus/headers

test_fuzz_fuzz_request_replay_SOURCES = test/fuzz/fuzz_request.c test/fuzz/replay_main.c
test_fuzz_fuzz_request_replay_LDADD = $(TEST_LIBS)
test_fuzz_fuzz_headers_replay_SOURCES = test/fuzz/fuzz_headers.c test/fuzz/replay_main.c
test_fuzz_fuzz_headers_replay_LDADD = $(TEST_LIBS)

if FUZZING
noinst_PROGRAMS += \
	test/fuzz/fuzz_request \
	test/fuzz/fuzz_headers

test_fuzz_fuzz_request_SOURCES = test/fuzz/fuzz_request.c broker/request.c $(FUZZ_COMMON_SRC)
test_fuzz_fuzz_request_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_request_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_request_LDADD = $(DEP_LIBS)

test_fuzz_fuzz_headers_SOURCES = test/fuzz/fuzz_headers.c \
	broker/request.c broker/auth.c common/osb_http.c common/osb_log.c $(FUZZ_COMMON_SRC)
test_fuzz_fuzz_headers_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_headers_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_headers_LDADD = $(DEP_LIBS)
endif

# fuzz_kubeconfig (kubeconfig files) and fuzz_watch (watch streams): kube/'s untrusted input.
FUZZ_REPLAY_PROGS += \
	test/fuzz/fuzz_kubeconfig_replay \
	test/fuzz/fuzz_watch_replay
FUZZ_REPLAY_TESTSCRIPTS_LIST += \
	test/fuzz/replay-kubeconfig.sh \
	test/fuzz/replay-watch.sh
EXTRA_DIST += \
	test/fuzz/corpus/kubeconfig \
	test/fuzz/corpus/watch

test_fuzz_fuzz_kubeconfig_replay_SOURCES = test/fuzz/fuzz_kubeconfig.c test/fuzz/replay_main.c
test_fuzz_fuzz_kubeconfig_replay_LDADD = kube/libkube.a $(TEST_LIBS)
test_fuzz_fuzz_watch_replay_SOURCES = test/fuzz/fuzz_watch.c test/fuzz/replay_main.c
test_fuzz_fuzz_watch_replay_LDADD = kube/libkube.a $(TEST_LIBS)

if FUZZING
noinst_PROGRAMS += \
	test/fuzz/fuzz_kubeconfig \
	test/fuzz/fuzz_watch

test_fuzz_fuzz_kubeconfig_SOURCES = test/fuzz/fuzz_kubeconfig.c kube/config.c $(FUZZ_COMMON_SRC)
test_fuzz_fuzz_kubeconfig_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_kubeconfig_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_kubeconfig_LDADD = $(DEP_LIBS)

test_fuzz_fuzz_watch_SOURCES = test/fuzz/fuzz_watch.c kube/watch.c kube/client.c kube/config.c \
	$(FUZZ_COMMON_SRC)
test_fuzz_fuzz_watch_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_watch_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_watch_LDADD = $(DEP_LIBS)
endif

# fuzz_jsonpath: the catalog controller's user- and broker-controlled input to a binding's
# Secret and an instance's parameters (JSONPath templates, secretTransforms, parametersFrom).
FUZZ_REPLAY_PROGS += test/fuzz/fuzz_jsonpath_replay
FUZZ_REPLAY_TESTSCRIPTS_LIST += test/fuzz/replay-jsonpath.sh
EXTRA_DIST += test/fuzz/corpus/jsonpath

test_fuzz_fuzz_jsonpath_replay_SOURCES = test/fuzz/fuzz_jsonpath.c test/fuzz/replay_main.c
test_fuzz_fuzz_jsonpath_replay_LDADD = catalog-controller/libcatctl.a $(TEST_LIBS)

if FUZZING
noinst_PROGRAMS += test/fuzz/fuzz_jsonpath

test_fuzz_fuzz_jsonpath_SOURCES = test/fuzz/fuzz_jsonpath.c catalog-controller/credentials.c \
	catalog-controller/template.c catalog-controller/params.c common/osb_hash.c $(FUZZ_COMMON_SRC)
test_fuzz_fuzz_jsonpath_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_jsonpath_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_jsonpath_LDADD = $(DEP_LIBS)
endif

# fuzz_template: a binding's spec.secretTemplate (catalog-controller/template.h), rendered and
# then read as the Secret it describes (credentials_secret_build).
FUZZ_REPLAY_PROGS += test/fuzz/fuzz_template_replay
FUZZ_REPLAY_TESTSCRIPTS_LIST += test/fuzz/replay-template.sh
EXTRA_DIST += test/fuzz/corpus/template

test_fuzz_fuzz_template_replay_SOURCES = test/fuzz/fuzz_template.c test/fuzz/replay_main.c
test_fuzz_fuzz_template_replay_LDADD = catalog-controller/libcatctl.a $(TEST_LIBS)

if FUZZING
noinst_PROGRAMS += test/fuzz/fuzz_template

test_fuzz_fuzz_template_SOURCES = test/fuzz/fuzz_template.c catalog-controller/credentials.c \
	catalog-controller/template.c $(FUZZ_COMMON_SRC)
test_fuzz_fuzz_template_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_template_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_template_LDADD = $(DEP_LIBS)
endif

# fuzz_packed: an object's JSON text through the informer cache's packed form
# (catalog-controller/packed.h): the round trip gives the same bytes, and any input read as a
# packed form is refused or decoded in bounds.
FUZZ_REPLAY_PROGS += test/fuzz/fuzz_packed_replay
FUZZ_REPLAY_TESTSCRIPTS_LIST += test/fuzz/replay-packed.sh
EXTRA_DIST += test/fuzz/corpus/packed

test_fuzz_fuzz_packed_replay_SOURCES = test/fuzz/fuzz_packed.c test/fuzz/replay_main.c
test_fuzz_fuzz_packed_replay_LDADD = catalog-controller/libcatctl.a $(TEST_LIBS)

if FUZZING
noinst_PROGRAMS += test/fuzz/fuzz_packed

test_fuzz_fuzz_packed_SOURCES = test/fuzz/fuzz_packed.c catalog-controller/packed.c $(FUZZ_COMMON_SRC)
test_fuzz_fuzz_packed_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_packed_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_packed_LDADD = $(DEP_LIBS)
endif

# fuzz_exec_output: what an exec-backend program prints and how it exits (broker/backend_exec.h).
FUZZ_REPLAY_PROGS += test/fuzz/fuzz_exec_output_replay
FUZZ_REPLAY_TESTSCRIPTS_LIST += test/fuzz/replay-exec-output.sh
EXTRA_DIST += test/fuzz/corpus/exec-output

test_fuzz_fuzz_exec_output_replay_SOURCES = test/fuzz/fuzz_exec_output.c test/fuzz/replay_main.c
test_fuzz_fuzz_exec_output_replay_LDADD = $(TEST_LIBS)

if FUZZING
noinst_PROGRAMS += test/fuzz/fuzz_exec_output

# The rest of the broker (the backend registry the parser's helpers live in) comes from the
# libraries, uninstrumented.
test_fuzz_fuzz_exec_output_SOURCES = test/fuzz/fuzz_exec_output.c broker/backend_exec.c $(FUZZ_COMMON_SRC)
test_fuzz_fuzz_exec_output_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_exec_output_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_exec_output_LDADD = broker/libbroker.a common/libosbcommon.a $(DEP_LIBS)
endif

# fuzz_plugin_output: objects from a cluster as the kubectl plugins print them (-o yaml must read
# back as the same JSON) and their --param/--params-json/--secret-param values (plugins/).
FUZZ_REPLAY_PROGS += test/fuzz/fuzz_plugin_output_replay
FUZZ_REPLAY_TESTSCRIPTS_LIST += test/fuzz/replay-plugin-output.sh
EXTRA_DIST += test/fuzz/corpus/plugin-output

test_fuzz_fuzz_plugin_output_replay_SOURCES = test/fuzz/fuzz_plugin_output.c plugins/create.c \
	test/fuzz/replay_main.c
test_fuzz_fuzz_plugin_output_replay_LDADD = plugins/libcli.a kube/libkube.a $(TEST_LIBS)

if FUZZING
noinst_PROGRAMS += test/fuzz/fuzz_plugin_output

test_fuzz_fuzz_plugin_output_SOURCES = test/fuzz/fuzz_plugin_output.c plugins/create.c plugins/cli.c
test_fuzz_fuzz_plugin_output_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_plugin_output_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_plugin_output_LDADD = kube/libkube.a common/libosbcommon.a $(DEP_LIBS)
endif

# fuzz_osb_response: every broker answer the catalog controller reads (catalog, provision, bind,
# fetching a binding, last_operation): never a success with credentials that were not read, and
# no failure message that quotes the broker's bytes.
FUZZ_REPLAY_PROGS += test/fuzz/fuzz_osb_response_replay
FUZZ_REPLAY_TESTSCRIPTS_LIST += test/fuzz/replay-osb-response.sh
EXTRA_DIST += test/fuzz/corpus/osb-response

test_fuzz_fuzz_osb_response_replay_SOURCES = test/fuzz/fuzz_osb_response.c test/fuzz/replay_main.c
test_fuzz_fuzz_osb_response_replay_LDADD = catalog-controller/libcatctl.a $(TEST_LIBS)

if FUZZING
noinst_PROGRAMS += test/fuzz/fuzz_osb_response

test_fuzz_fuzz_osb_response_SOURCES = test/fuzz/fuzz_osb_response.c catalog-controller/osb_response.c $(FUZZ_COMMON_SRC)
test_fuzz_fuzz_osb_response_CFLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_osb_response_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
test_fuzz_fuzz_osb_response_LDADD = $(DEP_LIBS)
endif

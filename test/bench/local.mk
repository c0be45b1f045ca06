# test/bench/: benchmarks. Reported, never asserted as timed tests: NOT part of `make check`.
# `make bench` runs the broker benchmark, then the catalog-controller benchmark (below).
# The broker benchmark runs against this build's broker (needs wrk and curl);
# set DURATION, CONNECTIONS, INSTANCES, BENCH_TMPDIR in the environment to change it
# (see test/bench/broker/run.sh and docs/benchmarks.md).
BENCH_BROKER_FILES = \
	test/bench/broker/run.sh \
	test/bench/broker/catalog.lua \
	test/bench/broker/provision.lua \
	test/bench/broker/bind.lua
EXTRA_DIST += $(BENCH_BROKER_FILES)
# The benchmark's reference: a plain SQLite loop inserting the broker's row (built for it only).
EXTRA_PROGRAMS += test/bench/broker/sqlite-loop
test_bench_broker_sqlite_loop_SOURCES = test/bench/broker/sqlite-loop.c
test_bench_broker_sqlite_loop_LDADD = $(SQLITE_LIBS)
CLEANFILES += test/bench/broker/sqlite-loop

BENCH_CONTROLLER_FILES = \
	test/bench/controller/run.sh \
	test/bench/controller/catalog.json
EXTRA_DIST += $(BENCH_CONTROLLER_FILES)
BENCH_CONTROLLER_DEPS = test/apiserver/kube-testserver broker/osb-broker catalog-controller/catalog-controller

# `make bench` runs both benchmarks, one after the other (never in parallel, whatever -j says),
# and fails if either did. `make bench-broker` and `make bench-controller` run one.
bench: $(BENCH_CONTROLLER_DEPS)
	@rc=0; \
	$(MAKE) $(AM_MAKEFLAGS) bench-broker || rc=1; \
	$(MAKE) $(AM_MAKEFLAGS) bench-controller || rc=1; \
	exit $$rc

bench-broker: broker/osb-broker test/bench/broker/sqlite-loop
	SQLITE_LOOP='$(abs_top_builddir)/test/bench/broker/sqlite-loop' BUILDDIR='$(abs_top_builddir)' $(SHELL) '$(abs_top_srcdir)/test/bench/broker/run.sh' \
	  '$(abs_top_builddir)/broker/osb-broker'

# `make bench-controller [N='100 1000']`: the catalog-controller benchmark (needs kubectl, curl,
# jq, openssl); N instances and N bindings per plan, fresh servers for each N (see
# test/bench/controller/run.sh and docs/benchmarks.md). MODES, NAMESPACES, PARALLEL, TIMEOUT,
# POLL, RESULTS, BENCH_TMPDIR pass through from the environment or the make command line.
bench-controller: $(BENCH_CONTROLLER_DEPS)
	BUILDDIR='$(abs_top_builddir)' $(SHELL) '$(abs_top_srcdir)/test/bench/controller/run.sh' $(N)

.PHONY: bench bench-broker bench-controller

# test/bench/: benchmarks. Reported, never asserted as timed tests: NOT part of `make check`.
# `make bench` runs the broker benchmark against this build's broker (needs wrk and curl);
# set DURATION, CONNECTIONS, INSTANCES, BENCH_TMPDIR in the environment to change it
# (see test/bench/broker/run.sh and docs/benchmarks.md).
BENCH_BROKER_FILES = \
	test/bench/broker/run.sh \
	test/bench/broker/catalog.lua \
	test/bench/broker/provision.lua \
	test/bench/broker/bind.lua
EXTRA_DIST += $(BENCH_BROKER_FILES)

bench: broker/osb-broker
	BUILDDIR='$(abs_top_builddir)' $(SHELL) '$(abs_top_srcdir)/test/bench/broker/run.sh' \
	  '$(abs_top_builddir)/broker/osb-broker'

.PHONY: bench

# test/e2e/: the kubectl end-to-end harness (test/e2e/README.md). run.sh runs every t-*.sh,
# each against a fresh test API server (test/apiserver/kube-testserver), or against the cluster
# of $KUBECONFIG when it is set.
E2E_FILES = \
	test/e2e/lib.sh \
	test/e2e/t-discovery.sh \
	test/e2e/t-core.sh \
	test/e2e/t-crd.sh \
	test/e2e/t-semantics.sh \
	test/e2e/t-reads.sh \
	test/e2e/t-watch.sh \
	test/e2e/t-writes.sh \
	test/e2e/t-access.sh \
	test/e2e/t-badinput.sh \
	test/e2e/t-broker.sh \
	test/e2e/t-broker-idle.sh \
	test/e2e/t-instance.sh \
	test/e2e/t-binding.sh \
	test/e2e/t-adopt.sh \
	test/e2e/t-migrate.sh \
	test/e2e/t-secret-shapes.sh \
	test/e2e/t-hostile.sh \
	test/e2e/t-postgresql.sh \
	test/e2e/t-plugin-create.sh \
	test/e2e/t-params.sh \
	test/e2e/t-svcat.sh \
	test/e2e/t-leader.sh \
	test/e2e/t-shutdown.sh \
	test/e2e/t-deploy.sh \
	test/e2e/t-rotation.sh
EXTRA_DIST += $(E2E_FILES) test/e2e/run.sh test/e2e/run-shared-cluster.sh test/e2e/README.md test/e2e/fixtures
# make check runs the harness as two halves side by side (run.sh --shard).
E2E_SHARDS = test/e2e/run-shard-1.sh test/e2e/run-shard-2.sh
EXTRA_DIST += $(E2E_SHARDS)
TESTS += $(E2E_SHARDS)
# The t-broker* journeys also run Bindery's daemons, as local processes on loopback.
AM_TESTS_ENVIRONMENT += \
	KUBE_TESTSERVER='$(abs_top_builddir)/test/apiserver/kube-testserver'; export KUBE_TESTSERVER; \
	OSB_BROKER='$(abs_top_builddir)/broker/osb-broker'; export OSB_BROKER; \
	CATALOG_CONTROLLER='$(abs_top_builddir)/catalog-controller/catalog-controller'; export CATALOG_CONTROLLER;

# make e2e [E2E_TESTS='t-core t-watch']: the harness alone, with its output on the terminal.
# KUBECONFIG=~/.kube/config make e2e runs it against that cluster instead.
e2e: test/apiserver/kube-testserver $(bin_PROGRAMS) $(bin_SCRIPTS)
	@$(AM_TESTS_ENVIRONMENT) $(SHELL) $(srcdir)/test/e2e/run.sh $(E2E_TESTS)
.PHONY: e2e

# make e2e-shared [E2E_TESTS=...]: every test, one after the other, against one test API server
# named by $KUBECONFIG, as they run against a real cluster (test/e2e/run-shared-cluster.sh).
e2e-shared: test/apiserver/kube-testserver $(bin_PROGRAMS) $(bin_SCRIPTS)
	@$(AM_TESTS_ENVIRONMENT) $(SHELL) $(srcdir)/test/e2e/run-shared-cluster.sh $(E2E_TESTS)
.PHONY: e2e-shared

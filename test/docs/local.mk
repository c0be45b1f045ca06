# test/docs/: the documentation stays true to the programs.
TESTS += test/docs/check-help.sh
EXTRA_DIST += test/docs/check-help.sh build-aux/docs-help.sh

# make update-docs: rewrites the `--help` output quoted in the docs (test/docs/check-help.sh).
update-docs: broker/osb-broker catalog-controller/catalog-controller
	$(SHELL) $(srcdir)/build-aux/docs-help.sh update $(srcdir)/docs/broker.md osb-broker broker/osb-broker
	$(SHELL) $(srcdir)/build-aux/docs-help.sh update $(srcdir)/docs/controller.md catalog-controller catalog-controller/catalog-controller
.PHONY: update-docs

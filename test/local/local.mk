# test/local/: the local catalog (./run.sh, build-aux/local-catalog.sh) driven as the README says.
TESTS += test/local/check-local-catalog.sh
EXTRA_DIST += test/local/check-local-catalog.sh build-aux/local-catalog.sh

#!/bin/sh
# Sets everything up (Debian packages when run as root) and runs every test: the whole
# `make check` suite in a plain -Werror build and again in an ASan+UBSan build, the unit tests
# under valgrind, and `make distcheck`. Prints a summary line per stage; exits non-zero on any
# failure.
set -eu
top=$(cd "$(dirname "$0")" && pwd)
export BINDERY_EXTRA_PACKAGES="valgrind clang"
jobs=$(nproc)
status=0

stage() {
  name=$1; shift
  echo "== $name"
  if "$@"; then echo "== $name: ok"; else echo "== $name: FAILED"; status=1; fi
}

check_in() {
  dir=$1; shift
  # shellcheck disable=SC2068
  make -C "$dir" -j"$jobs" check $@ >"$dir/check.out" 2>&1
  rc=$?
  grep -E '^(# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR)|(PASS|FAIL|ERROR|SKIP): )' "$dir/check.out" || true
  if [ $rc -ne 0 ]; then
    for log in $(find "$dir" -name '*.log' -newer "$dir/Makefile" | grep -v -e config.log -e test-suite.log); do
      if grep -qE '^(FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null; then echo "---- $log"; tail -40 "$log"; fi
    done
  fi
  return $rc
}

stage "setup: plain build (-Werror)" "$top/build-aux/setup.sh" plain --enable-werror
stage "make check (plain)" check_in "$top/_build/plain"
stage "setup: sanitizer build (ASan+UBSan)" "$top/build-aux/setup.sh" san --enable-werror --enable-sanitizers CC=clang
stage "make check (ASan+UBSan)" check_in "$top/_build/san"
stage "setup: valgrind build" "$top/build-aux/setup.sh" valgrind --enable-valgrind-tests
stage "unit tests under valgrind" check_in "$top/_build/valgrind" 'TESTS=$(UNIT_TESTS)'
stage "make distcheck" make -C "$top/_build/plain" -j"$jobs" distcheck >"$top/_build/distcheck.out" 2>&1

if [ $status -eq 0 ]; then echo "test.sh: every stage passed"; else echo "test.sh: some stages FAILED"; fi
exit $status

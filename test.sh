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
passed=0
failed=0

stage() {
  name=$1; shift
  echo "== $name"
  if "$@"; then echo "== $name: ok"; else echo "== $name: FAILED"; status=1; failed=$((failed + 1)); fi
}

# Adds up the individual test cases in a build's test logs: check programs print
# "NN%: Checks: N, Failures: F, Errors: E"; the conformance runner and the integration and
# replay tests print "N passed, M failed".
count_cases() {
  for log in $(find "$1" -name '*.log' ! -name config.log ! -name test-suite.log ! -path '*/bindery-*/*'); do
    sed -n -e 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' \
           -e 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2 0 plain/p' "$log"
  done | {
    p=0 f=0
    while read -r a b c kind; do
      if [ "$kind" = plain ]; then p=$((p + a)); f=$((f + b)); else p=$((p + a - b - c)); f=$((f + b + c)); fi
    done
    echo "$p $f"
  }
}

check_in() {
  dir=$1; shift
  # shellcheck disable=SC2068
  make -C "$dir" -j"$jobs" check $@ >"$dir/check.out" 2>&1
  rc=$?
  grep -E '^(# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR)|(PASS|FAIL|ERROR|SKIP): )' "$dir/check.out" || true
  set -- $(count_cases "$dir")
  echo "cases in $(basename "$dir"): $1 passed, $2 failed"
  passed=$((passed + $1)); failed=$((failed + $2))
  if [ $rc -ne 0 ]; then
    for log in $(find "$dir" -name '*.log' -newer "$dir/Makefile" | grep -v -e config.log -e test-suite.log); do
      if grep -qE '^(FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null; then
        # The failing assertions first (a long log's last lines may be another program's), then its end.
        echo "---- $log: failures"
        grep -E ':[0-9]+:[FE]:|^not ok|invariant failed|AddressSanitizer|runtime error:|LeakSanitizer' "$log" | head -20
        echo "---- $log: last lines"; tail -40 "$log"
      fi
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
distcheck() {
  make -C "$top/_build/plain" -j"$jobs" distcheck >"$top/_build/distcheck.out" 2>&1 || {
    tail -40 "$top/_build/distcheck.out"; return 1; }
}
stage "make distcheck" distcheck

if [ $status -eq 0 ]; then echo "test.sh: every stage passed"; else echo "test.sh: some stages FAILED"; fi
echo "summary: $passed passed, $failed failed"
exit $status

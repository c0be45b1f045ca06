#!/bin/sh
# Sets everything up (Debian packages when run as root) and runs every test: the whole
# `make check` suite in a plain -Werror build (then its end-to-end tests once more, one after the
# other against one shared test API server, as against a real cluster) and again in an ASan+UBSan
# build, the unit tests
# under valgrind, and `make distcheck` (the tarball builds every program and passes a part of the
# suite: DISTCHECK_TESTS in test/local.mk). Prints a line per stage; for a failed test, its
# failing assertions, its last lines and the path of its whole log. The last line counts every
# stage: "summary: N passed, M failed". Exits non-zero on any failure.
set -eu
top=$(cd "$(dirname "$0")" && pwd)
# What only the tests use, on top of what building and running need (build-aux/setup.sh):
# valgrind; clang with its sanitizer runtime (libclang-rt-dev: clang alone, without recommends,
# cannot link -fsanitize=address); sqlite3 to read the broker's database in the e2e tests; the
# PostgreSQL server for the postgresql backend and store; PyYAML and Go for the deploy/ checks,
# and ca-certificates, a package of the images' runtime stage that check-dockerfiles.sh reads
# the dependencies of from this machine's package database.
export BINDERY_EXTRA_PACKAGES="valgrind clang libclang-rt-dev sqlite3 postgresql python3-yaml golang-go ca-certificates"
jobs=$(nproc)
status=0
passed=0
failed=0

# stage NAME COMMAND...: runs one stage; a failed stage counts one failure unless it counted its
# own (stage_failed, set by check_in and distcheck).
stage() {
  name=$1; shift
  echo "== $name ($(date -u +%H:%M:%S))"
  stage_failed=0
  if "$@"; then echo "== $name: ok"
  else
    echo "== $name: FAILED"; status=1
    [ "$stage_failed" -gt 0 ] || failed=$((failed + 1))
  fi
}

# Adds up the individual test cases in a build's test logs: check programs print
# "NN%: Checks: N, Failures: F, Errors: E"; the conformance runner, the e2e harness, the
# integration and replay tests print "N passed, M failed".
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

# case_detail DIR: the cases each test log counted, a line each ("LOG N"), and each end-to-end
# test's passes and skips ("LOG t-NAME P passed, S skipped"): two builds run the same tests, so
# a line that differs between them names a test whose number of cases varies.
case_detail() {
  for log in $(find "$1" -name '*.log' ! -name config.log ! -name test-suite.log ! -path '*/bindery-*/*' | sort); do
    n=$(sed -n -e 's/^[0-9]*%: Checks: \([0-9]*\),.*/\1/p' -e 's/^\([0-9]*\) passed, [0-9]* failed.*/\1/p' "$log" |
        awk '{ s += $1 } END { print s + 0 }')
    echo "${log#"$1"/} $n"
    sed -n -E 's/^(PASS|FAIL) (t-[a-z0-9-]+) \(([0-9]+) passed(, [0-9]+ failed)?(, ([0-9]+) skipped)?.*/\2 \3 passed\5/p' "$log" |
      sed "s|^|${log#"$1"/} |"
  done
}

# compare_cases A B: the lines of case_detail that differ between builds A and B, if any.
compare_cases() {
  [ -f "$top/_build/$1/cases.txt" ] && [ -f "$top/_build/$2/cases.txt" ] || return 0
  d=$(diff "$top/_build/$1/cases.txt" "$top/_build/$2/cases.txt" | grep '^[<>]' | sed -e "s/^</$1:/" -e "s/^>/$2:/")
  [ -z "$d" ] || { echo "cases counted differently by $1 and $2:"; echo "$d"; }
}

# show_failures DIR: for every test whose .trs says FAIL or ERROR, its failing assertions (a long
# log's last lines may be another program's), its last lines, and where its whole log is.
show_failures() {
  for trs in $(grep -lE '^:test-result: (FAIL|ERROR)' $(find "$1" -name '*.trs' ! -path "$1/bindery-*") 2>/dev/null); do
    log=${trs%.trs}.log
    echo "---- FAILED: ${log#"$1"/} (whole log: $log)"
    grep -E ':[0-9]+:[FE]:|^not ok|^FAIL |invariant failed|AddressSanitizer|runtime error:|LeakSanitizer|Segmentation|core dumped' "$log" | head -30
    echo "---- its last lines:"; tail -40 "$log"
  done
}

check_in() {
  dir=$1; shift
  find "$dir" \( -name '*.log' -o -name '*.trs' \) ! -name config.log ! -path '*/bindery-*/*' -delete 2>/dev/null || true
  rc=0
  # shellcheck disable=SC2068
  make -C "$dir" -j"$jobs" check $@ >"$dir/check.out" 2>&1 || rc=$?
  grep -E '^(# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR)|(PASS|FAIL|ERROR|SKIP): )' "$dir/check.out" || true
  case_detail "$dir" >"$dir/cases.txt"
  set -- $(count_cases "$dir")
  echo "cases in $(basename "$dir"): $1 passed, $2 failed"
  passed=$((passed + $1)); failed=$((failed + $2)); stage_failed=$2
  if [ $rc -ne 0 ]; then
    show_failures "$dir"
    # make check can fail before any test ran (a link error): show its output then.
    grep -qE '^# TOTAL' "$dir/check.out" || tail -40 "$dir/check.out"
  fi
  return $rc
}

# The end-to-end tests as they run against a real cluster: one after the other, against one test
# API server they share (test/e2e/run-shared-cluster.sh), with the plain build's programs.
e2e_shared() {
  rc=0
  out="$top/_build/plain/e2e-shared.out"
  make -C "$top/_build/plain" e2e-shared >"$out" 2>&1 || rc=$?
  set -- $(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out" | tail -1)
  p=${1:-0} f=${2:-0}
  [ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1
  grep -E '^(PASS|FAIL) t-' "$out" || true
  echo "cases in e2e against one shared server: $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f)); stage_failed=$f
  if [ $rc -ne 0 ]; then
    grep -E -A4 '^    not ok' "$out" | cut -c1-300 | head -80
    echo "---- the end of $out:"; tail -20 "$out"
  fi
  return $rc
}

distcheck() {
  rc=0
  make -C "$top/_build/plain" -j"$jobs" distcheck TESTS='$(DISTCHECK_TESTS)' \
    >"$top/_build/distcheck.out" 2>&1 || rc=$?
  p=$(sed -n 's/^# PASS: *\([0-9]*\)$/\1/p' "$top/_build/distcheck.out" | tail -1)
  f=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *\([0-9]*\)$/\2/p' "$top/_build/distcheck.out" | awk '{ s += $1 } END { print s + 0 }')
  echo "test programs in distcheck: ${p:-0} passed, $f failed"
  passed=$((passed + ${p:-0})); failed=$((failed + f)); stage_failed=$f
  if [ $rc -ne 0 ]; then
    d=$(ls -d "$top"/_build/plain/bindery-*/_build/sub 2>/dev/null | head -1)
    [ -n "$d" ] && show_failures "$d"
    echo "---- the end of $top/_build/distcheck.out:"; tail -40 "$top/_build/distcheck.out"
  fi
  return $rc
}

start=$(date +%s)
stage "setup: plain build (-Werror)" "$top/build-aux/setup.sh" plain --enable-werror
stage "make check (plain)" check_in "$top/_build/plain"
stage "e2e as against a real cluster (one shared test server)" e2e_shared
stage "setup: sanitizer build (ASan+UBSan)" "$top/build-aux/setup.sh" san --enable-werror --enable-sanitizers CC=clang
stage "make check (ASan+UBSan)" check_in "$top/_build/san"
compare_cases plain san
stage "setup: valgrind build" "$top/build-aux/setup.sh" valgrind --enable-valgrind-tests
stage "unit tests under valgrind" check_in "$top/_build/valgrind" 'TESTS=$(UNIT_TESTS)'
stage "make distcheck" distcheck

echo "test.sh: $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s"
if [ $status -eq 0 ]; then echo "test.sh: every stage passed"; else echo "test.sh: some stages FAILED"; fi
echo "summary: $passed passed, $failed failed"
exit $status

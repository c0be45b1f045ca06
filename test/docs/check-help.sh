#!/bin/sh
# test/docs/check-help.sh: the `--help` output each document quotes is the program's own
# (build-aux/docs-help.sh; `make update-docs` rewrites the quotes).
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${top_builddir:-.}
passed=0 failed=0
check() { # DOC NAME PROGRAM
  if sh "$top/build-aux/docs-help.sh" check "$top/$1" "$2" "$build/$3"; then
    echo "ok - $1 quotes '$2 --help' as it is"; passed=$((passed + 1))
  else
    echo "not ok - $1 quotes an outdated '$2 --help'"; failed=$((failed + 1))
  fi
}
check docs/broker.md osb-broker broker/osb-broker
check docs/controller.md catalog-controller catalog-controller/catalog-controller
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# test/osb/run-conformance.sh: make check's entry to the OSB conformance cases: runs
# test/osb/osb-conformance over $top_srcdir/osb-spec/cases against $OSB_BROKER. Extra arguments
# go to the runner (case names or globs, -v). The temporary directories of failed cases are kept
# (the runner prints where) so CI can collect broker.log.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
: "${OSB_BROKER:=$top_builddir/broker/osb-broker}"
runner="$top_builddir/test/osb/osb-conformance"
for f in "$OSB_BROKER" "$runner"; do
        if [ ! -x "$f" ]; then
                echo "run-conformance.sh: $f is not built" >&2
                exit 99  # hard error for the automake test driver
        fi
done
exec "$runner" --keep-logs --broker "$OSB_BROKER" "$top_srcdir/osb-spec/cases" "$@"

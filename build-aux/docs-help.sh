#!/bin/sh
# build-aux/docs-help.sh: keeps the `--help` output quoted in the docs equal to the programs'.
# A document quotes a program's help between the lines
#   <!-- BEGIN NAME --help (make update-docs writes this block) -->
#   <!-- END NAME --help -->
# Usage: docs-help.sh check|update DOC NAME PROGRAM
#   check   exits 1 (printing a diff) when the block differs from `PROGRAM --help`
#   update  rewrites the block in DOC
set -eu
mode=$1 doc=$2 name=$3 prog=$4
begin="<!-- BEGIN $name --help (make update-docs writes this block) -->"
end="<!-- END $name --help -->"
grep -qxF "$begin" "$doc" || { echo "$doc: no line '$begin'" >&2; exit 1; }
grep -qxF "$end" "$doc" || { echo "$doc: no line '$end'" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{ echo '```'; "$prog" --help; echo '```'; } >"$tmp/help"
# The document with the block replaced by the program's help.
awk -v begin="$begin" -v end="$end" -v help="$tmp/help" '
  $0 == begin { print; while ((getline line < help) > 0) print line; skip = 1; next }
  $0 == end { skip = 0 }
  !skip { print }' "$doc" >"$tmp/doc"
case $mode in
  check)
    if cmp -s "$doc" "$tmp/doc"; then exit 0; fi
    echo "$doc: the quoted '$name --help' differs from the program's (make update-docs):" >&2
    diff -u "$doc" "$tmp/doc" >&2 || true
    exit 1 ;;
  update)
    cmp -s "$doc" "$tmp/doc" || cp "$tmp/doc" "$doc" ;;
  *) echo "usage: docs-help.sh check|update DOC NAME PROGRAM" >&2; exit 2 ;;
esac

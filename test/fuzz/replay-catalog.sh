#!/bin/sh
# Replays the catalog fuzz corpus through fuzz_catalog (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_catalog_replay" "${top_srcdir:-.}/test/fuzz/corpus/catalog"

#!/bin/sh
# Replays the packed corpus through fuzz_packed (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_packed_replay" "${top_srcdir:-.}/test/fuzz/corpus/packed"

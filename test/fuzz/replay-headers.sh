#!/bin/sh
# Replays the header/path fuzz corpus through fuzz_headers (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_headers_replay" "${top_srcdir:-.}/test/fuzz/corpus/headers"

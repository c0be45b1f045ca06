#!/bin/sh
# Replays the request-body fuzz corpus through fuzz_request (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_request_replay" "${top_srcdir:-.}/test/fuzz/corpus/request"

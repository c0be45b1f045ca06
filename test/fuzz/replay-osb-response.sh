#!/bin/sh
# Replays the broker-answer corpus through fuzz_osb_response (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_osb_response_replay" "${top_srcdir:-.}/test/fuzz/corpus/osb-response"

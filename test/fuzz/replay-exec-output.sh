#!/bin/sh
# Replays the exec-backend program output corpus through fuzz_exec_output (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_exec_output_replay" "${top_srcdir:-.}/test/fuzz/corpus/exec-output"

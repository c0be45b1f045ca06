#!/bin/sh
# Replays the kubectl plugins' corpus (objects as a cluster may hold them, command-line values)
# through fuzz_plugin_output (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_plugin_output_replay" "${top_srcdir:-.}/test/fuzz/corpus/plugin-output"

#!/bin/sh
# Replays the YAML fuzz corpus through fuzz_yaml (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_yaml_replay" "${top_srcdir:-.}/test/fuzz/corpus/yaml"

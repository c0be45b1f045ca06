#!/bin/sh
# Replays the JSONPath/secretTransforms/parameters corpus through fuzz_jsonpath (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_jsonpath_replay" "${top_srcdir:-.}/test/fuzz/corpus/jsonpath"

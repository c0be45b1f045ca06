#!/bin/sh
# Replays the secretTemplate corpus through fuzz_template (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_template_replay" "${top_srcdir:-.}/test/fuzz/corpus/template"

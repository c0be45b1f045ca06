#!/bin/sh
# Replays the watch fuzz corpus through fuzz_watch (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_watch_replay" "${top_srcdir:-.}/test/fuzz/corpus/watch"

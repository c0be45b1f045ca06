#!/bin/sh
# Replays the kubeconfig fuzz corpus through fuzz_kubeconfig (make check; no libFuzzer needed).
set -e
exec "${top_builddir:-.}/test/fuzz/fuzz_kubeconfig_replay" "${top_srcdir:-.}/test/fuzz/corpus/kubeconfig"

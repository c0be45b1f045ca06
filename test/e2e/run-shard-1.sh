#!/bin/bash
# test/e2e/run-shard-1.sh: half of the end-to-end tests, for make check (see run.sh --shard).
exec bash "$(dirname "$0")/run.sh" --shard 1

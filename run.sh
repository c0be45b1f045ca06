#!/bin/sh
# Sets everything up (Debian packages when run as root, build) and starts osb-broker with its
# defaults: the built-in demo catalog, state in ./osb-broker.db, http://127.0.0.1:8080.
# Extra arguments go to osb-broker (see ./run.sh --help). Stop it with Ctrl-C.
set -eu
top=$(cd "$(dirname "$0")" && pwd)
"$top/build-aux/setup.sh" plain
export OSB_BROKER_ANNOUNCE=1
exec "$top/_build/plain/broker/osb-broker" "$@"

#!/bin/sh
# Installs the Debian packages Bindery needs (when run as root), then configures and builds it
# in _build/NAME. Usage: build-aux/setup.sh NAME [configure options...]
# Sourced by run.sh and test.sh; safe to run again (it only does what is missing).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
name=$1; shift

# What building and running need; test.sh adds what only the tests use (BINDERY_EXTRA_PACKAGES).
packages="build-essential autoconf automake pkg-config libmicrohttpd-dev libjansson-dev
  libsqlite3-dev libcurl4-openssl-dev uuid-dev libyaml-dev libpq-dev check openssl curl jq
  ${BINDERY_EXTRA_PACKAGES:-}"
missing=
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# kubectl drives the end-to-end tests; any kubectl on the PATH will do, else Debian's.
command -v kubectl >/dev/null 2>&1 || missing="$missing kubernetes-client"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages (a few minutes on a new machine):$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "setup: missing Debian packages:$missing" >&2
    echo "setup: run as root, or: sudo apt-get install$missing" >&2
    exit 1
  fi
fi

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ -n "$(find . -name local.mk -newer configure 2>/dev/null | head -1)" ] || [ Makefile.am -nt configure ]; then
  echo "setup: generating configure (bootstrap.sh)"
  ./bootstrap.sh >/dev/null
fi
build="$top/_build/$name"
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ] || [ "$(cat .bindery-config 2>/dev/null)" != "$*" ]; then
  echo "setup: configuring _build/$name${*:+ ($*)}"
  "$top/configure" "$@" >configure.out 2>&1 || { cat configure.out; exit 1; }
  echo "$*" >.bindery-config
fi
echo "setup: building in _build/$name (log: _build/$name/make.out)"
make -j"$(nproc)" >make.out 2>&1 || { tail -50 make.out; exit 1; }
echo "setup: built in $build"

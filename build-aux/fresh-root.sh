#!/bin/sh
# build-aux/fresh-root.sh: runs a command of this checkout inside a fresh Debian 12 (bookworm)
# root, as a new user's machine would be: debootstrap's minbase variant plus git, nothing else.
# The checkout is cloned into the root (committed files only, as `git clone` gives a user), the
# command runs there as root, so whatever it needs it must install itself; then the root is
# unmounted and removed, whatever happened.
#
#   build-aux/fresh-root.sh [--keep] COMMAND [ARGS...]     e.g. build-aux/fresh-root.sh ./test.sh
#
# Needs root and debootstrap (installed with apt-get when missing). The Debian mirror is the
# one this machine's own apt sources name. Environment:
#   FRESH_ROOT_DIR    where to build the root (default: a new directory under /var/tmp)
#   FRESH_ROOT_BASE   a tarball made by debootstrap --make-tarball, to skip the download
#                     (still a fresh root: it is unpacked anew every run)
# Exits with the command's exit status (or 1 when the root cannot be built).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
keep=
[ "${1:-}" = --keep ] && { keep=1; shift; }
[ $# -ge 1 ] || { echo "usage: $0 [--keep] COMMAND [ARGS...]" >&2; exit 2; }
die() { echo "fresh-root: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (it runs debootstrap, chroot and mount)"

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "fresh-root: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# The mirror this machine's apt uses for bookworm's main archive: the first URI of a deb822
# .sources file or a one-line sources.list entry that is not the security archive.
mirror() {
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) print $i; break } }' "$f"
  done
}
url=$(mirror | head -1)
[ -n "$url" ] || die "no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d"

root=${FRESH_ROOT_DIR:-$(mktemp -d /var/tmp/bindery-fresh-root.XXXXXX)}
mkdir -p "$root"
# It becomes /: mktemp made it 0700, which would lock every user but root out of everything
# (the PostgreSQL tests run the server as the postgres user).
chmod 755 "$root"

# Ends every process running inside the root, then unmounts what was mounted and removes it.
cleanup() {
  rc=$?
  trap - EXIT INT TERM HUP
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    case "$r" in "$root"|"$root"/*) kill -9 "${p#/proc/}" 2>/dev/null || true ;; esac
  done
  sleep 1
  # Deepest mount points first.
  for m in $(awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  if [ -z "$keep" ]; then
    if awk -v r="$root" '$2 == r || index($2, r "/") == 1 { f = 1 } END { exit !f }' /proc/mounts; then
      echo "fresh-root: something is still mounted under $root; not removing it" >&2
    else
      rm -rf "$root"
    fi
  else
    echo "fresh-root: kept $root"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

start=$(date +%s)
if [ -n "${FRESH_ROOT_BASE:-}" ]; then
  echo "fresh-root: unpacking $FRESH_ROOT_BASE into $root"
  debootstrap --variant=minbase --include=git --unpack-tarball="$FRESH_ROOT_BASE" bookworm "$root" "$url" \
    >"$root.debootstrap.log" 2>&1 || { tail -20 "$root.debootstrap.log" >&2; die "debootstrap failed"; }
else
  echo "fresh-root: debootstrap --variant=minbase --include=git bookworm into $root"
  debootstrap --variant=minbase --include=git bookworm "$root" "$url" \
    >"$root.debootstrap.log" 2>&1 || { tail -20 "$root.debootstrap.log" >&2; die "debootstrap failed"; }
fi
rm -f "$root.debootstrap.log"
echo "fresh-root: root ready in $(($(date +%s) - start)) s"

# What a booted machine has and a bare chroot lacks: the kernel's file systems, a resolver
# configuration for apt, and no service started by a package's install script (there is no
# init in a chroot; the tests start the servers they need themselves).
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
# debootstrap made the device nodes in $root/dev; a private pts instance and a shm (PostgreSQL
# needs it) are mounted on the root's own directories, so nothing propagates to this machine.
[ -c "$root/dev/null" ] || die "debootstrap made no /dev/null in the root"
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
ln -sf pts/ptmx "$root/dev/ptmx" 2>/dev/null || true
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

git clone -q --no-hardlinks "$top" "$root/root/bindery"
printf 'fresh-root: running %s in a clone of %s\n' "$*" "$(git -C "$top" rev-parse --short HEAD)"
set +e
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" CI="${CI:-}" \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /bin/sh -c 'cd /root/bindery && exec "$@"' fresh-root "$@"
rc=$?
set -e
printf 'fresh-root: %s exited %s after %s s in all\n' "$*" "$rc" "$(($(date +%s) - start))"
exit $rc

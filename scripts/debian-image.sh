#!/usr/bin/env bash
# Builds (or finds in the cache) a real, small Debian 12 (bookworm) guest
# disk for the inspection e2e tests, and prints its path on stdout.
#
#   scripts/debian-image.sh          # cached image path
#   scripts/debian-image.sh OUT      # the same, also copied to OUT (sparse)
#
# The image: a 1 GiB sparse raw disk, MBR with one Linux partition from
# 1 MiB to the end, ext4 (label debroot, UUID below) holding
# `debootstrap --variant=minbase bookworm`, hostname libguest-demo and an
# fstab mounting that UUID on /. Nothing is mounted to make it: mke2fs -d
# fills the filesystem from the directory debootstrap made.
#
# Inputs:  LIBGUEST_CACHE_DIR     cache root (default ${XDG_CACHE_HOME:-~/.cache}/libguest)
#          LIBGUEST_DEBIAN_MIRROR (default http://deb.debian.org/debian)
# Needs:   root (or sudo), debootstrap (installed here if missing), sfdisk, mke2fs >= 1.43
#
# The cache key is a hash of this script: change it and the image is rebuilt.
set -euo pipefail

ROOT_UUID=4c475354-deb1-4012-8000-00000000d3b1
HOSTNAME_=libguest-demo
SIZE_MIB=1024
PART_START=1048576
mirror=${LIBGUEST_DEBIAN_MIRROR:-http://deb.debian.org/debian}
out=${1:-}

die() { echo "debian-image: $*" >&2; exit 1; }
log() { echo "debian-image: $*" >&2; }

script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
cache=${LIBGUEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/libguest}
key=$(sha256sum "$script" | cut -c1-12)
image="$cache/images/debian-12-minbase-$key.img"

finish() {
  if [ -n "$out" ]; then
    cp --sparse=always "$image" "$out"
    chmod u+w "$out"
  fi
  echo "$image"
  exit 0
}

[ -f "$image" ] && finish

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

mkdir -p "$cache/images"
exec 9>"$cache/images/.debian-12.lock"
flock 9
[ -f "$image" ] && finish

if ! command -v debootstrap >/dev/null && [ ! -x /usr/sbin/debootstrap ]; then
  command -v apt-get >/dev/null || die "debootstrap is missing and there is no apt-get to install it"
  log "installing debootstrap"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq debootstrap >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"
for tool in debootstrap sfdisk mke2fs; do
  command -v "$tool" >/dev/null || die "'$tool' is missing: apt-get install debootstrap fdisk e2fsprogs"
done

# Work beside the cache (same filesystem: the rename is atomic; /tmp may be small).
work=$(mktemp -d "$cache/images/.debian-build.XXXXXX")
cleanup() {
  # debootstrap mounts /proc and /sys in the target; never delete through a mount.
  if [ -d "$work/root" ]; then
    for m in $(awk -v r="$work/root" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
      $sudo umount -l "$m" || true
    done
  fi
  $sudo rm -rf --one-file-system "$work"
}
trap cleanup EXIT

start=$(date +%s)
log "debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
if ! $sudo debootstrap --variant=minbase bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  [ -f "$work/root/debootstrap/debootstrap.log" ] && tail -n 30 "$work/root/debootstrap/debootstrap.log" >&2
  die "debootstrap failed"
fi

echo "$HOSTNAME_" | $sudo tee "$work/root/etc/hostname" >/dev/null
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$HOSTNAME_" | $sudo tee "$work/root/etc/hosts" >/dev/null
printf '# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=%s / ext4 defaults 0 1\n' "$ROOT_UUID" |
  $sudo tee "$work/root/etc/fstab" >/dev/null
$sudo rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*_* "$work/root/debootstrap"

log "making the disk"
truncate -s "${SIZE_MIB}M" "$work/disk.img"
printf 'label: dos\nlabel-id: 0x4c47deb1\nstart=%d, type=83\n' $((PART_START / 512)) |
  sfdisk -q "$work/disk.img" >/dev/null
$sudo mke2fs -q -F -t ext4 -U "$ROOT_UUID" -L debroot -d "$work/root" \
  -E "offset=$PART_START" "$work/disk.img" "$((SIZE_MIB - PART_START / 1048576))M"
$sudo chown "$(id -u):$(id -g)" "$work/disk.img"
chmod a-w "$work/disk.img"
rm -f "$cache/images/"debian-12-minbase-*.img # older recipes' images
mv "$work/disk.img" "$image"
log "built $image in $(( $(date +%s) - start )) s"
finish

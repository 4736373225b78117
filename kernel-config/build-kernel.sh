#!/usr/bin/env bash
# Builds (or finds in the cache) libguest's kernels from Debian's linux-source
# package or any kernel tree, and prints the path of the cached vmlinux.
#
#   kernel-config/build-kernel.sh appliance   # the kernel libguest boots
#   kernel-config/build-kernel.sh testhost    # appliance + KVM, for the e2e harness
#
# Inputs:  LIBGUEST_KERNEL_SRC  kernel source tree or tarball
#                               (default /usr/src/linux-source-6.12.tar.xz, then 6.1)
#          LIBGUEST_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-~/.cache}/libguest)
# Needs:   gcc make bc flex bison libelf-dev libssl-dev cpio xz-utils
#          (Debian: apt-get install build-essential bc flex bison libelf-dev libssl-dev cpio xz-utils linux-source-6.12)
#
# The cache key is the config fragments + this recipe + the source version + gcc,
# so a second run with the same inputs costs nothing.
set -euo pipefail

RECIPE_VERSION=1
kind=${1:-appliance}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${LIBGUEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/libguest}

die() { echo "build-kernel: $*" >&2; exit 1; }
log() { echo "build-kernel: $*" >&2; }

case "$kind" in
  appliance) fragments=("$here/appliance.config") ;;
  testhost)  fragments=("$here/appliance.config" "$here/testhost.config") ;;
  *) die "unknown kernel kind '$kind' (expected appliance or testhost)" ;;
esac

for tool in gcc make bc flex bison cpio xz; do
  command -v "$tool" >/dev/null || die "'$tool' is missing: apt-get install build-essential bc flex bison libelf-dev libssl-dev cpio xz-utils"
done

# --- which source, and a stable identity for it
src=${LIBGUEST_KERNEL_SRC:-}
if [ -z "$src" ]; then
  for v in 6.12 6.1; do
    if [ -f "/usr/src/linux-source-$v.tar.xz" ]; then src=/usr/src/linux-source-$v.tar.xz; break; fi
  done
  [ -n "$src" ] || die "no kernel source: apt-get install linux-source-6.12 (Debian 12: bookworm-security), or set LIBGUEST_KERNEL_SRC to a kernel tree or tarball"
fi
[ -e "$src" ] || die "LIBGUEST_KERNEL_SRC=$src does not exist"
if [ -d "$src" ]; then
  src_id="tree:$(cd "$src" && pwd):$(make -s -C "$src" kernelversion 2>/dev/null || echo unknown)"
elif pkg=$(dpkg-query -S "$src" 2>/dev/null | cut -d: -f1); then
  src_id="deb:$pkg:$(dpkg-query -W -f='${Version}' "$pkg")"
else
  src_id="tarball:$(sha256sum "$src" | cut -c1-16)"
fi

frag_hash=$(cat "$here/appliance.config" | sha256sum | cut -c1-12)
if [ "$kind" = testhost ]; then frag_hash=$(cat "${fragments[@]}" | sha256sum | cut -c1-12); fi
key=$( { echo "$RECIPE_VERSION"; echo "$src_id"; gcc --version | head -1; cat "${fragments[@]}"; } | sha256sum | cut -c1-12)
out_dir="$cache/kernels/$kind-$frag_hash-$key"
if [ -f "$out_dir/vmlinux" ]; then
  echo "$out_dir/vmlinux"
  exit 0
fi

mkdir -p "$cache/kernels" "$cache/kernel-build"
exec 9>"$cache/kernel-build/lock"
flock 9
if [ -f "$out_dir/vmlinux" ]; then echo "$out_dir/vmlinux"; exit 0; fi

# --- unpack once per source version
src_key=$(echo "$src_id" | sha256sum | cut -c1-12)
if [ -d "$src" ]; then
  tree=$(cd "$src" && pwd)
else
  tree="$cache/kernel-build/src-$src_key"
  if [ ! -f "$tree/.unpacked" ]; then
    log "unpacking $src"
    rm -rf "$tree"; mkdir -p "$tree"
    tar -xf "$src" -C "$tree" --strip-components=1
    touch "$tree/.unpacked"
  fi
fi

# One build directory per kind and source: a config change rebuilds
# incrementally instead of from scratch.
build="$cache/kernel-build/$kind-$src_key"
mkdir -p "$build"
log "configuring $kind kernel ($src_id) in $build"
make -s -C "$tree" O="$build" tinyconfig >/dev/null
"$tree/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "${fragments[@]}" >"$build/merge.log" 2>&1 \
  || { cat "$build/merge.log" >&2; die "merging the config fragments failed"; }
make -s -C "$tree" O="$build" olddefconfig >/dev/null

# Every option the fragments ask for must have survived olddefconfig.
missing=0
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=n) opt=${line%%=*}; if grep -q "^$opt=" "$build/.config"; then log "$opt should be off but is on"; missing=1; fi ;;
    CONFIG_*=*) grep -qxF "$line" "$build/.config" || { log "config option not applied: $line"; missing=1; } ;;
  esac
done < <(cat "${fragments[@]}")
[ "$missing" = 0 ] || die "the kernel config does not hold the fragment (dependencies missing in this source?)"

jobs=$(( $(nproc) + 1 ))
log "make -j$jobs vmlinux (a few minutes on 2 cores; cached afterwards)"
start=$(date +%s)
make -s -C "$tree" O="$build" -j"$jobs" vmlinux >"$build/build.log" 2>&1 \
  || { tail -40 "$build/build.log" >&2; die "kernel build failed; full log in $build/build.log"; }
log "built in $(( $(date +%s) - start )) s"

tmp="$out_dir.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
cp "$build/vmlinux" "$tmp/vmlinux"
cp "$build/.config" "$tmp/config"
echo "$src_id" >"$tmp/source"
mv "$tmp" "$out_dir"
echo "$out_dir/vmlinux"

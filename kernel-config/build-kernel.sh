#!/usr/bin/env bash
# Builds (or finds in the cache) libguest's kernels from Debian's linux-source
# package or any kernel tree, and prints the path of the cached vmlinux.
#
#   kernel-config/build-kernel.sh appliance   # the kernel libguest boots
#   kernel-config/build-kernel.sh testhost    # appliance + KVM, for the e2e harness
#
# Inputs:  LIBGUEST_KERNEL_SRC  kernel source tree or tarball
#                               (default /usr/src/linux-source-6.12.tar.xz, then 6.1)
#          LIBGUEST_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-~/.cache}/libguest,
#                               or /var/tmp/libguest-UID without HOME)
# Needs:   gcc make bc flex bison libelf-dev libssl-dev cpio xz-utils
#          (Debian: apt-get install build-essential bc flex bison libelf-dev libssl-dev cpio xz-utils linux-source-6.12)
#
# The cache key is the config fragments + this recipe + the source version + gcc,
# so a second run with the same inputs costs nothing.
#
# The cache is trusted only if it is ours, by the library's rule
# (appliance/src/cache.rs): the cache root and the directories in
# it belong to this user and are not writable by group or others (created
# 0700), nothing inside is a symbolic link, and every directory above it
# belongs to root or this user and is writable by others only with the
# sticky bit. Each kernel gets its sha256sum in vmlinux.sha256 beside it;
# the library boots only a vmlinux that matches it. The library checks all
# of this again, race-free, when it boots; these checks refuse to build
# into (or hand out a kernel from) a cache someone else could write.
set -euo pipefail
# Everything made here is private: the cache, the unpacked source, the build.
umask 077

RECIPE_VERSION=2  # 2: vmlinux.sha256 beside each kernel
kind=${1:-appliance}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
uid=$(id -u)
cache=${LIBGUEST_CACHE_DIR:-}
if [ -z "$cache" ]; then
  if [ -n "${XDG_CACHE_HOME:-}" ]; then cache=$XDG_CACHE_HOME/libguest
  elif [ -n "${HOME:-}" ]; then cache=$HOME/.cache/libguest
  else cache=/var/tmp/libguest-$uid
  fi
fi
case "$cache" in /*) ;; *) cache=$PWD/$cache ;; esac

die() { echo "build-kernel: $*" >&2; exit 1; }
log() { echo "build-kernel: $*" >&2; }

# --- the cache must be ours (see the rule above)
elsewhere="or set LIBGUEST_CACHE_DIR to a directory of your own"
# owned DIR|FILE: this user's, not writable by group or others, not a link.
owned() {
  [ ! -L "$1" ] || die "libguest cache $1 is a symbolic link: nothing inside the cache may be one; remove it"
  local owner mode
  read -r owner mode < <(stat -c '%u %a' -- "$1")
  [ "$owner" = "$uid" ] || die "libguest cache $1 belongs to uid $owner, not to you (uid $uid): another user could plant an appliance there; if it is yours, chown -R $uid $1, else remove it, $elsewhere"
  (( (8#$mode & 8#022) == 0 )) || die "libguest cache $1 is writable by group or others (mode $mode): another user could plant an appliance there; chmod go-w $1, $elsewhere"
}
# above ENTRY: a directory or link on the way to the cache root.
above() {
  local owner mode
  read -r owner mode < <(stat -c '%u %a' -- "$1")
  [ "$owner" = 0 ] || [ "$owner" = "$uid" ] \
    || die "$1, on the way to the libguest cache $cache, belongs to uid $owner (neither root nor you, uid $uid), so another user could replace the cache; set LIBGUEST_CACHE_DIR to a directory under ones only you (or root) can write"
  if [ -d "$1" ] && [ ! -L "$1" ] && (( (8#$mode & 8#022) != 0 && (8#$mode & 8#1000) == 0 )); then
    die "$1, on the way to the libguest cache $cache, is writable by group or others without the sticky bit (mode $mode), so another user could replace the cache; set LIBGUEST_CACHE_DIR to a directory under ones only you (or root) can write"
  fi
}
# walk PATH LAST: `above` for / and each existing prefix of PATH (links as
# links); the last component only when LAST=link and it is a link.
walk() {
  local p="" part parts
  IFS=/ read -ra parts <<<"${1#/}"
  above /
  local n=${#parts[@]} i=0
  for part in "${parts[@]}"; do
    i=$((i + 1))
    [ -n "$part" ] || continue
    p=$p/$part
    [ -e "$p" ] || [ -L "$p" ] || break
    if [ "$i" -lt "$n" ]; then above "$p"; elif [ "$2" = link ] && [ -L "$p" ]; then above "$p"; fi
  done
}
walk "$cache" link            # as written: links on the way, and a linked root
[ -e "$cache" ] || mkdir -p -- "$cache"
[ -d "$cache" ] || die "libguest cache $cache is not a directory; remove it, $elsewhere"
real=$(realpath -e -- "$cache")
walk "$real" none             # where the links lead
read -r owner mode < <(stat -L -c '%u %a' -- "$cache")
[ "$owner" = "$uid" ] || die "libguest cache $cache belongs to uid $owner, not to you (uid $uid): another user could plant an appliance there; if it is yours, chown -R $uid $real, else remove it, $elsewhere"
(( (8#$mode & 8#022) == 0 )) || die "libguest cache $cache is writable by group or others (mode $mode): another user could plant an appliance there; chmod go-w $real, $elsewhere"
cache=$real
for sub in kernels kernel-build; do
  [ -e "$cache/$sub" ] || [ -L "$cache/$sub" ] || mkdir -- "$cache/$sub"
  owned "$cache/$sub"
done

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
# cached: the kernel and its record are ours, and the kernel matches it.
cached() {
  [ -e "$out_dir" ] || [ -L "$out_dir" ] || return 1
  owned "$out_dir"
  [ -e "$out_dir/vmlinux" ] && [ -e "$out_dir/vmlinux.sha256" ] || return 1
  owned "$out_dir/vmlinux"
  owned "$out_dir/vmlinux.sha256"
  (cd "$out_dir" && sha256sum --quiet --status -c vmlinux.sha256) && return 0
  log "$out_dir/vmlinux does not match its vmlinux.sha256: building it again"
  return 1
}
if cached; then
  echo "$out_dir/vmlinux"
  exit 0
fi

exec 9>"$cache/kernel-build/lock"
flock 9
if cached; then echo "$out_dir/vmlinux"; exit 0; fi

# --- unpack once per source version
src_key=$(echo "$src_id" | sha256sum | cut -c1-12)
if [ -d "$src" ]; then
  tree=$(cd "$src" && pwd)
else
  tree="$cache/kernel-build/src-$src_key"
  if [ ! -f "$tree/.unpacked" ]; then
    log "unpacking $src"
    rm -rf "$tree"; mkdir -p "$tree"
    # The archive's owners and modes are not kept: the tree stays private.
    tar -xf "$src" -C "$tree" --strip-components=1 --no-same-owner --no-same-permissions
    touch "$tree/.unpacked"
  fi
fi

# One build directory per kind and source: a config change rebuilds
# incrementally instead of from scratch.
build="$cache/kernel-build/$kind-$src_key"
mkdir -p "$build"
owned "$build"
[ -d "$src" ] || owned "$tree"
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
# The record of the bytes just copied, in the same private directory.
(cd "$tmp" && sha256sum vmlinux >vmlinux.sha256)
# A stale entry (one that failed its check) goes first.
rm -rf "$out_dir"
mv "$tmp" "$out_dir"
echo "$out_dir/vmlinux"

#!/usr/bin/env bash
# Diffs `libguest inspect --xml` with the real virt-inspector (Debian's
# guestfs-tools) on the same image, read-only. The <icon> element is left
# out (libguest has no inspect_get_icon yet). Exit status: diff's.
#   scripts/compare-virt-inspector.sh IMAGE [LIBGUEST_BINARY]
set -euo pipefail
image=${1:?usage: $0 IMAGE [LIBGUEST_BINARY]}
libguest=${2:-target/release/libguest}
command -v virt-inspector >/dev/null || {
  echo "compare-virt-inspector: virt-inspector not found: apt-get install guestfs-tools" >&2
  exit 2
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# libguestfs on hosts whose KVM cannot run Linux: TCG.
tcg=()
[ "${LIBGUESTFS_BACKEND_SETTINGS:-}" ] || tcg=(env LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg)
"${tcg[@]}" virt-inspector -a "$image" | sed '/<icon>/,/<\/icon>/d' > "$tmp/virt-inspector.xml"
"$libguest" --ro -a "$image" inspect --xml > "$tmp/libguest.xml"
diff -u "$tmp/virt-inspector.xml" "$tmp/libguest.xml"

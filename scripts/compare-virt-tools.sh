#!/usr/bin/env bash
# Runs libguestfs's virt-* tools (Debian's guestfish and guestfs-tools
# packages, and linux-image-amd64 for their appliance) and libguest's
# multi-call names with the same arguments on the disk compare-disk.sh
# builds, and compares stdout and exit status. Not part of the CI test
# command. Prints SAME/DIFF per invocation and the score; exit 0 when all
# match.
#   scripts/compare-virt-tools.sh [LIBGUEST_BINARY]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
libguest=${1:-target/release/libguest}
command -v virt-ls >/dev/null || {
  echo "compare-virt-tools: virt-ls not found: apt-get install guestfish guestfs-tools linux-image-amd64" >&2
  exit 2
}
# The default binary is rebuilt (a no-op when current): a stale one would
# compare an older libguest.
[ -n "${1:-}" ] || cargo build --release -q -p libguest-cli
libguest=$(realpath "$libguest")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash scripts/compare-disk.sh "$tmp/c.img" "$libguest" || exit 2
cd "$tmp"
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"
m="-a c.img -m /dev/sda1"
invocations=(
  "virt-filesystems -a c.img"
  "virt-filesystems -a c.img --all --long -h"
  "virt-filesystems -a c.img --all --long"
  "virt-filesystems -a c.img --long --csv"
  "virt-filesystems -a c.img --all --long --csv"
  "virt-filesystems -a c.img --partitions --long"
  "virt-filesystems -a c.img --all --long --uuid"
  "virt-df -a c.img"
  "virt-df -a c.img -h"
  "virt-df -a c.img --csv"
  "virt-df -a c.img --inodes"
  "virt-ls $m /etc"
  "virt-ls $m -R /etc"
  "virt-ls $m -l /etc"
  "virt-ls $m -lR /etc"
  "virt-ls $m --csv -lR /etc"
  "virt-ls $m --checksum -lR /etc/dir"
  "virt-ls $m -lR --uids --times --extra-stats /etc/dir"
  "virt-ls $m -lR --time-days /etc/dir"
  "virt-cat $m /etc/fstab"
  "virt-alignment-scan -a c.img"
)
same=0
for cmd in "${invocations[@]}"; do
  $cmd > real.out 2> real.err; real=$?
  "$libguest" $cmd > ours.out 2> ours.err; ours=$?
  if cmp -s real.out ours.out && [ "$real" = "$ours" ]; then
    same=$((same + 1))
    echo "SAME: $cmd"
  else
    echo "DIFF: $cmd (exit $real vs $ours)"
    diff -u --label libguestfs --label libguest real.out ours.out | tail -n +3 | head -20
  fi
done
echo "compare-virt-tools: $same of ${#invocations[@]} invocations print the same as libguestfs's tools"
[ "$same" -eq "${#invocations[@]}" ]

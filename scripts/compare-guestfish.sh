#!/usr/bin/env bash
# Runs one guestfish script through the real guestfish (Debian's guestfish
# package) and through libguest on the same disk, read-only, and diffs their
# standard output command by command. Not part of the CI test command: it
# needs guestfish and a host kernel for its appliance (linux-image-amd64).
#   scripts/compare-guestfish.sh [SCRIPT [LIBGUEST_BINARY]]
# SCRIPT defaults to scripts/compare-guestfish.fish, run on a disk this
# script builds with libguest. Each command runs with guestfish's `-` prefix
# (an error does not stop the rest); its output is compared whole. Prints
# each differing command with a diff, then the score; exit 0 when all match.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
script=${1:-scripts/compare-guestfish.fish}
libguest=${2:-target/release/libguest}
command -v guestfish >/dev/null || {
  echo "compare-guestfish: guestfish not found: apt-get install guestfish linux-image-amd64" >&2
  exit 2
}
# The default binary is rebuilt (a no-op when current): a stale one would
# compare an older libguest.
[ -n "${2:-}" ] || cargo build --release -q -p libguest-cli
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
disk=$tmp/disk.img

# The disk the default script reads, written by libguest.
bash scripts/compare-disk.sh "$disk" "$libguest"

# Every command behind `echo @@ N` and with guestfish's `-` prefix.
numbered=$tmp/numbered.fish
n=0
declare -a commands=()
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  n=$((n + 1))
  commands[n]=$line
  printf 'echo @@ %d\n-%s\n' "$n" "$line" >> "$numbered"
done < "$script"

run_guestfish() {
  env LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}" \
    guestfish --ro -a "$disk" -f "$numbered" 2>"$tmp/guestfish.err" || true
}
run_libguest() {
  "$libguest" --ro -a "$disk" -f "$numbered" 2>"$tmp/libguest.err" || true
}
keep_errors() { [ -z "${COMPARE_ERRORS:-}" ] || cp "$tmp"/*.err "$COMPARE_ERRORS"/; }
# guestfish needs `run` first; libguest launches on first use.
sed -i '1i run' "$numbered"
run_guestfish > "$tmp/guestfish.out"
run_libguest > "$tmp/libguest.out"
keep_errors

split_out() { # FILE DIR: one file per command
  mkdir -p "$2"
  # A result without a final newline (a buffer) leaves the next marker
  # at the end of its last line: that line's start is the result's.
  awk -v dir="$2" '
    match($0, /@@ [0-9]+$/) {
      if (f && RSTART > 1) printf "%s", substr($0, 1, RSTART - 1) > f
      f = dir "/" substr($0, RSTART + 3); printf "" > f; next
    }
    f { print > f }' "$1"
}
split_out "$tmp/guestfish.out" "$tmp/g"
split_out "$tmp/libguest.out" "$tmp/l"
same=0
for i in $(seq 1 "$n"); do
  touch "$tmp/g/$i" "$tmp/l/$i"
  if cmp -s "$tmp/g/$i" "$tmp/l/$i"; then
    same=$((same + 1))
  else
    echo "=== ${commands[i]}"
    diff -u --label guestfish --label libguest "$tmp/g/$i" "$tmp/l/$i" | tail -n +3 | head -20 || true
  fi
done
echo "compare-guestfish: $same of $n commands print the same as guestfish"
[ "$same" -eq "$n" ]

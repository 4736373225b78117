#!/usr/bin/env bash
# Runs every fuzz target for a while (default 60 s each). cargo fuzz needs
# nightly-only flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"
seconds=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
for target in $(RUSTC_BOOTSTRAP=1 cargo fuzz list); do
  echo "fuzz: $target for $seconds s" >&2
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time="$seconds"
done

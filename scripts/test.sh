#!/usr/bin/env bash
# Every test: formatting, lints, unit tests and the e2e tests that boot the
# real appliance through our VMM (inside the TCG test host where /dev/kvm
# cannot run Linux).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy -q --workspace --all-targets -- -D warnings
cargo test --workspace

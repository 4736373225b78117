#!/usr/bin/env bash
# The main job: set everything up, launch the appliance through libguest's
# in-process VMM and print how long launch() took. Where /dev/kvm cannot
# run Linux (see shared/KVM-HERE.md) it runs inside the TCG test host.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo build --release -q -p libguest -p libguest-tests --bins
. scripts/lib.sh
if kvm_runs_linux; then
  exec target/release/libguest launch "$@"
else
  echo "main: /dev/kvm here cannot run Linux; running inside the nested-KVM test host" >&2
  exec target/release/in-testhost target/release/libguest launch "$@"
fi

#!/usr/bin/env bash
# The main job, as a user would run it: set everything up, build (or reuse
# from the cache) a real Debian 12 disk image, and print its
# /etc/os-release through libguest: `libguest --ro -a debian.img -i cat
# /etc/os-release`. Where /dev/kvm cannot run Linux (shared/KVM-HERE.md)
# libguest says so in one line and runs the appliance under qemu TCG.
# Extra arguments replace the command, e.g. `./scripts/main.sh inspect`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo build --release -q -p libguest-cli
image=$(bash scripts/debian-image.sh)
if [ $# -eq 0 ]; then
  set -- cat /etc/os-release
fi
start=$(date +%s%N)
target/release/libguest --ro -a "$image" -i "$@"
echo "main: done in $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2

#!/usr/bin/env bash
# Every test: formatting, lints, unit tests and the e2e tests that boot the
# real appliance through our VMM (inside the TCG test host where /dev/kvm
# cannot run Linux).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy -q --workspace --all-targets -- -D warnings
# guest-init's hooks and control loop are behind its test-hooks feature.
cargo clippy -q -p guest-init --all-targets --features test-hooks -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# One test at a time: the e2e tests emulate whole machines (qemu TCG, and
# nested KVM inside the test host), and two at once on 2 cores starve the
# nested KVM into the fault the harness retries.
cargo test --workspace --features guest-init/test-hooks --no-fail-fast -- --test-threads=1 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The Python binding: pip install ./python, then pytest (python/tests).
bash scripts/python-test.sh 2>&1 | tee -a "$log"
python_status=${PIPESTATUS[0]}
[ "$status" -ne 0 ] || status=$python_status
set -e
# One closing line for the whole run (cargo's last line is a doc-test
# binary's, often "0 passed"). Lines from inside the test host are prefixed
# and not counted twice.
passed=$(grep -E '^test result:' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -E '^test result:' "$log" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
python_passed=$(grep -E '^python tests:' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
python_failed=$(grep -E '^python tests:' "$log" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
# No summary line at all (the install failed) counts as a failure.
grep -qE '^python tests:' "$log" || python_failed=1
passed=$((passed + python_passed))
failed=$((failed + python_failed))
# Appliance triple faults under the emulated nested KVM, each rerun once
# by the harness (issue 10, item 11): counted so none goes unseen.
reruns=$(grep -c '^e2e .*LIBGUEST-E2E-TRIPLE-FAULT' "$log" || true)
echo "appliance triple faults rerun: $reruns"
# Test hosts that stopped running (no heartbeat), each rerun once likewise.
wedges=$(grep -c '^e2e .*LIBGUEST-E2E-TESTHOST-WEDGED' "$log" || true)
echo "test hosts wedged, rerun: $wedges"
echo "tests: $passed passed, $failed failed"
exit "$status"

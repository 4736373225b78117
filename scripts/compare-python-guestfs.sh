#!/usr/bin/env bash
# Runs the same Python script against libguestfs's binding (Debian's
# python3-guestfs, /usr/bin/python3) and against libguest's compatibility
# layer (libguest.guestfs, from the virtualenv scripts/python-test.sh
# makes), and diffs what the calls return:
#
#   scripts/compare-python-guestfs.sh [IMAGE]     # default: the Debian test image
#
# The scripts are python/tests/inspect_vm.py (libguestfs's own example)
# and python/compare/probe.py. No output from diff means no difference.
# Needs: apt install python3-guestfs; libguestfs under TCG here
# (LIBGUESTFS_BACKEND_SETTINGS=force_tcg is set when /dev/kvm cannot run Linux).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
image=${1:-$(bash scripts/debian-image.sh)}
venv=target/python-venv
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import libguest" 2>/dev/null ||
  { echo "compare: run scripts/python-test.sh first (it installs libguest into $venv)" >&2; exit 1; }
/usr/bin/python3 -c "import guestfs" 2>/dev/null ||
  { echo "compare: libguestfs's Python binding is missing: apt install python3-guestfs" >&2; exit 1; }
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
if ! grep -qw -e vmx -e svm /proc/cpuinfo || lsmod 2>/dev/null | grep -q kvm_pvm; then
  export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sed 's/^import libguest.guestfs as guestfs$/import guestfs/' python/tests/inspect_vm.py > "$out/inspect_vm_guestfs.py"
/usr/bin/python3 "$out/inspect_vm_guestfs.py" "$image" > "$out/example.libguestfs"
(cd /tmp && "$OLDPWD/$venv/bin/python" "$OLDPWD/python/tests/inspect_vm.py" "$image" 2>/dev/null) > "$out/example.libguest"
diff -u "$out/example.libguestfs" "$out/example.libguest"
/usr/bin/python3 python/compare/probe.py guestfs "$image" > "$out/probe.libguestfs"
(cd /tmp && "$OLDPWD/$venv/bin/python" "$OLDPWD/python/compare/probe.py" libguest "$image" 2>/dev/null) > "$out/probe.libguest"
diff -u "$out/probe.libguestfs" "$out/probe.libguest"
echo "compare: $(wc -l < "$out/probe.libguest") probe lines and the example: no difference" >&2

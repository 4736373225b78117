#!/usr/bin/env bash
# The Python binding's tests: `pip install ./python` (the same command the
# README gives, with cargo's dev profile to reuse the test build) into a
# fresh virtualenv under target/, then pytest on python/tests. Prints one
# line for scripts/test.sh: "python tests: N passed, M failed".
#
# Needs python3 with venv and pip, and PyPI for maturin and pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=target/python-venv
# Versions pinned here, in one place.
requirements=(maturin==1.16.0 pytest==9.2.0)
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "${requirements[@]}"
PATH="$PWD/$venv/bin:$PATH" MATURIN_PEP517_ARGS="--profile dev" \
  "$venv/bin/pip" install -q --disable-pip-version-check --no-build-isolation ./python
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +e
# From outside the source tree, so that `import libguest` is the
# installed package.
(cd /tmp && "$OLDPWD/$venv/bin/pytest" -p no:cacheprovider -v --junitxml="$report" "$OLDPWD/python/tests")
status=$?
set -e
"$venv/bin/python" - "$report" <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
tests = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print("python tests: %d passed, %d failed" % (tests - bad - skipped, bad + skipped))
PY
exit "$status"

#!/usr/bin/env bash
# py_test.sh — runs a Python test script in the build's virtual environment, made on first use
# from Debian's /usr/bin/python3 (--system-site-packages, so Debian's python3-torch is seen)
# with tests/python/requirements.txt installed from PyPI.
#
#   tools/py_test.sh BUILD_DIR SCRIPT [ARGS...]
#
# Where the environment cannot be made (no python3-venv, no network), the test is reported as
# skipped (exit 77) — unless INGOT_REQUIRE_PY_TESTS=1 (CI sets it), where that is a failure.
set -uo pipefail
build=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
env=$build/pyenv
req=$root/tests/python/requirements.txt
unavailable() {
    echo "py_test.sh: $1" >&2
    [ "${INGOT_REQUIRE_PY_TESTS:-0}" = 1 ] && exit 1
    exit 77
}
# one environment per build, rebuilt when the requirements change; made under a lock, since
# ctest runs Python tests in parallel
exec 9>"$build/pyenv.lock"
flock 9
if [ ! -x "$env/bin/python" ] || ! cmp -s "$req" "$env/requirements.txt"; then
    rm -rf "$env"
    /usr/bin/python3 -m venv --system-site-packages "$env" >/dev/null 2>&1 ||
        unavailable "cannot make a virtual environment (apt-get install python3-venv)"
    "$env/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >"$build/pyenv.log" 2>&1 ||
        unavailable "pip could not install $req (see $build/pyenv.log)"
    cp "$req" "$env/requirements.txt"
fi
flock -u 9
exec "$env/bin/python" "$@"

#!/usr/bin/env bash
# Run `ansible-test sanity` and `ansible-test units` offline against this checkout.
#
#   tests/sanity/run-ansible-test.sh            # sanity, then units
#   tests/sanity/run-ansible-test.sh sanity     # only sanity
#   tests/sanity/run-ansible-test.sh units      # only units
#
# ansible-test needs the collection at a path ending in
# ansible_collections/voiceagent/models (a symlink is not enough), so the
# checkout is bind-mounted there (or copied where mount is not allowed, or when
# VOICEAGENT_TEST_COPY=1). Reports land in tests/output/ (git-ignored).
# `--venv` makes ansible-test build its own virtual environments; their pip
# bootstrap is a download, replaced by the local stand-in get_pip_standin.py.
#
# Nothing is written outside the checkout (but a mktemp folder under /tmp, removed at exit):
# ansible-test keeps its cache and sanity virtual environments under ~/.ansible/test, so it
# runs with HOME=$ANSIBLE_TEST_HOME (default .ansible/test-home, git-ignored); pip's cache goes
# to $PIP_CACHE_DIR (default .cache/pip).
#
#   BIN=.venv-matrix/2.16/bin tests/sanity/run-ansible-test.sh sanity   # another ansible-core
#                                                      # (make test-matrix; tests/sanity/ignore-X.Y.txt)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${BIN:-$ROOT/.venv/bin}"
# The Python of $BIN (ansible-test --python); 3.11 for .venv.
PYVER="${PYVER:-$("$BIN/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}"
export ANSIBLE_TEST_HOME="${ANSIBLE_TEST_HOME:-$ROOT/.ansible/test-home}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$ROOT/.cache/pip}"
mkdir -p "$ANSIBLE_TEST_HOME"
WHAT=("$@")
[ ${#WHAT[@]} -gt 0 ] || WHAT=(sanity units)

# 1. Offline pip bootstrap for the ansible-test virtual environments.
PIP_VERSION="$("$BIN/python" - <<'PY'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1).replace(".", "_"))
PY
)"
CACHE="$ANSIBLE_TEST_HOME/.ansible/test/cache"
mkdir -p "$CACHE"
rm -f "$CACHE/get_pip_${PIP_VERSION}.py.download"
if ! cmp -s "$ROOT/tests/sanity/get_pip_standin.py" "$CACHE/get_pip_${PIP_VERSION}.py"; then
    if [ -s "$CACHE/get_pip_${PIP_VERSION}.py" ] && ! grep -q "Offline stand-in" "$CACHE/get_pip_${PIP_VERSION}.py"; then
        echo "keeping the real bootstrap script already at $CACHE/get_pip_${PIP_VERSION}.py"
    else
        cp "$ROOT/tests/sanity/get_pip_standin.py" "$CACHE/get_pip_${PIP_VERSION}.py"
    fi
fi

# 2. The collection under ansible_collections/voiceagent/models.
WORK="$(mktemp -d /tmp/voiceagent-ansible-test.XXXXXX)"
TARGET="$WORK/ansible_collections/voiceagent/models"
mkdir -p "$TARGET"
MOUNTED=0
cleanup() {
    cd /
    if [ "$MOUNTED" = 1 ]; then
        umount "$TARGET" || umount -l "$TARGET" || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
if [ -z "${VOICEAGENT_TEST_COPY:-}" ] && mount --bind "$ROOT" "$TARGET" 2>/dev/null; then
    MOUNTED=1
else
    # No mount (not root, or no CAP_SYS_ADMIN): copy what git would ship.
    echo "copying the checkout (no bind mount)"
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' path; do
              if [ -e "$path" ] || [ -L "$path" ]; then cp --parents -P -- "$path" "$TARGET"/; fi
          done)
    cp -a "$ROOT/.git" "$TARGET/.git" 2>/dev/null || true
fi
cd "$TARGET"

export PATH="$BIN:$PATH"
export HOME="$ANSIBLE_TEST_HOME"
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_CONFIG ANSIBLE_HOME
rc=0
for what in "${WHAT[@]}"; do
    start=$(date +%s)
    case "$what" in
        sanity) "$BIN/ansible-test" sanity --venv --python "$PYVER" --color no || rc=$? ;;
        units)  "$BIN/ansible-test" units --venv --python "$PYVER" --color no || rc=$? ;;
        *) echo "unknown: $what (sanity|units)"; exit 2 ;;
    esac
    echo "ansible-test $what: $(( $(date +%s) - start )) s (rc so far $rc)"
done
exit "$rc"

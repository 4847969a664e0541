#!/usr/bin/env bash
# Render the execution environment's build context offline (CI), and check what ansible-builder
# will install for this collection. Building the image needs podman or docker and stays a
# documented step (docs/operator-guide.md, "AWX").
#
#   tests/sanity/run-ansible-builder.sh     # uses $BIN/ansible-builder (pinned in requirements-dev.txt)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${BIN:-$ROOT/.venv/bin}"
ANSIBLE_BUILDER="${ANSIBLE_BUILDER:-$BIN/ansible-builder}"
cd "$ROOT"

VERSION="$("$BIN/python" -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')"
WORK="$(mktemp -d /tmp/voiceagent-ee.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# 1. The tarball that execution-environment.yml copies into the context.
mkdir -p build
"$BIN/ansible-galaxy" collection build --force --output-path build . >/dev/null
test -f "build/voiceagent-models-$VERSION.tar.gz"
grep -q "voiceagent-models-$VERSION.tar.gz" execution-environment.yml \
    || { echo "execution-environment.yml does not name voiceagent-models-$VERSION.tar.gz"; exit 1; }

# 2. ansible-builder renders the context (no container engine, no network).
"$ANSIBLE_BUILDER" create -f execution-environment.yml -c "$WORK/context" --output-filename Containerfile
test -s "$WORK/context/Containerfile"
test -s "$WORK/context/_build/collections/voiceagent-models-$VERSION.tar.gz"
test -s "$WORK/context/_build/requirements.yml"

# 3. What the builder stage's introspection will find in the installed collection.
ANSIBLE_COLLECTIONS_PATH="$WORK/collections" "$BIN/ansible-galaxy" collection install --offline --force -p "$WORK/collections" \
    "build/voiceagent-models-$VERSION.tar.gz" >/dev/null
"$BIN/python" "$WORK/context/_build/scripts/introspect.py" introspect "$WORK/collections" \
    --write-pip="$WORK/requirements.txt" --write-bindep="$WORK/bindep.txt" >/dev/null
echo "--- python requirements the EE gets:"; cat "$WORK/requirements.txt"
echo "--- system requirements the EE gets:"; cat "$WORK/bindep.txt"
grep -q '^psutil' "$WORK/requirements.txt"
grep -q '^jsonschema' "$WORK/requirements.txt"
echo "ansible-builder create: build context rendered (Containerfile + _build/)"

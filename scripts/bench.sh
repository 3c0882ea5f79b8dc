#!/usr/bin/env bash
# Benchmarks, reproduced with one command: writes BENCHMARKS.md.
#   1. cargo bench --bench serve: cold start, tool latency (1k / 10k in scope, 1M rows),
#      peak RSS and many clients, against the release binary (the "serve" section);
#   2. mcpbench (../shared/mcpbench, or $MCPBENCH): this server side by side with
#      @modelcontextprotocol/server-memory and a do-nothing Rust server, repetitions
#      interleaved in one run, with the ratios (the "side-by-side" section);
#   3. scripts/bench-http.sh: the team server over HTTP, 1 / 10 / 100 clients, two replicas,
#      against stdio in the same run (the "http" section);
#   4. scripts/bench_portable.py: export and import of 100k memories (time, peak RSS).
# Needs PostgreSQL on 127.0.0.1:5432 (MEM0_BENCH_ADMIN_URL), Node and Python for mcpbench.
# Timings are never pass/fail: compare within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
mcpbench=${MCPBENCH:-$here/../shared/mcpbench}
reps=${MEM0_BENCH_SIDE_REPS:-10}
calls=${MEM0_BENCH_SIDE_CALLS:-200}

# The binary users get, set aside: `cargo bench` rebuilds target/release/mem0-mcp with the
# dev-dependencies' features, which makes it larger.
cargo build --release --locked
mkdir -p target/bench
cp target/release/mem0-mcp target/bench/mem0-mcp
MEM0_BENCH_BIN=$here/target/bench/mem0-mcp cargo bench --locked --bench serve

"$mcpbench/setup.sh"
out=$here/target/bench/mcpbench
rm -rf "$out" && mkdir -p "$out"
config=$here/target/bench/mcpbench-servers.json
cat >"$config" <<JSON
{
  "servers": {
    "mem0-mcp": {
      "command": ["$here/target/bench/mem0-mcp"],
      "env": {"MEM0_DATA_DIR": "{tmp}", "MEM0_LOG": "warn"},
      "adapter": "mem0"
    },
    "server-memory": {
      "command": ["node", "$mcpbench/peers/node/node_modules/@modelcontextprotocol/server-memory/dist/index.js"],
      "env": {"MEMORY_FILE_PATH": "{tmp}/memory.jsonl"},
      "adapter": "server-memory"
    },
    "rs-floor": {
      "command": ["$mcpbench/peers/rs-floor/target/release/rs-floor"],
      "adapter": "floor"
    }
  },
  "adapters": {}
}
JSON
"$mcpbench/.venv/bin/python" "$mcpbench/mcpbench.py" run -c "$config" mem0-mcp server-memory rs-floor \
  --client raw -R "$reps" -N "$calls" -o "$out"
"$mcpbench/.venv/bin/python" "$mcpbench/mcpbench.py" table "$out"/*.json >"$out/table.md"
python3 scripts/bench_side_by_side.py "$out" BENCHMARKS.md
scripts/bench-http.sh
echo "wrote BENCHMARKS.md"

# Export and import of 100k memories (time and peak RSS), appended as its own section.
python3 scripts/bench_portable.py target/bench/mem0-mcp 100000 >target/bench/portable.md
python3 - <<'PY'
import re
path, section = "BENCHMARKS.md", open("target/bench/portable.md").read()
text = open(path).read()
text = re.sub(r"\n## Export and import\n.*?(?=\n## |\Z)", "", text, flags=re.S)
open(path, "w").write(text.rstrip("\n") + "\n\n" + section)
PY
echo "wrote the export and import section of BENCHMARKS.md"

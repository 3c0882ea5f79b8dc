#!/usr/bin/env bash
# The team server's benchmark (`serve --http`): calls per second and p50 / p99 latency of
# search_memories at 1, 10 and 100 concurrent clients on one server and on two replicas, the
# same calls over stdio in the same run for the ratio, the server's RSS idle and under load,
# and 1,000 idle keep-alive connections. Writes the "http" section of BENCHMARKS.md.
# Needs PostgreSQL on 127.0.0.1:5432 (MEM0_BENCH_ADMIN_URL), Python 3 and wrk (Debian: wrk).
# MEM0_BENCH_SECS sets the seconds per concurrent run (default 10). Never pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "bench-http: wrk is missing (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked
mkdir -p target/bench
cp target/release/mem0-mcp target/bench/mem0-mcp-http
python3 scripts/bench_http.py target/bench/mem0-mcp-http BENCHMARKS.md

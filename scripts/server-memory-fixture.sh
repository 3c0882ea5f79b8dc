#!/usr/bin/env bash
# Regenerates tests/fixtures/server-memory.jsonl: drives the reference memory server
# (@modelcontextprotocol/server-memory, from npm) over stdio so that the file is exactly what
# that server writes, for the `import --from server-memory` tests.
#
#     bash scripts/server-memory-fixture.sh [VERSION]
set -euo pipefail
version="${1:-2026.8.31}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm install --silent --no-audit --no-fund "@modelcontextprotocol/server-memory@$version" >/dev/null
call() { # id, tool, arguments (one JSON-RPC message per line)
    set -- "$1" "$2" "$(tr -d '\n' <<<"$3")"
    printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}\n' "$1" "$2" "$3"
}
{
    echo '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fixture","version":"1"}}}'
    echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    call 1 create_entities '{"entities":[
        {"name":"widgets-repo","entityType":"project","observations":["Uses pnpm, not npm","CI runs on GitHub Actions"]},
        {"name":"Alice","entityType":"person","observations":["Prefers small pull requests"]},
        {"name":"Postgres","entityType":"service","observations":[]}]}'
    sleep 1 # the server handles requests concurrently: each call needs the previous one done
    call 2 add_observations '{"observations":[{"entityName":"widgets-repo","contents":["Deploys on Tuesdays"]}]}'
    sleep 1
    call 3 create_relations '{"relations":[
        {"from":"Alice","to":"widgets-repo","relationType":"maintains"},
        {"from":"widgets-repo","to":"Postgres","relationType":"depends on"}]}'
    sleep 2
} | MEMORY_FILE_PATH="$work/memory.jsonl" node node_modules/@modelcontextprotocol/server-memory/dist/index.js >"$work/out.jsonl"
for id in 1 2 3; do
    line="$(grep "\"id\":$id}" "$work/out.jsonl" || true)"
    if [[ -z "$line" || "$line" == *'"isError":true'* ]]; then cat "$work/out.jsonl" >&2; exit 1; fi
done
cp "$work/memory.jsonl" "$root/tests/fixtures/server-memory.jsonl"
echo "wrote tests/fixtures/server-memory.jsonl ($(wc -l <"$root/tests/fixtures/server-memory.jsonl") lines, server-memory $version)"

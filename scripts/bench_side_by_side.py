"""Writes mcpbench's side-by-side results, with ratios against this server, into the
`side-by-side` section of BENCHMARKS.md.

    python3 scripts/bench_side_by_side.py target/bench/mcpbench BENCHMARKS.md
"""
import glob
import json
import os
import sys

START, END = "<!-- side-by-side:start -->", "<!-- side-by-side:end -->"


def load(directory):
    results = {}
    for path in glob.glob(os.path.join(directory, "*.json")):
        with open(path) as f:
            data = json.load(f)
        if "server" in data:
            results[data["server"]] = data
    return results


def p50(data, *keys):
    value = data
    for key in keys:
        value = (value or {}).get(key)
    return value.get("p50") if isinstance(value, dict) else None


def ratio(a, b):
    if not (a and b):
        return "–"
    r = a / b
    return f"{r:.0f}×" if r >= 10 else f"{r:.2f}×"


def section(directory):
    results = load(directory)
    ours = results.get("mem0-mcp")
    if not ours:
        raise SystemExit(f"no mem0-mcp results in {directory}")
    with open(os.path.join(directory, "table.md")) as f:
        table = f.read().strip()
    env = ours.get("env_info", {})
    lines = [
        f"Measured by `scripts/bench.sh` with mcpbench's raw client (R={ours['R']} interleaved "
        f"repetitions, N={ours['N']} calls each; {env.get('cpu', '?')} × {env.get('nproc', '?')}, "
        f"Python {env.get('python', '?')}, MCP SDK {env.get('mcp_sdk', '?')}); embedded database.",
        "",
        table,
        "",
        "| compared with mem0-mcp | initialize | store p50 | search p50 | peak RSS |",
        "|---|---|---|---|---|",
    ]
    ours_init = p50(ours, "cold_start_ms", "initialize")
    ours_store = p50(ours, "latency_ms", "store")
    ours_search = p50(ours, "latency_ms", "search")
    ours_rss = p50(ours, "rss_kb", "peak_tree")
    for name, data in sorted(results.items()):
        if name == "mem0-mcp":
            continue
        lines.append(
            f"| {name} is slower / larger by | "
            f"{ratio(p50(data, 'cold_start_ms', 'initialize'), ours_init)} | "
            f"{ratio(p50(data, 'latency_ms', 'store'), ours_store)} | "
            f"{ratio(p50(data, 'latency_ms', 'search'), ours_search)} | "
            f"{ratio(p50(data, 'rss_kb', 'peak_tree'), ours_rss)} |"
        )
    lines.append("")
    lines.append("A ratio below 1× means the other server is faster or smaller; rs-floor does no "
                 "work at all and shows what process start and the client cost.")
    return "\n".join(lines) + "\n"


def main():
    directory, markdown = sys.argv[1], sys.argv[2]
    body = section(directory)
    text = open(markdown).read() if os.path.exists(markdown) else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        _, after = rest.split(END, 1)
        text = f"{before}{START}\n{body}{END}{after}"
    else:
        text = f"{text.rstrip()}\n\n## Side by side with other servers\n\n{START}\n{body}{END}\n"
    with open(markdown, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()

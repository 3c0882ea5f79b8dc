"""The team server's benchmark (`serve --http`), run by scripts/bench-http.sh; writes the "http"
section of BENCHMARKS.md. Timings are never pass/fail: compare within one run.

    python3 scripts/bench_http.py BINARY [BENCHMARKS.md]

On a throw-away PostgreSQL database (MEM0_BENCH_ADMIN_URL, default postgres@127.0.0.1:5432) with
1,000 memories in one scope (analyzed, as autovacuum would) it measures `search_memories`:
  - over stdio and over HTTP with one client, sequentially, with the same Python client loop
    (so the client's own cost is on both sides): p50 / p99 and the ratio;
  - over HTTP with 1, 10 and 100 concurrent keep-alive connections (wrk, MEM0_BENCH_SECS
    seconds each, default 10): calls per second and p50 / p99, on one server and on two
    replicas (the connections split between them);
  - the server's RSS idle, and its peak (VmHWM) after the load;
  - 1,000 idle keep-alive connections: RSS with them open, and a call's latency meanwhile.
"""
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

BINARY = os.path.abspath(sys.argv[1])
OUT = sys.argv[2] if len(sys.argv) > 2 else None
ADMIN = os.environ.get("MEM0_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECS = int(os.environ.get("MEM0_BENCH_SECS", "10"))
SEQ_CALLS = int(os.environ.get("MEM0_BENCH_CALLS", "500"))
HERE = os.path.dirname(os.path.abspath(__file__))


def psql(sql, url=ADMIN):
    subprocess.run(["psql", url, "-qAtc", sql], check=True, capture_output=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def body(method, params, rid=1):
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})


SEARCH = body("tools/call", {"name": "search_memories", "arguments": {"query": "marker500q"}})
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream",
           "mcp-protocol-version": "2025-06-18"}


class Http:
    """One keep-alive connection."""

    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.headers = dict(HEADERS, **{"x-mcp-token": token, "x-mcp-project": "bench"})

    def call(self, payload):
        self.conn.request("POST", "/mcp/", payload, self.headers)
        response = self.conn.getresponse()
        data = response.read()
        assert response.status == 200, (response.status, data[:300])
        return json.loads(data)


class Stdio:
    def __init__(self, env):
        self.proc = subprocess.Popen([BINARY], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.next = 0
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "bench", "version": "1"}})
        self.proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self.proc.stdin.flush()

    def request(self, method, params):
        self.next += 1
        return self.send(body(method, params, self.next))

    def send(self, payload):
        self.proc.stdin.write(payload.encode() + b"\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


def timed(fn, n):
    for _ in range(20):
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99) - 1]


def start_server(env, port):
    proc = subprocess.Popen([BINARY, "serve", "--http", "--listen", f"127.0.0.1:{port}"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit("serve --http did not start")


def wrk(ports, token, connections):
    """wrk against each port with connections split between them: (calls/s, p50 ms, p99 ms)."""
    script = os.path.join(tempfile.mkdtemp(), "search.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {json.dumps(SEARCH)}\n")
        for k, v in dict(HEADERS, **{"x-mcp-token": token, "x-mcp-project": "bench"}).items():
            f.write(f'wrk.headers["{k}"] = "{v}"\n')
        f.write('done = function(summary, latency, requests)\n'
                '  io.write(string.format("RESULT %d %d %.3f %.3f %d\\n", summary.requests, summary.duration,'
                ' latency:percentile(50) / 1000, latency:percentile(99) / 1000,'
                ' summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))\n'
                'end\n')
    per = max(1, connections // len(ports))
    procs = [subprocess.Popen(["wrk", "-t", "1" if per < 2 else "2", "-c", str(per), "-d", f"{SECS}s", "-s", script,
                               f"http://127.0.0.1:{p}/mcp/"], stdout=subprocess.PIPE, text=True) for p in ports]
    results = []
    for p in procs:
        out, _ = p.communicate()
        m = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)", out)
        results.append(tuple(float(x) for x in m.groups()))
    rate = sum(r[0] / (r[1] / 1e6) for r in results)
    errors = int(sum(r[4] for r in results))
    return rate, max(r[2] for r in results), max(r[3] for r in results), errors


def main():
    db = "mem0_bench_http_" + uuid.uuid4().hex[:8]
    psql(f"CREATE DATABASE {db}")
    url = re.sub(r"/[^/]*$", "/" + db, ADMIN)
    home = tempfile.mkdtemp()
    env = {"PATH": os.environ["PATH"], "HOME": home, "MEM0_DATABASE_URL": url, "MEM0_LOG": "warn",
           "MEM0_HTTP_POOL_SIZE": os.environ.get("MEM0_HTTP_POOL_SIZE", "10")}
    servers = []
    try:
        subprocess.run([BINARY, "migrate"], env=env, check=True, capture_output=True)
        out = subprocess.run([BINARY, "token", "create", "--user-id", "bench"], env=env, check=True,
                             capture_output=True, text=True).stdout
        token = re.search(r"mcp_[A-Za-z0-9_-]{43}", out).group(0)
        port = free_port()
        server = start_server(env, port)
        servers.append(server)
        time.sleep(0.5)
        rss_idle = rss_kb(server.pid) / 1024
        client = Http(port, token)
        for i in range(1000):
            client.call(body("tools/call", {"name": "add_memory", "arguments": {"content": f"bench fact {i} about the team server, marker{i}q"}}))
        # Statistics as autovacuum would gather within a minute of the fill: without them the
        # planner scans the scope instead of using the scope + text index (~10x the database work).
        psql("ANALYZE memories", url)
        # One client, sequential: stdio against HTTP with the same loop.
        http_p50, http_p99 = timed(lambda: client.call(SEARCH), SEQ_CALLS)
        stdio = Stdio(dict(env, MEM0_TOKEN=token, MEM0_USER_ID="bench", PROJECT_ID_MODE="manual", PROJECT_ID="bench"))
        stdio_p50, stdio_p99 = timed(lambda: stdio.send(SEARCH), SEQ_CALLS)
        stdio.close()
        rows = []
        for c in (1, 10, 100):
            rows.append(("one server", c) + wrk([port], token, c))
        rss_load = rss_kb(server.pid) / 1024
        rss_peak = rss_kb(server.pid, "VmHWM") / 1024
        port2 = free_port()
        servers.append(start_server(env, port2))
        for c in (10, 100):
            rows.append(("two replicas", c) + wrk([port, port2], token, c))
        # 1,000 idle keep-alive connections, each used once.
        idle = []
        for _ in range(1000):
            h = Http(port, token)
            h.call(body("tools/list", {}))
            idle.append(h)
        rss_idle_conns = rss_kb(server.pid) / 1024
        idle_p50, idle_p99 = timed(lambda: client.call(SEARCH), 200)
        for h in idle:
            h.conn.close()
    finally:
        for s in servers:
            s.terminate()
            s.wait(30)
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    cpu = subprocess.run("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2", shell=True, capture_output=True,
                         text=True).stdout.strip()
    lines = [
        f"Measured by `scripts/bench-http.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"{os.cpu_count()} cores ({cpu}), server, PostgreSQL and load generator on the same machine; "
        f"1,000 memories in the scope; `search_memories` finds one by its unique word. wrk for the concurrent runs "
        f"({SECS} s each, keep-alive connections), a Python client for the sequential ones.",
        "",
        "**One client, sequential** (same client loop on both transports)",
        "",
        "| transport | p50 ms | p99 ms |",
        "|---|---|---|",
        f"| stdio | {stdio_p50:.2f} | {stdio_p99:.2f} |",
        f"| HTTP | {http_p50:.2f} | {http_p99:.2f} |",
        f"| HTTP / stdio | {http_p50 / stdio_p50:.2f}× | {http_p99 / stdio_p99:.2f}× |",
        "",
        "**Concurrent clients** (`search_memories` over HTTP)",
        "",
        "| servers | connections | calls/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, c, rate, p50, p99, errors in rows:
        lines.append(f"| {name} | {c} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | {errors} |")
    lines += [
        "",
        "**Memory** (the server's RSS, MB)",
        "",
        "| idle | after the load | peak (VmHWM) | with 1,000 idle keep-alive connections |",
        "|---|---|---|---|",
        f"| {rss_idle:.1f} | {rss_load:.1f} | {rss_peak:.1f} | {rss_idle_conns:.1f} |",
        "",
        f"With the 1,000 connections open, one more client's `search_memories` took p50 {idle_p50:.2f} ms, "
        f"p99 {idle_p99:.2f} ms.",
    ]
    # The targets the team server is held to, against this run (never pass/fail).
    hundred = next(r for r in rows if r[0] == "one server" and r[1] == 100)
    met = lambda ok: "met" if ok else "**missed**"
    lines += [
        "",
        "**Against the targets** (this run)",
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| ≥ 2,000 calls/s at 100 clients, one server | {hundred[2]:,.0f} | {met(hundred[2] >= 2000)} |",
        f"| p99 ≤ 50 ms at 100 clients | {hundred[4]:.1f} ms | {met(hundred[4] <= 50)} |",
        f"| p50 at one client ≤ 1.5× stdio | {http_p50 / stdio_p50:.2f}× | {met(http_p50 / stdio_p50 <= 1.5)} |",
        f"| RSS ≤ 40 MB under load (peak) | {rss_peak:.1f} MB | {met(rss_peak <= 40)} |",
    ]
    load = os.getloadavg()
    lines += ["", f"Load average at the end of the run (1 / 5 / 15 min): {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}."]
    text = "\n".join(lines)
    print(text)
    if OUT:
        with open(OUT) as f:
            doc = f.read()
        block = f"<!-- http:start -->\n{text}\n<!-- http:end -->"
        if "<!-- http:start -->" in doc:
            doc = re.sub(r"<!-- http:start -->.*<!-- http:end -->", lambda _: block, doc, flags=re.S)
        else:
            doc = doc.replace("## Side by side with other servers",
                              "## The team server (HTTP)\n\n" + block + "\n\n## Side by side with other servers", 1)
        with open(OUT, "w") as f:
            f.write(doc)


if __name__ == "__main__":
    main()

"""Export and import at scale: writes a mem0-mcp export of N memories (default 100,000, one
project, each with an ADD event), imports it into an empty embedded database and an empty
PostgreSQL database, and exports it back, timing each command and reading its peak RSS from
/usr/bin/time. The same is done with N/10 memories in the same run, so the table shows how time
and memory grow with N (export pages through the database: its memory should not grow).
Prints a Markdown section; bench.sh writes it into BENCHMARKS.md.

    python3 scripts/bench_portable.py target/bench/mem0-mcp [N] [ADMIN_URL]
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid

binary = os.path.abspath(sys.argv[1])
big = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
admin = sys.argv[3] if len(sys.argv) > 3 else os.environ.get(
    "MEM0_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def write_export(path, n):
    with open(path, "w") as out:
        out.write(json.dumps({"format": "mem0-mcp-export", "version": 1}) + "\n")
        for i in range(n):
            at = "2026-01-01T00:00:%02d.%06dZ" % (i // 1_000_000 % 60, i % 1_000_000)
            content = f"Benchmark fact {i}: the service on port {8000 + i % 1000} uses pnpm-lock.yaml v{i % 7}"
            out.write(json.dumps({
                "id": str(uuid.UUID(int=(0x0192 << 112) | i)), "user_id": "bench",
                "project_id": "bench", "content": content, "tags": ["bench", f"t{i % 10}"],
                "metadata": {"n": i}, "created_at": at, "updated_at": at, "expires_at": None,
                "history": [{"event": "ADD", "content": content, "actor": "bench", "at": at}],
            }) + "\n")


def timed(args, env):
    result = subprocess.run(["/usr/bin/time", "-f", "%e %M", binary, *args], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{args}: {result.stderr}")
    seconds, kib = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024


def psql(sql):
    subprocess.run(["psql", admin, "-qc", sql], check=True, capture_output=True)


def run_backend(backend, n, work):
    data = tempfile.mkdtemp(dir=work)
    env = {"PATH": os.environ["PATH"], "HOME": data, "MEM0_DATA_DIR": data, "MEM0_LOG": "warn",
           "MEM0_USER_ID": "bench", "PROJECT_ID_MODE": "manual", "PROJECT_ID": "bench",
           "MEM0_MAX_MEMORIES_PER_CONTEXT": str(n + 1), "MEM0_TIMEOUT": "600"}
    db = None
    if backend == "PostgreSQL":
        db = f"mem0_bench_portable_{os.getpid()}_{n}"
        psql(f"DROP DATABASE IF EXISTS {db}")
        psql(f"CREATE DATABASE {db}")
        env["MEM0_DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + db
        subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True)
        token = subprocess.run([binary, "token", "create", "--user-id", "bench"], env=env,
                               check=True, capture_output=True, text=True).stdout
        env["MEM0_TOKEN"] = re.search(r"mcp_[A-Za-z0-9_-]{43}", token).group(0)
    else:
        subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True)
    source = os.path.join(work, f"in-{n}.jsonl")
    if not os.path.exists(source):
        write_export(source, n)
    row = [*timed(["import", source], env)]
    row += [*timed(["export", "-o", os.path.join(data, "out.jsonl")], env)]
    if db:
        psql(f"DROP DATABASE {db} WITH (FORCE)")
    return row


work = tempfile.mkdtemp(prefix="mem0-bench-portable-")
small = big // 10
print(f"## Export and import\n")
print(f"`scripts/bench_portable.py`: one project of {big:,} memories (and {small:,}, same run), each")
print("with tags, metadata and an ADD event; `import` into an empty database, then `export` to a")
print("file. Seconds and peak RSS (MB) of each command; the last rows divide the large run by the small.\n")
print("| backend | memories | import s | import RSS MB | export s | export RSS MB |")
print("|---|---|---|---|---|---|")
for backend in ("embedded SQLite", "PostgreSQL"):
    rows = {n: run_backend(backend, n, work) for n in (small, big)}
    for n, (it, im, et, em) in rows.items():
        print(f"| {backend} | {n:,} | {it:.1f} | {im:.0f} | {et:.1f} | {em:.0f} |")
    (it1, im1, et1, em1), (it2, im2, et2, em2) = rows[small], rows[big]
    print(f"| {backend}: {big:,} ÷ {small:,} | ×10 | ×{it2 / it1:.1f} | ×{im2 / im1:.1f} | ×{et2 / et1:.1f} | ×{em2 / em1:.1f} |")

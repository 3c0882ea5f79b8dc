"""Retrieval quality of search_memories itself, through the real binary, per provider.

    python scripts/search-quality.py [--binary PATH] [--model DIR] [--server URL]
        [--sets paraphrase,natural] [--backends sqlite,postgres] [--providers none,builtin,openai]
        [--dump FILE] [--limit N]

Two sets, each asked through search_memories of the real binary over MCP (stdio):

paraphrase: the thirty memories and paraphrased questions of scripts/embedding-quality.py
  (no content word shared, so words alone cannot find them), in a fresh embedded database.
  Reported: top-1, top-5 and MRR@10 of the memory the question asks for.

natural: scripts/search_set.py, three users with 600 memories each and natural-language
  questions with their evidence memories, on each backend asked for (embedded SQLite, and a
  throw-away PostgreSQL database created and dropped here: MEM0_QUALITY_ADMIN_URL, default
  postgresql://postgres@127.0.0.1:5432/postgres). Reported per split (dev: tuned on;
  held-out: only measured): the share of questions with an evidence memory in the top 10,
  MRR@10 and top-1; and top-1 of the `words` questions (identifiers, exact names), which
  must find their exact match first.

`none` is lexical search; `builtin` loads --model (default: scripts/build-test-model.sh's);
`openai` asks --server (default: one started from scripts/embedding-server.py, the full
all-MiniLM-L6-v2). --dump writes every ranking (memory keys and scores) as JSON, for
scripts/fusion-tune.py. Run it with the venv `scripts/embedding-venv.sh` prints.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAIRS = runpy.run_path(str(HERE / "embedding-quality.py"), run_name="quality")["PAIRS"]
SEARCH_SET = runpy.run_path(str(HERE / "search_set.py"), run_name="search_set")["build"]()
ADMIN = os.environ.get("MEM0_QUALITY_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def serve(binary: str, env: dict[str, str]):
    proc = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, text=True)
    ids = iter(range(1, 1 << 30))

    def call(method, params):
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": next(ids), "method": method, "params": params}) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            sys.exit(f"{method}: the server exited (code {proc.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            sys.exit(f"{method}: {answer['error']}")
        result = answer["result"]
        if result.get("isError"):
            sys.exit(f"{method} {params.get('name')}: {result['content'][0]['text']}")
        return result

    call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "search-quality", "version": "1"}})
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
    return proc, call


def tool(call, name: str, arguments: dict) -> dict:
    return call("tools/call", {"name": name, "arguments": arguments})["structuredContent"]


def paraphrase(binary: str, provider_env: dict[str, str], limit: int) -> tuple[tuple[float, float, float], list]:
    """top-1, top-5 and MRR@10 on the paraphrase set, and its rankings (memory keys
    `paraphrase:N`, N the memory's index in PAIRS)."""
    rankings = []
    with tempfile.TemporaryDirectory() as data:
        env = {"PATH": os.environ["PATH"], "HOME": data, "MEM0_DATA_DIR": data,
               "PROJECT_ID_MODE": "manual", "PROJECT_ID": "quality", **provider_env}
        proc, call = serve(binary, env)
        for memory, _ in PAIRS:
            tool(call, "add_memory", {"content": memory})
        key_of = {memory: f"paraphrase:{i}" for i, (memory, _) in enumerate(PAIRS)}
        top1 = top5 = rr = 0.0
        for i, (memory, question) in enumerate(PAIRS):
            found = tool(call, "search_memories", {"query": question, "limit": limit})
            rankings.append({"project": "paraphrase", "kind": "paraphrase", "split": "paraphrase",
                             "question": question, "evidence": [f"paraphrase:{i}"],
                             "ranked": [[key_of[r["content"]], r["score"]] for r in found["results"]]})
            contents = [r["content"] for r in found["results"]][:10]
            if memory in contents:
                rank = contents.index(memory) + 1
                top1 += rank == 1
                top5 += rank <= 5
                rr += 1 / rank
        proc.stdin.close()
        proc.wait()
    n = len(PAIRS)
    return (top1 / n, top5 / n, rr / n), rankings


def psql(sql: str, url: str = ADMIN) -> None:
    subprocess.run(["psql", url, "-qAtc", sql], check=True, capture_output=True)


class Backend:
    """Where the natural set's memories go: the environment of each user's server."""

    def __init__(self, name: str, binary: str, home: str) -> None:
        self.name, self.binary, self.home = name, binary, home
        self.base = {"PATH": os.environ["PATH"], "HOME": home, "MEM0_LOG": "warn"}
        self.db = None
        if name == "sqlite":
            self.base["MEM0_DATA_DIR"] = home
        else:
            self.db = "mem0_quality_" + uuid.uuid4().hex[:8]
            psql(f"CREATE DATABASE {self.db}")
            self.base["MEM0_DATABASE_URL"] = re.sub(r"/[^/]*$", "/" + self.db, ADMIN)
            subprocess.run([binary, "migrate"], env=self.base, check=True, capture_output=True)

    def env(self, user: str, project: str) -> dict[str, str]:
        env = dict(self.base, MEM0_USER_ID=user, PROJECT_ID_MODE="manual", PROJECT_ID=project)
        if self.db:
            out = subprocess.run([self.binary, "token", "create", "--user-id", user], env=self.base,
                                 check=True, capture_output=True, text=True).stdout
            env["MEM0_TOKEN"] = re.search(r"mcp_[A-Za-z0-9_-]{43}", out).group(0)
        return env

    def drop(self) -> None:
        if self.db:
            psql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")


def natural(binary: str, backend_name: str, provider_env: dict[str, str], limit: int) -> list[dict]:
    """Every question of the natural set with the memory keys search_memories ranked for it."""
    rankings = []
    with tempfile.TemporaryDirectory() as home:
        backend = Backend(backend_name, binary, home)
        try:
            for scope in SEARCH_SET["scopes"]:
                proc, call = serve(binary, {**backend.env(scope["user"], scope["project"]), **provider_env})
                key_of = {}
                for key, content in scope["memories"]:
                    added = tool(call, "add_memory", {"content": content})
                    key_of[added["memory"]["id"]] = key
                for q in SEARCH_SET["questions"]:
                    if q["project"] != scope["project"]:
                        continue
                    found = tool(call, "search_memories", {"query": q["question"], "limit": limit})
                    ranked = [[key_of[r["id"]], r["score"]] for r in found["results"]]
                    rankings.append({**q, "ranked": ranked})
                proc.stdin.close()
                proc.wait()
        finally:
            backend.drop()
    return rankings


def scores(rankings: list[dict], depth: int = 10) -> dict[str, float]:
    """hit@10 (an evidence memory in the top `depth`), MRR@10 and top-1 over `rankings`."""
    hit = rr = top1 = 0.0
    for q in rankings:
        keys = [key for key, _ in q["ranked"][:depth]]
        ranks = [keys.index(e) + 1 for e in q["evidence"] if e in keys]
        if ranks:
            hit += 1
            rr += 1 / min(ranks)
            top1 += min(ranks) == 1
    n = max(len(rankings), 1)
    return {"n": len(rankings), "hit10": hit / n, "mrr10": rr / n, "top1": top1 / n}


def report_row(backend: str, provider: str, rankings: list[dict]) -> str:
    cells = [backend, provider]
    for split in ("dev", "held-out"):
        s = scores([q for q in rankings if q["split"] == split])
        cells += [f"{s['hit10']:.2f}", f"{s['mrr10']:.2f}", f"{s['top1']:.2f}"]
    words = scores([q for q in rankings if q["kind"] == "words"])
    cells.append(f"{words['top1']:.2f}")
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(HERE.parent / "target/release/mem0-mcp"))
    parser.add_argument("--model", help="model2vec directory for builtin (default: the test model)")
    parser.add_argument("--server", help="base URL of an OpenAI-compatible server (default: start one)")
    parser.add_argument("--sets", default="paraphrase,natural")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--providers", default="none,builtin,openai")
    parser.add_argument("--limit", type=int, default=10, help="results asked for (scores count the first 10)")
    parser.add_argument("--dump", help="write the natural set's rankings to this JSON file")
    args = parser.parse_args()
    providers = args.providers.split(",")
    model = args.model
    if "builtin" in providers and model is None:
        model = subprocess.run(["bash", str(HERE / "build-test-model.sh")], check=True,
                               capture_output=True, text=True).stdout.strip()
    server = None
    url = args.server
    if "openai" in providers and url is None:
        server = subprocess.Popen([sys.executable, str(HERE / "embedding-server.py"), "--port", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        url = server.stdout.readline().strip().removeprefix("listening on ")
    envs = {
        "none": ("none (lexical)", {"MEM0_EMBEDDING_PROVIDER": "none"}),
        "builtin": ("builtin (static MiniLM, 256-d int8)",
                    {"MEM0_EMBEDDING_PROVIDER": "builtin", "MEM0_EMBEDDING_MODEL": model or ""}),
        "openai": ("openai (all-MiniLM-L6-v2 served locally)",
                   {"MEM0_EMBEDDING_PROVIDER": "openai", "MEM0_EMBEDDING_URL": (url or "").rstrip("/") + "/v1",
                    "MEM0_EMBEDDING_MODEL": "all-MiniLM-L6-v2"}),
    }
    dump = []
    try:
        if "paraphrase" in args.sets.split(","):
            print(f"{len(PAIRS)} paraphrased questions, search_memories limit {args.limit}, embedded SQLite")
            print("| provider | top-1 | top-5 | MRR@10 |\n|---|---|---|---|")
            for p in providers:
                name, env = envs[p]
                (t1, t5, mrr), rankings = paraphrase(args.binary, env, args.limit)
                print(f"| {name} | {t1:.2f} | {t5:.2f} | {mrr:.2f} |", flush=True)
                dump.append({"backend": "sqlite", "provider": p, "set": "paraphrase", "rankings": rankings})
            print()
        if "natural" in args.sets.split(","):
            qs = SEARCH_SET["questions"]
            dev = sum(q["split"] == "dev" for q in qs)
            print(f"natural set: {len(SEARCH_SET['scopes'])} users x {len(SEARCH_SET['scopes'][0]['memories'])} "
                  f"memories, {dev} dev and {len(qs) - dev} held-out questions; search_memories limit {args.limit}")
            print("| backend | provider | dev hit@10 | dev MRR@10 | dev top-1 | held-out hit@10 | "
                  "held-out MRR@10 | held-out top-1 | `words` top-1 |")
            print("|---|---|---|---|---|---|---|---|---|")
            for backend in args.backends.split(","):
                for p in providers:
                    rankings = natural(args.binary, backend, envs[p][1], args.limit)
                    print(report_row(backend, p, rankings), flush=True)
                    dump.append({"backend": backend, "provider": p, "set": "natural", "rankings": rankings})
    finally:
        if server:
            server.terminate()
    if args.dump:
        Path(args.dump).write_text(json.dumps(dump))


if __name__ == "__main__":
    main()

"""Retrieval quality of search_memories itself, through the real binary, per provider.

    python scripts/search-quality.py [--binary PATH] [--model DIR] [--server URL]

The thirty memories and paraphrased questions of scripts/embedding-quality.py (no
content word shared, so words alone cannot find them) are added to a fresh embedded
database, and each question is asked with search_memories (limit 10). Reported per
provider: top-1, top-5 and MRR@10 of the memory the question asks for. `none` is
lexical search; `builtin` loads --model (default: scripts/build-test-model.sh's);
`openai` asks --server (default: one started from scripts/embedding-server.py, the
full all-MiniLM-L6-v2). Run it with the venv `scripts/embedding-venv.sh` prints.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAIRS = runpy.run_path(str(HERE / "embedding-quality.py"), run_name="quality")["PAIRS"]


def serve(binary: str, env: dict[str, str]):
    proc = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, text=True)
    ids = iter(range(1, 1 << 30))

    def call(method, params):
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": next(ids), "method": method, "params": params}) + "\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        if "error" in answer:
            sys.exit(f"{method}: {answer['error']}")
        return answer["result"]

    call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "search-quality", "version": "1"}})
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
    return proc, call


def measure(binary: str, provider_env: dict[str, str]) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as data:
        env = {"PATH": os.environ["PATH"], "HOME": data, "MEM0_DATA_DIR": data,
               "PROJECT_ID_MODE": "manual", "PROJECT_ID": "quality", **provider_env}
        proc, call = serve(binary, env)
        for memory, _ in PAIRS:
            call("tools/call", {"name": "add_memory", "arguments": {"content": memory}})
        top1 = top5 = rr = 0.0
        for memory, question in PAIRS:
            found = call("tools/call", {"name": "search_memories",
                                        "arguments": {"query": question, "limit": 10}})
            contents = [r["content"] for r in found["structuredContent"]["results"]]
            if memory in contents:
                rank = contents.index(memory) + 1
                top1 += rank == 1
                top5 += rank <= 5
                rr += 1 / rank
        proc.stdin.close()
        proc.wait()
    n = len(PAIRS)
    return top1 / n, top5 / n, rr / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(HERE.parent / "target/release/mem0-mcp"))
    parser.add_argument("--model", help="model2vec directory for builtin (default: the test model)")
    parser.add_argument("--server", help="base URL of an OpenAI-compatible server (default: start one)")
    args = parser.parse_args()
    model = args.model or subprocess.run(["bash", str(HERE / "build-test-model.sh")], check=True,
                                         capture_output=True, text=True).stdout.strip()
    server = None
    url = args.server
    if url is None:
        server = subprocess.Popen([sys.executable, str(HERE / "embedding-server.py"), "--port", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        url = server.stdout.readline().strip().removeprefix("listening on ")
    try:
        rows = [
            ("none (lexical)", {"MEM0_EMBEDDING_PROVIDER": "none"}),
            ("builtin (static MiniLM, 256-d int8)",
             {"MEM0_EMBEDDING_PROVIDER": "builtin", "MEM0_EMBEDDING_MODEL": model}),
            ("openai (all-MiniLM-L6-v2 served locally)",
             {"MEM0_EMBEDDING_PROVIDER": "openai", "MEM0_EMBEDDING_URL": url.rstrip("/") + "/v1",
              "MEM0_EMBEDDING_MODEL": "all-MiniLM-L6-v2"}),
        ]
        print(f"{len(PAIRS)} paraphrased questions, search_memories limit 10, embedded SQLite")
        print("| provider | top-1 | top-5 | MRR@10 |\n|---|---|---|---|")
        for name, env in rows:
            t1, t5, mrr = measure(args.binary, env)
            print(f"| {name} | {t1:.2f} | {t5:.2f} | {mrr:.2f} |")
    finally:
        if server:
            server.terminate()


if __name__ == "__main__":
    main()

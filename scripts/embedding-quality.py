"""Retrieval quality of static models against the full all-MiniLM-L6-v2, on memories.

    python scripts/embedding-quality.py [--server URL] [--static DIR ...]

Thirty facts of the kind a coding assistant stores, and for each one a question
that asks for it in other words: no content word (nor its first five letters) is
shared, which the script checks, so lexical search cannot find them and only
meaning can. Each question ranks the thirty facts by cosine similarity; the
report gives top-1, top-5 and mean reciprocal rank per model.

The full model is asked through the OpenAI-compatible server (--server URL, or
one this script starts from scripts/embedding-server.py). A static model (a
model2vec directory) is run here as model2vec runs it: the text's WordPiece
tokens without [CLS]/[SEP], the unknown token dropped, at most 512 tokens, the
mean of their rows (times the per-token `weights` when the file has them),
normalised.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

PAIRS = [
    ("The backend stores everything in PostgreSQL 15.", "Which relational engine holds our persisted records?"),
    ("Run cargo fmt and cargo clippy before every commit.",
     "What should I execute prior to checking in code so style and lints pass?"),
    ("The user prefers tabs over spaces for indentation.", "How does she like leading whitespace formatted?"),
    ("Deployments go to production every Friday at 3pm.", "On which weekday do releases ship live, and at what hour?"),
    ("API keys are kept in the OS keychain, never in config files.",
     "Where do secret credentials live on the machine?"),
    ("The frontend is written in TypeScript with React.", "What language and UI library power the web client?"),
    ("Integration tests need Docker running locally.",
     "What container engine must be started on my laptop for end-to-end checks?"),
    ("The CI pipeline runs on GitHub Actions.", "Which hosted service executes our automated builds?"),
    ("Logs must go to stderr because stdout carries JSON-RPC.",
     "Why can't diagnostic output be printed to the standard stream?"),
    ("The main branch is protected; changes land through pull requests.",
     "How do modifications get merged into the default line of development?"),
    ("Python dependencies are managed with Poetry.", "Which tool handles third-party packages for the scripting side?"),
    ("The staging server lives at staging.example.com.", "What is the hostname of the pre-release environment?"),
    ("Use snake_case for function names in Rust.", "How should identifiers of routines be styled in the crate?"),
    ("The team holds standup at 9:30 every morning.", "When is the daily sync meeting?"),
    ("Passwords are hashed with Argon2id.", "Which algorithm protects stored login secrets?"),
    ("The app targets Node 20 LTS.", "Which JavaScript runtime release do we support?"),
    ("Database migrations live in the migrations folder and are append-only.",
     "Where are schema changes kept, and may old ones be edited?"),
    ("The user's timezone is Europe/Berlin.", "Which region's clock should meeting times be given in?"),
    ("Memory usage must stay under 40 MB.", "What is the RAM budget for the process?"),
    ("Error messages should explain how to fix the problem.", "What must a failure report tell the reader?"),
    ("The mobile app is built with Flutter.", "Which framework produces our phone client?"),
    ("Code review requires two approvals.", "How many sign-offs does a patch need before merging?"),
    ("Benchmarks run with bash scripts/bench.sh.", "How do I measure performance?"),
    ("The cache is Redis with a one-hour TTL.", "How long do entries stay in the in-memory key-value store?"),
    ("The user dislikes verbose comments; keep them short.", "How wordy should annotations in source be?"),
    ("Feature flags are controlled through LaunchDarkly.", "Which service toggles experimental functionality?"),
    ("The ORM is SQLAlchemy 2.0.", "Which object-relational mapper does the service layer rely on?"),
    ("The build breaks on Windows because of path separators.",
     "Why does compilation fail on Microsoft's operating system?"),
    ("Translations are stored as JSON files under locales/.", "Where are interface texts for other languages kept?"),
    ("The on-call engineer is paged through PagerDuty.", "How is the person responsible for incidents alerted?"),
]

STOPWORDS = set(
    """a an and are as at be because before by can can't do does for from get go has have how i in is it its
    may must my of on or our over she should so the them they this through to under use we what when where
    which who why will with you your every other old ones s t""".split()
)


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS}


def check_no_shared_words() -> None:
    for fact, question in PAIRS:
        f, q = content_words(fact), content_words(question)
        shared = (f & q) | {a for a in f for b in q if len(a) >= 5 and len(b) >= 5 and a[:5] == b[:5]}
        if shared:
            raise SystemExit(f"question shares {sorted(shared)} with its fact: {question!r}")


class StaticModel:
    """model2vec's inference over a model directory (see the module doc)."""

    def __init__(self, directory: Path) -> None:
        tensors = load_file(str(directory / "model.safetensors"))
        self.table = tensors["embeddings"].astype(np.float32)
        self.weights = tensors.get("weights")
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.unk = self.tokenizer.token_to_id("[UNK]")
        self.name = directory.name
        config = json.loads((directory / "config.json").read_text())
        self.label = f"static {config.get('hidden_dim')}d {config.get('embedding_dtype', '?')}"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            ids = [i for i in encoding.ids if i != self.unk][:512]
            if not ids:
                continue
            rows = self.table[ids]
            if self.weights is not None:
                rows = rows * self.weights[ids][:, None]
            out[row] = rows.mean(0)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


class ServedModel:
    """The full model behind an OpenAI-compatible /v1/embeddings endpoint."""

    label = "all-MiniLM-L6-v2 (server)"

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def embed(self, texts: list[str]) -> np.ndarray:
        body = json.dumps({"model": "all-MiniLM-L6-v2", "input": texts}).encode()
        request = urllib.request.Request(
            f"{self.url}/v1/embeddings", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            data = json.load(response)["data"]
        return np.array([d["embedding"] for d in sorted(data, key=lambda d: d["index"])], dtype=np.float32)


def evaluate(model) -> dict:
    facts = model.embed([f for f, _ in PAIRS])
    questions = model.embed([q for _, q in PAIRS])
    sims = questions @ facts.T
    ranks = [int((sims[i] > sims[i, i]).sum()) + 1 for i in range(len(PAIRS))]
    return {
        "top1": sum(r == 1 for r in ranks),
        "top5": sum(r <= 5 for r in ranks),
        "mrr": float(np.mean([1 / r for r in ranks])),
        "misses": [i for i, r in enumerate(ranks) if r > 5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", help="base URL of a running embedding server (default: start one)")
    parser.add_argument("--static", type=Path, action="append", default=[], help="a model2vec directory")
    args = parser.parse_args()
    check_no_shared_words()

    server = None
    url = args.server
    if url is None:
        script = Path(__file__).with_name("embedding-server.py")
        server = subprocess.Popen([sys.executable, str(script), "--port", "0"], stdout=subprocess.PIPE, text=True)
        line = server.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"the embedding server did not start (said {line!r})")
        url = line.removeprefix("listening on ")
    try:
        models = [ServedModel(url), *(StaticModel(d) for d in args.static)]
        n = len(PAIRS)
        names = [m.label if isinstance(m, ServedModel) else f"{m.label} ({m.name})" for m in models]
        width = max(len(name) for name in names)
        print(f"{'model':<{width}} {'top-1':>7} {'top-5':>7} {'MRR':>6}  questions missed at top-5")
        for name, model in zip(names, models):
            r = evaluate(model)
            print(f"{name:<{width}} {r['top1']:>4}/{n} {r['top5']:>4}/{n} {r['mrr']:>6.3f}  {r['misses']}")
    finally:
        if server is not None:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()

"""Compares ways of fusing the lexical and the vector ranking on the natural set's dev split,
without rebuilding the server: the lexical side is the real server's (dumps of
`search-quality.py --providers none --limit 100 --dump FILE`, both sets), the vector side
is computed here with the same model the server would use.

    python scripts/fusion-tune.py DUMP... [--model DIR] [--server URL] [--split dev]

For each provider (builtin: the model2vec directory, run as scripts/embedding-quality.py
runs it; openai: all-MiniLM-L6-v2 behind --server, default one started here) and each
backend in the dump, prints hit@10, MRR@10 and top-1 of every fusion tried, as the server
would rank: the lexical side's first CANDIDATES results, the vector side's nearest
CANDIDATES above the model's similarity floor, the fused top 10. Tune on dev; the held-out
split is for reporting what was chosen (--split held-out), never for choosing.
"""

from __future__ import annotations

import argparse
import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
QUALITY = runpy.run_path(str(HERE / "embedding-quality.py"), run_name="quality")
SEARCH_SET = runpy.run_path(str(HERE / "search_set.py"), run_name="search_set")["build"]()
FLOOR = {"builtin": 0.3, "openai": 0.18}  # Embedder::min_similarity of each provider

# A stand-in for a BM25 lexical side that scores the share of the query's full weight a
# memory matches (0..1): crude suffix stemming, prefix matches at half weight, punctuated
# fragments as substrings. It shows whether a fusion holds up when lexical scores are
# absolute rather than the current backends' (--lexical bm25).
STOPWORDS = set("""a about all also an and any are as at be been but by can could did do does for
from had has have how i if in into is it its me my no not of on or our should so that the their
them then there these they this to us was we were what when where which who why will with would
you your s t""".split())


def stem(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + keep
    return word


def terms_of(text: str) -> list[str]:
    import re
    return [stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS]


def fragments_of(text: str) -> list[str]:
    out = []
    for piece in text.split():
        piece = piece.strip(".,;:!?()'\"").lower()
        if len(piece) >= 3 and any(not c.isalnum() for c in piece) and piece not in out:
            out.append(piece)
    return out


def bm25(memories: list[tuple[str, str]], question: str, k1=1.2, b=0.75) -> list[tuple[str, float]]:
    import math
    docs = [(key, terms_of(text), text.lower()) for key, text in memories]
    avg = sum(len(t) for _, t, _ in docs) / len(docs)
    vocab = {t for _, ts, _ in docs for t in ts}
    n = len(docs)
    scores = [0.0] * n
    full = 0.0
    query = list(dict.fromkeys(terms_of(question)))
    weighted_terms = []
    for word in query:
        matches = {word: 1.0} if word in vocab else {}
        if len(word) >= 3:
            matches.update({t: 0.5 for t in vocab if t != word and t.startswith(word)})
        weighted_terms.append(lambda d, m=matches: sum(w * docs[d][1].count(t) for t, w in m.items()))
    for fragment in fragments_of(question):
        weighted_terms.append(lambda d, f=fragment: 1.0 if f in docs[d][2] else 0.0)
    for tf_of in weighted_terms:
        tfs = [tf_of(d) for d in range(n)]
        df = sum(tf > 0 for tf in tfs)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        full += idf * (k1 + 1)
        for d, tf in enumerate(tfs):
            if tf > 0:
                norm = k1 * (1 - b + b * len(docs[d][1]) / avg)
                scores[d] += idf * tf * (k1 + 1) / (tf + norm)
    ranked = sorted((i for i in range(n) if scores[i] > 0), key=lambda i: -scores[i])
    return [(docs[i][0], min(scores[i] / full, 1.0)) for i in ranked]


def metrics(rankings: list[tuple[list[str], list[str]]]) -> tuple[float, float, float]:
    hit = rr = top1 = 0.0
    for ranked, evidence in rankings:
        ranks = [ranked[:10].index(e) + 1 for e in evidence if e in ranked[:10]]
        if ranks:
            hit += 1
            rr += 1 / min(ranks)
            top1 += min(ranks) == 1
    n = len(rankings)
    return hit / n, rr / n, top1 / n


def rrf(lex, vec, k=60.0, w_lex=1.0, w_vec=1.0):
    fused: dict[str, float] = {}
    for w, side in ((w_vec, vec), (w_lex, lex)):
        for rank, (key, _) in enumerate(side):
            fused[key] = fused.get(key, 0.0) + w / (k + rank + 1)
    return sorted(fused, key=lambda key: -fused[key])


def convex(lex, vec, alpha, floor, lex_norm="max", vec_norm="floor-top"):
    """alpha * normalized lexical score + (1 - alpha) * normalized cosine."""
    fused: dict[str, float] = {}
    if lex:
        top = lex[0][1]
        for key, s in lex:
            value = s / top if lex_norm == "max" and top > 0 else s
            fused[key] = alpha * value
    if vec:
        top = vec[0][1]
        for key, c in vec:
            if vec_norm == "floor-top":
                value = (c - floor) / max(top - floor, 1e-6)
            elif vec_norm == "floor-one":
                value = (c - floor) / (1 - floor)
            else:
                value = c
            fused[key] = fused.get(key, 0.0) + (1 - alpha) * value
    return sorted(fused, key=lambda key: -fused[key])


def nearest_of(model, floor: float, scopes: list[tuple[str, list[tuple[str, str]], list[str]]]) -> dict:
    """Each question's vector ranking over its scope's memories: (key, cosine) best first,
    only those at least `floor`."""
    nearest = {}
    for _, memories, questions in scopes:
        keys = [k for k, _ in memories]
        sims = model.embed(questions) @ model.embed([c for _, c in memories]).T
        for question, row in zip(questions, sims):
            order = np.argsort(-row)
            nearest[question] = [(keys[i], float(row[i])) for i in order]
    return nearest


def full(lex, vec, cos, alpha, floor, clip, raw=False, vnorm="floor-top"):
    """Convex, with the cosine of every candidate (lexical ones too), not only the nearest."""
    top_cos = max([c for _, c in vec] + [floor + 1e-6])
    top_lex = 1.0 if raw else (lex[0][1] if lex and lex[0][1] > 0 else 1.0)
    if vnorm == "floor-one":
        top_cos = 1.0
    fused = {}
    for key in {k for k, _ in vec} | {k for k, _ in lex}:
        v = (cos[key] - floor) / max(top_cos - floor, 1e-6)
        if clip:
            v = max(v, 0.0)
        fused[key] = (1 - alpha) * v
    for key, s in lex:
        fused[key] += alpha * s / top_lex
    return sorted(fused, key=lambda key: -fused[key])


def adaptive(lex, vec, cos, floor, w_low, w_high):
    """The server's score sum (raw lexical score, cosine rescaled from the floor to 1), with a
    vector weight that grows as the lexical side's best match weakens: `w_high` when no
    lexical candidate matched anything, `w_low` when the best one matched the whole query."""
    top = min(max([s for _, s in lex] + [0.0]), 1.0)
    w = w_high + (w_low - w_high) * top
    fused = {}
    for key in {k for k, _ in vec} | {k for k, _ in lex}:
        fused[key] = w * min(max((cos[key] - floor) / (1 - floor), 0.0), 1.0)
    for key, s in lex:
        fused[key] += (1 - w) * min(s, 1.0)
    return sorted(fused, key=lambda key: -fused[key])


def rrf_full(lex, vec, ranks, k, w):
    """RRF, with the vector rank of every candidate (lexical ones too)."""
    fused = {}
    for key in {k2 for k2, _ in vec} | {k2 for k2, _ in lex}:
        fused[key] = w / (k + ranks[key])
    for rank, (key, _) in enumerate(lex):
        fused[key] += 1 / (k + rank + 1)
    return sorted(fused, key=lambda key: -fused[key])


def rrf_gate(lex, vec, cos, floor, k, w, beta):
    """RRF in which a lexical match the vector side finds unrelated (under the floor) counts
    `beta` times."""
    fused = {}
    for rank, (key, _) in enumerate(vec):
        fused[key] = w / (k + rank + 1)
    for rank, (key, _) in enumerate(lex):
        gate = 1.0 if cos[key] >= floor else beta
        fused[key] = fused.get(key, 0.0) + gate / (k + rank + 1)
    return sorted(fused, key=lambda key: -fused[key])


def variants(floor: float) -> dict:
    found = {"lexical only": lambda l, v, **_: [k for k, _ in l],
             "vectors only": lambda l, v, **_: [k for k, _ in v]}
    for k in (10, 30, 60):
        for w in (1.0, 1.5, 2.0, 3.0):
            found[f"rrf k={k} w_vec={w}"] = lambda l, v, k=k, w=w, **_: rrf(l, v, k, 1.0, w)
    for norm in ("max", "raw"):
        for vnorm in ("floor-top", "floor-one"):
            for a in (0.2, 0.3, 0.4, 0.5, 0.6):
                found[f"convex a={a} lex={norm} vec={vnorm}"] = (
                    lambda l, v, a=a, n=norm, vn=vnorm, **_: convex(l, v, a, floor, n, vn))
    for a in (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        for clip in (True, False):
            found[f"full a={a} clip={clip}"] = lambda l, v, cos, a=a, c=clip, **_: full(l, v, cos, a, floor, c)
        for vn in ("floor-top", "floor-one"):
            found[f"full-raw a={a} vec={vn}"] = lambda l, v, cos, a=a, vn=vn, **_: full(l, v, cos, a, floor, True, True, vn)
    for lo in (0.2, 0.3, 0.4, 0.5):
        for hi in (0.3, 0.5, 0.7, 0.9):
            if hi >= lo:
                found[f"adaptive w={lo}..{hi}"] = (
                    lambda l, v, cos, lo=lo, hi=hi, **_: adaptive(l, v, cos, floor, lo, hi))
    for k in (10, 30, 60):
        for w in (1.0, 1.5, 2.0):
            found[f"rrf-full k={k} w_vec={w}"] = lambda l, v, ranks, k=k, w=w, **_: rrf_full(l, v, ranks, k, w)
    for k in (10, 30, 60):
        for w in (1.0, 1.2):
            for beta in (0.3, 0.5, 0.7, 0.85):
                found[f"rrf-gate k={k} w_vec={w} beta={beta}"] = (
                    lambda l, v, cos, k=k, w=w, b=beta, **_: rrf_gate(l, v, cos, floor, k, w, b))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dumps", nargs="+", help="search-quality.py --providers none --limit 100 --dump files")
    parser.add_argument("--model", help="model2vec directory (default: scripts/build-test-model.sh's)")
    parser.add_argument("--server", help="OpenAI-compatible base URL (default: start one)")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--providers", default="builtin,openai")
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--lexical", choices=["dump", "bm25"], default="dump",
                        help="the lexical side: the server's (dump) or the BM25 stand-in")
    args = parser.parse_args()
    dumps = [d for f in args.dumps for d in json.loads(Path(f).read_text()) if d["provider"] == "none"]
    model_dir = args.model or subprocess.run(["bash", str(HERE / "build-test-model.sh")], check=True,
                                             capture_output=True, text=True).stdout.strip()
    server = None
    url = args.server
    if "openai" in args.providers and url is None:
        server = subprocess.Popen([sys.executable, str(HERE / "embedding-server.py"), "--port", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        url = server.stdout.readline().strip().removeprefix("listening on ")
    scopes = [(s["project"], s["memories"], [q["question"] for q in SEARCH_SET["questions"]
                                             if q["project"] == s["project"]])
              for s in SEARCH_SET["scopes"]]
    scopes.append(("paraphrase", [(f"paraphrase:{i}", m) for i, (m, _) in enumerate(QUALITY["PAIRS"])],
                   [q for _, q in QUALITY["PAIRS"]]))
    # The columns: each backend's natural set on the split, then the paraphrase set.
    columns = [(f"{d['backend']} {args.split}", [q for q in d["rankings"] if q["split"] == args.split])
               for d in dumps if d.get("set", "natural") == "natural"]
    columns += [("paraphrase", d["rankings"]) for d in dumps if d.get("set") == "paraphrase"]
    if args.lexical == "bm25":
        memories = {name: mems for name, mems, _ in scopes}
        for name, questions in columns:
            for q in questions:
                q["ranked"] = bm25(memories[q["project"]], q["question"])[:100]
        columns = [c for i, c in enumerate(columns) if i == 0 or c[0] != columns[0][0]]
        columns = [("bm25 " + name if name != "paraphrase" else name, qs) for name, qs in columns[:1]] + \
                  [c for c in columns[1:] if c[0] == "paraphrase"]
        print("lexical side: the BM25 stand-in")
    try:
        models = {"builtin": lambda: QUALITY["StaticModel"](Path(model_dir)),
                  "openai": lambda: QUALITY["ServedModel"](url)}
        for provider in args.providers.split(","):
            floor = FLOOR[provider]
            nearest = nearest_of(models[provider](), floor, scopes)
            print(f"\n{provider}: hit@10 / MRR@10 per column, top-1 of the `words` questions; "
                  f"{args.candidates} candidates a side")
            print(f"{'fusion':40}" + "".join(f"{name:>20}" for name, _ in columns) + f"{'words top-1':>12}")
            for name, fuse in variants(floor).items():
                cells, words = [], []
                for _, questions in columns:
                    ranked = []
                    for q in questions:
                        every = nearest[q["question"]]
                        cos = dict(every)
                        ranks = {key: i + 1 for i, (key, _) in enumerate(every)}
                        near = [(key, c) for key, c in every[:args.candidates] if c >= floor]
                        ranked.append((fuse(q["ranked"][:args.candidates], near, cos=cos, ranks=ranks),
                                       q["evidence"]))
                    hit, mrr, _ = metrics(ranked)
                    cells.append(f"{hit:.2f} / {mrr:.2f}")
                    words += [r for r, q in zip(ranked, questions) if q["kind"] == "words"]
                print(f"{name:40}" + "".join(f"{c:>20}" for c in cells) + f"{metrics(words)[2]:12.2f}", flush=True)
    finally:
        if server:
            server.terminate()


if __name__ == "__main__":
    main()

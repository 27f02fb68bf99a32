"""The llamacpp backend on a real llama.cpp server (xllamacpp) serving the tiny model's GGUF on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generation.backends import GenerationRequest, get_backend
from generation.backends.llamacpp import LlamaCppBackend, file_sha256
from harness.errors import UserError

REPO = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is gone for our purposes
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_greedy_text_matches_the_hf_backend_on_the_same_weights(tiny_gguf, tiny_model, tmp_path):
    reqs = [GenerationRequest(prompt="def add(a, b):\n", max_new_tokens=8),
            GenerationRequest(prompt=[{"role": "user", "content": "Write a function."}], max_new_tokens=8)]
    with get_backend("llamacpp", model=str(tiny_gguf), parallel=2, progress=False) as served:
        got = served.generate(reqs)
    with get_backend("hf", model=str(tiny_model), progress=False) as hf:
        want = hf.generate(reqs)
    assert [g[0].text for g in got] == [w[0].text for w in want]
    assert [g[0].prompt_tokens for g in got] == [w[0].prompt_tokens for w in want]
    assert all(g[0].finish_reason == "length" for g in got)


def test_started_on_first_use_stopped_on_close_and_cached_reruns_never_start_it(tiny_gguf, tmp_path):
    cache = tmp_path / "cache.sqlite"
    req = GenerationRequest(prompt="import", n=5, temperature=1.0, max_new_tokens=6, seed=7)
    backend = LlamaCppBackend(model=str(tiny_gguf), cache=cache, parallel=2, progress=False)
    assert backend._proc is None
    (five,) = backend.generate([req])
    proc = backend._proc
    assert proc is not None and alive(proc.pid) and backend.url.startswith("http://127.0.0.1:")
    backend.close()
    assert proc.poll() is not None and backend._proc is None
    # n above the slot count: the server seeds choice i with seed + i, so later calls start past them
    assert len(five) == 5 and len({c.text for c in five}) == 5
    with get_backend("llamacpp", model=str(tiny_gguf), parallel=5, progress=False) as wide:
        assert [c.text for c in wide.generate([req])[0]] == [c.text for c in five]
    again = LlamaCppBackend(model=str(tiny_gguf), cache=cache, parallel=2, progress=False)
    assert again.generate([req])[0] == five and again._proc is None and again.stats["from_cache"] == 1
    again.close()


def test_the_server_exits_when_its_parent_is_killed(tiny_gguf):
    script = ("import sys, time\nfrom generation.backends import get_backend, GenerationRequest\n"
              f"b = get_backend('llamacpp', model={str(tiny_gguf)!r}, parallel=1, progress=False)\n"
              "b.generate([GenerationRequest(prompt='x', max_new_tokens=1)])\n"
              "print(b._proc.pid, flush=True)\ntime.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    server_pid = int(parent.stdout.readline())
    assert alive(server_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 30
    while alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(server_pid)


def test_identity_is_the_gguf_hash_and_the_options_that_change_outputs(tiny_gguf):
    gguf = next(tiny_gguf.glob("*.gguf"))
    a = LlamaCppBackend(model=str(tiny_gguf), parallel=2, progress=False)
    b = LlamaCppBackend(model=str(gguf), parallel=2, threads=1, progress=False)
    c = LlamaCppBackend(model=str(gguf), parallel=3, progress=False)
    req = GenerationRequest(prompt="x")
    assert a.identity()["model_fingerprint"] == file_sha256(gguf)
    assert a.request_key(req) == b.request_key(req)  # folder or file, any thread count: one cache entry
    assert a.request_key(req) != c.request_key(req)
    assert a._proc is None and b._proc is None and c._proc is None


def test_model_errors_are_one_line(tmp_path):
    with pytest.raises(UserError, match="expected one .gguf file in the folder, found 0"):
        get_backend("llamacpp", model=str(tmp_path))
    (tmp_path / "a.gguf").write_bytes(b"not a model")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.gguf").write_bytes(b"")
    with pytest.raises(UserError, match="found 2"):
        get_backend("llamacpp", model=str(tmp_path))
    broken = LlamaCppBackend(model=str(tmp_path / "a.gguf"), progress=False, start_timeout_s=60)
    with pytest.raises(UserError, match="llama.cpp server .* did not start"):
        broken.generate([GenerationRequest(prompt="x", max_new_tokens=1)])
    assert broken._proc is None

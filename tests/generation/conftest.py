"""Fixtures for backend and codegen tests: the shared tiny model and a real `transformers serve` on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.tiny_model import get_tiny_model

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return get_tiny_model(tmp_path_factory)


@pytest.fixture(scope="session")
def transformers_server(tiny_model, tmp_path_factory):
    """`transformers serve` with the tiny model preloaded, offline, HF_HOME in tmp; yields its /v1 URL."""
    exe = VENV_BIN / "transformers"
    if not exe.exists():
        pytest.skip(f"{exe} not found: install transformers[serving]")
    home = tmp_path_factory.mktemp("serve-home")
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(home / "hf"), "HOME": str(home)}
    log = open(home / "serve.log", "w")
    proc = subprocess.Popen([str(exe), "serve", str(tiny_model), "--host", "127.0.0.1", "--port", str(port),
                             "--device", "cpu"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                tail = (home / "serve.log").read_text()[-2000:]
                pytest.fail(f"transformers serve exited with {proc.returncode}: {tail}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("transformers serve did not become ready in 120 s")
            time.sleep(0.25)
        yield f"{url}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

"""The vllm adapter against vLLM's documented API, captured in a labelled fake (tests/generation/fake_vllm)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from generation.backends import GenerationRequest, get_backend
from harness.errors import UserError

FAKE_DIR = Path(__file__).parent / "fake_vllm"


@pytest.fixture
def fake_vllm(monkeypatch, tmp_path):
    """FAKE vllm (vLLM cannot be installed here), injected into sys.modules and onto the path of DP workers."""
    spec = importlib.util.spec_from_file_location("vllm", FAKE_DIR / "vllm.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "vllm", module)
    spec.loader.exec_module(module)
    monkeypatch.syspath_prepend(str(FAKE_DIR))  # spawned data-parallel workers inherit sys.path
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_VLLM_LOG", str(log))
    return module, log


def _requests():
    return [
        GenerationRequest(prompt="def add(a, b):\n", max_new_tokens=64, stop=["\ndef "], seed=7),
        GenerationRequest(prompt=[{"role": "user", "content": "write add"}], n=3, temperature=0.8, top_p=0.95,
                          max_new_tokens=3, seed=11),
    ]


def test_fake_rejects_calls_off_the_documented_api(fake_vllm):
    vllm, _ = fake_vllm
    with pytest.raises(TypeError):
        vllm.LLM(model="m", max_new_tokens=5)
    with pytest.raises(TypeError):
        vllm.SamplingParams(max_new_tokens=5)
    with pytest.raises(ValueError):
        vllm.SamplingParams(top_p=0)
    llm = vllm.LLM(model="m")
    with pytest.raises(ValueError):
        llm.generate(["a", "b"], [vllm.SamplingParams()])


def test_adapter_calls_match_vllm_api(fake_vllm, tmp_path):
    vllm, log = fake_vllm
    backend = get_backend("vllm", model="org/model", cache=tmp_path / "cache.sqlite", progress=False,
                          tensor_parallel_size=2, pipeline_parallel_size=2, max_model_len=4096, seed=3)
    with backend:
        text, chat = backend.generate(_requests())
        again = backend.generate(_requests())
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["call"] for c in calls] == ["LLM", "generate", "chat"]  # the rerun came from the cache
    assert calls[0]["tensor_parallel_size"] == 2 and calls[0]["kwargs"]["pipeline_parallel_size"] == 2
    assert calls[0]["kwargs"]["max_model_len"] == 4096 and calls[0]["seed"] == 3
    assert [c.text for c in text] == ["generate|7|0|(a, b):\n"]
    assert text[0].finish_reason == "stop" and text[0].completion_tokens == 5
    assert [c.text.split("|")[:3] for c in chat] == [["chat", "11", str(i)] for i in range(3)]
    assert all(c.finish_reason == "length" and c.completion_tokens == 3 for c in chat)
    assert again == [text, chat]


@pytest.mark.slow
def test_data_parallel_engines_split_gpus_and_work(fake_vllm, tmp_path):
    _, log = fake_vllm
    reqs = [GenerationRequest(prompt=f"task {i}", seed=i) for i in range(16)]
    backend = get_backend("vllm", model="org/model", progress=False, tensor_parallel_size=2,
                          data_parallel_size=2, gpus=["0", "1", "2", "3"])
    with backend:
        out = backend.generate(reqs)
    assert [o[0].text for o in out] == [f"generate|{i}|0|{f'task {i}'[-8:]}" for i in range(16)]
    engines = [json.loads(line) for line in log.read_text().splitlines() if '"LLM"' in line]
    assert sorted(e["cuda_visible_devices"] for e in engines) == ["0,1", "2,3"]
    assert len({e["pid"] for e in engines}) == 2


def test_missing_vllm_is_a_user_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    backend = get_backend("vllm", model="org/model", progress=False)
    with pytest.raises(UserError, match="vllm"):
        backend.generate([GenerationRequest(prompt="x")])


def test_too_few_gpus_for_data_parallel(fake_vllm):
    backend = get_backend("vllm", model="m", progress=False, tensor_parallel_size=2, data_parallel_size=2,
                          gpus=["0", "1"])
    with pytest.raises(UserError, match="data_parallel_size"):
        backend.generate([GenerationRequest(prompt="x")])

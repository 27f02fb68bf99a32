"""The backend interface, its result cache, and the in-process hf backend on the real tiny model."""

from __future__ import annotations

import pytest

from generation.backends import Completion, GenerationRequest, ResultCache, get_backend
from generation.backends.base import truncate_at_stop
from harness.errors import UserError


@pytest.mark.parametrize("bad, field", [
    (dict(n=0), "n"), (dict(temperature=-1), "temperature"), (dict(top_p=0), "top_p"),
    (dict(max_new_tokens=0), "max_new_tokens"), (dict(stop="\n"), "stop"),
    (dict(prompt=[{"content": "x"}]), "prompt"),
])
def test_bad_requests_are_user_errors(bad, field):
    with pytest.raises(UserError, match=f"^{field}:"):
        GenerationRequest(**{"prompt": "x", **bad})


def test_unknown_backend_suggests_the_closest():
    with pytest.raises(UserError, match="did you mean 'openai'"):
        get_backend("opneai", model="m")


def test_truncate_at_earliest_stop():
    assert truncate_at_stop("a\nb\ndef c", ["\ndef", "\nb"]) == ("a", True)
    assert truncate_at_stop("abc", ["x"]) == ("abc", False)


def test_cache_survives_reopen(tmp_path):
    req = GenerationRequest(prompt="p", n=2)
    comps = [Completion("a", "stop", 1, 2), Completion("b", "length", 1, None)]
    cache = ResultCache(tmp_path / "c.sqlite")
    cache.put("k", req, comps)
    cache.close()
    again = ResultCache(tmp_path / "c.sqlite")
    assert again.get("k") == comps and again.get("other") is None and len(again) == 1


def test_corrupt_cache_is_a_user_error(tmp_path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(UserError, match=str(path)):
        ResultCache(path).get("k")


@pytest.fixture(scope="module")
def hf(tiny_model):
    with get_backend("hf", model=str(tiny_model), progress=False, batch_size=3) as backend:
        yield backend


def test_hf_greedy_batched_equals_one_by_one(hf, tiny_model):
    prompts = [f"def f{i}(x):\n    return" + " x" * i for i in range(5)]
    reqs = [GenerationRequest(prompt=p, max_new_tokens=12) for p in prompts]
    batched = hf.generate(reqs)
    with get_backend("hf", model=str(tiny_model), progress=False, batch_size=1) as single:
        alone = single.generate(reqs)
    assert [b[0].text for b in batched] == [a[0].text for a in alone]
    for (c,), p in zip(batched, prompts):
        assert c.finish_reason in ("stop", "length") and c.prompt_tokens == len(hf.encode(p))
        assert c.completion_tokens <= 12


def test_hf_length_vs_stop_and_token_counts(hf):
    (full,) = hf.generate([GenerationRequest(prompt="import os\n", max_new_tokens=16)])[0][:1]
    assert full.finish_reason == "length" and full.completion_tokens == 16
    # Use a piece of the greedy output as a stop string: the same text must be cut there.
    stop = full.text[3:6]
    (cut,) = hf.generate([GenerationRequest(prompt="import os\n", max_new_tokens=16, stop=[stop])])[0]
    assert cut.finish_reason == "stop" and stop not in cut.text and full.text.startswith(cut.text)
    assert cut.completion_tokens < 16


def test_hf_sampling_is_seeded_per_request(hf):
    req = GenerationRequest(prompt="class A:\n", n=3, temperature=1.0, top_p=0.95, max_new_tokens=10, seed=5)
    other = GenerationRequest(prompt="x = 1\n", n=2, temperature=1.0, max_new_tokens=10, seed=6)
    first = hf.generate([req])[0]
    second = hf.generate([other, req])[1]  # different company, same seed -> same samples
    assert len(first) == 3 and first == second
    assert len({c.text for c in first}) > 1
    reseeded = hf.generate([GenerationRequest(**{**req.to_dict(), "seed": 9})])[0]
    assert reseeded != first


def test_hf_chat_messages_use_the_template(hf):
    msgs = [{"role": "user", "content": "Write a function."}]
    (c,) = hf.generate([GenerationRequest(prompt=msgs, max_new_tokens=8)])[0]
    rendered = hf.tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    (d,) = hf.generate([GenerationRequest(prompt=rendered, max_new_tokens=8)])[0]
    assert c == d


def test_cache_reuses_results_and_keys_on_the_model(tiny_model, tmp_path):
    reqs = [GenerationRequest(prompt=f"# {i}\n", max_new_tokens=6) for i in range(4)]
    with get_backend("hf", model=str(tiny_model), cache=tmp_path / "c.sqlite", progress=False) as b:
        first = b.generate(reqs[:2] + reqs[:1])  # duplicate request generated once
        assert b.stats == {"requests": 3, "from_cache": 0, "generated": 2}
    with get_backend("hf", model=str(tiny_model), cache=tmp_path / "c.sqlite", progress=False) as b:
        second = b.generate(reqs)
        assert b.stats == {"requests": 4, "from_cache": 2, "generated": 2}
        assert b._model is not None and second[:2] == first[:2]
    with get_backend("hf", model=str(tiny_model), cache=tmp_path / "c.sqlite", progress=False,
                     dtype="float32") as b:
        b.generate(reqs[:1])
        assert b.stats["generated"] == 1  # other settings, other key


def test_fully_cached_rerun_never_loads_the_model(tiny_model, tmp_path):
    reqs = [GenerationRequest(prompt="# a\n", max_new_tokens=4)]
    with get_backend("hf", model=str(tiny_model), cache=tmp_path / "c.sqlite", progress=False) as b:
        b.generate(reqs)
    with get_backend("hf", model=str(tiny_model), cache=tmp_path / "c.sqlite", progress=False) as b:
        b.generate(reqs)
        assert b._model is None


def test_device_map_auto_gives_the_same_text(hf, tiny_model):
    req = [GenerationRequest(prompt="def h():\n", max_new_tokens=8)]
    with get_backend("hf", model=str(tiny_model), progress=False, device="auto") as spread:
        assert spread.generate(req) == hf.generate(req)


def test_missing_model_is_a_user_error(tmp_path):
    with get_backend("hf", model=str(tmp_path / "nope"), progress=False) as b:
        with pytest.raises(UserError, match="nope"):
            b.generate([GenerationRequest(prompt="x")])

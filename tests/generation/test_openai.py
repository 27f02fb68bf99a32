"""The openai backend against a real `transformers serve` (tiny model) and a real flaky stdlib server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from generation.backends import GenerationRequest, get_backend
from harness.errors import UserError
from tests.generation.conftest import free_port


def openai_backend(url, **kw):
    return get_backend("openai", model=kw.pop("model"), base_urls=url, server="transformers", progress=False,
                       backoff_s=0.05, **kw)


@pytest.mark.slow
def test_served_greedy_matches_in_process_hf(transformers_server, tiny_model):
    reqs = [GenerationRequest(prompt=f"def f{i}(x):\n", max_new_tokens=12) for i in range(3)]
    reqs.append(GenerationRequest(prompt=[{"role": "user", "content": "hello"}], max_new_tokens=8))
    with openai_backend(transformers_server, model=str(tiny_model)) as served:
        got = served.generate(reqs)
    with get_backend("hf", model=str(tiny_model), progress=False) as hf:
        want = hf.generate(reqs)
    assert [g[0].text for g in got] == [w[0].text for w in want]
    assert [g[0].finish_reason for g in got] == [w[0].finish_reason for w in want]
    assert [g[0].completion_tokens for g in got] == [w[0].completion_tokens for w in want]


@pytest.mark.slow
def test_server_that_ignores_n_still_yields_n_seeded_samples(transformers_server, tiny_model):
    req = GenerationRequest(prompt="import", n=3, temperature=1.0, top_p=0.95, max_new_tokens=10, seed=1)
    with openai_backend(transformers_server, model=str(tiny_model)) as b:
        (first,) = b.generate([req])
        (again,) = openai_backend(transformers_server, model=str(tiny_model)).generate([req])
    assert len(first) == 3
    assert len({c.text for c in first}) > 1  # sampled (do_sample sent), one seed per call
    assert first == again  # and reproducible


@pytest.mark.slow
def test_stop_string_is_cut_even_when_the_server_returns_it(transformers_server, tiny_model):
    with openai_backend(transformers_server, model=str(tiny_model)) as b:
        (full,) = b.generate([GenerationRequest(prompt="def g():\n", max_new_tokens=16)])[0]
        stop = full.text[4:6]
        (cut,) = b.generate([GenerationRequest(prompt="def g():\n", max_new_tokens=16, stop=[stop])])[0]
    assert cut.finish_reason == "stop" and stop not in cut.text and full.text.startswith(cut.text)


@pytest.mark.slow
def test_load_spreads_over_urls_and_skips_a_dead_one(transformers_server, tiny_model):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    reqs = [GenerationRequest(prompt=f"# {i}\n", max_new_tokens=4) for i in range(6)]
    with openai_backend([dead, transformers_server], model=str(tiny_model), concurrency=2) as b:
        out = b.generate(reqs)
    assert len(out) == 6 and all(len(o) == 1 for o in out)


class Flaky(BaseHTTPRequestHandler):
    """Answers its first calls with the statuses in `script`, then with ONE choice whatever n was asked."""

    calls: list = []
    script: list = [503, 503]

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Flaky.calls.append(body)
        if len(Flaky.calls) <= len(Flaky.script):
            self.send_response(Flaky.script[len(Flaky.calls) - 1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        reply = {"id": "x", "object": "text_completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "text": f"seed={body['seed']} STOP tail", "finish_reason": "length",
                              "logprobs": None}],
                 "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_server():
    Flaky.calls, Flaky.script = [], [503, 503]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_retries_transient_errors_and_tops_up_missing_choices(flaky_server):
    req = GenerationRequest(prompt="p", n=3, temperature=0.7, max_new_tokens=4, stop=[" STOP"], seed=10)
    with get_backend("openai", model="served", base_urls=[flaky_server], progress=False, backoff_s=0.01) as b:
        (out,) = b.generate([req])
    assert [c.text for c in out] == ["seed=10", "seed=11", "seed=12"]
    assert all(c.finish_reason == "stop" and c.completion_tokens == 4 for c in out)
    asked = [c["n"] for c in Flaky.calls[2:]]
    assert asked == [3, 2, 1] and "generation_config" not in Flaky.calls[-1]  # plain OpenAI flavor


def test_gives_up_with_a_user_error_naming_the_url(flaky_server):
    with get_backend("openai", model="served", base_urls=[flaky_server], progress=False, max_retries=1,
                     backoff_s=0.01) as b:
        with pytest.raises(UserError, match="--base-url"):
            b.generate([GenerationRequest(prompt="p")])


def test_client_errors_are_not_retried(flaky_server):
    Flaky.script = [400]
    with get_backend("openai", model="served", base_urls=[flaky_server], progress=False, backoff_s=0.01) as b:
        with pytest.raises(UserError, match="HTTP 400"):
            b.generate([GenerationRequest(prompt="p")])
    assert len(Flaky.calls) == 1


def test_needs_a_base_url(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(UserError, match="--base-url"):
        get_backend("openai", model="m")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1, http://127.0.0.1:2/v1")
    assert get_backend("openai", model="m").base_urls == ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"]

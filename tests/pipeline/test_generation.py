"""The generation stages end to end against a scripted OpenAI-compatible server on loopback (stdlib http.server):
what each stage sends (layout, sampling, stops, seeds, n) and how it parses, drops and counts what comes back."""

from __future__ import annotations

import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from generation.pipeline.fewshot import CHAT_TESTS_NOTE, Property
from tests.pipeline.conftest import file_input, raw_response, run_recipe, write_jsonl

GOOD = raw_response("def twice(x):\n    return 2 * x", "assert twice(2) == 4\nassert twice(0) == 0")
VACUOUS = raw_response("import sys\ndef twice(x):\n    return 2 * x", "sys.exit(0)\nassert twice(2) == 5")


class Scripted(BaseHTTPRequestHandler):
    """Answers like a model would, from the end of the prompt; remembers every request."""

    calls: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Scripted.calls.append({"path": self.path, **body})
        prompt = body["prompt"] if "prompt" in body else body["messages"][-1]["content"]
        choices = []
        for i in range(body.get("n", 1)):
            text, reason = self.answer(prompt, body["seed"] + i)
            choices.append({"index": i, "finish_reason": reason, "logprobs": None,
                            **({"text": text} if "prompt" in body else
                               {"message": {"role": "assistant", "content": text}})})
        reply = {"id": "x", "object": "text_completion", "created": 0, "model": body["model"], "choices": choices,
                 "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    @staticmethod
    def answer(prompt: str, seed: int) -> tuple[str, str]:
        if prompt.endswith("### Concepts"):
            if "rambling" in prompt.rsplit("## Example", 1)[-1]:
                return "loops, loops, loops, loops", "length"
            if "silent" in prompt.rsplit("## Example", 1)[-1]:
                return " , \n", "stop"
            return "\nloops, arithmetic\n\n", "stop"
        if prompt.endswith("### Task"):
            return "\nWrite a Python function `twice` that doubles a number.\n\n", "stop"
        if prompt.endswith("<response>"):
            return (GOOD if seed % 2 == 0 else VACUOUS), "stop"
        if prompt.endswith(CHAT_TESTS_NOTE):  # chat I->R: the solution, then a last block of asserts
            code, tests = ("def twice(x):\n    return 2 * x", "assert twice(2) == 4") if seed % 2 == 0 else \
                ("import sys\ndef twice(x):\n    return 2 * x", "sys.exit(0)\nassert twice(2) == 5")
            return f"Sure.\n\n```python\n{code}\n```\n\nTests:\n\n```python\n{tests}\n```", "stop"
        raise AssertionError(prompt[-200:])


@pytest.fixture
def server():
    Scripted.calls = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def seeds_file(tmp_path):
    contents = ["def double(x):\n    \"\"\"Twice x.\"\"\"\n    return 2 * x", "def rambling(x):\n    return x",
                "def silent(x):\n    return x", "def half(x):\n    \"\"\"Half x.\"\"\"\n    return x / 2"]
    return write_jsonl(tmp_path / "seeds.jsonl", [{"seed_id": f"seed{i}", "content": c, "source": "test",
                                                   "license": "MIT"} for i, c in enumerate(contents)])


def stages(url: str, mode: str = "completion") -> dict:
    gen = {"model": "scripted", "backend": "openai", "mode": mode, "backend_options": {"base_urls": url}}
    return {"seeds": None,
            "concepts": {"uses": "concepts", "inputs": ["seeds"], "with": {**gen, "shards": 2}},
            "instructions": {"uses": "instructions", "inputs": ["concepts"], "with": gen},
            "responses": {"uses": "responses", "inputs": ["instructions"], "with": {**gen, "n": 4}},
            "execute": {"uses": "execute", "inputs": ["responses"]},
            "select": {"uses": "select", "inputs": ["execute"], "with": {"skip_decontamination": True}}}


def test_completion_pipeline_sends_the_papers_requests_and_counts_what_it_drops(tmp_path, server):
    recipe = stages(server)
    recipe["seeds"] = file_input(seeds_file(tmp_path))
    arts = run_recipe(tmp_path, recipe, wandb="disabled")

    concepts = arts["concepts"].manifest["counts"]
    assert concepts == {"samples": 4, "records": 2, "items": 4, "dropped_length": 1, "dropped_unparsed": 1}
    calls = {c["prompt"].rsplit("\n", 1)[-1]: c for c in Scripted.calls if "prompt" in c}
    sc, ci, ir = calls["### Concepts"], calls["### Task"], calls["<response>"]
    assert (sc["temperature"], sc["top_p"], sc["max_tokens"], sc["stop"], sc["n"]) == (0.7, 1.0, 1536, ["## Example"], 1)
    assert sc["prompt"].count("## Example") == 9 and ci["prompt"].count("## Example") == 9  # 8 shots + the item
    assert ir["prompt"].count("## Example") == 2 and ir["stop"] == ["## Example", "</tests>"] and ir["n"] == 4
    assert sorted(c["seed"] for c in Scripted.calls if c["prompt"].endswith("### Concepts")) == [3407, 3408, 3409, 3410]

    instructions = list(arts["instructions"].records())
    assert [r["id"] for r in instructions] == ["seed0/c0/i0", "seed3/c0/i0"]
    for index, r in enumerate(instructions):  # properties drawn from the item's own generator
        prop = Property.sample(r["concepts"], "Python", random.Random(3407 + index))
        assert (r["category"], r["language"], r["difficulty"]) == (prop.category, "Python", prop.difficulty)
        assert r["concepts"] == ["loops", "arithmetic"] and r["seed"].startswith("def ")
        assert r["instruction"] == "Write a Python function `twice` that doubles a number."
        assert r["prompting"] == {"S->C": "completion", "C->I": "completion"}

    responses = list(arts["responses"].records())
    assert len(responses) == 8 and responses[0]["id"] == "seed0/c0/i0/r0"
    assert [r["raw_response"] for r in responses[:2]] == [VACUOUS.strip(), GOOD.strip()]
    executed = arts["execute"].manifest["counts"]
    assert executed == {"records": 8, "passed": 4, "exit0": 8, "sentinel_rejected": 4}
    final = list(arts["select"].records())
    # one passing response per instruction; the two instructions are identical, so exact dedup keeps one
    assert len(final) == 1 and final[0]["verdict"]["passed"]
    assert final[0]["prompting"] == {"S->C": "completion", "C->I": "completion", "I->R": "completion"}

    samples = [json.loads(line) for line in arts["concepts"].file("samples.jsonl").read_text().splitlines()]
    assert [s["dropped"] for s in samples] == [None, "length", "unparsed", None]
    assert all(len(s["shots"]) == 8 and len(s["prompt_sha256"]) == 64 for s in samples)


def test_chat_mode_sends_turns_and_records_the_deviation(tmp_path, server):
    recipe = stages(server, mode="chat")
    recipe["seeds"] = file_input(seeds_file(tmp_path))
    arts = run_recipe(tmp_path, recipe, wandb="disabled")
    chats = [c for c in Scripted.calls if c["path"].endswith("/chat/completions")]
    assert chats and all(c["messages"][0]["role"] == "system" for c in chats)
    ir = next(c for c in chats if c["messages"][-1]["content"].endswith(CHAT_TESTS_NOTE))
    assert [m["role"] for m in ir["messages"]] == ["system", "user", "assistant", "user"]
    assert arts["execute"].manifest["counts"] == {"records": 8, "passed": 4, "exit0": 8, "sentinel_rejected": 4}
    final = list(arts["select"].records())
    assert len(final) == 1 and final[0]["prompting"] == {"S->C": "chat", "C->I": "chat", "I->R": "chat"}
    assert final[0]["tests"] == "```python\nassert twice(2) == 4\n```" and "assert" not in final[0]["response"]
    assert arts["responses"].manifest["config"]["mode"] == "chat"


def test_snippet_to_instruction_ablation(tmp_path, server):
    recipe = {"seeds": file_input(seeds_file(tmp_path)),
              "tasks": {"uses": "snippet_instructions", "inputs": ["seeds"],
                        "with": {"model": "scripted", "backend": "openai", "backend_options": {"base_urls": server}}}}
    arts = run_recipe(tmp_path, recipe, wandb="disabled")
    records = list(arts["tasks"].records())
    assert len(records) == 4 and records[0]["id"] == "seed0/s0" and records[0]["concepts"] == []
    assert records[0]["category"] is None and records[0]["prompting"] == {"S->I": "completion"}
    prompt = Scripted.calls[0]["prompt"]
    assert prompt.endswith("### Snippet\ndef double(x):\n    \"\"\"Twice x.\"\"\"\n    return 2 * x\n\n### Task")


def test_a_config_change_that_keeps_the_requests_regenerates_nothing(tmp_path, server):
    recipe = stages(server)
    recipe["seeds"] = file_input(seeds_file(tmp_path))
    run_recipe(tmp_path, recipe, wandb="disabled")
    before = len(Scripted.calls)
    # More shards and a new limit that keeps every item: new artifacts, the same requests.
    arts = run_recipe(tmp_path, recipe, ["stages.concepts.with.shards=4", "stages.responses.with.limit=10"],
                      wandb="disabled")
    assert len(Scripted.calls) == before
    metrics = [json.loads(line) for line in arts["responses"].file("metrics.jsonl").read_text().splitlines()]
    assert next(m for m in metrics if "requests_from_cache" in m)["requests_from_cache"] == 2
    assert (tmp_path / "runs" / "cache" / "generation.sqlite").is_file()

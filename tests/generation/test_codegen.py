"""`sca generate`: prompts, registry, CLI errors, resume after kill -9, and the chain into `sca evaluate`."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generation import models
from generation.codegen import select_tasks
from generation.prompts import INSTRUCTION_PREFIX, RESPONSE_PREFIX, build_prompt, chat_template_sha256
from harness.errors import UserError

REPO = Path(__file__).resolve().parents[2]
SCA = [sys.executable, "-m", "harness.cli"]
HE_TASK = {"task_id": "HumanEval/0", "prompt": "def f(x):\n    \"\"\"Return x.\"\"\"\n", "entry_point": "f"}


def need_data():
    if not os.environ.get("SCA_DATA_DIR"):
        pytest.skip("no benchmark data: set SCA_DATA_DIR to a mirror like /work/shared/data")


def sca(*args, env=None, timeout=300):
    return subprocess.run([*SCA, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_base_prompts_complete_the_task_with_benchmark_stops():
    p = build_prompt(HE_TASK, "humaneval", "base")
    assert p.prompt == HE_TASK["prompt"].strip() + "\n" and p.prefix == p.prompt
    assert "\ndef " in p.stop and "\nif __name__" in p.stop
    assert "\nassert" in build_prompt({**HE_TASK, "task_id": "Mbpp/2"}, "mbpp", "base").stop


def test_instruct_prompts_prefill_a_python_block(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    p = build_prompt(HE_TASK, "humaneval", "instruct", tok)
    assert p.prompt.startswith("<|im_start|>user\n" + INSTRUCTION_PREFIX)
    assert p.prompt.endswith("<|im_start|>assistant\n" + RESPONSE_PREFIX + "\n```python\n")
    assert "\n```\n" in p.stop and p.prefix == ""
    assert chat_template_sha256(tok) == hashlib.sha256(tok.chat_template.encode()).hexdigest()
    messages = build_prompt(HE_TASK, "humaneval", "instruct", None)
    assert messages.prompt[0]["role"] == "user" and HE_TASK["prompt"].strip() in messages.prompt[0]["content"]
    assert messages.sha256 != p.sha256


def test_registry_styles_dates_and_did_you_mean():
    assert models.lookup("bigcode/starcoder2-15b").style == "base"
    assert models.lookup("/ckpt/Meta-Llama-3-8B-Instruct/").style == "instruct"
    assert models.lookup("Qwen/CodeQwen1.5-7B").release_date.isoformat() == "2024-04-16"
    assert models.lookup("/tmp/my-model") is None
    with pytest.raises(UserError, match="did you mean 'bigcode/starcoder2-3b'"):
        models.get("bigcode/starcoder-3b")


def test_task_selection():
    problems = {"HumanEval/0": {}, "HumanEval/1": {}, "HumanEval/10": {}}
    assert select_tasks(problems, ["10", "HumanEval/0"], "he") == ["HumanEval/0", "HumanEval/10"]
    assert select_tasks(problems, None, "he") == list(problems)
    with pytest.raises(UserError, match="--tasks: unknown task 'HumanEval/11'"):
        select_tasks(problems, ["HumanEval/11"], "he")


def test_cli_errors_are_one_line_exit_2(tmp_path, tiny_model):
    need_data()
    r = sca("generate", "--benchmark", "humaneval", "--model", tiny_model, "--backend", "hf", "--tasks", "9999",
            "--out", tmp_path / "o")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "--tasks" in r.stderr
    r = sca("generate", "--benchmark", "humaneval", "--model", tiny_model, "--backend", "hf", "--n", "0",
            "--out", tmp_path / "o")
    assert r.returncode == 2 and "--n" in r.stderr and "Traceback" not in r.stderr
    r = sca("generate", "--benchmark", "mbpp", "--model", tmp_path / "missing", "--backend", "hf",
            "--out", tmp_path / "o")
    assert r.returncode == 2 and "missing" in r.stderr and "Traceback" not in r.stderr


def _rows(cache: Path) -> int:
    try:
        with sqlite3.connect(cache, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_kill_mid_generation_then_rerun_generates_only_the_rest(tmp_path, tiny_model):
    need_data()
    args = ["generate", "--benchmark", "humaneval", "--model", tiny_model, "--backend", "hf", "--batch-size", "1",
            "--tasks", ",".join(str(i) for i in range(12)), "--max-new-tokens", "64", "--no-progress"]
    out = tmp_path / "run"
    proc = subprocess.Popen([*SCA, *map(str, args), "--out", str(out)], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    cache = out / "cache.sqlite"
    deadline = time.monotonic() + 120
    while _rows(cache) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = _rows(cache)
    assert 3 <= done < 12, "the run finished before it could be killed"
    assert not (out / "samples.jsonl").exists()

    r = sca(*args, "--out", out)
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "generation.json").read_text())
    assert summary["requests"] == {"requests": 12, "from_cache": done, "generated": 12 - done}

    fresh = tmp_path / "fresh"
    assert sca(*args, "--out", fresh).returncode == 0
    assert (out / "samples.jsonl").read_text() == (fresh / "samples.jsonl").read_text()


def _evaluate(samples: Path, out: Path, cache_dir: Path) -> dict:
    r = sca("evaluate", "--dataset", "humaneval", "--samples", samples, "--out", out,
            env={"SCA_CACHE_DIR": str(cache_dir)}, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_generate_hf_and_openai_then_evaluate(tmp_path, tiny_model, transformers_server):
    need_data()
    pytest.importorskip("benchmarks.evalplus.cli", reason="the grader (sca evaluate) has not landed")
    tasks = "0,1,2,3"
    common = ["generate", "--benchmark", "humaneval", "--model", tiny_model, "--tasks", tasks,
              "--max-new-tokens", "24", "--no-progress"]
    r = sca(*common, "--backend", "hf", "--out", tmp_path / "hf")
    assert r.returncode == 0, r.stderr
    r = sca(*common, "--backend", "openai", "--base-url", transformers_server, "--server", "transformers",
            "--out", tmp_path / "oa")
    assert r.returncode == 0, r.stderr

    hf_meta = json.loads((tmp_path / "hf" / "generation.json").read_text())
    oa_meta = json.loads((tmp_path / "oa" / "generation.json").read_text())
    assert hf_meta["prompt_style"] == oa_meta["prompt_style"] == "instruct"
    assert hf_meta["prompt_sha256"] == oa_meta["prompt_sha256"] and len(hf_meta["prompt_sha256"]) == 4
    assert hf_meta["chat_template_sha256"] and hf_meta["chat_template_sha256"] == oa_meta["chat_template_sha256"]
    assert hf_meta["backend"]["backend"] == "hf" and oa_meta["backend"]["backend"] == "openai"
    assert {"torch", "transformers", "evalplus", "openai"} <= hf_meta["packages"].keys()
    gens = [json.loads(line) for line in (tmp_path / "hf" / "generations.jsonl").read_text().splitlines()]
    assert hf_meta["hit_max_new_tokens"] == sum(g["finish_reason"] == "length" for g in gens)
    # Greedy through a real server gives the in-process result.
    assert (tmp_path / "hf" / "samples.jsonl").read_text() == (tmp_path / "oa" / "samples.jsonl").read_text()

    cache_dir = tmp_path / "sca-cache"
    for name in ("hf", "oa"):
        summary = _evaluate(tmp_path / name / "samples.jsonl", tmp_path / f"eval-{name}", cache_dir)
        assert summary["n_tasks"] == 4 and summary["n_samples"] == 4
        results = json.loads((tmp_path / f"eval-{name}" / "eval_results.json").read_text())
        assert sorted(results["eval"]) == [f"HumanEval/{i}" for i in range(4)]


def test_instruct_prompt_has_one_bos_whoever_tokenizes_it(tiny_model, tmp_path):
    from tokenizers import processors
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    tok.bos_token = "<|endoftext|>"
    tok.chat_template = "{{ bos_token }}" + tok.chat_template
    p = build_prompt(HE_TASK, "humaneval", "instruct", tok)
    assert p.prompt.startswith("<|endoftext|>")  # this tokenizer does not add BOS: keep the template's
    bos = tok.bos_token_id
    tok._tokenizer.post_processor = processors.TemplateProcessing(single="<|endoftext|> $A",
                                                                  special_tokens=[("<|endoftext|>", bos)])
    p = build_prompt(HE_TASK, "humaneval", "instruct", tok)
    assert p.prompt.startswith("<|im_start|>user")
    assert tok(p.prompt)["input_ids"].count(bos) == 1


def test_selfcodealign_fewshot_file_parses():
    need_data()
    from generation.prompts import FEWSHOT_FIELDS, load_fewshot, parse_fewshot

    fs = load_fewshot()
    assert set(fs.systems) == {"S->C", "C->I", "I->R", "S->I"}
    assert fs.systems["I->R"].startswith("You are an extremely intelligent AI coding assistant.")
    assert len(fs.examples) == 21 and all(set(ex) == set(FEWSHOT_FIELDS) for ex in fs.examples)
    assert fs.examples[0]["Property"].startswith("category: function implementation")
    assert fs.examples[-1]["Tests"].endswith("```")
    with pytest.raises(UserError, match="example 1 lacks Tests"):
        parse_fewshot("### Example 1\n[Code]\nx\n[Property]\np\n[Instruction]\ni\n[Response]\nr\n", "f.txt")
    with pytest.raises(UserError, match="f.txt:1:"):
        parse_fewshot("stray\n", "f.txt")


def test_base_style_solutions_start_with_the_task_prompt(tmp_path, tiny_model):
    need_data()
    from benchmarks.evalplus import dataset
    from generation.codegen import CodegenConfig, run_codegen

    cfg = CodegenConfig(benchmark="mbpp", model=str(tiny_model), backend="hf", tasks=["2", "3"],
                        max_new_tokens=8, prompt_style="base")
    summary = run_codegen(cfg, tmp_path / "out", progress=False)
    assert summary["prompt_style"] == "base" and summary["chat_template_sha256"]
    problems = dataset.load("mbpp").problems
    raw = [json.loads(line) for line in (tmp_path / "out" / "samples.raw.jsonl").read_text().splitlines()]
    for row in raw:
        assert row["solution"].startswith(problems[row["task_id"]]["prompt"].strip() + "\n")
    gens = [json.loads(line) for line in (tmp_path / "out" / "generations.jsonl").read_text().splitlines()]
    assert summary["hit_max_new_tokens"] == sum(g["finish_reason"] == "length" for g in gens)
    assert all(g["completion_tokens"] <= 8 for g in gens)


def test_openai_backend_without_a_server_is_a_user_error(tmp_path, tiny_model):
    need_data()
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_BASE_URL"}
    r = subprocess.run([*SCA, "generate", "--benchmark", "humaneval", "--model", str(tiny_model), "--backend",
                        "openai", "--tasks", "0", "--out", str(tmp_path / "o")], cwd=REPO, capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 2 and "--base-url" in r.stderr and "Traceback" not in r.stderr

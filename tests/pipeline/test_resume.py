"""kill -9 in the middle of I->R and of the execution filter, then a rerun: byte-identical data, nothing paid twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.pipeline.conftest import file_input, raw_response, responses_records, write_jsonl, write_recipe

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = ("records.jsonl", "samples.jsonl", "filtered.jsonl")


def sca_run(recipe: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(recipe), "--no-progress"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def kill_mid_stage(recipe: Path, root: Path, stage: str, shard_file: str, timeout_s: float = 300) -> int:
    """Start the recipe, SIGKILL it once `stage` has finished some but not all of its shards."""
    proc = sca_run(recipe)
    partial = root / "runs" / "artifacts" / ".partial"
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            shards = list(partial.glob(f"{stage}-*/.shards/{shard_file}/*.jsonl"))
            if shards:
                total = int(shards[0].stem.rsplit("-of-", 1)[1])
                if len(shards) < total:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    return len(shards)
            assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read()[-2000:]}"
            time.sleep(0.05)
        raise AssertionError(f"{stage} never got a shard done")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def finish(recipe: Path) -> None:
    proc = sca_run(recipe)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()[-3000:]


def outputs(root: Path) -> dict[str, bytes]:
    found = {}
    for art in sorted((root / "runs" / "artifacts").glob("*-*")):
        manifest = json.loads((art / "manifest.json").read_text())
        for name in OUTPUTS:
            if (art / name).is_file():
                found[f"{manifest['stage']}/{name}"] = (art / name).read_bytes()
    return found


def manifest(root: Path, stage: str) -> dict:
    (path,) = (root / "runs" / "artifacts").glob(f"{stage}-*/manifest.json")
    return json.loads(path.read_text())


def pipeline(tmp: Path, stages: dict) -> Path:
    return write_recipe(tmp, stages, name="resume", wandb="disabled")


def test_kill_during_responses_then_rerun_is_byte_identical(tmp_path, tiny_model):
    instructions = [{"id": f"s{i}/c0/i0", "seed_id": f"s{i}", "concepts": ["loops"], "category": "function implementation",
                     "language": "Python", "difficulty": "easy", "instruction": f"Write a function that adds {i}."}
                    for i in range(4)]
    src = write_jsonl(tmp_path / "instructions.jsonl", instructions)
    stages = {"instructions": file_input(src),
              "responses": {"uses": "responses", "inputs": ["instructions"],
                            "with": {"model": str(tiny_model), "n": 2, "max_new_tokens": 8, "shards": 4}},
              "execute": {"uses": "execute", "inputs": ["responses"]},
              "select": {"uses": "select", "inputs": ["execute"], "with": {"skip_decontamination": True}}}
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    finish(pipeline(clean, stages))
    recipe = pipeline(killed, stages)
    done = kill_mid_stage(recipe, killed, "responses", "samples")
    finish(recipe)
    assert outputs(killed) == outputs(clean)
    assert len(outputs(clean)) == 6 and b'"text"' in outputs(clean)["responses/samples.jsonl"]
    assert manifest(killed, "responses")["resumed_shards"] == done >= 1


def test_kill_during_execution_then_rerun_is_byte_identical(tmp_path):
    texts = []
    for i in range(24):
        body = f"def f{i}(x):\n    import time\n    time.sleep(0.25)\n    return x + {i}"
        tests = f"assert f{i}(1) == {i + 1}" if i % 3 else f"assert f{i}(1) == 0"
        texts.append(raw_response(body, tests))
    src = write_jsonl(tmp_path / "responses.jsonl", responses_records(texts))
    stages = {"responses": file_input(src),
              "execute": {"uses": "execute", "inputs": ["responses"], "with": {"shards": 6, "batch_size": 2}},
              "select": {"uses": "select", "inputs": ["execute"], "with": {"skip_decontamination": True}}}
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    finish(pipeline(clean, stages))
    recipe = pipeline(killed, stages)
    done = kill_mid_stage(recipe, killed, "execute", "records")
    finish(recipe)
    assert outputs(killed) == outputs(clean)
    records = [json.loads(line) for line in outputs(clean)["execute/records.jsonl"].splitlines()]
    assert sum(r["verdict"]["passed"] for r in records) == 16
    selected = outputs(clean)["select/records.jsonl"].splitlines()
    assert len(selected) == 16
    assert manifest(killed, "execute")["resumed_shards"] == done >= 1

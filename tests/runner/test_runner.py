"""Stage runner end to end: reuse, selective invalidation, kill -9 resume, status, W&B lineage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.config import load_recipe
from harness.runner import Runner

REPO = Path(__file__).resolve().parents[2]
SCA = [sys.executable, "-m", "harness.cli"]
TOY = "tests.runner.toy_stages"


def write_recipe(tmp: Path, n: int = 20, shards: int = 4, factor: int = 2, delay: float = 0.0,
                 name: str = "recipe.yaml", root: str = "runs") -> Path:
    path = tmp / name
    path.write_text(f"""
experiment: toy
run_root: {tmp / root}
wandb: {{mode: offline, project: sca-test}}
stages:
  produce:
    uses: "{TOY}:produce"
    with: {{n: {n}, shards: {shards}, delay_s: {delay}}}
  scale:
    uses: "{TOY}:scale"
    inputs: [produce]
    with: {{factor: {factor}}}
""")
    return path


def sca(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([*SCA, *args], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=300, **kw)


def run_quiet(recipe: Path, overrides: list[str] | None = None) -> tuple[dict, list[str]]:
    lines: list[str] = []
    arts = Runner(load_recipe(recipe, overrides), progress=False, log=lines.append).run()
    return arts, lines


def test_rerun_reuses_and_stage_two_change_reruns_only_stage_two(tmp_path):
    recipe = write_recipe(tmp_path)
    first, log1 = run_quiet(recipe)
    assert any("[produce] running" in l for l in log1) and any("[scale] running" in l for l in log1)
    assert [r["value"] for r in first["scale"].records()] == [2 * i * i for i in range(20)]
    produce_manifest = (first["produce"].path / "manifest.json").read_bytes()

    second, log2 = run_quiet(recipe)
    assert [l for l in log2 if "running" in l] == []
    assert second["produce"].path == first["produce"].path and second["scale"].path == first["scale"].path

    third, log3 = run_quiet(recipe, ["stages.scale.with.factor=3"])
    assert any("[produce] reused" in l for l in log3)
    assert any("[scale] running" in l for l in log3)
    assert third["produce"].path == first["produce"].path
    assert (third["produce"].path / "manifest.json").read_bytes() == produce_manifest
    assert third["scale"].fingerprint != first["scale"].fingerprint
    assert [r["value"] for r in third["scale"].records()] == [3 * i * i for i in range(20)]

    # Changing stage 1 invalidates both.
    fourth, log4 = run_quiet(recipe, ["stages.produce.with.n=5"])
    assert any("[produce] running" in l for l in log4) and any("[scale] running" in l for l in log4)


def test_manifest_records_provenance(tmp_path):
    arts, _ = run_quiet(write_recipe(tmp_path))
    m = arts["scale"].manifest
    assert m["stage"] == "scale" and m["uses"] == "toy.scale"
    assert m["config"] == {"factor": 2}
    assert m["inputs"]["produce"]["fingerprint"] == arts["produce"].fingerprint
    assert set(m["code_version"]) == {"commit", "dirty"}
    assert "torch" in m["packages"] and "wandb" in m["packages"]
    assert m["host"]["python"] and m["started_at"] <= m["finished_at"]
    assert m["counts"] == {"records": 20}
    assert arts["produce"].manifest["counts"] == {"records": 20}
    # metrics.jsonl mirrors what was logged, beside the data.
    logged = [json.loads(l) for l in (arts["scale"].path / "metrics.jsonl").read_text().splitlines()]
    assert any(row.get("scaled") == 20 for row in logged)
    # Data loads with `datasets`.
    assert arts["scale"].dataset()["value"][:3] == [0, 2, 8]
    resolved = json.loads((tmp_path / "runs/experiments/toy/config.json").read_text())
    assert resolved["stages"]["produce"]["with"] == {"n": 20, "shards": 4, "delay_s": 0.0}


def test_kill_9_mid_shards_then_rerun_is_byte_identical(tmp_path):
    clean = write_recipe(tmp_path, n=40, shards=8, name="clean.yaml", root="clean")
    assert sca("run", str(clean), "--no-progress").returncode == 0

    killed = write_recipe(tmp_path, n=40, shards=8, delay=0.4, name="killed.yaml", root="killed")
    shard_log = tmp_path / "shards.log"
    env = {"TOY_SHARD_LOG": str(shard_log)}
    proc = subprocess.Popen([*SCA, "run", str(killed), "--no-progress"], cwd=REPO, env={
        **os.environ, "PYTHONPATH": str(REPO), **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if shard_log.exists() and len(shard_log.read_text().split()) >= 3:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = shard_log.read_text().split()
    assert 3 <= len(before) < 8, "the kill must land mid-stage"
    assert not list((tmp_path / "killed/artifacts").glob("toy.produce-*")), "no half artifact may be visible"

    shard_log.unlink()
    rerun = sca("run", str(killed), "stages.produce.with.delay_s=0.4", "--no-progress", env=env)
    assert rerun.returncode == 0, rerun.stderr
    redone = shard_log.read_text().split()
    # Finished shards (whole files on disk) are not redone; at most the one in flight is.
    assert len(redone) <= 8 - len(before) + 1
    assert len(redone) + len(before) >= 8

    def records(root: str, stage: str) -> bytes:
        (art,) = (tmp_path / root / "artifacts").glob(f"toy.{stage}-*")
        return (art / "records.jsonl").read_bytes()

    assert records("killed", "produce") == records("clean", "produce")
    assert records("killed", "scale") == records("clean", "scale")
    assert len(records("clean", "produce").splitlines()) == 40


def test_status_shows_done_stale_missing(tmp_path):
    recipe = write_recipe(tmp_path)
    out = sca("status", str(recipe), "--json")
    assert out.returncode == 0, out.stderr
    assert [json.loads(l)["status"] for l in out.stdout.splitlines()] == ["missing", "missing"]
    run_quiet(recipe)
    rows = [json.loads(l) for l in sca("status", str(recipe), "--json").stdout.splitlines()]
    assert [r["status"] for r in rows] == ["done", "done"]
    assert all(len(r["fingerprint"]) == 16 for r in rows)
    rows = [json.loads(l) for l in sca("status", str(recipe), "stages.scale.with.factor=5", "--json").stdout.splitlines()]
    assert [r["status"] for r in rows] == ["done", "stale"]
    table = sca("status", str(recipe), "stages.scale.with.factor=5")
    assert "stale" in table.stdout and "produce" in table.stdout


@pytest.fixture(scope="module")
def tracked_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tracked")
    arts, _ = run_quiet(write_recipe(tmp))
    return tmp, arts


def test_wandb_offline_log_has_config_metrics_artifacts_and_lineage(tracked_run):
    from harness.wandb_log import summarize

    tmp, arts = tracked_run
    logs = sorted((tmp / "runs").rglob("*.wandb"))
    assert len(logs) == 2, logs
    runs = {s["name"]: s for s in map(summarize, logs)}
    assert set(runs) == {"toy/produce", "toy/scale"}
    produce, scale = runs["toy/produce"], runs["toy/scale"]
    assert produce["group"] == scale["group"] == "toy"
    assert scale["job_type"] == "toy.scale"
    assert scale["config"]["factor"] == 2 and scale["config"]["fingerprint"] == arts["scale"].fingerprint
    assert any(row.get("produced") == 20 for row in produce["history"])
    assert any(row.get("scaled") == 20 for row in scale["history"])
    # Tables travel as W&B's own run-table artifacts; the stage outputs are the named ones.
    assert any(a["type"] == "run_table" for a in produce["logged_artifacts"])
    (logged_produce,) = [a for a in produce["logged_artifacts"] if a["name"] == "toy.produce"]
    (logged_scale,) = [a for a in scale["logged_artifacts"] if a["name"] == "toy.scale"]
    assert "records.jsonl" in logged_produce["files"] and "manifest.json" in logged_scale["files"]
    # The lineage edge: scale used exactly the artifact (name and digest) that produce logged.
    (used,) = scale["used_artifacts"]
    assert (used["name"], used["digest"]) == (logged_produce["name"], logged_produce["digest"])
    assert produce["used_artifacts"] == []


def test_nothing_written_to_home(tracked_run):
    home = Path(os.environ["HOME"])
    assert not (home / ".config" / "wandb").exists() and not (home / ".cache" / "wandb").exists()
    assert not (home / "wandb").exists()


def with_four_records(tmp: Path, name: str, stages: str) -> Path:
    """A recipe whose `produce` stage makes 4 records in one shard, followed by `stages` (YAML under stages:)."""
    path = tmp / name
    path.write_text(f"""
experiment: toy
run_root: {tmp / "runs"}
wandb: {{mode: offline, project: sca-test}}
stages:
  produce:
    uses: "{TOY}:produce"
    with: {{n: 4, shards: 1}}
""" + stages)
    return path


def test_only_runs_the_named_stages_and_what_they_need(tmp_path):
    recipe = with_four_records(tmp_path, "three.yaml", f"""
  double:
    uses: "{TOY}:scale"
    inputs: [produce]
    with: {{factor: 2}}
  triple:
    uses: "{TOY}:scale"
    inputs: [produce]
    with: {{factor: 3}}
""")
    lines: list[str] = []
    arts = Runner(load_recipe(recipe), progress=False, log=lines.append).run(only=["triple"])
    assert set(arts) == {"produce", "triple"}
    assert not any("[double]" in line for line in lines)
    # a kind matches every stage of that kind; a pattern that matches nothing is one line naming it
    assert set(Runner(load_recipe(recipe), progress=False, log=lines.append).run(only=["toy.scale"])) == \
        {"produce", "double", "triple"}
    proc = sca("run", str(recipe), "--only", "tripel")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "--only tripel" in proc.stderr and "did you mean 'triple'" in proc.stderr


def test_a_failed_stage_stops_only_what_needs_it(tmp_path):
    recipe = with_four_records(tmp_path, "branches.yaml", f"""
  check:
    uses: "{TOY}:check"
    inputs: [produce]
    with: {{max_records: 2}}
  after_check:
    uses: "{TOY}:scale"
    inputs: [check]
  double:
    uses: "{TOY}:scale"
    inputs: [produce]
""")
    proc = sca("run", str(recipe), "--no-progress")
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line == ("sca run: error: stage 'check' failed: 4 records, more than max_records=2; "
                    "not run because of it: after_check"), line
    assert "Traceback" not in proc.stderr
    assert "[double] done" in proc.stdout and "double: " in proc.stdout  # the independent branch ran
    assert "[after_check] not run: it needs check" in proc.stdout
    # what finished is kept: fixing the refusal reruns only the failed branch
    again = sca("run", str(recipe), "--no-progress", "stages.check.with.max_records=4")
    assert again.returncode == 0, again.stderr
    assert "[produce] reused" in again.stdout and "[double] reused" in again.stdout
    assert "[check] done" in again.stdout and "[after_check] done" in again.stdout
    # --fail-fast stops at the failure: the stage after it in the recipe never starts
    fast = sca("run", str(recipe), "--no-progress", "--fail-fast", "stages.check.with.max_records=1",
               "stages.double.with.factor=5")
    assert fast.returncode == 2 and "4 records, more than max_records=1" in fast.stderr
    assert "[double]" not in fast.stdout

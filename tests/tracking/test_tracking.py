"""Real wandb (offline), checked by reading the runs' .wandb transaction logs. Nothing is mocked."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.tracking import Tracker, api_key_configured, artifact_name, resolve_mode
from harness.wandb_log import find_wandb_file, read_records, summarize

BIG = "0123456789abcdef" * 6000  # 96 KB: the run record spans three 32 KiB log blocks


def _records(run_dir: Path, kind: str) -> list[dict]:
    return [r[kind] for r in read_records(run_dir) if r["record_type"] == kind]


def _history(run_dir: Path) -> list[dict]:
    return summarize(run_dir)["history"]


def _artifacts(run_dir: Path) -> list[dict]:
    return _records(run_dir, "artifact")


def _files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*"))


@pytest.fixture(scope="module")
def two_stages(tmp_path_factory):
    """Stage 1 logs config, metrics, a table and artifact A; stage 2 uses A and logs artifact B."""
    base = tmp_path_factory.mktemp("two_stages")
    home = base / "home"
    home.mkdir()
    root = base / "runs"
    out1, out2 = base / "artifacts" / "seeds-fp1", base / "artifacts" / "concepts-fp2"
    out1.mkdir(parents=True)
    out2.mkdir(parents=True)
    (out1 / "seeds.jsonl").write_text('{"seed": "def f(): pass"}\n')
    (out2 / "concepts.jsonl").write_text('{"concept": "recursion"}\n')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        tracker = Tracker(root, group="toy", mode="offline")
        started = time.perf_counter()
        with tracker.stage_run(
            name="toy/seeds", job_type="seeds", config={"n": 3, "nested": {"k": [1, 2]}, "blob": BIG},
            metrics_path=out1 / "metrics.jsonl",
        ) as run:
            run.log({"n_seeds": 3})
            run.log({"n_seeds": 4, "keep_rate": 0.5})
            run.log_table("samples", [{"seed": "a", "ok": True}, {"seed": "b", "extra": {"z": 1}}])
            digest_a = run.log_artifact("toy/seeds", "seeds", out1, fingerprint="fp1", metadata={"records": 1})
            dir1 = run.run_dir
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        with tracker.stage_run(name="toy/concepts", job_type="concepts", config={"m": 1}, metrics_path=out2 / "metrics.jsonl") as run:
            used_a = run.use_artifact("toy/seeds", "seeds", out1, fingerprint="fp1")
            run.log({"n_concepts": 1})
            digest_b = run.log_artifact("toy/concepts", "concepts", out2, fingerprint="fp2")
            dir2 = run.run_dir
        second_s = time.perf_counter() - started
    print(f"stage run wall time: first {first_s:.2f}s (starts wandb-core), second {second_s:.2f}s")
    return dict(root=root, home=home, out1=out1, out2=out2, dir1=dir1, dir2=dir2,
                digest_a=digest_a, used_a=used_a, digest_b=digest_b)


def test_runs_are_grouped_with_config(two_stages):
    (run1,) = _records(two_stages["dir1"], "run")
    (run2,) = _records(two_stages["dir2"], "run")
    assert (run1["run_group"], run1["job_type"], run1["display_name"]) == ("toy", "seeds", "toy/seeds")
    assert (run2["run_group"], run2["job_type"], run2["display_name"]) == ("toy", "concepts", "toy/concepts")
    config = {item["key"]: json.loads(item["value_json"]) for item in run1["config"]["update"]}
    assert config["n"] == 3 and config["nested"] == {"k": [1, 2]}
    assert config["blob"] == BIG  # reassembled from FIRST/MIDDLE/LAST fragments across blocks
    assert find_wandb_file(two_stages["dir1"]).stat().st_size > 2 * 32768


def test_metrics_reach_history_and_the_local_mirror(two_stages):
    history = _history(two_stages["dir1"])
    scalars = [{k: v for k, v in row.items() if not k.startswith("_")} for row in history]
    assert scalars[:2] == [{"n_seeds": 3}, {"n_seeds": 4, "keep_rate": 0.5}]
    mirror = [json.loads(line) for line in (two_stages["out1"] / "metrics.jsonl").read_text().splitlines()]
    assert [{k: v for k, v in m.items() if not k.startswith("_")} for m in mirror[:2]] == scalars[:2]
    assert [m["_step"] for m in mirror] == [row["_step"] for row in history]
    assert mirror[2]["_table"] == "samples" and mirror[2]["_rows"] == 2


def test_table_is_logged(two_stages):
    history = _history(two_stages["dir1"])
    table = next(row for row in history if "samples/_type" in row)
    assert table["samples/_type"] == "table-file" and table["samples/nrows"] == 2
    path = two_stages["dir1"] / "files" / table["samples/path"]
    content = json.loads(path.read_text())
    assert content["columns"] == ["seed", "ok", "extra"]
    assert content["data"] == [["a", True, None], ["b", None, '{"z": 1}']]


def test_summary_shows_lineage_from_producer_to_consumer(two_stages):
    first, second = summarize(two_stages["dir1"]), summarize(two_stages["dir2"])
    assert (first["group"], first["config"]["n"], first["exit_code"]) == ("toy", 3, 0)
    (produced,) = [a for a in first["logged_artifacts"] if a["type"] == "seeds"]
    (used,) = second["used_artifacts"]
    assert (used["name"], used["digest"], used["files"]) == (produced["name"], produced["digest"], produced["files"])
    assert [a["name"] for a in second["logged_artifacts"]] == ["toy-concepts"]


def test_both_artifacts_and_the_lineage_edge(two_stages):
    (out_a,) = [a for a in _artifacts(two_stages["dir1"]) if a["type"] == "seeds"]
    assert out_a["name"] == "toy-seeds" and out_a["digest"] == two_stages["digest_a"]
    assert not out_a.get("use_after_commit")
    assert "fp-fp1" in out_a["aliases"]
    assert json.loads(out_a["metadata"]) == {"fingerprint": "fp1", "name": "toy/seeds", "records": 1}
    paths = {e["path"] for e in out_a["manifest"]["contents"]}
    assert paths == {"seeds.jsonl", "metrics.jsonl"}

    run2 = _artifacts(two_stages["dir2"])
    (edge,) = [a for a in run2 if a.get("use_after_commit")]
    assert (edge["name"], edge["type"], edge["digest"]) == ("toy-seeds", "seeds", two_stages["digest_a"])
    assert two_stages["used_a"] == two_stages["digest_a"]
    (out_b,) = [a for a in run2 if a["type"] == "concepts"]
    assert out_b["name"] == "toy-concepts" and out_b["digest"] == two_stages["digest_b"] != two_stages["digest_a"]
    assert out_b["run_id"] != out_a["run_id"]


def test_nothing_under_home_and_all_wandb_dirs_inside_run_root(two_stages):
    assert _files_under(two_stages["home"]) == []
    root = two_stages["root"]
    assert two_stages["dir1"].is_relative_to(root) and two_stages["dir2"].is_relative_to(root)
    # the wandb-core service log goes to WANDB_CACHE_DIR, which we point inside run_root
    assert list((root / "wandb-home" / "cache").rglob("core-debug-*.log"))


def test_artifact_files_are_not_copied(two_stages):
    """Artifacts are hashed in place (immutable policy): no staging copies inside run_root either."""
    staged = [p for p in (two_stages["root"] / "wandb-home").rglob("*") if p.is_file() and p.suffix == ".jsonl"]
    assert staged == []


def test_changed_input_breaks_the_edge(tmp_path, monkeypatch):
    """The edge is by content: a consumer whose files differ from the producer's gets another digest."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    out = tmp_path / "a"
    out.mkdir()
    (out / "x.jsonl").write_text("1\n")
    tracker = Tracker(tmp_path / "runs", group="g", mode="offline", reference_artifacts=True)
    with tracker.stage_run(name="g/a", job_type="a", config={}, metrics_path=tmp_path / "m1.jsonl") as run:
        produced = run.log_artifact("a", "a", out, fingerprint="f")
    (out / "x.jsonl").write_text("2\n")
    with tracker.stage_run(name="g/b", job_type="b", config={}, metrics_path=tmp_path / "m2.jsonl") as run:
        used = run.use_artifact("a", "a", out, fingerprint="f")
        run_dir = run.run_dir
    assert used != produced
    (edge,) = _artifacts(run_dir)
    assert edge["digest"] == used and edge["manifest"]["contents"][0]["ref"] == (out / "x.jsonl").as_uri()


def test_disabled_writes_only_the_mirror(tmp_path):
    tracker = Tracker(tmp_path / "runs", mode="disabled")
    with tracker.stage_run(name="e/s", job_type="s", config={"a": 1}, metrics_path=tmp_path / "out" / "metrics.jsonl") as run:
        run.log({"x": 1.0})
        run.log_table("t", [{"a": 1}])
        assert run.log_artifact("s", "s", tmp_path, fingerprint="f") is None
        assert run.use_artifact("s", "s", tmp_path, fingerprint="f") is None
        assert run.run_dir is None
    assert not (tmp_path / "runs").exists()
    lines = [json.loads(line) for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    assert [(m["_step"], m.get("x"), m.get("_table")) for m in lines] == [(0, 1.0, None), (1, None, "t")]


def test_failed_stage_keeps_what_it_logged(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    tracker = Tracker(tmp_path / "runs", group="g", mode="offline")
    with pytest.raises(RuntimeError, match="boom"):
        with tracker.stage_run(name="g/s", job_type="s", config={}, metrics_path=tmp_path / "m.jsonl") as run:
            run.log({"done_shards": 2})
            run_dir = run.run_dir
            raise RuntimeError("boom")
    assert [row["done_shards"] for row in _history(run_dir)] == [2]
    (exit_record,) = _records(run_dir, "exit")
    assert exit_record.get("exit_code") == 1
    assert json.loads((tmp_path / "m.jsonl").read_text())["done_shards"] == 2


def test_missing_artifact_path_is_a_user_error(tmp_path):
    tracker = Tracker(tmp_path / "runs", mode="offline")
    with tracker.stage_run(name="g/s", job_type="s", config={}, metrics_path=tmp_path / "m.jsonl") as run:
        with pytest.raises(UserError, match="nope"):
            run.use_artifact("a", "a", tmp_path / "nope", fingerprint="f")


def test_mode_resolution(tmp_path, monkeypatch):
    for var in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    assert not api_key_configured() and resolve_mode("auto") == "offline"
    (tmp_path / "netrc").write_text("machine api.wandb.ai\n  login user\n  password " + "k" * 40 + "\n")
    assert api_key_configured() and resolve_mode("auto") == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert resolve_mode("auto") == "disabled"
    assert resolve_mode("offline") == "offline"
    with pytest.raises(UserError, match="tracking.mode: unknown mode 'ofline'"):
        Tracker(tmp_path, mode="ofline")


def test_artifact_names_are_made_valid():
    assert artifact_name("smoke/concepts v2") == "smoke-concepts-v2"
    with pytest.raises(UserError):
        artifact_name("///")


@pytest.mark.slow
def test_unreachable_server_falls_back_to_offline_quickly(tmp_path, monkeypatch):
    """A server that accepts connections and never answers (a black hole) must not hang a stage."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []

    def accept():
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    tracker = Tracker(tmp_path / "runs", group="g", mode="online", init_timeout_s=2.0)
    started = time.perf_counter()
    try:
        with tracker.stage_run(name="g/s", job_type="s", config={"a": 1}, metrics_path=tmp_path / "m.jsonl") as run:
            run.log({"x": 1})
            run_dir = run.run_dir
            assert run.wandb_run.settings._offline
    finally:
        server.close()
    assert time.perf_counter() - started < 20
    assert held, "the online attempt never reached the server"
    assert [row["x"] for row in _history(run_dir)] == [1]
    assert _files_under(tmp_path / "home") == []


def test_reader_stops_cleanly_at_a_torn_or_corrupt_tail(two_stages, tmp_path):
    """A run killed mid-write leaves a torn record; everything before it must still decode."""
    original = find_wandb_file(two_stages["dir2"])
    full = read_records(original)
    data = original.read_bytes()
    torn = tmp_path / "torn.wandb"
    torn.write_bytes(data[: len(data) - 5])
    partial = read_records(torn)
    assert 0 < len(partial) < len(full) and partial == full[: len(partial)]
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # a checksum mismatch ends the scan there
    corrupt = tmp_path / "corrupt.wandb"
    corrupt.write_bytes(bytes(flipped))
    assert len(read_records(corrupt)) < len(full)


def test_reader_rejects_a_file_that_is_not_a_wandb_log(tmp_path):
    bogus = tmp_path / "run-x.wandb"
    bogus.write_bytes(b"PK\x03\x04 not a wandb log")
    with pytest.raises(UserError, match="run-x.wandb: not a W&B transaction log"):
        read_records(bogus)
    with pytest.raises(UserError, match="expected exactly one .wandb file, found 0"):
        read_records(tmp_path / "missing-run-dir")


def test_reader_command_line(two_stages):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "harness.wandb_log", str(two_stages["dir2"])],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    kinds = [json.loads(line)["record_type"] for line in out.splitlines()]
    assert kinds[0] == "header" and "run" in kinds and kinds.count("artifact") == 2 and kinds[-1] == "exit"
    summary = subprocess.run([sys.executable, "-m", "harness.wandb_log", "--summary", str(two_stages["dir2"])],
                             capture_output=True, text=True, check=True, timeout=120).stdout
    assert json.loads(summary)["used_artifacts"][0]["digest"] == two_stages["digest_a"]

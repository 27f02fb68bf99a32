"""`sca sandbox run`: bad lines are named and skipped, verdicts stream to a file, a rerun resumes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def sca(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", "sandbox", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_run_names_bad_lines_and_runs_the_rest(tmp_path):
    programs = tmp_path / "programs.jsonl"
    programs.write_text("\n".join([
        json.dumps({"id": "ok", "code": "print(input())", "stdin": "hello"}),
        "{not json",
        json.dumps({"id": "nocode"}),
        json.dumps({"id": "bad", "code": "assert False"}),
        json.dumps({"id": "ok", "code": "pass"}),
        json.dumps({"id": 7, "code": "import time\ntime.sleep(5)", "timeout_s": 0.5}),
    ]) + "\n")
    out = tmp_path / "verdicts.jsonl"
    res = sca("run", str(programs), "--out", str(out), "--timeout", "5", "--workers", "2")
    assert res.returncode == 2
    assert f"{programs}:2: not valid JSON" in res.stderr
    assert f"{programs}:3: program 'nocode': missing \"code\"" in res.stderr
    assert f"{programs}:5: duplicate id 'ok'" in res.stderr
    assert "Traceback" not in res.stderr
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"ok", "bad", "7"}
    assert (rows["ok"]["status"], rows["ok"]["stdout"]) == ("pass", "hello\n")
    assert (rows["bad"]["status"], rows["bad"]["error_type"]) == ("fail", "AssertionError")
    assert rows["7"]["status"] == "timeout"
    assert set(rows["ok"]) >= {"id", "status", "exit_code", "stdout", "stderr", "duration_s", "policy"}


def test_rerun_keeps_finished_verdicts_and_drops_a_torn_line(tmp_path):
    programs = tmp_path / "programs.jsonl"
    programs.write_text("".join(json.dumps({"id": str(i), "code": f"print({i})"}) + "\n" for i in range(4)))
    out = tmp_path / "verdicts.jsonl"
    first = json.dumps({"id": "0", "status": "pass", "exit_code": 0, "stdout": "kept", "stderr": "",
                        "duration_s": 0.0, "policy": "x"})
    out.write_text(first + "\n" + '{"id": "1", "sta')  # a crash mid-write
    res = sca("run", str(programs), "--out", str(out))
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["0", "1", "2", "3"]
    assert rows[0]["stdout"] == "kept"


def test_missing_file_and_bad_limits_are_one_line_errors(tmp_path):
    res = sca("run", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "v.jsonl"))
    assert res.returncode == 2 and res.stderr.strip().count("\n") == 0 and "nope.jsonl" in res.stderr
    (tmp_path / "p.jsonl").write_text("")
    res = sca("run", str(tmp_path / "p.jsonl"), "--out", str(tmp_path / "v.jsonl"), "--timeout", "0")
    assert res.returncode == 2 and "timeout_s must be > 0" in res.stderr

"""The end-of-run summary reads the finished artifacts: data counts, scores with intervals, the gate, the board."""

from __future__ import annotations

import json
from pathlib import Path

from harness.artifacts import Artifact
from harness.report.summary import experiment_summary


def artifact(root: Path, name: str, uses: str, counts: dict | None = None, files: dict | None = None) -> Artifact:
    path = root / name
    path.mkdir()
    (path / "manifest.json").write_text(json.dumps({"uses": uses, "fingerprint": name, "counts": counts or {}}))
    for file, body in (files or {}).items():
        (path / file).write_text(body if isinstance(body, str) else json.dumps(body))
    return Artifact(path)


def test_summary_lines(tmp_path):
    score = {"pass@k": {"base": {"pass@1": {"value": 0.25, "ci95": [0.1, 0.4]}},
                        "plus": {"pass@1": {"value": 0.2, "ci95": [0.05, 0.35]}}},
             "dataset": "humaneval", "version": "v0.1.10", "n_tasks": 20}
    regress = {"base": {"stage": "base_eval"}, "new": {"stage": "new_eval"},
               "gate": {"suite": "plus", "verdict": "no significant difference", "flipped_tasks": 3},
               "suites": {"plus": {"base": 0.2, "new": 0.25, "delta": 0.05, "ci": [-0.1, 0.2], "p_value": 0.62,
                                   "test": "exact McNemar"}}}
    arts = {"seeds": artifact(tmp_path, "seeds", "seeds", {"records": 12}),
            "execute": artifact(tmp_path, "execute", "execute", {"passed": 7}),
            "select": artifact(tmp_path, "select", "select", {"records": 5}),
            "sft": artifact(tmp_path, "sft", "sft", files={"train_summary.json": {"trained_examples": 5, "steps": 2,
                                                                                  "first_loss": 1.5, "last_loss": 1.2}}),
            "base_eval": artifact(tmp_path, "base_eval", "evaluate", files={"summary.json": score}),
            "gate": artifact(tmp_path, "gate", "regress", files={"regress.json": regress}),
            "board": artifact(tmp_path, "board", "leaderboard", files={"leaderboard.html": "<html/>"})}
    text = "\n".join(experiment_summary("exp", arts))
    assert "12 seeds -> 7 passed their own tests -> 5 selected" in text
    assert "trained on 5 examples" in text
    assert "base 25.0 [10.0, 40.0], plus 20.0 [5.0, 35.0]  (20 tasks)" in text
    assert "20.0 -> 25.0, delta +5.0 points [-10.0, +20.0], p = 0.62 (exact McNemar): no significant difference" in text
    assert str(tmp_path / "board" / "leaderboard.md") in text


def test_nothing_to_say_is_silent(tmp_path):
    assert experiment_summary("exp", {"model": artifact(tmp_path, "model", "tiny_model")}) == []

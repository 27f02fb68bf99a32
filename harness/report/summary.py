"""What a person reads at the end of `sca run` / `make reproduce`: the data the model made for itself, the
scores of every evaluate stage with their 95% intervals, each regress gate's delta and significance, and
where the leaderboard is. Built only from the finished artifacts' files, so a rerun prints the same."""

from __future__ import annotations

import json
from pathlib import Path

from harness.artifacts import Artifact

# Data stages in pipeline order, and the count each one's line shows.
DATA_COUNTS = (("seeds", "records", "seeds"), ("concepts", "records", "concept sets"),
               ("instructions", "records", "instructions"), ("snippet_instructions", "records", "instructions"),
               ("responses", "records", "responses"), ("execute", "passed", "passed their own tests"),
               ("select", "records", "selected"))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _read(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _data_line(artifacts: dict[str, Artifact]) -> str | None:
    steps = []
    for uses, key, label in DATA_COUNTS:
        for art in artifacts.values():
            count = art.manifest.get("counts", {}).get(key)
            if art.manifest.get("uses") == uses and count is not None:
                steps.append(f"{count} {label}")
    return "data:        " + " -> ".join(steps) if steps else None


def _eval_lines(name: str, art: Artifact) -> list[str]:
    summary = _read(art.path / "summary.json")
    if summary is None:
        return []
    scores = summary.get("pass@k", {})
    parts = []
    for suite in ("base", "plus"):
        one = scores.get(suite, {}).get("pass@1")
        if one:
            low, high = one["ci95"]
            parts.append(f"{suite} {_pct(one['value'])} [{_pct(low)}, {_pct(high)}]")
    flagged = (summary.get("timing_sensitive") or {}).get("samples")
    tail = f"  ({flagged} timing-sensitive)" if flagged else ""
    label = f"{summary.get('dataset', '?')} {summary.get('version') or ''}".strip()
    return [f"  {name:<18} {label:<20} pass@1 " + ", ".join(parts) + f"  ({summary.get('n_tasks')} tasks){tail}"]


def _regress_line(name: str, art: Artifact) -> str | None:
    report = _read(art.path / "regress.json")
    if report is None:
        return None
    gate = report["gate"]
    g = report["suites"][gate["suite"]]
    return (f"  {name}: {report['base'].get('stage') or 'BASE'} -> {report['new'].get('stage') or 'NEW'} on "
            f"{gate['suite']}: {_pct(g['base'])} -> {_pct(g['new'])}, delta {100 * g['delta']:+.1f} points "
            f"[{100 * g['ci'][0]:+.1f}, {100 * g['ci'][1]:+.1f}], p = {g['p_value']:.2g} ({g.get('test', 'paired')}): "
            f"{gate['verdict']}; {gate['flipped_tasks']} tasks flipped")


def experiment_summary(experiment: str, artifacts: dict[str, Artifact]) -> list[str]:
    """Lines for the end of a run; empty when the recipe has nothing to summarise."""
    lines = []
    data = _data_line(artifacts)
    if data:
        lines.append(data)
    for name, art in artifacts.items():
        if art.manifest.get("uses") == "sft":
            s = _read(art.path / "train_summary.json") or {}
            lines.append(f"sft:         {name} trained on {s.get('trained_examples')} examples the model wrote for "
                         f"itself, {s.get('steps')} steps, loss {s.get('first_loss', float('nan')):.3g} -> "
                         f"{s.get('last_loss', float('nan')):.3g}")
    evals = [line for name, art in artifacts.items() if str(art.manifest.get("uses", "")).endswith("evaluate")
             for line in _eval_lines(name, art)]
    if evals:
        lines += ["scores (95% intervals):", *evals]
    gates = [line for name, art in artifacts.items() if art.manifest.get("uses") == "regress"
             if (line := _regress_line(name, art))]
    if gates:
        lines += ["regression gates:", *gates]
    for name, art in artifacts.items():
        if art.manifest.get("uses") == "leaderboard" and (art.path / "leaderboard.html").is_file():
            lines.append(f"leaderboard: {art.path / 'leaderboard.md'} (page: {art.path / 'leaderboard.html'})")
    return [f"== {experiment} ==", *lines] if lines else []

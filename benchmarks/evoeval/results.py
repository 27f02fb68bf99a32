"""EvoEval scores across sets: each set's pass@k, the paper's five-set average, the combined verdicts and a plot."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks.evoeval.dataset import PAPER_SETS


def set_scores(per_set: dict[str, dict]) -> dict[str, dict]:
    """suite -> pass@k in the shape harness/report reads: one suite per new set, base and plus for the
    HumanEval rewrites ("verbose/base", "verbose/plus"), and "average" first when all five paper sets are in."""
    out: dict[str, dict] = {}
    average = five_set_average(per_set)
    if average:
        out["average"] = average
    for name, graded in per_set.items():
        pak = graded["pass@k"]
        out[name] = pak["base"] if list(pak) == ["base"] else pak
    return out


def five_set_average(per_set: dict[str, dict]) -> dict | None:
    """pass@k averaged over difficult, creative, subtle, combine and tool_use (the paper's EvoEval score),
    with a 95% interval from the five sets' own spreads (tasks are sampled within each set); None unless
    all five are graded."""
    if not all(name in per_set for name in PAPER_SETS):
        return None
    out = {}
    ks = set.intersection(*(set(per_set[name]["pass@k"]["base"]) for name in PAPER_SETS))
    for k in sorted(ks, key=lambda key: int(key.split("@")[1])):
        cells = [per_set[name]["pass@k"]["base"][k] for name in PAPER_SETS]
        value = sum(c["value"] for c in cells) / len(cells)
        ci = None
        if all(c["ci95"] for c in cells):
            # each set's half-width is 1.96 x its standard error; the mean of five independent means
            half = math.sqrt(sum(((c["ci95"][1] - c["ci95"][0]) / 2) ** 2 for c in cells)) / len(cells)
            ci = [max(0.0, value - half), min(1.0, value + half)]
        out[k] = {"value": value, "ci95": ci}
    return out


def combined_verdicts(per_set: dict[str, dict], out_dir: Path) -> int:
    """OUT/verdicts.jsonl: every set's verdict rows with the set named and set-qualified task ids, so a
    reader keyed by task id (the leaderboard) never mixes EvoEval/0 of one set with another's."""
    from harness.artifacts import atomic_write_text

    lines = []
    for name in per_set:
        for line in (out_dir / name / "verdicts.jsonl").read_text().splitlines():
            row = json.loads(line)
            lines.append(json.dumps({"set": name, **row, "task_id": f"{name}/{row['task_id']}"}))
    atomic_write_text(out_dir / "verdicts.jsonl", "".join(line + "\n" for line in lines))
    return len(lines)


def plot(scores: dict[str, dict], path: Path) -> Path:
    """pass@1 per set with 95% intervals; the rewrites show their plus suite."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = []
    for suite, cell in scores.items():
        if "plus" in cell:
            bars.append((f"{suite} (plus)", cell["plus"].get("pass@1")))
        else:
            bars.append((suite, cell.get("pass@1")))
    bars = [(label, cell) for label, cell in bars if cell]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(bars) + 1.2))
    ys = list(range(len(bars)))[::-1]
    values = [100 * cell["value"] for _, cell in bars]
    ax.barh(ys, values, color=["#e8900c" if label == "average" else "#3b6fd8" for label, _ in bars], height=0.65)
    for y, (_, cell), v in zip(ys, bars, values):
        if cell["ci95"]:
            ax.errorbar(v, y, xerr=[[v - 100 * cell["ci95"][0]], [100 * cell["ci95"][1] - v]], fmt="none",
                        ecolor="#1d2433", capsize=3, lw=1)
        ax.text(min(v + 1, 95), y, f"{v:.1f}", va="center", fontsize=8)
    ax.set_yticks(ys, [label for label, _ in bars], fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xlabel("pass@1 (%)")
    ax.set_title("EvoEval v0.1.0 by set (average: difficult, creative, subtle, combine, tool_use)", fontsize=10,
                 loc="left")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

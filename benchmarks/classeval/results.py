"""ClassEval scores (class-level and method-level pass@k, as the official evaluation counts them) and files.

- class-level: per task, a sample passes when every test class passes; pass@k averaged over tasks.
- method-level: per test class, pass@k over the samples; averaged over every graded test class. The
  official code averages over all listed test classes, the whole-class ones ("...TestMain") included;
  `methods_only` averages over the methods' own test classes alone.
- official_rule: the same outputs scored as the official code would, counting the data quirks it trips on
  (a test class without tests, a name with whitespace: dataset.py) as errors for every solution.
- partial: the official "partial success" metrics (a test class with some tests passing counts).
Writes verdicts.jsonl (one row per sample, every test class's record), class_result.json (the official
{task: {task_i: {test_class: {errors, failures, testsRun}}}} layout) and breakdown.png.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from benchmarks import passk
from benchmarks.classeval.dataset import ClassEval
from benchmarks.classeval.grade import STATUSES, Graded


def _by_task(data: ClassEval, graded: list[Graded]) -> dict[str, list[Graded]]:
    groups: dict[str, list[Graded]] = defaultdict(list)
    for g in graded:
        groups[g.sample.task_id].append(g)
    return {tid: sorted(groups[tid], key=lambda g: g.sample.index) for tid in data.tasks if tid in groups}


def scores(data: ClassEval, graded: list[Graded]) -> dict:
    by_task = _by_task(data, graded)
    ok = lambda r: r["status"] == "pass"  # noqa: E731
    partial = lambda r: r["status"] in ("pass", "partial")  # noqa: E731

    def level(passed, entries) -> tuple[list[int], list[int]]:
        return [len(gs) for gs, _ in entries], [sum(passed(g, c) for g in gs) for gs, c in entries]

    tasks = [(gs, None) for gs in by_task.values()]
    classes = [(gs, c) for tid, gs in by_task.items() for c in data.tasks[tid].test_classes]
    methods = [(gs, c) for tid, gs in by_task.items() for c in data.tasks[tid].test_classes
               if data.tasks[tid].is_method_test(c)]
    every = lambda rule: lambda g, _: all(rule(r) for r in g.classes.values())  # noqa: E731
    one = lambda rule: lambda g, c: rule(g.classes[c])  # noqa: E731

    # The official code: tasks with a quirk never pass at class level; their quirky test classes never pass.
    quirky = {tid for tid in by_task if data.tasks[tid].quirks}
    official_tasks = [(gs, tid) for tid, gs in by_task.items()]
    official_classes = ([(gs, (tid, c)) for tid, gs in by_task.items() for c in data.tasks[tid].test_classes]
                        + [(gs, (tid, None)) for tid, gs in by_task.items()
                           for q in data.tasks[tid].quirks.values() if q == "no tests"])
    spaced = {(tid, c.strip()) for tid in by_task for c, q in data.tasks[tid].quirks.items() if q == "whitespace in name"}

    def official_class(g, tid):
        return tid not in quirky and all(ok(r) for r in g.classes.values())

    def official_method(g, entry):
        tid, c = entry
        return c is not None and (tid, c) not in spaced and ok(g.classes[c])

    out = {
        "class": passk.pass_at_k(*level(every(ok), tasks)),
        "method": passk.pass_at_k(*level(one(ok), classes)),
    }
    extra = {
        "methods_only": passk.pass_at_k(*level(one(ok), methods)),
        "official_rule": {"class": passk.pass_at_k(*level(official_class, official_tasks)),
                          "method": passk.pass_at_k(*level(official_method, official_classes))},
        "partial": {"class": passk.pass_at_k(*level(every(partial), tasks)),
                    "method": passk.pass_at_k(*level(one(partial), classes))},
        "counted": {"tasks": len(tasks), "test_classes": len(classes), "method_test_classes": len(methods),
                    "official_test_classes": len(official_classes)},
    }
    return {"pass@k": out, **extra}


def status_counts(graded: list[Graded]) -> dict[str, int]:
    counts = Counter(r["status"] for g in graded for r in g.classes.values())
    return {s: counts.get(s, 0) for s in STATUSES}


def timing_summary(data: ClassEval, graded: list[Graded], factor: float) -> dict:
    """Verdicts near the time limit, and class-level pass@1 with all of them failing / all passing."""
    flagged = [g for g in graded if any(r.get("timing_sensitive") for r in g.classes.values())]
    by_task = _by_task(data, graded)

    def class_pass1(rule) -> float | None:
        n = [len(gs) for gs in by_task.values()]
        c = [sum(all(rule(r) for r in g.classes.values()) for g in gs) for gs in by_task.values()]
        return passk.pass_at_k(n, c, ks=(1,)).get("pass@1", {}).get("value")

    worst = class_pass1(lambda r: r["status"] == "pass" and not r.get("timing_sensitive"))
    best = class_pass1(lambda r: r["status"] == "pass" or (bool(r.get("timing_sensitive"))
                                                          and r.get("timing_alternative") == "pass"))
    return {"factor": factor, "samples": len(flagged),
            "test_classes": sum(bool(r.get("timing_sensitive")) for g in flagged for r in g.classes.values()),
            "tasks": sorted({g.sample.task_id for g in flagged}), "class_pass@1_range": [worst, best]}


def verdict_rows(data: ClassEval, graded: list[Graded], policy_hash: str) -> list[dict]:
    rows = []
    for g in graded:
        task = data.tasks[g.sample.task_id]
        statuses = [r["status"] for r in g.classes.values()]
        worst = next((s for s in ("timeout", "memory", "error", "fail", "partial") if s in statuses), "pass")
        rows.append({"task_id": g.sample.task_id, "index": g.sample.index, "source": g.sample.source, "key": g.key,
                     "cached": g.cached, "policy": policy_hash, "passed": g.class_pass, "verdict": worst,
                     "test_classes_passed": sum(s == "pass" for s in statuses), "test_classes": len(statuses),
                     "methods_passed": sum(g.passed(c) for c in task.test_classes if task.is_method_test(c)),
                     "timing_sensitive": any(bool(r.get("timing_sensitive")) for r in g.classes.values()),
                     "classes": g.classes})
    return rows


def class_result(data: ClassEval, graded: list[Graded]) -> dict:
    """The official {model}_class_result.json layout: counts per test class (zeros where no test ran)."""
    out: dict[str, dict] = {}
    for tid, gs in _by_task(data, graded).items():
        out[tid] = {f"{tid}_{g.sample.index}": {c: {"errors": r.get("errors", 0), "failures": r.get("failures", 0),
                                                    "testsRun": r.get("tests_run", 0)}
                                                for c, r in g.classes.items()} for g in gs}
    return out


def write(out_dir: Path, data: ClassEval, graded: list[Graded], policy_hash: str) -> dict:
    from harness.artifacts import atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    score = scores(data, graded)
    rows = verdict_rows(data, graded, policy_hash)
    atomic_write_text(out_dir / "verdicts.jsonl", "".join(json.dumps(r, default=str) + "\n" for r in rows))
    atomic_write_text(out_dir / "class_result.json", json.dumps(class_result(data, graded), indent=1) + "\n")
    plot(score, status_counts(graded), out_dir / "breakdown.png")
    return score


def plot(score: dict, counts: dict[str, int], path: Path) -> Path:
    """Class-level and method-level pass@1 with 95% intervals, and how the test classes ended."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [("class-level", score["pass@k"]["class"]), ("method-level", score["pass@k"]["method"]),
            ("methods' own test classes", score["methods_only"])]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 2.8), gridspec_kw={"width_ratios": [3, 2]})
    ys = list(range(len(bars)))[::-1]
    for y, (label, cell) in zip(ys, bars):
        c = cell.get("pass@1")
        if not c:
            continue
        v = 100 * c["value"]
        ax.barh(y, v, color="#3b6fd8", height=0.6)
        if c["ci95"]:
            ax.errorbar(v, y, xerr=[[v - 100 * c["ci95"][0]], [100 * c["ci95"][1] - v]], fmt="none", ecolor="#1d2433",
                        capsize=3, lw=1)
        ax.text(min(v + 1, 92), y, f"{v:.1f}", va="center", fontsize=8)
    ax.set_yticks(ys, [label for label, _ in bars], fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xlabel("pass@1 (%)")
    ax.set_title("ClassEval", fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)
    bx.bar(list(counts), list(counts.values()), color="#b8bfcc")
    bx.set_title("test classes by verdict", fontsize=10, loc="left")
    bx.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

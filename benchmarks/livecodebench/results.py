"""Scores (pass@k per problem, averaged over problems, with breakdowns and 95% intervals) and result files.

Written: eval_results.json (EvalPlus's layout: per problem, each sample's solution and status, plus
pass@k), verdicts.jsonl (one line per sample: question_id, verdict, first failing test, and the same
under upstream's comparison rule) and breakdown.png (pass@1 by difficulty and platform).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from benchmarks import passk
from benchmarks.livecodebench.dataset import ProblemSet, decode_tests
from benchmarks.livecodebench.grade import Graded
from harness.artifacts import atomic_write_text

RULES = ("ours", "upstream")
EXAMPLES = 20  # disagreements listed by name in the summary


def _passed(g: Graded, rule: str) -> bool:
    return g.record[rule]["verdict"] == "pass"


def by_problem(graded: list[Graded]) -> dict[str, list[Graded]]:
    groups: dict[str, list[Graded]] = defaultdict(list)
    for g in graded:
        groups[g.sample.question_id].append(g)
    for group in groups.values():
        group.sort(key=lambda g: g.sample.index)
    return groups


def scores(problems: ProblemSet, graded: list[Graded]) -> dict:
    """pass@k under both rules, overall and per difficulty and platform."""
    groups = by_problem(graded)
    qids = [q for q in problems.problems if q in groups]

    def pak(ids: list[str], rule: str) -> dict:
        return passk.pass_at_k([len(groups[q]) for q in ids], [sum(_passed(g, rule) for g in groups[q]) for q in ids])

    out = {rule: pak(qids, rule) for rule in RULES}
    for facet in ("difficulty", "platform"):
        values: dict[str, list[str]] = defaultdict(list)
        for q in qids:
            values[getattr(problems.problems[q], facet)].append(q)
        out[facet] = {value: {"n_problems": len(ids), **{rule: pak(ids, rule) for rule in RULES}}
                      for value, ids in sorted(values.items(), key=lambda kv: _order(facet, kv[0]))}
    return out


def _order(facet: str, value: str):
    rank = {"easy": 0, "medium": 1, "hard": 2} if facet == "difficulty" else {}
    return rank.get(value, 9), value


def disagreements(graded: list[Graded]) -> dict:
    """Samples whose verdict differs between our comparison rule and upstream's, on the same outputs."""
    ours_only, upstream_only = [], []
    for g in graded:
        a, b = _passed(g, "ours"), _passed(g, "upstream")
        if a != b:
            (ours_only if a else upstream_only).append(g)

    def named(gs):
        return [{"question_id": g.sample.question_id, "index": g.sample.index,
                 "why": (g.record["upstream"] if _passed(g, "ours") else g.record["ours"]).get("detail")}
                for g in gs[:EXAMPLES]]

    return {"differ": len(ours_only) + len(upstream_only), "pass_ours_only": len(ours_only),
            "pass_upstream_only": len(upstream_only), "examples": named(upstream_only) + named(ours_only)}


def _first_failing(rec: dict, n_public: int) -> dict | None:
    if rec["verdict"] == "pass":
        return None
    index = rec.get("test")
    out = {"index": index, "set": None if index is None else "public" if index < n_public else "private"}
    out.update({k: rec[k] for k in ("detail", "error_type", "input", "expected", "output") if k in rec})
    return out


def verdict_rows(problems: ProblemSet, graded: list[Graded], policy_hash: str) -> list[dict]:
    n_public = {q: len(decode_tests(problems.problems[q].public_raw, q)) for q in by_problem(graded)}
    rows = []
    for g in graded:
        p, rec = problems.problems[g.sample.question_id], g.record
        rows.append({
            "question_id": p.question_id, "index": g.sample.index, "verdict": rec["ours"]["verdict"],
            "first_failing_test": _first_failing(rec["ours"], n_public[p.question_id]),
            "tests_passed": rec["passed_ours"], "n_tests": rec["n_tests"],
            "upstream": {"verdict": rec["upstream"]["verdict"], "tests_passed": rec["passed_upstream"],
                         "first_failing_test": _first_failing(rec["upstream"], n_public[p.question_id])},
            "platform": p.platform, "difficulty": p.difficulty, "contest_date": p.contest_date.isoformat(),
            "testtype": p.testtype, "tolerance": p.tolerance, "tests_run": rec["tests_run"],
            "slowest_test_s": rec["slowest_s"], "seconds": rec["seconds"], "rechecked": rec.get("rechecked", 0),
            "key": g.key, "cached": g.cached, "policy": policy_hash, "source": g.sample.source})
    return rows


def eval_results(problems: ProblemSet, graded: list[Graded], score: dict) -> dict:
    groups = by_problem(graded)
    evals = {}
    for q in problems.problems:
        if q not in groups:
            continue
        evals[q] = [{"question_id": q, "solution": g.sample.code, "status": g.record["ours"]["verdict"],
                     "fail_test": g.record["ours"].get("test"), "upstream_status": g.record["upstream"]["verdict"]}
                    for g in groups[q]]
    return {"date": datetime.now().strftime("%Y-%m-%d %H:%M"), "hash": problems.hash, "eval": evals,
            "pass_at_k": {rule: {k: v["value"] for k, v in score[rule].items()} for rule in RULES}}


def plot(score: dict, path: Path) -> Path:
    """pass@1 per difficulty and platform, ours next to upstream's rule, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    total = sum(cell["n_problems"] for cell in score["difficulty"].values())
    groups = [(f"all ({total})", {rule: score[rule] for rule in RULES})]
    groups += [(f"{value} ({cell['n_problems']})", cell) for facet in ("difficulty", "platform")
               for value, cell in score[facet].items()]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(groups)), 3.4))
    for offset, rule in ((-0.2, "ours"), (0.2, "upstream")):
        xs, ys, errs = [], [], [[], []]
        for i, (_, cell) in enumerate(groups):
            p1 = cell[rule].get("pass@1")
            if p1 is None:
                continue
            lo, hi = p1["ci95"] or (p1["value"], p1["value"])
            xs.append(i + offset)
            ys.append(100 * p1["value"])
            errs[0].append(100 * (p1["value"] - lo))
            errs[1].append(100 * (hi - p1["value"]))
        ax.bar(xs, ys, width=0.4, yerr=errs, capsize=3, label=f"{rule} rule")
    ax.set_xticks(range(len(groups)), [name for name, _ in groups])
    ax.set_ylabel("pass@1 (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title("LiveCodeBench pass@1 (95% intervals over problems)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(out_dir: Path, problems: ProblemSet, graded: list[Graded], policy_hash: str) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    score = scores(problems, graded)
    atomic_write_text(out_dir / "eval_results.json", json.dumps(eval_results(problems, graded, score)))
    rows = verdict_rows(problems, graded, policy_hash)
    atomic_write_text(out_dir / "verdicts.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    plot(score, out_dir / "breakdown.png")
    return score

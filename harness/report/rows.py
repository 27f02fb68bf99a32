"""The leaderboard's rows: measured evaluations and published references, grouped per benchmark, with deltas.

A row is one model on one benchmark: pass@1 per suite (fractions, with 95% intervals where measured), the
sample settings, the grader version, timing-sensitive counts, and where it came from. Reference rows come
from references.yaml (the paper's tables) and the EvalPlus leaderboard's results.json in the data mirror.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field

from harness.config import Strict
from harness.errors import UserError
from harness.report.results import SINGLE_SUITE, Evaluation

REFERENCES_FILE = Path(__file__).with_name("references.yaml")
EVALPLUS_LEADERBOARD = "evalplus-leaderboard/results.json"

# Display names; any other benchmark or suite shows under its own name.
BENCHMARKS = {"humaneval": "HumanEval+", "mbpp": "MBPP+", "livecodebench": "LiveCodeBench", "classeval": "ClassEval",
              "evoeval": "EvoEval"}
SUITES = {("humaneval", "base"): "HumanEval", ("humaneval", "plus"): "HumanEval+", ("mbpp", "base"): "MBPP",
          ("mbpp", "plus"): "MBPP+", SINGLE_SUITE: "pass@1"}


def benchmark_title(benchmark: str) -> str:
    return BENCHMARKS.get(benchmark, benchmark)


def suite_title(benchmark: str, suite: str) -> str:
    return SUITES.get((benchmark, suite), SUITES.get(suite, suite))


@dataclass
class Delta:
    value: float  # row - baseline, fraction
    p_value: float | None = None  # paired test, when both rows have per-task verdicts on the same dataset
    test: str | None = None


@dataclass
class Row:
    model: str
    benchmark: str
    version: str | None
    scores: dict[str, dict]  # suite -> {"value": fraction, "ci95": [low, high] | None}
    kind: Literal["measured", "reference"]
    source: str  # artifact path, or the citation of a reference
    settings: dict = field(default_factory=dict)
    grader: str | None = None
    timing: dict | None = None
    evaluation: Evaluation | None = None
    baseline: bool = False
    deltas: dict[str, Delta] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"model": self.model, "benchmark": self.benchmark, "version": self.version, "kind": self.kind,
                "scores": self.scores, "settings": self.settings, "grader": self.grader, "timing_sensitive": self.timing,
                "source": self.source, "baseline": self.baseline,
                "deltas": {s: {"value": d.value, "p_value": d.p_value, "test": d.test} for s, d in self.deltas.items()}}


def measured_row(e: Evaluation) -> Row:
    return Row(model=e.model, benchmark=e.benchmark, version=e.version, scores=e.scores, kind="measured",
               source=str(e.path), settings=e.settings, grader=e.grader, timing=e.timing, evaluation=e)


# ---------------------------------------------------------------------------------------------- references


class ReferenceRow(Strict):
    model: str
    benchmark: str
    version: str | None = None
    scores: dict[str, float]  # suite -> pass@1 in percent, as published
    source: str = Field(min_length=1)


class ReferenceFile(Strict):
    rows: list[ReferenceRow]


def paper_rows(path: Path = REFERENCES_FILE) -> list[Row]:
    import yaml
    from pydantic import ValidationError

    from harness.config import validation_error_line

    try:
        doc = ReferenceFile.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as exc:
        raise UserError(validation_error_line(exc, ReferenceFile, "", {}, str(path))) from None
    return [Row(model=r.model, benchmark=r.benchmark, version=r.version, kind="reference", source=r.source,
                scores={s: {"value": round(v / 100, 6), "ci95": None} for s, v in r.scores.items()},
                settings={"greedy": True}, grader="as published")
            for r in doc.rows]


def evalplus_leaderboard_rows() -> list[Row]:
    """Every model of the EvalPlus leaderboard snapshot in the data mirror, as HumanEval+ and MBPP+ rows."""
    from harness import data

    path = data.reference_path(EVALPLUS_LEADERBOARD)
    doc = data.read_json(path)
    if not isinstance(doc, dict):
        raise UserError(f"{path}: expected an object of models")
    out = []
    for model, entry in doc.items():
        scores = (entry or {}).get("pass@1") or {}
        for benchmark in ("humaneval", "mbpp"):
            suites = {s: {"value": round(scores[key] / 100, 6), "ci95": None}
                      for s, key in (("base", benchmark), ("plus", f"{benchmark}+")) if scores.get(key) is not None}
            if suites:
                out.append(Row(model=model, benchmark=benchmark, version=None, scores=suites, kind="reference",
                               source=f"EvalPlus leaderboard ({EVALPLUS_LEADERBOARD} in the data mirror)",
                               settings={"greedy": True}, grader="EvalPlus leaderboard"))
    return out


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower().replace("meta-llama-", "llama"))


def matches(reference: str, measured: str) -> bool:
    """Whether a leaderboard name is the measured model: "Llama3-8B-instruct" ~ "meta-llama/Meta-Llama-3-8B-Instruct"."""
    ref, ours = _squash(reference), _squash(measured.rsplit("/", 1)[-1])
    return bool(ref) and ours in (ref, ref.removesuffix("base"))  # the board names base models "...-base"


def select_references(measured: list[Row], paper: bool, evalplus: str | list[str]) -> list[Row]:
    """Reference rows for the benchmarks that have measured rows: the paper's, and the EvalPlus leaderboard's
    ("matching": models also measured here; "all"; "none"; or a list of leaderboard names)."""
    benchmarks = {r.benchmark for r in measured}
    chosen = [r for r in paper_rows() if r.benchmark in benchmarks] if paper else []
    if evalplus != "none" and benchmarks & {"humaneval", "mbpp"}:
        board = [r for r in evalplus_leaderboard_rows() if r.benchmark in benchmarks]
        if evalplus == "all":
            chosen += board
        elif evalplus == "matching":
            chosen += [r for r in board if any(matches(r.model, m.model) for m in measured)]
        else:
            names = {r.model for r in board}
            unknown = [n for n in evalplus if n not in names]
            if unknown:
                import difflib

                close = difflib.get_close_matches(unknown[0], sorted(names), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise UserError(f"evalplus_leaderboard: '{unknown[0]}' is not on the EvalPlus leaderboard{hint}")
            chosen += [r for r in board if r.model in evalplus]
    return chosen


# ---------------------------------------------------------------------------------------------- grouping, deltas


@dataclass
class Group:
    benchmark: str
    suites: list[str]
    primary: str  # the suite rows are ranked by (plus where there is one)
    rows: list[Row]

    @property
    def title(self) -> str:
        return benchmark_title(self.benchmark)


def group(rows: list[Row]) -> list[Group]:
    """One group per benchmark (measured benchmarks first, in order of appearance), rows ranked best first."""
    order: list[str] = []
    for r in sorted(rows, key=lambda r: r.kind != "measured"):
        if r.benchmark not in order:
            order.append(r.benchmark)
    groups = []
    for benchmark in order:
        members = [r for r in rows if r.benchmark == benchmark]
        suites: list[str] = []
        for r in members:
            suites.extend(s for s in r.scores if s not in suites)
        primary = "plus" if "plus" in suites else suites[0]

        def rank(r: Row) -> tuple:
            score = r.scores.get(primary)
            return (score is None, -(score["value"] if score else 0.0), r.kind != "measured", r.model)

        groups.append(Group(benchmark, suites, primary, sorted(members, key=rank)))
    return groups


def find_baseline(rows: list[Row], name: str) -> str:
    """The model label `name` refers to: an exact label, else the one label containing it (measured first)."""
    labels = list(dict.fromkeys(r.model for r in rows))
    if name in labels:
        return name
    for kind in ("measured", "reference"):
        hits = list(dict.fromkeys(r.model for r in rows if r.kind == kind and name.lower() in r.model.lower()))
        tails = [h for h in hits if h.rsplit("/", 1)[-1].lower() == name.lower()]  # "Meta-Llama-3-8B" = org/name
        if len(hits) == 1 or len(tails) == 1:
            return (tails or hits)[0]
        if len(hits) > 1:
            raise UserError(f"--baseline {name!r}: matches several models ({', '.join(hits[:5])}); give the full name")
    import difflib

    close = difflib.get_close_matches(name, labels, n=1, cutoff=0.4)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise UserError(f"--baseline {name!r}: no such model on the leaderboard{hint}")


def apply_baseline(groups: list[Group], baseline: str, resamples: int = 10_000) -> None:
    """Mark the baseline's row in each group and give every other row its delta per suite; a paired test
    where both rows have per-task verdicts on the same dataset."""
    from harness.report import stats

    for g in groups:
        base = next((r for r in g.rows if r.model == baseline and r.kind == "measured"), None) or next(
            (r for r in g.rows if r.model == baseline), None)
        if base is None:
            continue
        base.baseline = True
        for r in g.rows:
            if r is base or (r.version and base.version and r.version != base.version):
                continue  # no delta across dataset versions
            for suite in g.suites:
                if suite not in r.scores or suite not in base.scores:
                    continue
                delta = Delta(r.scores[suite]["value"] - base.scores[suite]["value"])
                common = _pairable(base, r, suite)
                if common and base.evaluation and r.evaluation:
                    result = stats.compare(suite, base.evaluation.outcomes[suite], r.evaluation.outcomes[suite],
                                           common, resamples=resamples)
                    delta = Delta(result.delta, result.p_value, result.test)
                r.deltas[suite] = delta


def _pairable(a: Row, b: Row, suite: str) -> list[str] | None:
    ea, eb = a.evaluation, b.evaluation
    if ea is None or eb is None or suite not in ea.outcomes or suite not in eb.outcomes:
        return None
    if ea.dataset_hash != eb.dataset_hash or (ea.version, ea.variant) != (eb.version, eb.variant):
        return None
    common = [t for t in ea.outcomes[suite] if t in eb.outcomes[suite]]
    return common or None

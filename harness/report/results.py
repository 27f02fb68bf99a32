"""Evaluate outputs of any benchmark, read into one shape for the leaderboard and the regression gate.

An evaluate output is one of:
- a folder: an `evaluate` stage artifact or a `sca evaluate --out` folder, holding some of summary.json
  (scores with intervals, dataset identity, timing-sensitive counts), verdicts.jsonl (one row per sample),
  eval_results.json (EvalPlus's schema) and manifest.json (stage, grader version, inputs);
- an EvalPlus eval_results.json in either schema EvalPlus writes: {task: [{base_status, plus_status, ...}]}
  (0.2 on, and ours) or {task: {nfiles, base: [[status, details], ...], plus: [...]}} (0.1.x); or the same
  layout with one outcome per sample ({task: [{status, ...}]}, as LiveCodeBench's evaluate writes);
- a verdicts.jsonl.

Any benchmark can contribute. Its summary.json gives `dataset` (or `benchmark`), optional `version` and
`hash`, and `pass@k` as {suite: {"pass@1": {"value", "ci95"}}}, nested as deep as it likes (subsets such as
difficulty levels become suites named "difficulty/easy"). Its verdicts.jsonl rows name the task (`task_id`
or `question_id`) and carry either EvalPlus-style per-suite records ({"base": {"status"}, "plus": {...}})
or one outcome (`verdict` or `status` == "pass", or `passed`), with optional `timing_sensitive` flags.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from harness.errors import UserError

SUMMARY, VERDICTS, EVAL_RESULTS, MANIFEST, GENERATION = (
    "summary.json", "verdicts.jsonl", "eval_results.json", "manifest.json", "generation.json")
# The suite of one-outcome benchmarks (a verdict per sample, no base/plus split).
SINGLE_SUITE = "pass"
_TASK_PREFIXES = {"HumanEval/": "humaneval", "Mbpp/": "mbpp"}
# evalplus codegen names its outputs MODEL_BACKEND_temp_T (MODEL with "/" as "--"); the mirror adds DATASET--.
_CODEGEN_NAME = re.compile(r"^(?:(?:humaneval|mbpp)--)?(?P<model>.+?)_(?P<backend>[a-z]+)_temp_(?P<temp>[0-9.]+)$")
# The SelfCodeAlign repository names its EvalPlus outputs evalplus-MODEL-DATASET.
_SELFCODEALIGN_NAME = re.compile(r"^evalplus-(?P<model>.+)-(?:humaneval|mbpp)$")


@dataclass
class Evaluation:
    """One model graded on one benchmark: who, how, the scores, and every task's per-sample outcomes."""

    path: Path
    benchmark: str
    version: str | None
    variant: str | None
    dataset_hash: str | None
    model: str  # display label
    model_id: str | None  # what generation ran (hub id or path), when recorded
    settings: dict  # n, temperature, greedy, top_p, max_new_tokens, prompt_style, backend (None = unrecorded)
    grader: str | None
    scores: dict[str, dict]  # suite -> {"value": fraction, "ci95": [low, high] | None} (pass@1)
    outcomes: dict[str, dict[str, list[bool]]]  # suite -> task -> pass per sample, in sample order
    timing_tasks: dict[str, set[str]] = field(default_factory=dict)  # suite -> tasks with a timing-sensitive verdict
    timing: dict | None = None  # the summary's timing_sensitive block (counts and pass@1 range)
    stage: str | None = None  # recipe stage name, for artifacts
    fingerprint: str | None = None
    finished_at: str | None = None

    @property
    def n_tasks(self) -> int:
        return max((len(t) for t in self.outcomes.values()), default=0)

    @property
    def identity(self) -> str:
        """What the dataset is, for messages: "humaneval v0.1.10 (hash fe585eb4)"."""
        parts = [self.benchmark]
        if self.version:
            parts.append(self.version)
        if self.variant:
            parts.append(f"({self.variant})")
        if self.dataset_hash:
            parts.append(f"(hash {self.dataset_hash[:8]})")
        return " ".join(parts)


def is_evaluate_output(path: Path) -> bool:
    path = Path(path)
    if path.is_file():
        return path.name.endswith(("eval_results.json", ".jsonl"))
    return any((path / name).is_file() for name in (VERDICTS, EVAL_RESULTS)) or _summary_has_scores(path)


def _summary_has_scores(folder: Path) -> bool:
    try:
        return isinstance(json.loads((folder / SUMMARY).read_text()).get("pass@k"), dict)
    except (OSError, ValueError, AttributeError):
        return False


def load(path: Path | str, stage: str | None = None, label: str | None = None) -> Evaluation:
    """Read one evaluate output (see the module docstring); a UserError names the file and what is wrong."""
    from harness.data import read_json

    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.is_file():
        folder, summary, manifest = None, {}, {}
        verdicts_path = path if path.suffix == ".jsonl" else None
        results_path = None if verdicts_path else path
    else:
        folder = path
        if not is_evaluate_output(path):
            raise UserError(f"{path}: not an evaluate output (no {SUMMARY} with pass@k, {VERDICTS} or {EVAL_RESULTS})")
        summary = _read_object(path / SUMMARY) if (path / SUMMARY).is_file() else {}
        manifest = _read_object(path / MANIFEST) if (path / MANIFEST).is_file() else {}
        verdicts_path = path / VERDICTS if (path / VERDICTS).is_file() else None
        results_path = path / EVAL_RESULTS if (path / EVAL_RESULTS).is_file() else None

    results = None
    if verdicts_path is not None:
        outcomes, timing_tasks, first_source = _from_verdicts(verdicts_path)
    elif results_path is not None:
        results = read_json(results_path)
        outcomes, timing_tasks, first_source = _from_eval_results(results, results_path), {}, str(results_path)
    else:
        outcomes, timing_tasks, first_source = {}, {}, None
    if results is None and results_path is not None and not summary:
        results = read_json(results_path)  # only its hash and date are needed

    benchmark = summary.get("dataset") or summary.get("benchmark") or _benchmark_from_tasks(outcomes)
    if benchmark is None:
        benchmark = (manifest.get("config") or {}).get("dataset")
    if not benchmark:
        raise UserError(f"{path}: cannot tell which benchmark this is (no 'dataset' in {SUMMARY}, "
                        "and task ids are not HumanEval/ or Mbpp/)")
    dataset_hash = summary.get("hash") or (results or {}).get("hash")
    version, variant = summary.get("version"), summary.get("variant")
    if version is None and dataset_hash:
        known = known_evalplus_dataset(dataset_hash)
        if known:
            _, version, variant = known

    sample_file = _sample_file(first_source)
    generation = _generation(folder, manifest, summary, sample_file)
    named = _codegen_name(path, sample_file)
    model, model_id = _model_label(generation, manifest, named, path)
    settings = _settings(generation, outcomes, named)
    scores = _scores(summary, outcomes, path)
    return Evaluation(
        path=path, benchmark=str(benchmark), version=version, variant=variant, dataset_hash=dataset_hash,
        model=label or model, model_id=model_id, settings=settings, grader=_grader(summary, manifest, results),
        scores=scores, outcomes=outcomes, timing_tasks=timing_tasks, timing=summary.get("timing_sensitive"),
        stage=stage or manifest.get("stage"), fingerprint=manifest.get("fingerprint"),
        finished_at=manifest.get("finished_at"),
    )


def _read_object(path: Path) -> dict:
    from harness.data import read_json

    doc = read_json(path)
    if not isinstance(doc, dict):
        raise UserError(f"{path}: expected a JSON object, got {type(doc).__name__}")
    return doc


# ---------------------------------------------------------------------------------------------- outcomes


def _status_passed(status) -> bool:
    # evalplus 0.1.x stores [status, per-input details]; later versions the status string alone
    if isinstance(status, (list, tuple)):
        status = status[0] if status else None
    return status == "pass"


def _from_eval_results(doc, path: Path) -> dict[str, dict[str, list[bool]]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("eval"), dict):
        raise UserError(f"{path}: expected an EvalPlus eval_results.json with an 'eval' object")
    base: dict[str, list[bool]] = {}
    plus: dict[str, list[bool]] = {}
    single: dict[str, list[bool]] = {}
    for task, entry in doc["eval"].items():
        where = f"{path}: eval[{task!r}]"
        if isinstance(entry, list) and entry and all(isinstance(r, dict) and "status" in r and "base_status" not in r
                                                     for r in entry):  # one outcome per sample (LiveCodeBench)
            single[task] = [_status_passed(r["status"]) for r in entry]
        elif isinstance(entry, list):  # one record per sample
            if not all(isinstance(r, dict) and "base_status" in r for r in entry):
                raise UserError(f"{where}: expected records with 'base_status' (or 'status')")
            base[task] = [_status_passed(r["base_status"]) for r in entry]
            if any(r.get("plus_status") is not None for r in entry):
                plus[task] = [b and _status_passed(r.get("plus_status")) for b, r in zip(base[task], entry)]
        elif isinstance(entry, dict) and isinstance(entry.get("base"), list):  # evalplus 0.1.x
            base[task] = [_status_passed(s) for s in entry["base"]]
            if entry.get("plus"):
                if len(entry["plus"]) != len(entry["base"]):
                    raise UserError(f"{where}: 'base' has {len(entry['base'])} samples, 'plus' {len(entry['plus'])}")
                plus[task] = [b and _status_passed(s) for b, s in zip(base[task], entry["plus"])]
        else:
            raise UserError(f"{where}: neither EvalPlus schema (a list of records, or {{nfiles, base, plus}})")
    if base and single:
        raise UserError(f"{path}: mixes EvalPlus records ('base_status') with one-outcome records ('status')")
    if single:
        return {SINGLE_SUITE: single}
    if not base:
        raise UserError(f"{path}: 'eval' holds no tasks")
    return {"base": base, "plus": plus} if plus else {"base": base}


def _from_verdicts(path: Path) -> tuple[dict, dict, str | None]:
    from harness.data import jsonl_lines

    rows: dict[str, dict[str, list[tuple[int, bool]]]] = {}
    timing: dict[str, set[str]] = {}
    seen: dict[str, int] = {}  # rows per task so far: the sample index where a row does not give one
    first_source = None
    for where, row, error in jsonl_lines(path):
        if error or not isinstance(row, dict):
            raise UserError(f"{where}: not a JSON object ({error or type(row).__name__})")
        task = row.get("task_id", row.get("question_id"))
        if not isinstance(task, str):
            raise UserError(f"{where}: missing string field 'task_id' (or 'question_id')")
        first_source = first_source or row.get("source")
        index = row.get("index", seen.get(task, 0))
        seen[task] = seen.get(task, 0) + 1
        for suite, passed, flagged in _row_outcomes(row, where):
            rows.setdefault(suite, {}).setdefault(task, []).append((index, passed))
            if flagged:
                timing.setdefault(suite, set()).add(task)
    if not rows:
        raise UserError(f"{path}: no verdict rows")
    outcomes = {suite: {t: [p for _, p in sorted(v)] for t, v in tasks.items()} for suite, tasks in rows.items()}
    return outcomes, timing, first_source


def _row_outcomes(row: dict, where: str) -> list[tuple[str, bool, bool]]:
    """(suite, passed, timing-sensitive) for one verdict row."""
    any_flag = bool(row.get("timing_sensitive"))
    if isinstance(row.get("base"), dict):  # EvalPlus: plus counts only when base passes too
        base, plus = row["base"], row.get("plus")
        suites = [r for r in (base, plus) if isinstance(r, dict)]
        per_suite = any("timing_sensitive" in r for r in suites)  # else only the row-level flag is known

        def flagged(record: dict) -> bool:
            return bool(record.get("timing_sensitive")) if per_suite else any_flag

        base_pass = base.get("status") == "pass"
        out = [("base", base_pass, flagged(base))]
        if isinstance(plus, dict) and plus.get("status") is not None:
            plus_pass = row.get("plus_pass", base_pass and plus.get("status") == "pass")
            out.append(("plus", bool(plus_pass), flagged(base) or flagged(plus)))
        return out
    if "passed" in row:
        return [(SINGLE_SUITE, bool(row["passed"]), any_flag)]
    for key in ("verdict", "status"):
        if isinstance(row.get(key), str):
            return [(SINGLE_SUITE, row[key] == "pass", any_flag)]
    raise UserError(f"{where}: no outcome (expected 'base'/'plus' records, 'verdict', 'status' or 'passed')")


def _benchmark_from_tasks(outcomes: dict) -> str | None:
    names = {name for tasks in outcomes.values() for t in tasks for prefix, name in _TASK_PREFIXES.items()
             if t.startswith(prefix)}
    return names.pop() if len(names) == 1 else None


@lru_cache(maxsize=64)
def known_evalplus_dataset(dataset_hash: str) -> tuple[str, str, str | None] | None:
    """(dataset, version, variant) of a staged HumanEval+/MBPP+ release with this md5, from local files only."""
    from benchmarks.evalplus.dataset import DATA_NAMES, VERSIONS
    from harness import data

    for name, (_, versions) in VERSIONS.items():
        for version, variants in versions.items():
            for variant in (None, *variants):
                try:
                    found = data.locate(data.entry(DATA_NAMES[name], version, variant))
                except UserError:
                    continue
                if found is None:
                    continue
                with gzip.open(found[1], "rb") if str(found[1]).endswith(".gz") else open(found[1], "rb") as f:
                    if hashlib.md5(f.read()).hexdigest() == dataset_hash:
                        return name, version, variant
    return None


# ---------------------------------------------------------------------------------------------- who and how


def _sample_file(first_source: str | None) -> Path | None:
    """The samples file a verdict row came from ("FILE:LINE" or "FILE: eval['task'][i]")."""
    return Path(re.split(r":(?: eval\[|\d+$)", first_source, maxsplit=1)[0]) if first_source else None


def _generation(folder: Path | None, manifest: dict, summary: dict, sample_file: Path | None) -> dict | None:
    """generation.json of the samples that were graded: in the folder, in the manifest's input artifacts,
    or beside the samples file (named by the summary or by the verdict rows)."""
    probes = [folder / GENERATION] if folder is not None else []
    probes += [Path(i["path"]) / GENERATION for i in (manifest.get("inputs") or {}).values()
               if isinstance(i, dict) and i.get("path")]
    for samples in (Path(summary["samples"]) if summary.get("samples") else None, sample_file):
        if samples is not None:
            probes.append((samples if samples.is_dir() else samples.parent) / GENERATION)
    for probe in probes:
        if probe.is_file():
            try:
                return json.loads(probe.read_text())
            except ValueError:
                raise UserError(f"{probe}: not valid JSON") from None
    return None


def _codegen_name(*paths: Path | None) -> re.Match | None:
    """evalplus codegen's MODEL_BACKEND_temp_T naming, in the output's own name or its samples file's."""
    for p in paths:
        if p is None:
            continue
        name = p.name.removesuffix(".json").removesuffix("_eval_results").removesuffix(".jsonl")
        match = _CODEGEN_NAME.match(name.removesuffix("-sanitized"))
        if match:
            return match
    return None


def _model_label(generation: dict | None, manifest: dict, named: re.Match | None, path: Path) -> tuple[str, str | None]:
    if generation and generation.get("model"):
        model = str(generation["model"])
        registry = generation.get("registry") or {}
        if registry.get("hf_id"):
            return registry["hf_id"], model
        local = Path(model)
        for parent in (local, *local.parents):
            if (parent / MANIFEST).is_file():  # a model made by a recipe stage (tiny_model, sft, ...)
                try:
                    made_by = json.loads((parent / MANIFEST).read_text())
                    return f"{made_by['experiment']}/{made_by['stage']}", model
                except (ValueError, KeyError):
                    break
        return (local.name if local.exists() else model), model
    if named is not None:
        return named["model"].replace("--", "/"), None
    stem = path.name.removesuffix(".json").removesuffix("_eval_results").removesuffix(".jsonl")
    if ours := _SELFCODEALIGN_NAME.match(stem):
        return ours["model"], None
    if manifest.get("stage"):
        return f"{manifest.get('experiment', '?')}/{manifest['stage']}", None
    return stem, None


def _settings(generation: dict | None, outcomes: dict, named: re.Match | None) -> dict:
    n = max((len(s) for tasks in outcomes.values() for s in tasks.values()), default=None)
    sampling = (generation or {}).get("sampling") or {}
    temperature = sampling.get("temperature")
    if temperature is None and named is not None:
        temperature = float(named["temp"])
    backend = (generation or {}).get("backend")
    if isinstance(backend, dict):
        backend = backend.get("name") or backend.get("backend")
    if backend is None and named is not None:
        backend = named["backend"]
    return {
        "n": sampling.get("n", n),
        "temperature": temperature,
        "greedy": None if temperature is None else temperature == 0,
        "top_p": sampling.get("top_p"),
        "max_new_tokens": sampling.get("max_new_tokens"),
        "prompt_style": (generation or {}).get("prompt_style"),
        "backend": backend,
    }


def _grader(summary: dict, manifest: dict, results: dict | None) -> str | None:
    if summary.get("grader_version"):
        return f"{manifest.get('uses') or 'sca evaluate'} {summary['grader_version']}"
    if isinstance(summary.get("grader"), dict) and summary["grader"].get("version") and not manifest:
        return f"{summary.get('dataset', 'grader')} grader {summary['grader']['version']}"
    if manifest.get("stage_version") is not None:
        return f"{manifest.get('uses', 'evaluate')} {manifest['stage_version']}"
    if results is not None:
        who = "sca evaluate" if "pass_at_k" in results else "EvalPlus"
        dated = f" {results['date'].split()[0]}" if results.get("date") else ""
        return f"{who}{dated} (version unrecorded)"
    return None


# ---------------------------------------------------------------------------------------------- scores


def _scores(summary: dict, outcomes: dict, path: Path) -> dict[str, dict]:
    if isinstance(summary.get("pass@k"), dict):
        found: dict[str, dict] = {}
        _walk_pass_at_1(summary["pass@k"], "", found)
        if found:
            return found
    if not outcomes:
        raise UserError(f"{path}: no scores ({SUMMARY} lacks pass@k) and no per-task verdicts")
    return {suite: pass_at_1(tasks) for suite, tasks in outcomes.items()}


def _walk_pass_at_1(node: dict, prefix: str, found: dict) -> None:
    for key, value in node.items():
        if not isinstance(value, dict):
            continue
        if isinstance(value.get("pass@1"), dict) and "value" in value["pass@1"]:
            found[prefix + key] = {"value": value["pass@1"]["value"], "ci95": value["pass@1"].get("ci95")}
        else:
            _walk_pass_at_1(value, f"{prefix}{key}/", found)


def pass_at_1(tasks: dict[str, list[bool]]) -> dict:
    """pass@1 over tasks with its 95% interval, the one estimator the graders use (benchmarks/passk.py)."""
    from benchmarks import passk

    n = [len(v) for v in tasks.values()]
    c = [sum(v) for v in tasks.values()]
    return passk.pass_at_k(n, c, ks=(1,))["pass@1"]

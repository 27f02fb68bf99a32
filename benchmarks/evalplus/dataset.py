"""HumanEval+ / MBPP+ problems, read through the data layer and evalplus's own loaders.

A Dataset is what the EvalPlus grading path grades: other benchmarks in EvalPlus's format (EvoEval) build
one with their own suites and checker (benchmarks/evoeval/dataset.py).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.errors import UserError

# dataset -> (default version, {version: variants staged for it})
VERSIONS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "humaneval": ("v0.1.10", {"v0.1.10": ("mini", "noextreme"), "v0.1.9": ()}),
    "mbpp": ("v0.2.0", {"v0.2.0": ("noextreme",), "v0.1.0": ()}),
}
DATA_NAMES = {"humaneval": "humanevalplus", "mbpp": "mbppplus"}


@dataclass(frozen=True)
class Dataset:
    name: str  # "humaneval" | "mbpp" (evalplus's dataset names)
    version: str
    variant: str | None
    path: Path
    hash: str  # md5 of the decompressed jsonl: what evalplus writes as "hash"
    problems: dict  # task_id -> evalplus problem dict (MBPP+ inputs already type-restored)
    # Test suites, each graded on its own (problem[f"{suite}_input"]); pass on a later suite needs the earlier too.
    suites: tuple[str, ...] = ("base", "plus")
    # Whose checking code runs a suite in the sandbox: evalplus's unsafe_execute, or evoeval's (its oracles
    # and comparison); `name` is the dataset argument that code receives.
    checker: str = "evalplus"
    # Between prompt and canonical_solution when the canonical program is assembled (evoeval adds "\n").
    canonical_joiner: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" + (f" ({self.variant})" if self.variant else "")

    def canonical_code(self, problem: dict) -> str:
        return problem["prompt"] + self.canonical_joiner + problem["canonical_solution"]


def resolve(name: str, version: str | None = None, variant: str | None = None) -> tuple[str, str, str | None]:
    if name not in VERSIONS:
        raise UserError(f"--dataset: unknown dataset {name!r}; choose one of {', '.join(VERSIONS)}")
    default, versions = VERSIONS[name]
    version = version or default
    if version not in versions:
        raise UserError(f"--version: {name} has no version {version!r}; staged: {', '.join(versions)}")
    if variant is not None and variant not in versions[version]:
        have = ", ".join(versions[version]) or "none"
        raise UserError(f"--variant: {name} {version} has no {variant!r} variant; staged: {have}")
    return name, version, variant


def load(name: str, version: str | None = None, variant: str | None = None) -> Dataset:
    return _load(*resolve(name, version, variant))


@lru_cache(maxsize=8)
def _load(name: str, version: str, variant: str | None) -> Dataset:
    from harness import data

    return from_file(name, data.fetch(DATA_NAMES[name], version, variant=variant), version, variant)


# What evalplus's completeness_check requires of every task, plus what grading reads.
REQUIRED_KEYS = ("prompt", "contract", "canonical_solution", "base_input", "plus_input", "atol", "entry_point")


def from_file(name: str, path: Path, version: str = "custom", variant: str | None = None) -> Dataset:
    """Problems from an evalplus release file (.jsonl or .jsonl.gz); MBPP+ inputs go through evalplus's loader."""
    from harness import data

    with gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb") as f:
        digest = hashlib.md5(f.read()).hexdigest()
    problems = {}
    for where, task, error in data.jsonl_lines(Path(path)):
        if error or not isinstance(task, dict):
            raise UserError(f"{where}: not a JSON object ({error or type(task).__name__})")
        missing = [key for key in ("task_id",) + REQUIRED_KEYS if key not in task]
        if missing:
            raise UserError(f"{where}: task {task.get('task_id', '?')}: missing key {missing[0]!r}")
        problems[task["task_id"]] = task
    if name == "mbpp":  # JSON lost tuples/sets/complex; evalplus's loader restores them per task
        # Imported only here: evalplus.data's package pulls in `datasets` (~0.6 s).
        from evalplus.data.mbpp import mbpp_deserialize_inputs

        for task_id, task in problems.items():
            task["base_input"] = mbpp_deserialize_inputs(task_id, task["base_input"])
            task["plus_input"] = mbpp_deserialize_inputs(task_id, task["plus_input"])
    return Dataset(name, version, variant, Path(path), digest, problems)


def known_elsewhere(task_id: str) -> list[str]:
    """Staged dataset versions that do contain task_id (for did-you-mean on a wrong --version)."""
    found = []
    for name, (_, versions) in VERSIONS.items():
        for version in versions:
            try:
                if task_id in _load(name, version, None).problems:
                    found.append(f"{name} {version}")
            except UserError:
                continue
    return found

"""Where seed candidates come from: local folders of .py files, or a `datasets` dataset.

Local folders (offline default: the running interpreter's standard library and site-packages)
are walked in a fixed order; `stdlib` and `site-packages` name the running interpreter's own.
A dataset is a Hub id (The Stack v1's Python files for gathering, or a finished seed set such as
`bigcode/python-stack-v1-functions-filtered-sc2`) or a local .jsonl/.json/.parquet/.csv file or
folder, always read through `datasets`. Licenses: PSF-2.0 for the standard library, the owning
distribution's declared license for site-packages, the dataset's license column where it has one.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import os
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.errors import UserError

SPECIAL_PATHS = ("stdlib", "site-packages")
STDLIB_LICENSE = "PSF-2.0"


@dataclass(frozen=True)
class SourceFile:
    source: str  # "stdlib", "site-packages" or the folder as configured
    root: str
    relpath: str  # posix, relative to root
    license: str | None

    @property
    def path(self) -> Path:
        return Path(self.root) / self.relpath


def resolve_roots(paths: list[str]) -> list[tuple[str, Path]]:
    """(label, folder or file) for each configured path; one line naming a path that is missing."""
    roots: list[tuple[str, Path]] = []
    for entry in paths:
        if entry == "stdlib":
            found = [Path(sysconfig.get_paths()["stdlib"])]
        elif entry == "site-packages":
            found = list(dict.fromkeys(Path(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")))
        else:
            path = Path(entry).expanduser()
            if not path.exists():
                raise UserError(f"seeds.paths: {entry}: no such file or folder "
                                f"(or use {' / '.join(SPECIAL_PATHS)})")
            found = [path]
        roots.extend((entry, p.resolve()) for p in found if p.exists())
    return roots


@lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


@lru_cache(maxsize=4096)
def distribution_license(dist: str) -> str | None:
    """A distribution's declared license: License-Expression, a short License field, or its classifier."""
    try:
        meta = importlib.metadata.metadata(dist)
    except importlib.metadata.PackageNotFoundError:
        return None
    expression = meta.get("License-Expression")
    if expression:
        return expression.strip()
    declared = (meta.get("License") or "").strip()
    if declared and "\n" not in declared and len(declared) <= 80 and declared.upper() != "UNKNOWN":
        return declared
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return classifiers[0] if classifiers else None


def site_license(relpath: str) -> str | None:
    top = relpath.split("/", 1)[0].removesuffix(".py")
    dists = _distributions().get(top, [])
    return distribution_license(dists[0]) if dists else None


def list_files(paths: list[str], exclude: Sequence[str] = ()) -> list[SourceFile]:
    """Every .py file under the configured paths, in a fixed order (root, then relative path)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    files: list[SourceFile] = []
    seen: set[tuple[Path, str]] = set()
    for label, root in resolve_roots(paths):
        if root.is_file():
            candidates = [root.name]
            base = root.parent
        else:
            base = root
            candidates = []
            for folder, dirs, names in os.walk(root):
                here = Path(folder)
                # The standard library folder holds the base interpreter's own site-packages: not stdlib.
                dirs[:] = sorted(d for d in dirs if d != "__pycache__"
                                 and not (label == "stdlib" and here == stdlib and d == "site-packages"))
                candidates.extend((here / n).relative_to(root).as_posix() for n in names if n.endswith(".py"))
        for rel in sorted(candidates):
            if (base, rel) in seen or any(fnmatch.fnmatch(rel, pattern) for pattern in exclude):
                continue
            seen.add((base, rel))
            if label == "stdlib":
                license_ = STDLIB_LICENSE
            elif label == "site-packages":
                license_ = site_license(rel)
            else:
                license_ = None
            files.append(SourceFile(label, str(base), rel, license_))
    return files


def load_dataset(name: str, *, config: str | None = None, data_dir: str | None = None, split: str = "train",
                 revision: str | None = None, streaming: bool = False, limit: int | None = None):
    """A `datasets` split from a Hub id or a local file/folder; `limit` keeps the first rows."""
    import datasets

    if streaming and limit is None:
        raise UserError("seeds.max_files: required with streaming (how many rows to read)")
    local = Path(name).expanduser()
    kinds = {".jsonl": "json", ".json": "json", ".gz": "json", ".parquet": "parquet", ".csv": "csv"}
    try:
        if local.is_file():
            kind = kinds.get(local.suffix)
            if kind is None:
                raise UserError(f"seeds.dataset: {name}: expected .jsonl, .json, .parquet or .csv")
            ds = datasets.load_dataset(kind, data_files=str(local), split=split, streaming=streaming)
        else:
            ds = datasets.load_dataset(str(local) if local.is_dir() else name, config, data_dir=data_dir,
                                       split=split, revision=revision, streaming=streaming)
    except UserError:
        raise
    except Exception as exc:  # datasets raises many kinds (hub, offline, schema); the user needs one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"seeds.dataset: cannot load '{name}' (split {split}): {first}") from None
    if streaming:
        return list(ds.take(limit))
    return ds.select(range(min(limit, len(ds)))) if limit is not None else ds


def column(ds, name: str | None, what: str, required: bool = True) -> str | None:
    """A column name the dataset has, or a one-line error listing the ones it does have."""
    if name is None:
        return None
    have = list(ds[0].keys()) if isinstance(ds, list) and ds else list(getattr(ds, "column_names", []) or [])
    if name in have:
        return name
    if required:
        raise UserError(f"seeds.{what}: column '{name}' not in the dataset (columns: {', '.join(have)})")
    return None


def row_license(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or None
    return str(value) or None

"""Artifacts: content-addressed directories of data files plus a manifest.

A stage writes into a private `.partial/` directory; the artifact becomes visible only when that
directory is renamed into place, so readers never see half a result. Sharded work inside `.partial/`
survives a crash or kill -9, and a rerun only computes the shards that are missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

MANIFEST = "manifest.json"
METRICS = "metrics.jsonl"
SHARDS = ".shards"


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def fingerprint(stage_name: str, stage_version: int | str, config: dict, input_fingerprints: Sequence[str]) -> str:
    """hash(stage name, stage config, input fingerprints): equal inputs give an equal artifact."""
    payload = {"stage": stage_name, "version": stage_version, "config": config, "inputs": list(input_fingerprints)}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def artifact_dirname(stage_name: str, fp: str) -> str:
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', stage_name)}-{fp[:16]}"


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_jsonl(path: Path, records: Iterable[dict]) -> int:
    """Write records as JSON lines atomically; return how many were written."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    count = 0
    with open(tmp, "w") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return count


class Artifact:
    """A finished artifact directory. Data files are jsonl that `datasets` can load directly."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.manifest: dict = json.loads((self.path / MANIFEST).read_text())

    @property
    def fingerprint(self) -> str:
        return self.manifest["fingerprint"]

    def file(self, name: str) -> Path:
        return self.path / name

    def records(self, name: str = "records") -> Iterator[dict]:
        from harness.data import iter_jsonl  # the one jsonl reader: line-numbered errors, gzip aware

        return iter_jsonl(self.path / f"{name}.jsonl")

    def dataset(self, name: str = "records"):
        import datasets

        return datasets.load_dataset("json", data_files=str(self.path / f"{name}.jsonl"), split="train")

    def __repr__(self) -> str:
        return f"Artifact({self.path})"


def split_evenly(items: Sequence, num_shards: int) -> list[Sequence]:
    """Contiguous, deterministic chunks: shard k always holds the same items for the same input."""
    num_shards = max(1, min(num_shards, len(items)) if items else 1)
    size, extra = divmod(len(items), num_shards)
    chunks, start = [], 0
    for k in range(num_shards):
        end = start + size + (1 if k < extra else 0)
        chunks.append(items[start:end])
        start = end
    return chunks


def run_shards(out_dir: Path, name: str, items: Sequence, fn: Callable[[Sequence], Iterable[dict]],
               num_shards: int, progress: bool = True) -> tuple[int, int]:
    """Compute `fn` over shards of `items`, resuming from shards already on disk.

    Each finished shard is written atomically, so a kill leaves only whole shards behind. The final
    `name.jsonl` is the concatenation of shards in order, identical to an uninterrupted run.
    Returns (records written, shards reused).
    """
    from tqdm import tqdm

    shard_dir = out_dir / SHARDS / name
    shard_dir.mkdir(parents=True, exist_ok=True)
    chunks = split_evenly(items, num_shards)
    reused = 0
    bar = tqdm(total=len(chunks), desc=f"{name} shards", unit="shard", disable=not progress, leave=False)
    for k, chunk in enumerate(chunks):
        shard_path = shard_dir / f"{k:05d}-of-{len(chunks):05d}.jsonl"
        if shard_path.exists():
            reused += 1
        else:
            write_jsonl(shard_path, fn(chunk))
        bar.update(1)
    bar.close()
    final = out_dir / f"{name}.jsonl"
    tmp = final.with_name(f".{final.name}.tmp{os.getpid()}")
    count = 0
    with open(tmp, "wb") as out:
        for k in range(len(chunks)):
            data = (shard_dir / f"{k:05d}-of-{len(chunks):05d}.jsonl").read_bytes()
            count += data.count(b"\n")
            out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, final)
    return count, reused


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

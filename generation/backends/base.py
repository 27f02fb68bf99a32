"""The one model-backend interface: batched requests in, completions out, every finished request cached."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from harness.errors import UserError

Messages = list[dict]
Emit = Callable[[int, list["Completion"]], None]


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt (raw text, or chat messages) and how to sample it."""

    prompt: str | Messages
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 512
    stop: Sequence[str] = field(default_factory=tuple)
    seed: int = 0

    def __post_init__(self) -> None:
        # Users reach these through CLI flags and recipes, so they get a one-line error naming the key.
        if isinstance(self.prompt, str):
            pass
        elif not (isinstance(self.prompt, list) and all(isinstance(m, dict) and "role" in m and "content" in m
                                                          for m in self.prompt)):
            raise UserError("prompt: must be a string or a list of {'role', 'content'} messages")
        if self.n < 1:
            raise UserError(f"n: must be at least 1, got {self.n}")
        if self.temperature < 0:
            raise UserError(f"temperature: must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise UserError(f"top_p: must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise UserError(f"max_new_tokens: must be at least 1, got {self.max_new_tokens}")
        if isinstance(self.stop, str) or not all(isinstance(s, str) and s for s in self.stop):
            raise UserError("stop: must be a list of non-empty strings")
        object.__setattr__(self, "stop", tuple(self.stop))

    @property
    def is_chat(self) -> bool:
        return not isinstance(self.prompt, str)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str  # "stop" (EOS or a stop string) or "length" (hit max_new_tokens)
    prompt_tokens: int | None
    completion_tokens: int | None  # None where a server reports only totals over several choices


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut before the earliest stop string (OpenAI semantics: the stop string is not returned)."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def model_fingerprint(model: str) -> str:
    """Cheap identity of a local model dir (names, sizes, small files, a slice of each weight file).

    Hashing all weights of a 15B model would take minutes; this still changes when a checkpoint is
    rewritten in place. Hub ids and served names are their own identity.
    """
    path = Path(model)
    if not path.is_dir():
        return model
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        size = f.stat().st_size
        h.update(f"{f.relative_to(path).as_posix()}:{size}\n".encode())
        with open(f, "rb") as fh:
            if size <= 1 << 20:
                h.update(fh.read())
            else:
                fh.seek(size // 2)
                h.update(fh.read(1 << 16))
    return h.hexdigest()


class ResultCache:
    """Finished requests keyed by hash(backend identity, request); committed one by one so a kill loses none."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self._db = sqlite3.connect(path, timeout=60)
            # WAL without fsync per commit: a commit survives kill -9 (not power loss) and costs no disk flush.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, request TEXT, "
                             "completions TEXT, created REAL)")
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{path}: not a usable result cache ({exc}); delete it or pick another --cache") from None

    def get(self, key: str) -> list[Completion] | None:
        row = self._db.execute("SELECT completions FROM results WHERE key = ?", (key,)).fetchone()
        return [Completion(**c) for c in json.loads(row[0])] if row else None

    def put(self, key: str, request: GenerationRequest, completions: list[Completion]) -> None:
        self._db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
                         (key, canonical_json(request.to_dict()), json.dumps([asdict(c) for c in completions]),
                          time.time()))
        self._db.commit()

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def close(self) -> None:
        self._db.close()


class Backend(ABC):
    """Subclasses implement `_generate`; caching, de-duplication, progress and stats live here once."""

    name: str = ""

    def __init__(self, model: str, cache: Path | None = None, progress: bool = True):
        self.model = model
        self.progress = progress
        self.cache = ResultCache(Path(cache)) if cache else None
        self.stats = {"requests": 0, "from_cache": 0, "generated": 0}
        self._fingerprint: str | None = None

    def options(self) -> dict:
        """Backend settings that can change the outputs (part of every cache key)."""
        return {}

    def identity(self) -> dict:
        if self._fingerprint is None:
            self._fingerprint = model_fingerprint(self.model)
        # A local dir is known by its fingerprint alone, so moving it keeps its cache.
        name = None if Path(self.model).is_dir() else self.model
        return {"backend": self.name, "model": name, "model_fingerprint": self._fingerprint,
                "options": self.options()}

    def request_key(self, request: GenerationRequest) -> str:
        return sha256_text(canonical_json({"identity": self.identity(), "request": request.to_dict()}))

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Completion]]:
        """Completions for each request, in request order; cached requests are never generated again."""
        from tqdm.auto import tqdm

        keys = [self.request_key(r) for r in requests]
        results: dict[str, list[Completion]] = {}
        todo: dict[str, GenerationRequest] = {}
        for key, req in zip(keys, requests):
            cached = self.cache.get(key) if self.cache is not None and key not in results else None
            if cached is not None:
                results[key] = cached
            elif key not in results:
                todo.setdefault(key, req)
        self.stats["requests"] += len(requests)
        self.stats["from_cache"] += len(results)
        pending_keys = list(todo)
        pending = [todo[k] for k in pending_keys]
        bar = tqdm(total=len(pending), desc=f"{self.name} generate", unit="req",
                   disable=not self.progress or not pending)

        def emit(index: int, completions: list[Completion]) -> None:
            key = pending_keys[index]
            if self.cache is not None:
                self.cache.put(key, pending[index], completions)
            results[key] = completions
            self.stats["generated"] += 1
            bar.update(1)

        try:
            if pending:
                self._generate(pending, emit)
        finally:
            bar.close()
        missing = [k for k in pending_keys if k not in results]
        if missing:
            raise RuntimeError(f"{self.name} backend returned no result for {len(missing)} request(s)")
        return [results[k] for k in keys]

    @abstractmethod
    def _generate(self, requests: list[GenerationRequest], emit: Emit) -> None:
        """Generate every request; call emit(index, completions) as each one finishes (any order)."""

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

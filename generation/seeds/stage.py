"""The `seeds` stage: Python functions with docstrings, filtered as the paper, ready for S->C.

Either source gives the same records (`records.jsonl`): `seed_id` (sha1 of the content), `content`
(the function, with its inferred imports prepended), `source`, `license` (where known), and
provenance: `path`, `name`, `line`, `imports` (the statements inference added), plus `repo` and
`origin_id` for dataset rows.

Order of the steps, and where it differs from the paper's scripts (extract -> near-dedup ->
return / imports / Pyright -> words, imports, benchmarks, lines, arguments -> sample -> judge):
the cheap per-function checks run first (return value, argument, import inference, bad words,
bad imports, lines, decontamination; they do not depend on each other's order), then near-dedup
at Jaccard 0.5 (after them, it can keep a cluster member whose first member a filter removed,
where the paper's order would drop the whole cluster), then `undefined_names`, a static screen
for names that nothing imports or defines (each is a certain Pyright error; on the standard
library Pyright passed 0 of the 763 functions it screens out), then the random sample, and only
then the two expensive steps, Pyright and the judge, so a CPU recipe pays them for the sample
alone. The final seeds come in the sample's seeded random order, so taking the first k of them
downstream takes a random k.

Also written: `dropped.jsonl` (every removed function: which step, why, where it came from),
`filters.json` (kept / dropped / seconds per step), `filters.png` (bar plot), `typecheck.jsonl`
and `judge.jsonl` (the verdict on each checked seed). Pyright and the judge run as resumable
shards: after a kill -9 a rerun computes only the missing shards (extraction too).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from benchmarks.contamination import DEFAULT_BENCHMARKS
from generation.seeds import filters
from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage

MODEL_STAGES = ("gguf_model", "tiny_model", "sft")


class SeedsConfig(Strict):
    # --- where seeds come from
    # files: gather functions from Python files (`paths`, or a dataset of files such as The Stack);
    # functions: rows are already functions (`dataset`, or a records input artifact).
    source: Literal["files", "functions"] = "files"
    paths: list[str] = Field(default_factory=lambda: ["stdlib", "site-packages"])
    exclude: list[str] = Field(default_factory=list)  # glob patterns on paths relative to each folder
    dataset: str | None = None  # Hub id or local .jsonl/.json/.parquet/.csv (file or folder)
    dataset_config: str | None = None
    data_dir: str | None = None  # e.g. "data/python" for bigcode/the-stack-dedup
    split: str = "train"
    revision: str | None = None
    streaming: bool = False
    max_files: int | None = Field(None, ge=1)  # read only the first rows of a dataset
    content_column: str = "content"
    path_column: str | None = "max_stars_repo_path"  # The Stack v1's names; missing columns are skipped
    repo_column: str | None = "max_stars_repo_name"
    license_column: str | None = "max_stars_repo_licenses"
    id_column: str | None = "id"

    # --- the paper's filters (each can be turned off)
    docstring_quotes: list[str] = Field(default_factory=lambda: list(filters.DOCSTRING_QUOTES))
    require_return: bool = True
    require_argument: bool = True
    max_lines: int | None = Field(filters.MAX_LINES, ge=1)
    bad_words: list[str] = Field(default_factory=lambda: list(filters.BAD_WORDS))
    bad_imports: list[str] = Field(default_factory=lambda: list(filters.BAD_IMPORTS))
    infer_imports: bool = True
    decontaminate: list[str] = Field(default_factory=lambda: list(DEFAULT_BENCHMARKS))
    dedup_threshold: float | None = Field(0.5, gt=0, le=1)
    typecheck: bool = True
    typecheck_batch: int = Field(250, ge=1)
    typecheck_mode: Literal["basic", "standard", "strict"] = "standard"
    typecheck_timeout_s: float = Field(600, gt=0)
    typecheck_command: list[str] | None = None  # default: basedpyright beside the interpreter
    judge: bool = False
    judge_model: str | None = None  # None: the stage's model input artifact
    judge_backend: str = "hf"
    judge_backend_options: dict[str, Any] = Field(default_factory=dict)
    judge_mode: Literal["completion", "chat"] = "completion"
    judge_cache: str | None = None  # request cache; None = judge-cache.sqlite in the stage's folder

    # --- sizes
    sample_size: int | None = Field(None, ge=1)  # random sample drawn before Pyright and the judge
    num_seeds: int | None = Field(None, ge=1)  # keep at most this many final seeds
    seed: int = 42
    shards: int = Field(8, ge=1)
    workers: int | None = Field(None, ge=1)  # processes for extraction and Pyright; None = all CPUs

    @field_validator("docstring_quotes")
    @classmethod
    def _quotes(cls, value: list[str]) -> list[str]:
        bad = [q for q in value if q not in ('"""', "'''", '"', "'")]
        if bad:
            raise ValueError(f"quotes must be among \"\"\", ''', \", ' (got {bad[0]!r})")
        return value


def content_id(content: str) -> str:
    return hashlib.sha1(content.encode()).hexdigest()[:16]


def _workers(cfg: SeedsConfig, cap: int | None = None) -> int:
    """cfg.workers, else every CPU (up to `cap`: each Pyright process holds hundreds of MB)."""
    return cfg.workers or min(os.cpu_count() or 1, cap or 1 << 16)


def _excerpt(text: str, width: int = 400) -> str:
    return text if len(text) <= width else text[:width] + " ..."


class Tally:
    """Counts, timings, dropped-record log and examples for every step, in order."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.steps: list[dict] = []
        self.dropped: list[dict] = []
        self.examples: list[dict] = []  # a few kept and dropped functions per step, for W&B

    def add(self, name: str, kept: list[dict], dropped: list[tuple[dict, str]], seconds: float,
            note: str = "", uncounted: int = 0) -> list[dict]:
        """Record a finished step; `uncounted` removals have no record (functions never extracted)."""
        removed = len(dropped) + uncounted
        row = {"step": name, "kept": len(kept), "dropped": removed, "seconds": round(seconds, 3)}
        if note:
            row["note"] = note
        self.steps.append(row)
        for record, detail in dropped:
            self.dropped.append({"step": name, "detail": detail, **_provenance(record)})
        self.ctx.counts[name] = len(kept)
        if removed:
            self.ctx.counts[f"dropped_{name}"] = removed
        self.ctx.log({f"kept/{name}": len(kept), f"dropped/{name}": removed, f"seconds/{name}": row["seconds"]})
        self.examples += [{"step": name, "verdict": "dropped", "detail": d, "name": r.get("name"),
                           "path": r.get("path"), "content": _excerpt(r["content"])} for r, d in dropped[:3]]
        self.examples += [{"step": name, "verdict": "kept", "detail": "", "name": r.get("name"),
                           "path": r.get("path"), "content": _excerpt(r["content"])} for r in kept[:2]]
        return kept

    def filter(self, name: str, records: list[dict], reason: Callable[[dict], str | None]) -> list[dict]:
        """Keep records whose reason() is None; the reason of the others goes to dropped.jsonl."""
        started = time.perf_counter()
        kept, dropped = [], []
        for record in records:
            why = reason(record)
            if why is None:
                kept.append(record)
            else:
                dropped.append((record, why))
        return self.add(name, kept, dropped, time.perf_counter() - started)

    def chain(self, records: list[dict], steps: list[tuple[str, Callable[[dict], str | None]]],
              notes: dict[str, Callable[[list[dict]], str]] | None = None) -> list[dict]:
        """Per-record steps in one pass (a record stops at the first step that drops it), so each
        function is parsed once for all of them; counts and times come out as if run one by one."""
        kept: dict[str, list[dict]] = {name: [] for name, _ in steps}
        dropped: dict[str, list[tuple[dict, str]]] = {name: [] for name, _ in steps}
        seconds = dict.fromkeys(kept, 0.0)
        for record in records:
            for name, reason in steps:
                started = time.perf_counter()
                why = reason(record)
                seconds[name] += time.perf_counter() - started
                if why is not None:
                    dropped[name].append((record, why))
                    break
                kept[name].append(record)
        for name, _ in steps:
            note = (notes or {}).get(name)
            self.add(name, kept[name], dropped[name], seconds[name], note=note(kept[name]) if note else "")
        return kept[steps[-1][0]] if steps else records


def _provenance(record: dict) -> dict:
    return {k: record[k] for k in ("name", "path", "line", "source", "repo", "origin_id") if record.get(k) is not None}


# ---------------------------------------------------------------------------------------------- gathering


def _extract_file(task: tuple[str, str, dict, tuple[str, ...]]) -> tuple[list[dict], dict]:
    """Worker: one file's candidates with their provenance (top level so a process pool can pickle it)."""
    from generation.seeds.extract import extract_functions

    where, relpath, meta, quotes = task
    try:
        src = Path(where).read_bytes() if where else meta.pop("_content").encode("utf-8", "replace")
    except OSError:
        return [], {"files": 1, "unreadable_files": 1}
    found, stats = extract_functions(src, relpath, quotes=quotes)
    return [{**r, "path": relpath, **meta} for r in found], stats


def _map(fn, tasks: list, workers: int):
    if workers <= 1 or len(tasks) < 64:
        return map(fn, tasks)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    try:
        return list(pool.map(fn, tasks, chunksize=8))
    finally:
        pool.shutdown()


def _merge_stats(total: dict, part: dict) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value


def gather_files(cfg: SeedsConfig, ctx) -> tuple[list[dict], dict]:
    """Candidates (top-level functions with a docstring) from local files or a dataset of files."""
    quotes = tuple(cfg.docstring_quotes)
    workers = _workers(cfg)
    if cfg.dataset:
        from generation.seeds.corpus import column, load_dataset, row_license

        ds = load_dataset(cfg.dataset, config=cfg.dataset_config, data_dir=cfg.data_dir, split=cfg.split,
                          revision=cfg.revision, streaming=cfg.streaming, limit=cfg.max_files)
        content = column(ds, cfg.content_column, "content_column")
        path_col = column(ds, cfg.path_column, "path_column", required=False)
        repo_col = column(ds, cfg.repo_column, "repo_column", required=False)
        license_col = column(ds, cfg.license_column, "license_column", required=False)
        items: list = list(range(len(ds)))

        def task(i: int):
            row = ds[i]
            meta = {"source": cfg.dataset, "license": row_license(row.get(license_col)) if license_col else None,
                    "repo": row.get(repo_col) if repo_col else None, "origin_id": i, "_content": row[content]}
            return "", str(row.get(path_col) or f"row{i}.py") if path_col else f"row{i}.py", meta, quotes
    else:
        from generation.seeds.corpus import list_files

        items = list_files(cfg.paths, cfg.exclude)
        if not items:
            raise UserError(f"seeds.paths: no .py files under {', '.join(cfg.paths)}")

        def task(f):
            return str(f.path), f.relpath, {"source": f.source, "license": f.license}, quotes

    def shard(chunk: Sequence) -> list[dict]:
        stats: dict = {}
        out: list[dict] = []
        for found, part in _map(_extract_file, [task(x) for x in chunk], workers):
            out.extend(found)
            _merge_stats(stats, part)
        return out + [{"_stats": stats}]

    ctx.map_shards("extracted", items, shard, cfg.shards)
    ctx.counts.pop("extracted", None)  # an intermediate, not part of the artifact
    return _split_stats(ctx.out_dir / "extracted.jsonl")


def _split_stats(path: Path) -> tuple[list[dict], dict]:
    from harness.data import iter_jsonl

    records, stats = [], {}
    for row in iter_jsonl(path):
        if "_stats" in row:
            _merge_stats(stats, row["_stats"])
        else:
            records.append(row)
    path.unlink()  # an intermediate: the candidates live on in the steps below
    return records, stats


def gather_functions(cfg: SeedsConfig, inputs: dict) -> list[dict]:
    """Rows that are functions already: a dataset, or the records of a (non-model) input artifact."""
    data_inputs = [a for a in inputs.values() if not _is_model(a)]
    if cfg.dataset:
        from generation.seeds.corpus import column, load_dataset, row_license

        ds = load_dataset(cfg.dataset, config=cfg.dataset_config, data_dir=cfg.data_dir, split=cfg.split,
                          revision=cfg.revision, streaming=cfg.streaming, limit=cfg.max_files)
        rows, label = (ds[i] for i in range(len(ds))), cfg.dataset
        content = column(ds, cfg.content_column, "content_column")
        license_col = column(ds, cfg.license_column, "license_column", required=False)
        id_col = column(ds, cfg.id_column, "id_column", required=False)
        path_col = column(ds, cfg.path_column, "path_column", required=False)
    elif len(data_inputs) == 1:
        art = data_inputs[0]
        rows, label = art.records("records"), art.path.name
        content, license_col, id_col, path_col = cfg.content_column, cfg.license_column, cfg.id_column, cfg.path_column
    else:
        raise UserError("seeds.dataset: the functions source needs a dataset, or one records input "
                        f"(got {len(data_inputs)} data inputs)")
    from generation.seeds.corpus import row_license

    out = []
    for i, row in enumerate(rows):
        if content not in row:
            raise UserError(f"seeds.content_column: row {i} of {label} has no '{content}' column")
        out.append({"content": row[content], "source": label,
                    "license": row_license(row.get(license_col)) if license_col else None,
                    "origin_id": row.get(id_col, i) if id_col else i,
                    "path": row.get(path_col) if path_col else None})
    return out


def _is_model(art) -> bool:
    return art.manifest.get("uses") in MODEL_STAGES or (art.path / "model").is_dir() or any(art.path.glob("*.gguf"))


# ---------------------------------------------------------------------------------------------- the steps


def _infer(record: dict) -> None:
    """Prepend the imports the function needs; remember the raw function for near-dedup."""
    from generation.seeds.imports import infer_imports

    record["function"] = record["content"]
    inferred = infer_imports(record["content"], record.get("file_imports"), record.get("free_names"))
    record["content"], record["imports"], record["unresolved"] = inferred.content, inferred.added, inferred.unresolved


def _typecheck(cfg: SeedsConfig, records: list[dict], ctx) -> list[dict]:
    from generation.seeds.corpus import resolve_roots
    from generation.seeds.typecheck import typecheck

    # A user's own folders join the import path, so seeds importing their sibling modules can resolve.
    extra = [str(p) for label, p in resolve_roots(cfg.paths) if label not in ("stdlib", "site-packages")
             and p.is_dir()] if cfg.source == "files" and not cfg.dataset else []
    items = [(r["seed_id"], r["content"]) for r in records]

    def shard(chunk):
        verdicts = typecheck([c for _, c in chunk], batch_size=cfg.typecheck_batch, workers=_workers(cfg, 8),
                             mode=cfg.typecheck_mode, extra_paths=extra, timeout_s=cfg.typecheck_timeout_s,
                             command=cfg.typecheck_command)
        return [{"seed_id": sid, "errors": n, "first_error": first} for (sid, _), (n, first) in zip(chunk, verdicts)]

    # Enough seeds per shard for a full batch per worker: Pyright's start-up dominates small batches.
    shards = max(1, min(cfg.shards, -(-len(items) // (cfg.typecheck_batch * _workers(cfg, 8)))))
    ctx.map_shards("typecheck", items, shard, shards)
    from harness.data import iter_jsonl

    return list(iter_jsonl(ctx.out_dir / "typecheck.jsonl"))


def _judge_model(cfg: SeedsConfig, inputs: dict) -> str:
    if cfg.judge_model:
        return cfg.judge_model
    models = [a for a in inputs.values() if _is_model(a)]
    if len(models) != 1:
        raise UserError(f"seeds.judge_model: set a model, or give the stage exactly one model input (got {len(models)})")
    path = models[0].path
    if cfg.judge_backend == "llamacpp":
        return str(path)
    return str(path / "model") if (path / "model").is_dir() else str(path)


def _judge(cfg: SeedsConfig, records: list[dict], inputs: dict, ctx) -> list[dict]:
    from generation.backends import GenerationRequest, get_backend
    from generation.seeds import judge

    model = _judge_model(cfg, inputs)
    cache = Path(cfg.judge_cache) if cfg.judge_cache else ctx.out_dir / "judge-cache.sqlite"
    backend = None

    def shard(chunk):
        nonlocal backend
        if backend is None:
            backend = get_backend(cfg.judge_backend, model=model, cache=cache, progress=ctx.progress,
                                  **cfg.judge_backend_options)
        build = judge.chat_prompt if cfg.judge_mode == "chat" else judge.completion_prompt
        requests = [GenerationRequest(prompt=build(r["content"], r["seed_id"], cfg.seed), n=1, temperature=0.0,
                                      max_new_tokens=5, stop=("\n",), seed=cfg.seed) for r in chunk]
        results = backend.generate(requests)
        return [{"seed_id": r["seed_id"], "answer": res[0].text, "keep": judge.verdict(res[0].text)}
                for r, res in zip(chunk, results)]

    try:
        ctx.map_shards("judge", records, shard, cfg.shards)
    finally:
        if backend is not None:
            backend.close()
    from harness.data import iter_jsonl

    return list(iter_jsonl(ctx.out_dir / "judge.jsonl"))


def select_seeds(cfg: SeedsConfig, candidates: list[dict], tally: Tally, inputs: dict, ctx) -> list[dict]:
    """Every step after gathering, each counted; returns the final seeds in their seeded random order."""
    from generation.dedup import exact_dedup, minhash_dedup

    started = time.perf_counter()
    kept, removed = exact_dedup(candidates, key=lambda r: r["content"].strip())
    records = tally.add("exact_dedup", kept, [(r, "same text as an earlier function") for r in removed],
                        time.perf_counter() - started)
    steps: list[tuple[str, Callable[[dict], str | None]]] = []
    # Extraction already read these off each function's syntax tree; dataset rows are parsed here.
    def read(r: dict, key: str, check: Callable[[str], bool]) -> bool:
        return r[key] if key in r else check(r["content"])

    if cfg.require_return:
        steps.append(("return_value", lambda r: None if read(r, "returns_value", filters.has_return_value)
                      else "no return <value>"))
    if cfg.require_argument:
        steps.append(("argument", lambda r: None if read(r, "has_argument", filters.has_argument)
                      else "takes no argument"))
    if cfg.infer_imports:
        steps.append(("infer_imports", _infer))
    words, modules = tuple(w.lower() for w in cfg.bad_words), tuple(cfg.bad_imports)
    if words:
        steps.append(("bad_words", lambda r: f"contains '{w}'" if (w := filters.bad_word(r["content"], words)) else None))
    if modules:
        def bad_imports(r: dict) -> str | None:
            # The function's own imports and the added ones: the verdict of parsing the whole content.
            own = r.get("imported_modules")
            found = filters.first_banned(own, modules) if own is not None else filters.bad_import(
                r.get("function", r["content"]), modules)
            found = found or filters.bad_import("\n".join(r.get("imports", ())), modules)
            return f"imports {found}" if found else None

        steps.append(("bad_imports", bad_imports))
    if cfg.max_lines is not None:
        limit = cfg.max_lines
        steps.append(("max_lines", lambda r: None if filters.within_max_lines(r["content"], limit)
                      else f"{len(r['content'].split(chr(10)))} lines"))
    if cfg.decontaminate:
        from benchmarks.contamination import Contamination

        index = Contamination.from_benchmarks(cfg.decontaminate)
        steps.append(("decontaminate", lambda r: index.find(r["content"])))

    def imports_note(kept: list[dict]) -> str:
        ctx.counts["imports_inferred"] = sum(bool(r["imports"]) for r in kept)
        return f"{ctx.counts['imports_inferred']} functions got imports"

    records = tally.chain(records, steps, notes={"infer_imports": imports_note})
    for r in records:
        r.setdefault("function", r["content"])
        r.setdefault("imports", [])
    if cfg.dedup_threshold is not None:
        started = time.perf_counter()
        clusters: dict[int, int] = {}
        kept, removed = minhash_dedup(records, text=lambda r: r["function"], threshold=cfg.dedup_threshold,
                                      seed=cfg.seed, clusters=clusters)
        index_of = {id(r): i for i, r in enumerate(records)}
        dropped = [(r, "near-duplicate of " + _where(records[clusters[index_of[id(r)]]])) for r in removed]
        records = tally.add("near_dedup", kept, dropped, time.perf_counter() - started)

    if cfg.typecheck:
        # A name that nothing imports or defines is a certain Pyright error (reportUndefinedVariable):
        # screening for it statically lets the sample below hold only functions Pyright can pass.
        from generation.seeds.imports import free_names

        def undefined(r: dict) -> str | None:
            if "import *" in r["content"]:
                return None
            names = r["unresolved"] if "unresolved" in r else free_names(r["content"])
            return f"uses undefined {', '.join(names[:5])}" if names else None

        records = tally.filter("undefined_names", records, undefined)

    for r in records:
        r["seed_id"] = content_id(r["content"])
    started = time.perf_counter()
    order = list(range(len(records)))
    random.Random(cfg.seed).shuffle(order)
    chosen = order[:cfg.sample_size] if cfg.sample_size else order
    outside = sorted(set(order) - set(chosen))
    records_sampled = [records[i] for i in chosen]
    tally.add("sample", records_sampled, [(records[i], "not in the random sample") for i in outside],
              time.perf_counter() - started, note="seeded shuffle" + (f", first {cfg.sample_size}" if cfg.sample_size else ""))
    records = records_sampled

    if cfg.typecheck and records:
        started = time.perf_counter()
        verdicts = {v["seed_id"]: v for v in _typecheck(cfg, records, ctx)}
        kept = [r for r in records if verdicts[r["seed_id"]]["errors"] == 0]
        dropped = [(r, f"{verdicts[r['seed_id']]['errors']} pyright errors, first: {verdicts[r['seed_id']]['first_error']}")
                   for r in records if verdicts[r["seed_id"]]["errors"]]
        records = tally.add("typecheck", kept, dropped, time.perf_counter() - started)
    if cfg.judge and records:
        started = time.perf_counter()
        answers = {a["seed_id"]: a for a in _judge(cfg, records, inputs, ctx)}
        kept = [r for r in records if answers[r["seed_id"]]["keep"]]
        dropped = [(r, f"judge answered {answers[r['seed_id']]['answer']!r}") for r in records
                   if not answers[r["seed_id"]]["keep"]]
        records = tally.add("judge", kept, dropped, time.perf_counter() - started)
    if cfg.num_seeds is not None:
        started = time.perf_counter()
        records = tally.add("num_seeds", records[:cfg.num_seeds],
                            [(r, f"beyond num_seeds={cfg.num_seeds}") for r in records[cfg.num_seeds:]],
                            time.perf_counter() - started)
    return records


def _where(record: dict) -> str:
    return f"{record.get('path') or record.get('origin_id')}:{record.get('line', '')} {record.get('name') or ''}".strip()


def _seed_record(r: dict) -> dict:
    out = {"seed_id": r["seed_id"], "content": r["content"], "source": r.get("source"), "license": r.get("license")}
    for key in ("path", "name", "line", "repo", "origin_id"):
        if r.get(key) is not None:
            out[key] = r[key]
    out["imports"] = r.get("imports", [])
    return out


def _plot(steps: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s["step"] for s in steps]
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(names) + 1.2))
    bars = ax.barh(names[::-1], [s["kept"] for s in steps][::-1], color="#4c72b0")
    ax.bar_label(bars, labels=[f"{s['kept']:,}  (-{s['dropped']:,})" if s["dropped"] else f"{s['kept']:,}"
                               for s in steps][::-1], padding=3, fontsize=8)
    ax.set_xscale("symlog")
    ax.set_xlabel("functions left after the step (log scale; removed in brackets)")
    ax.set_title(title, fontsize=10)
    ax.margins(x=0.25)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@stage("seeds", SeedsConfig)
def seeds_stage(cfg: SeedsConfig, inputs: dict, ctx) -> None:
    from harness.artifacts import atomic_write_text, write_jsonl

    tally = Tally(ctx)
    started = time.perf_counter()
    if cfg.source == "files":
        candidates, stats = gather_files(cfg, ctx)
        seconds = time.perf_counter() - started
        for key in ("files", "unreadable_files", "syntax_errors"):
            if stats.get(key):
                ctx.counts[key] = stats[key]
        ctx.log({"files": stats.get("files", 0)})
        tally.steps.append({"step": "top_level_functions", "kept": stats.get("top_level_functions", 0),
                            "dropped": 0, "seconds": 0.0})
        ctx.counts["top_level_functions"] = stats.get("top_level_functions", 0)
        no_doc = stats.get("top_level_functions", 0) - len(candidates)
        tally.add("docstring", candidates, [], seconds, uncounted=no_doc,
                  note=f"top-level functions without a {' / '.join(cfg.docstring_quotes)} docstring are not extracted")
    else:
        rows = gather_functions(cfg, inputs)
        ctx.counts["rows"] = len(rows)
        tally.steps.append({"step": "rows", "kept": len(rows), "dropped": 0,
                            "seconds": round(time.perf_counter() - started, 3)})
        quotes = tuple(cfg.docstring_quotes)
        candidates = tally.filter("docstring", rows, lambda r: (
            None if filters.has_docstring(r["content"], quotes) else "no docstring first in the function"))

    seeds = select_seeds(cfg, candidates, tally, inputs, ctx)
    ctx.write_records("records", (_seed_record(r) for r in seeds))
    write_jsonl(ctx.out_dir / "dropped.jsonl", tally.dropped)
    total = round(time.perf_counter() - started, 3)
    summary = {"steps": tally.steps, "seeds": len(seeds), "seconds": total}
    atomic_write_text(ctx.out_dir / "filters.json", json.dumps(summary, indent=2) + "\n")
    ctx.log({"seeds": len(seeds), "seconds_total": total})
    ctx.log_table("filters", tally.steps)
    ctx.log_table("filter_examples", tally.examples)
    ctx.log_table("seeds_sample", [{**_seed_record(r), "content": _excerpt(r["content"], 2000)} for r in seeds[:20]])
    plot = ctx.out_dir / "filters.png"
    _plot(tally.steps, plot, f"seeds: {len(seeds):,} from {cfg.dataset or ', '.join(cfg.paths)}")
    ctx.log_image("filters", plot, caption="functions left after each seed filter")


def run_seeds(out: Path, overrides: Sequence[str] = (), *, progress: bool = True,
              log: Callable[[str], None] = print):
    """`sca pipeline seeds`: the seeds stage alone through the runner, as a one-stage recipe under `out`.

    `overrides` are SeedsConfig `key=value` strings (`paths=[stdlib]`, `num_seeds=300`,
    `dataset=my_seeds.jsonl`, `judge=true judge_model=PATH`). Returns the finished Artifact (reused
    when it exists, resumed when cut short) after logging the count and time of every step.
    """
    import yaml

    from harness.config import load_recipe
    from harness.runner import Runner

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    recipe = out / "pipeline-seeds.yaml"
    recipe.write_text(yaml.safe_dump({"experiment": "pipeline-seeds", "run_root": str(out),
                                      "stages": {"seeds": {"uses": "seeds"}}}, sort_keys=False))
    loaded = load_recipe(recipe, [f"stages.seeds.with.{o}" for o in overrides])
    art = Runner(loaded, progress=progress, log=log).run()["seeds"]
    log(describe_steps(json.loads((art.path / "filters.json").read_text())["steps"]))
    return art


def describe_steps(steps: list[dict]) -> str:
    """One line per step: functions left, removed, seconds."""
    width = max((len(s["step"]) for s in steps), default=4)
    return "\n".join(f"{s['step']:<{width}}  {s['kept']:>9,}  -{s['dropped']:<9,} {s['seconds']:>8.1f}s"
                     for s in steps)

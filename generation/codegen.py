"""`sca generate`: benchmark code generation into samples a grader reads.

Benchmarks plug in through BENCHMARKS (name -> "module:attribute" of a Benchmark): HumanEval+/MBPP+
(EvalPlus samples, defined here), LiveCodeBench (benchmarks/livecodebench/codegen.py), EvoEval
(benchmarks/evoeval/codegen.py) and ClassEval (benchmarks/classeval/codegen.py). A benchmark
gives its tasks, a prompt per task and style, the post-processing of a completion into a sample, and
its default sampling settings; the rest (backends, caching, provenance) is shared.

Writes OUT/samples.jsonl (what the grader reads: {task_id, solution} for EvalPlus, sanitized like
evalplus codegen; {question_id, code} for LiveCodeBench), OUT/samples.raw.jsonl (unprocessed),
OUT/generations.jsonl (per sample: prompt hash, finish reason, token counts) and OUT/generation.json
(model, prompt style, chat-template hash, prompt hashes, backend, package versions, how many outputs
hit max_new_tokens). Every finished request is cached in OUT/cache.sqlite (or --cache), so a rerun
after a kill generates only what is missing.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import time
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from harness.errors import UserError
from harness.provenance import package_versions
from harness.stages import stage

# name -> "module:attribute" of a Benchmark, imported on use.
BENCHMARKS: dict[str, str] = {
    "humaneval": "generation.codegen:HUMANEVAL",
    "mbpp": "generation.codegen:MBPP",
    "livecodebench": "benchmarks.livecodebench.codegen:BENCHMARK",
    "evoeval": "benchmarks.evoeval.codegen:BENCHMARK",
    "classeval": "benchmarks.classeval.codegen:BENCHMARK",
}
# Benchmark-specific selection keys: left out of the config's dump while unset, so adding one does not
# change the fingerprint of recipes that never use it.
SELECTION_KEYS = ("problems", "start_date", "end_date", "after_release", "sets")


class Benchmark:
    """What `generate` needs from a benchmark. Subclass it and add the name to BENCHMARKS."""

    name: str
    id_field = "task_id"  # the task id's key in sample rows
    # Sampling defaults (the benchmark's published protocol); a config or flag overrides each.
    defaults = {"n": 1, "temperature": 0.0, "top_p": 0.95, "max_new_tokens": 768}
    selection: tuple[str, ...] = ()  # which SELECTION_KEYS it reads

    def load(self, cfg: "CodegenConfig") -> tuple[dict, str, dict]:
        """(task id -> task in benchmark order, label for messages, dataset identity for generation.json)."""
        raise NotImplementedError

    def prompt(self, task, style: str, tokenizer):
        """The generation.prompts.CodegenPrompt of one task."""
        raise NotImplementedError

    def rows(self, prompt, task, text: str) -> tuple[dict, dict]:
        """(raw row, sample row) for one completion."""
        raise NotImplementedError


class EvalPlusBenchmark(Benchmark):
    """HumanEval+ / MBPP+: EvalPlus's prompts, and evalplus codegen's sanitizing of every output."""

    selection = ()

    def __init__(self, name: str):
        self.name = name

    def load(self, cfg):
        from benchmarks.evalplus import dataset
        from harness.artifacts import file_digest

        ds = dataset.load(self.name, cfg.version)
        return ds.problems, ds.label, {"version": ds.version, "dataset_hash": ds.hash,
                                       "dataset_file_sha256": file_digest(ds.path)}

    def prompt(self, task, style, tokenizer):
        from generation.prompts import build_prompt

        return build_prompt(task, self.name, style, tokenizer)

    def rows(self, prompt, task, text):
        from evalplus.sanitize import sanitize

        # evalplus codegen does the same to every output before sanitizing.
        solution = prompt.prefix + text.replace("\t", "    ")
        return ({"task_id": prompt.task_id, "solution": solution},
                {"task_id": prompt.task_id, "solution": sanitize(solution, entrypoint=task["entry_point"])})


HUMANEVAL = EvalPlusBenchmark("humaneval")
MBPP = EvalPlusBenchmark("mbpp")


def get_benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        close = difflib.get_close_matches(name, BENCHMARKS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UserError(f"--benchmark: unknown benchmark '{name}'{hint}; choose one of {', '.join(BENCHMARKS)}")
    module_name, _, attr = BENCHMARKS[name].partition(":")
    return getattr(importlib.import_module(module_name), attr)


class CodegenConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    benchmark: str  # a BENCHMARKS name
    model: str | None = None  # path or hub id; in a recipe, None takes the stage's input artifact
    backend: Literal["auto", "hf", "openai", "vllm", "llamacpp"] = "auto"
    version: str | None = None  # EvalPlus dataset version, or a LiveCodeBench release (release_v6, v2_v5, ...)
    tasks: list[str] | None = None
    # Unset sampling keys take the benchmark's defaults: EvalPlus greedy n=1, 768 new tokens (the
    # paper's setting); LiveCodeBench n=10, T=0.2, top_p 0.95, 2000 new tokens (upstream's).
    n: int = Field(1, ge=1)
    temperature: float = Field(0.0, ge=0)
    top_p: float = Field(0.95, gt=0, le=1)  # used only when sampling
    max_new_tokens: int = Field(768, ge=1)
    seed: int = 0
    prompt_style: Literal["auto", "base", "instruct"] = "auto"
    tokenizer: str | None = None  # where to find the chat template, if not next to the model
    backend_options: dict = Field(default_factory=dict)
    # LiveCodeBench problem selection: a local problems file, and the contest_date window
    problems: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    after_release: str | None = None  # a registry model: only problems from the day after its release
    sets: list[str] | None = None  # EvoEval: which of its seven sets (default: all)

    @model_validator(mode="before")
    @classmethod
    def _benchmark_defaults(cls, data):
        if isinstance(data, dict) and data.get("benchmark") in BENCHMARKS:
            defaults = get_benchmark(data["benchmark"]).defaults
            data = {**defaults, **{k: v for k, v in data.items() if not (v is None and k in defaults)}}
        return data

    @field_validator("benchmark")
    @classmethod
    def _known_benchmark(cls, name: str) -> str:
        if name not in BENCHMARKS:
            close = difflib.get_close_matches(name, BENCHMARKS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"unknown benchmark '{name}'{hint}; choose one of {', '.join(BENCHMARKS)}")
        return name

    @model_validator(mode="after")
    def _selection_applies(self):
        used = get_benchmark(self.benchmark).selection
        for key in SELECTION_KEYS:
            if getattr(self, key) is not None and key not in used:
                raise ValueError(f"{key}: not a setting of benchmark {self.benchmark}")
        return self

    @model_serializer(mode="wrap")
    def _drop_unset_selection(self, handler):
        out = handler(self)
        for key in SELECTION_KEYS:
            if out.get(key) is None:
                out.pop(key, None)
        return out


def pick_backend(name: str) -> str:
    if name != "auto":
        return name
    import importlib.util

    import torch

    return "vllm" if torch.cuda.is_available() and importlib.util.find_spec("vllm") else "hf"


def select_tasks(problems: dict, wanted: list[str] | None, label: str) -> list[str]:
    """Task ids in dataset order; `wanted` may hold full ids ("HumanEval/3", "Mbpp/2") or bare numbers."""
    if not wanted:
        return list(problems)
    by_number = {tid.rsplit("/", 1)[-1]: tid for tid in problems}
    chosen = []
    for item in wanted:
        tid = item if item in problems else by_number.get(item)
        if tid is None:
            import difflib

            close = difflib.get_close_matches(item, list(problems), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UserError(f"--tasks: unknown task '{item}' for {label}{hint}")
        chosen.append(tid)
    return [tid for tid in problems if tid in set(chosen)]


def load_tokenizer(cfg: CodegenConfig, backend: str):
    """The model's tokenizer (for the chat template), or None where only a served name is known."""
    from transformers import AutoTokenizer

    source = cfg.tokenizer or cfg.model
    try:
        return AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        if backend == "openai" and not cfg.tokenizer:
            return None  # hosted/served model: the server applies its own template to chat messages
        raise UserError(f"--tokenizer: cannot load a tokenizer from '{source}' ({exc})") from None


def resolve_style(cfg: CodegenConfig, tokenizer) -> str:
    from generation import models

    if cfg.prompt_style != "auto":
        return cfg.prompt_style
    info = models.lookup(cfg.model)
    if info is not None:
        return info.style
    if tokenizer is None:
        return "instruct"
    return "instruct" if getattr(tokenizer, "chat_template", None) else "base"


def run_codegen(cfg: CodegenConfig, out_dir: Path, cache: Path | None = None, progress: bool = True) -> dict:
    """Generate samples for every selected task; return the summary also written to OUT/generation.json."""
    from generation import models
    from generation.backends import GenerationRequest, get_backend
    from generation.backends.base import canonical_json, sha256_text
    from generation.prompts import chat_template_sha256
    from harness.artifacts import atomic_write_text, write_jsonl

    if not cfg.model:
        raise UserError("--model: required (a local path or a hub id)")
    started = time.perf_counter()
    bench = get_benchmark(cfg.benchmark)
    tasks, label, dataset_identity = bench.load(cfg)
    task_ids = select_tasks(tasks, cfg.tasks, label)
    backend_name = pick_backend(cfg.backend)
    tokenizer = load_tokenizer(cfg, backend_name)
    style = resolve_style(cfg, tokenizer)
    prompts = [bench.prompt(tasks[tid], style, tokenizer) for tid in task_ids]
    greedy = cfg.temperature == 0
    requests = [GenerationRequest(prompt=p.prompt, n=cfg.n, temperature=cfg.temperature,
                                  top_p=1.0 if greedy else cfg.top_p, max_new_tokens=cfg.max_new_tokens,
                                  stop=p.stop, seed=cfg.seed) for p in prompts]

    out_dir.mkdir(parents=True, exist_ok=True)
    backend = get_backend(backend_name, model=cfg.model, cache=cache or out_dir / "cache.sqlite", progress=progress,
                          **cfg.backend_options)
    with backend:
        results = backend.generate(requests)
        identity, stats = backend.identity(), dict(backend.stats)

    samples, raw, generations = [], [], []
    truncated = 0
    for p, completions in zip(prompts, results):
        for index, c in enumerate(completions):
            raw_row, sample_row = bench.rows(p, tasks[p.task_id], c.text)
            raw.append(raw_row)
            samples.append(sample_row)
            generations.append({bench.id_field: p.task_id, "index": index, "prompt_sha256": p.sha256,
                                "finish_reason": c.finish_reason, "prompt_tokens": c.prompt_tokens,
                                "completion_tokens": c.completion_tokens, "completion": c.text})
            truncated += c.finish_reason == "length"
    write_jsonl(out_dir / "samples.jsonl", samples)
    write_jsonl(out_dir / "samples.raw.jsonl", raw)
    write_jsonl(out_dir / "generations.jsonl", generations)

    info = models.lookup(cfg.model)
    prompt_hashes = {p.task_id: p.sha256 for p in prompts}
    summary = {
        "benchmark": cfg.benchmark, **dataset_identity,
        "model": cfg.model,
        "registry": {**info.__dict__, "release_date": info.release_date.isoformat()} if info else None,
        "backend": identity, "prompt_style": style,
        "prompt_format": "messages" if prompts and not isinstance(prompts[0].prompt, str) else "text",
        "chat_template_sha256": chat_template_sha256(tokenizer),
        "prompts_sha256": sha256_text(canonical_json(prompt_hashes)),
        "prompt_sha256": prompt_hashes,
        "sampling": {"n": cfg.n, "temperature": cfg.temperature, "top_p": requests[0].top_p if requests else None,
                     "max_new_tokens": cfg.max_new_tokens, "seed": cfg.seed},
        "tasks": len(task_ids), "samples": len(samples), "hit_max_new_tokens": truncated,
        "requests": stats, "packages": package_versions(), "config": cfg.model_dump(mode="json"),
        "seconds": round(time.perf_counter() - started, 3),
    }
    atomic_write_text(out_dir / "generation.json", json.dumps(summary, indent=2) + "\n")
    return summary


@stage("generate", CodegenConfig)
def generate_stage(cfg: CodegenConfig, inputs: dict, ctx) -> None:
    """Recipe stage: with no `model` in its config, it generates with its single input artifact (a model dir)."""
    if cfg.model is None:
        if len(inputs) != 1:
            raise UserError(f"stages.{ctx.stage_name}.model: set a model, or give the stage exactly one input")
        art = next(iter(inputs.values())).path
        # Model-producing stages (tiny_model, sft) keep the model under model/; llama.cpp serves the
        # artifact's .gguf file and the chat template comes from the tokenizer beside it (gguf_export
        # keeps it under tokenizer/, gguf_model's HF folder has one).
        hf_dir = art / "model" if (art / "model").is_dir() else art
        if cfg.backend == "llamacpp":
            tokenizer = art / "tokenizer" if (art / "tokenizer").is_dir() else hf_dir
            cfg = cfg.model_copy(update={"model": str(art), "tokenizer": cfg.tokenizer or str(tokenizer)})
        else:
            cfg = cfg.model_copy(update={"model": str(hf_dir)})
    summary = run_codegen(cfg, ctx.out_dir, progress=ctx.progress)
    ctx.counts.update({"samples": summary["samples"], "tasks": summary["tasks"]})
    ctx.log({"hit_max_new_tokens": summary["hit_max_new_tokens"], "samples": summary["samples"],
             "requests_generated": summary["requests"]["generated"],
             "requests_from_cache": summary["requests"]["from_cache"]})


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2024-08-01, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--benchmark", "--dataset", required=True, choices=list(BENCHMARKS))
    parser.add_argument("--model", required=True, help="local model dir or hub id (the served name for openai)")
    parser.add_argument("--backend", choices=["auto", "hf", "openai", "vllm", "llamacpp"], default="auto",
                        help="default: vllm where a GPU and vllm are present, else hf (llamacpp: --model is a "
                             ".gguf file or a folder holding one)")
    parser.add_argument("--version", "--release", dest="version",
                        help="dataset version (default: humaneval v0.1.10, mbpp v0.2.0) or LiveCodeBench release "
                             "(release_vN, vN, vA_vB; default release_latest)")
    parser.add_argument("--tasks", help="comma-separated task ids or numbers (default: all)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--n", type=int, help="samples per task (default: the benchmark's, 1 for EvalPlus, "
                                              "10 for LiveCodeBench)")
    parser.add_argument("--temperature", type=float, help="0 = greedy (default: 0 for EvalPlus, 0.2 for LiveCodeBench)")
    parser.add_argument("--top-p", type=float, help="nucleus sampling, when temperature > 0 (default 0.95)")
    parser.add_argument("--max-new-tokens", type=int, help="default: 768 for EvalPlus and EvoEval, 2000 for "
                                                           "LiveCodeBench and ClassEval")
    parser.add_argument("--greedy", action="store_true", help="one greedy sample per task (--n 1 --temperature 0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prompt-style", choices=["auto", "base", "instruct"], default="auto",
                        help="auto: the registry's style, else instruct iff the tokenizer has a chat template")
    parser.add_argument("--tokenizer", help="tokenizer path/id for the chat template (default: --model)")
    parser.add_argument("--cache", type=Path, help="request cache file (default: OUT/cache.sqlite)")
    parser.add_argument("--no-progress", action="store_true")
    lcb = parser.add_argument_group("livecodebench problem selection")
    lcb.add_argument("--problems", type=Path, help="a local jsonl in the code_generation_lite schema")
    lcb.add_argument("--start-date", type=_date, help="only problems with contest_date on or after this day")
    lcb.add_argument("--end-date", type=_date, help="only problems with contest_date on or before this day")
    lcb.add_argument("--after-release", metavar="MODEL",
                     help="only problems published after MODEL's release date (from the model registry)")
    evo = parser.add_argument_group("evoeval set selection")
    evo.add_argument("--sets", help="comma-separated EvoEval sets (difficult, creative, subtle, combine, tool_use, "
                                    "verbose, concise; default: all seven)")
    lc = parser.add_argument_group("llamacpp backend")
    lc.add_argument("--parallel", type=int, default=4, help="sequences the llama.cpp server decodes at once")
    hf = parser.add_argument_group("hf backend")
    hf.add_argument("--batch-size", type=int, default=16)
    hf.add_argument("--dtype", default="auto")
    hf.add_argument("--device", help="cpu, cuda, cuda:1, or auto (spread over all GPUs); "
                                     "default: cuda if available, else cpu")
    oa = parser.add_argument_group("openai backend")
    oa.add_argument("--base-url", action="append", dest="base_urls",
                    help="server URL ending in /v1; repeat to spread load (default: $OPENAI_BASE_URL)")
    oa.add_argument("--concurrency", type=int, default=8, help="requests in flight per server")
    oa.add_argument("--max-retries", type=int, default=5)
    oa.add_argument("--server", choices=["openai", "transformers"], default="openai",
                    help="'transformers' for `transformers serve`, which samples only when told do_sample")
    vl = parser.add_argument_group("vllm backend")
    vl.add_argument("--tp", type=int, default=1, help="tensor parallel size")
    vl.add_argument("--pp", type=int, default=1, help="pipeline parallel size")
    vl.add_argument("--dp", type=int, default=1, help="data-parallel engines (each tp x pp GPUs)")
    vl.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    vl.add_argument("--max-model-len", type=int)


def backend_options(args: argparse.Namespace, backend: str) -> dict:
    if backend == "hf":
        return {"batch_size": args.batch_size, "dtype": args.dtype, "device": args.device}
    if backend == "llamacpp":
        return {"parallel": args.parallel}
    if backend == "openai":
        return {"base_urls": args.base_urls, "concurrency": args.concurrency, "max_retries": args.max_retries,
                "server": args.server}
    return {"tensor_parallel_size": args.tp, "pipeline_parallel_size": args.pp, "data_parallel_size": args.dp,
            "dtype": args.dtype, "seed": args.seed, "gpu_memory_utilization": args.gpu_memory_utilization,
            "max_model_len": args.max_model_len}


def main(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    backend = pick_backend(args.backend)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    if args.greedy and ((args.n or 1) != 1 or (args.temperature or 0) != 0):
        raise UserError("--greedy: means --n 1 --temperature 0; drop the other --n/--temperature")
    n, temperature = (1, 0.0) if args.greedy else (args.n, args.temperature)
    try:
        cfg = CodegenConfig(benchmark=args.benchmark, model=args.model, backend=backend, version=args.version,
                            tasks=tasks, n=n, temperature=temperature, top_p=args.top_p,
                            max_new_tokens=args.max_new_tokens,
                            seed=args.seed, prompt_style=args.prompt_style, tokenizer=args.tokenizer,
                            backend_options=backend_options(args, backend),
                            problems=str(args.problems) if args.problems else None, start_date=args.start_date,
                            end_date=args.end_date, after_release=args.after_release,
                            sets=[s.strip() for s in args.sets.split(",") if s.strip()] if args.sets else None)
    except ValidationError as exc:
        err = exc.errors()[0]
        if err["loc"]:
            raise UserError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}") from None
        key, _, why = err["msg"].removeprefix("Value error, ").partition(": ")
        raise UserError(f"--{key.replace('_', '-')}: {why}") from None
    summary = run_codegen(cfg, args.out, cache=args.cache, progress=not args.no_progress)
    print(f"{summary['samples']} samples for {summary['tasks']} tasks -> {args.out / 'samples.jsonl'}; "
          f"{summary['hit_max_new_tokens']} hit max_new_tokens ({cfg.max_new_tokens}); "
          f"generated {summary['requests']['generated']}, reused {summary['requests']['from_cache']} from cache")
    print(json.dumps({k: summary[k] for k in ("benchmark", "version", "model", "prompt_style", "samples",
                                              "hit_max_new_tokens", "requests")}), flush=True)
    return 0

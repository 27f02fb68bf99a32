"""What the three model stages (S->C, C->I or S->I, I->R) share: config, model input, sharded generation.

Every request goes through the backend interface with its sqlite cache (one per run root, shared by
the generation stages), and the items are cut into shards with ctx.map_shards: after a kill -9,
finished shards are reused and, inside the interrupted shard, every finished request comes from the
cache, so a rerun pays nothing twice and ends byte-identical. `samples.jsonl` keeps one line per generated
sample (finish reason, token counts, why it was dropped); `records.jsonl` holds the parsed samples
that the next stage reads. Samples cut off by max_new_tokens are dropped and counted, as the paper.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Literal

from pydantic import Field

from generation.backends.base import canonical_json, sha256_text
from generation.pipeline.fewshot import STOP, Mode, Prompts
from harness.artifacts import Artifact
from harness.config import Strict
from harness.data import iter_jsonl
from harness.errors import UserError

BACKENDS = ("hf", "openai", "vllm", "llamacpp")
MODEL_STAGES = ("gguf_model", "tiny_model", "sft")


class GenerationConfig(Strict):
    # A local path, hub id or served name; None takes the stage's model input artifact.
    model: str | None = None
    backend: Literal["hf", "openai", "vllm", "llamacpp"] = "hf"
    backend_options: dict[str, Any] = Field(default_factory=dict)
    # completion: the paper's few-shot layout for base models; chat: the same shots as chat turns
    # (a deviation, for instruct models). Recorded in every record under `prompting`.
    mode: Literal["completion", "chat"] = "completion"
    fewshot_file: str | None = None  # another file in the official format; None = the official one
    num_fewshots: int = Field(8, ge=1)
    n: int = Field(1, ge=1)  # samples per item
    temperature: float = Field(0.7, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(1536, ge=1)
    seed: int = 3407  # the official script's; item i draws its shots with Random(seed + i)
    limit: int | None = Field(None, ge=1)  # use only the first `limit` input records
    shards: int = Field(8, ge=1)
    cache: str | None = None  # request cache file; None = RUN_ROOT/cache/generation.sqlite (see default_cache)


def default_cache(out_dir: Path) -> Path:
    """RUN_ROOT/cache/generation.sqlite when the stage runs under the runner's layout, else beside it.

    Shared by every generation stage of the run root, so a config change that leaves requests as they
    were (threads, shards, a larger `limit`) regenerates nothing; keys hold the model and the request.
    """
    if out_dir.parent.name == ".partial" and out_dir.parents[1].name == "artifacts":
        return out_dir.parents[2] / "cache" / "generation.sqlite"
    return out_dir / "cache.sqlite"


def is_model_artifact(art: Artifact) -> bool:
    path = art.path
    return (art.manifest.get("uses") in MODEL_STAGES or (path / "model").is_dir()
            or (path / "config.json").is_file() or any(path.glob("*.gguf")))


def data_input(inputs: dict[str, Artifact], stage: str, wants: str) -> Artifact:
    """The one input that holds records (not a model)."""
    found = [a for a in inputs.values() if not is_model_artifact(a)]
    if len(found) != 1:
        raise UserError(f"stages.{stage}.inputs: needs exactly one {wants} input besides the model, "
                        f"got {len(found)} ({', '.join(inputs) or 'none'})")
    if not (found[0].path / "records.jsonl").is_file():
        raise UserError(f"{found[0].path}: no records.jsonl to read {wants} from")
    return found[0]


def resolve_model(cfg: GenerationConfig, inputs: dict[str, Artifact], stage: str) -> str:
    if cfg.model:
        return cfg.model
    models = [a for a in inputs.values() if is_model_artifact(a)]
    if len(models) != 1:
        raise UserError(f"stages.{stage}.with.model: set a model, or give the stage exactly one model input "
                        f"(got {len(models)})")
    path = models[0].path
    if cfg.backend == "llamacpp":
        return str(path)  # the backend finds the .gguf file inside
    return str(path / "model") if (path / "model").is_dir() else str(path)


def read_items(art: Artifact, limit: int | None, required: tuple[str, ...]) -> list[dict]:
    items = []
    for line, record in enumerate(art.records("records"), 1):
        if limit is not None and len(items) >= limit:
            break
        missing = [k for k in required if k not in record]
        if missing:
            # A user's file given to `sca pipeline` is named as they gave it, not as its copy.
            source = (art.manifest["config"]["path"] if art.manifest.get("uses") == "pipeline.input"
                      else art.path / "records.jsonl")
            raise UserError(f"{source}:{line}: record lacks '{missing[0]}'")
        items.append(record)
    return items


class Generation:
    """Runs one model stage: prompts per item, sharded generation, parsing, counts and W&B logging."""

    def __init__(self, cfg: GenerationConfig, inputs: dict[str, Artifact], ctx, mode: Mode, *, wants: str,
                 required: tuple[str, ...]):
        self.cfg, self.ctx = cfg, ctx
        self.mode: Mode = mode
        self.stage = ctx.stage_name
        self.items = read_items(data_input(inputs, self.stage, wants), cfg.limit, required)
        self.model = resolve_model(cfg, inputs, self.stage)
        self.prompts = Prompts.load(cfg.fewshot_file)
        self.stats: Counter = Counter()
        self.seconds = 0.0
        self._stack = ExitStack()
        self._backend = None

    @property
    def backend(self):
        """Opened on first use, so a rerun whose requests are all cached never loads a model."""
        if self._backend is None:
            from generation.backends import get_backend

            cache = Path(self.cfg.cache) if self.cfg.cache else default_cache(self.ctx.out_dir)
            self._backend = self._stack.enter_context(get_backend(
                self.cfg.backend, model=self.model, cache=cache, progress=self.ctx.progress,
                **self.cfg.backend_options))
        return self._backend

    def rng(self, index: int) -> random.Random:
        return random.Random(self.cfg.seed + index)

    def request(self, index: int, shots: list[int], **fields: str):
        from generation.backends import GenerationRequest

        prompt = self.prompts.build(self.mode, self.cfg.mode, shots, **fields)
        return GenerationRequest(prompt=prompt, n=self.cfg.n, temperature=self.cfg.temperature,
                                 top_p=self.cfg.top_p, max_new_tokens=self.cfg.max_new_tokens,
                                 stop=STOP[self.mode], seed=self.cfg.seed + index)

    def run(self, plan: Callable[[int, dict], tuple[Any, dict]],
            parse: Callable[[dict, dict, str, int], dict | None]) -> list[dict]:
        """plan(index, item) -> (request, extra fields); parse(item, extra, text, sample) -> record or None.

        Returns the kept records (also written to records.jsonl).
        """
        indexed = list(enumerate(self.items))

        def work(chunk):
            planned = [(i, item, *plan(i, item)) for i, item in chunk]
            started = time.perf_counter()
            results = self.backend.generate([p[2] for p in planned])
            self.seconds += time.perf_counter() - started
            lines = []
            for (i, item, request, extra), completions in zip(planned, results):
                prompt_sha = sha256_text(request.prompt if isinstance(request.prompt, str)
                                         else canonical_json(request.prompt))
                for j, c in enumerate(completions):
                    record = None
                    if c.finish_reason == "length":
                        dropped = "length"
                    else:
                        record = parse(item, extra, c.text, j)
                        dropped = None if record is not None else "unparsed"
                    if record is not None:
                        record["prompting"] = {**item.get("prompting", {}), self.mode: self.cfg.mode}
                    lines.append({"item": i, "sample": j, "prompt_sha256": prompt_sha, "shots": extra["shots"],
                                  "finish_reason": c.finish_reason, "prompt_tokens": c.prompt_tokens,
                                  "completion_tokens": c.completion_tokens, "dropped": dropped,
                                  "text": c.text, "record": record})
            return lines

        try:
            self.ctx.map_shards("samples", indexed, work, self.cfg.shards)
        finally:
            self._stack.close()
        samples = list(iter_jsonl(self.ctx.out_dir / "samples.jsonl"))
        records = [s["record"] for s in samples if s["record"] is not None]
        self.ctx.write_records("records", records)
        self._report(samples, records)
        return records

    def _report(self, samples: list[dict], records: list[dict]) -> None:
        dropped = Counter(s["dropped"] for s in samples if s["dropped"])
        tokens = sum(s["completion_tokens"] or 0 for s in samples)
        self.ctx.counts.update({"items": len(self.items), "dropped_length": dropped["length"],
                                "dropped_unparsed": dropped["unparsed"]})
        stats = dict(self._backend.stats) if self._backend is not None else {"requests": 0, "generated": 0,
                                                                              "from_cache": 0}
        metrics = {"items": len(self.items), "samples": len(samples), "records": len(records),
                   "dropped_length": dropped["length"], "dropped_unparsed": dropped["unparsed"],
                   "completion_tokens": tokens, "requests_generated": stats["generated"],
                   "requests_from_cache": stats["from_cache"], "generate_seconds": round(self.seconds, 3)}
        if stats["generated"] and not stats["from_cache"] and self.seconds > 0:
            metrics["tokens_per_second"] = round(tokens / self.seconds, 2)
        self.ctx.log(metrics)
        self.ctx.log_table("samples", [{"item": s["item"], "sample": s["sample"], "dropped": s["dropped"],
                                        "finish_reason": s["finish_reason"], "text": s["text"][:2000]}
                                       for s in samples[:32]])

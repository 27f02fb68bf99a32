"""In-process `vllm.LLM`: the default for GPU runs. Exercised by users on GPUs, not on this project's CPU machines.

Kept thin and on vLLM's documented API only: `LLM(model, tensor_parallel_size, pipeline_parallel_size, ...)`,
`SamplingParams(n, temperature, top_p, max_tokens, stop, seed)`, `LLM.generate(prompts, params, use_tqdm=)`
and `LLM.chat(messages, params, use_tqdm=)`. tests/generation/test_vllm_contract.py checks these calls.
Data parallelism runs one engine per group of `tp * pp` GPUs in its own process.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from generation.backends.base import Backend, Completion, Emit, GenerationRequest
from harness.errors import UserError

_ENGINE = None  # the engine of a data-parallel worker process


def engine_kwargs(model: str, tensor_parallel_size: int, pipeline_parallel_size: int, dtype: str, seed: int,
                  gpu_memory_utilization: float, max_model_len: int | None, trust_remote_code: bool,
                  enable_prefix_caching: bool) -> dict:
    kwargs = dict(model=model, tensor_parallel_size=tensor_parallel_size,
                  pipeline_parallel_size=pipeline_parallel_size, dtype=dtype, seed=seed,
                  gpu_memory_utilization=gpu_memory_utilization, trust_remote_code=trust_remote_code,
                  enable_prefix_caching=enable_prefix_caching)
    if max_model_len:
        kwargs["max_model_len"] = max_model_len
    return kwargs


def run_on_engine(llm, requests: list[dict], use_tqdm: bool) -> list[list[dict]]:
    """Generate a chunk of requests (as dicts, so they cross process boundaries) on one engine."""
    from vllm import SamplingParams

    def params(r: dict):
        return SamplingParams(n=r["n"], temperature=r["temperature"], top_p=r["top_p"], seed=r["seed"],
                              max_tokens=r["max_new_tokens"], stop=list(r["stop"]) or None)

    results: list[list[dict] | None] = [None] * len(requests)
    text_idx = [i for i, r in enumerate(requests) if isinstance(r["prompt"], str)]
    chat_idx = [i for i, r in enumerate(requests) if not isinstance(r["prompt"], str)]
    for indices, call in ((text_idx, llm.generate), (chat_idx, llm.chat)):
        if not indices:
            continue
        outputs = call([requests[i]["prompt"] for i in indices], [params(requests[i]) for i in indices],
                       use_tqdm=use_tqdm)
        for i, out in zip(indices, outputs):
            prompt_tokens = len(out.prompt_token_ids) if out.prompt_token_ids is not None else None
            results[i] = [dict(text=c.text, finish_reason="length" if c.finish_reason == "length" else "stop",
                               prompt_tokens=prompt_tokens, completion_tokens=len(c.token_ids))
                          for c in sorted(out.outputs, key=lambda c: c.index)]
    return results


def _worker_init(ranks, gpus_per_engine: list[list[str]], kwargs: dict) -> None:
    global _ENGINE
    rank = ranks.get()
    # Must be set before vllm initialises CUDA in this process.
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(gpus_per_engine[rank])
    from vllm import LLM

    _ENGINE = LLM(**kwargs)


def _worker_run(requests: list[dict]) -> list[list[dict]]:
    return run_on_engine(_ENGINE, requests, use_tqdm=False)


class VLLMBackend(Backend):
    name = "vllm"

    def __init__(self, model: str, cache=None, progress: bool = True, tensor_parallel_size: int = 1,
                 pipeline_parallel_size: int = 1, data_parallel_size: int = 1, dtype: str = "auto", seed: int = 0,
                 gpu_memory_utilization: float = 0.9, max_model_len: int | None = None,
                 trust_remote_code: bool = False, enable_prefix_caching: bool = True, chunk_size: int = 512,
                 gpus: list[str] | None = None):
        super().__init__(model, cache=cache, progress=progress)
        for key, value in (("tensor_parallel_size", tensor_parallel_size),
                           ("pipeline_parallel_size", pipeline_parallel_size),
                           ("data_parallel_size", data_parallel_size), ("chunk_size", chunk_size)):
            if value < 1:
                raise UserError(f"{key}: must be at least 1, got {value}")
        self.kwargs = engine_kwargs(model, tensor_parallel_size, pipeline_parallel_size, dtype, seed,
                                    gpu_memory_utilization, max_model_len, trust_remote_code, enable_prefix_caching)
        self.data_parallel_size = data_parallel_size
        self.chunk_size = chunk_size
        self.gpus = gpus
        self._llm = None
        self._pool = None

    def options(self) -> dict:
        return {k: self.kwargs[k] for k in ("dtype", "seed", "max_model_len") if k in self.kwargs}

    def _engine_gpus(self) -> list[list[str]]:
        per = self.kwargs["tensor_parallel_size"] * self.kwargs["pipeline_parallel_size"]
        visible = self.gpus or [g for g in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if g.strip()]
        visible = visible or [str(i) for i in range(per * self.data_parallel_size)]
        if len(visible) < per * self.data_parallel_size:
            raise UserError(f"data_parallel_size: {self.data_parallel_size} engines x {per} GPUs need "
                            f"{per * self.data_parallel_size} GPUs, but only {len(visible)} are visible")
        return [visible[r * per:(r + 1) * per] for r in range(self.data_parallel_size)]

    def _import_vllm(self):
        try:
            import vllm
        except ImportError:
            raise UserError("backend: 'vllm' is not installed; install the gpu extra (pip install -e '.[gpu]') "
                            "on a GPU machine, or use --backend hf / openai") from None
        return vllm

    def _generate(self, requests: list[GenerationRequest], emit: Emit) -> None:
        vllm = self._import_vllm()
        dicts = [r.to_dict() for r in requests]
        dp = self.data_parallel_size
        # Several chunks per engine, so that engines share the work and finished chunks reach the cache early.
        size = self.chunk_size if dp == 1 else max(1, min(self.chunk_size, -(-len(dicts) // (4 * dp))))
        chunks = [list(range(s, min(s + size, len(dicts)))) for s in range(0, len(dicts), size)]
        if dp == 1:
            if self._llm is None:
                self._llm = vllm.LLM(**self.kwargs)
            for chunk in chunks:
                for i, out in zip(chunk, run_on_engine(self._llm, [dicts[i] for i in chunk], use_tqdm=False)):
                    emit(i, [Completion(**c) for c in out])
            return
        if self._pool is None:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")  # CUDA cannot be re-initialised in a forked child
            ranks = ctx.Queue()
            for r in range(dp):
                ranks.put(r)
            self._pool = ProcessPoolExecutor(dp, mp_context=ctx, initializer=_worker_init,
                                             initargs=(ranks, self._engine_gpus(), self.kwargs))
        futures = {self._pool.submit(_worker_run, [dicts[i] for i in chunk]): chunk for chunk in chunks}
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for fut in done:
                for i, out in zip(futures.pop(fut), fut.result()):
                    emit(i, [Completion(**c) for c in out])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        super().close()

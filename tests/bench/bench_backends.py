"""Harness overhead of the hf backend against calling its transformers model directly, same prompts, one run.

The harness path adds prompt rendering, request hashing, the sqlite result cache (one commit per
finished request), stop-string truncation and progress bars. Target: 5% or less. Also prints the time of
a fully cached rerun (what a resume costs). Run: .venv/bin/python tests/bench/bench_backends.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

N_PROMPTS, BATCH, MAX_NEW, REPEATS = 32, 8, 96, 6


def prompts(tokenizer) -> list[str]:
    """HumanEval+ instruct prompts when the data is at hand, else synthetic code prompts."""
    try:
        from benchmarks.evalplus import dataset
        from generation.prompts import build_prompt

        ds = dataset.load("humaneval")
        tasks = list(ds.problems.values())[:N_PROMPTS]
        return [build_prompt(t, "humaneval", "instruct", tokenizer).prompt for t in tasks]
    except Exception as exc:  # the bench must still run without the benchmark data
        print(f"(HumanEval+ unavailable: {exc}; using synthetic prompts)")
        return [f"def f{i}(x):\n    \"\"\"{'Return x plus one. ' * (i % 7 + 1)}\"\"\"\n" for i in range(N_PROMPTS)]


def direct(backend, texts: list[str], stop: list[str]) -> list[str]:
    """The same batches and generation settings, straight into model.generate."""
    import torch

    from generation.backends import GenerationRequest

    model, tok = backend.hf_model, backend.tokenizer
    req = GenerationRequest(prompt="", max_new_tokens=MAX_NEW, stop=stop)
    encoded = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
    outs: dict[int, str] = {}
    with torch.inference_mode():
        for s in range(0, len(order), BATCH):
            batch = order[s: s + BATCH]
            enc = tok([texts[i] for i in batch], add_special_tokens=False, return_tensors="pt", padding=True)
            gen = model.generate(**enc, **backend.generation_kwargs(req))
            for row, i in enumerate(batch):
                outs[i] = tok.decode(gen[row, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return [outs[i] for i in range(len(texts))]


def main() -> int:
    from generation.backends import GenerationRequest, ResultCache, get_backend
    from training.tiny_model import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_dir = build_tiny_model(tmp / "tiny", seed=0)
        backend = get_backend("hf", model=str(model_dir), progress=True, batch_size=BATCH)
        _ = backend.hf_model  # load outside the timed region, as the direct path has it loaded too
        texts = prompts(backend.tokenizer)
        stop = ["\n```\n"]
        requests = [GenerationRequest(prompt=t, max_new_tokens=MAX_NEW, stop=stop) for t in texts]
        direct(backend, texts[:BATCH], stop)  # warm-up

        harness_s, direct_s = [], []
        for rep in range(REPEATS):  # ABBA order, so load drift from other processes hits both sides alike
            for side in (("harness", "direct") if rep % 2 == 0 else ("direct", "harness")):
                if side == "harness":
                    backend.cache = ResultCache(tmp / f"cache{rep}.sqlite")
                    w0, c0 = time.perf_counter(), time.process_time()
                    got = backend.generate(requests)
                    harness_s.append((time.perf_counter() - w0, time.process_time() - c0))
                else:
                    w0, c0 = time.perf_counter(), time.process_time()
                    want = direct(backend, texts, stop)
                    direct_s.append((time.perf_counter() - w0, time.process_time() - c0))
        from generation.backends.base import truncate_at_stop

        same = [g[0].text for g in got] == [truncate_at_stop(w, stop)[0] for w in want]
        t0 = time.perf_counter()
        backend.generate(requests)
        cached_s = time.perf_counter() - t0
        backend.close()

    hw, dw = (statistics.median(x[0] for x in side) for side in (harness_s, direct_s))
    hc, dc = (statistics.median(x[1] for x in side) for side in (harness_s, direct_s))
    tokens = sum(c[0].completion_tokens for c in got)
    print(f"\nhf backend overhead, tiny model, {N_PROMPTS} prompts x {MAX_NEW} new tokens, batch {BATCH}, "
          f"median of {REPEATS}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  {'':34s}{'wall s':>9s}{'CPU s':>9s}")
    print(f"  {'direct model.generate (baseline)':34s}{dw:9.3f}{dc:9.3f}   ({tokens / dw:.0f} tok/s)")
    print(f"  {'harness hf backend + cache':34s}{hw:9.3f}{hc:9.3f}")
    print(f"  {'ratio harness/direct':34s}{hw / dw:9.3f}{hc / dc:9.3f}   (target <= 1.05)")
    print(f"  cached rerun (resume): {cached_s * 1000:.1f} ms; same texts as direct: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

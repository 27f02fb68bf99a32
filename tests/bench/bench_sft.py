"""Training throughput of the `sft` stage against a plain TRL SFTTrainer script, same data and settings, one run.

    .venv/bin/python tests/bench/bench_sft.py [--model DIR] [--steps 16] [--repeats 3]

Ours is training.sft.train as the stage runs it: preflight checks, the metered trainer, the tracking
callback logging every step to an offline W&B run and metrics.jsonl, checkpoints, the saved model folder.
The baseline is what a user would write: SFTConfig with the same optimizer, schedule, batch, seed and
chat template, on the same conversational prompt/completion records, report_to="none". Both sides report
TRL's trained tokens over the trainer's own train_runtime (the training loop); end-to-end wall time
(loading, preparation, checks, saving) is printed next to it. Sides alternate (ABBA), several repeats.
Target: training tokens/s of ours within 5% of the baseline. Default model: the tiny local Llama, where
per-step costs weigh most; --model /work/models/SmolLM2-135M-Instruct measures the real CPU model.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

BATCH, PER_DEVICE = 8, 4


def settings(steps: int) -> dict:
    return dict(effective_batch_size=BATCH, per_device_batch_size=PER_DEVICE, max_steps=steps, seed=0,
                learning_rate=1e-5, save_steps=10_000, eos_check="off")


def ours(model: str, data: Path, out: Path, steps: int) -> tuple[float, float, int]:
    from harness.tracking import Tracker
    from training.sft import SFTStageConfig, train

    cfg = SFTStageConfig(**settings(steps))
    t0 = time.perf_counter()
    tracker = Tracker(out / "runs", mode="offline", group="bench")
    with tracker.stage_run(name="bench/sft", job_type="sft", config=cfg.model_dump(mode="json"),
                           metrics_path=out / "metrics.jsonl") as run:
        summary = train(cfg, model, str(data), out, report=run.log, progress=False, log_image=run.log_image)
    return summary["train_tokens"] / summary["train_runtime_s"], time.perf_counter() - t0, summary["train_tokens"]


def plain(model: str, data: Path, out: Path, steps: int) -> tuple[float, float, int]:
    """A plain SFTTrainer script with the same settings."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from harness.data import read_jsonl
    from training.chat_template import PAPER_TEMPLATE

    t0 = time.perf_counter()
    rows = [{"prompt": [{"role": "user", "content": r["instruction"]}],
             "completion": [{"role": "assistant", "content": r["response"]}]} for r in read_jsonl(data)]
    tokenizer = AutoTokenizer.from_pretrained(model)
    tokenizer.chat_template = PAPER_TEMPLATE
    args = SFTConfig(output_dir=str(out), max_steps=steps, per_device_train_batch_size=PER_DEVICE,
                     gradient_accumulation_steps=BATCH // PER_DEVICE, learning_rate=1e-5, lr_scheduler_type="linear",
                     warmup_steps=0.05, optim="adafactor", max_grad_norm=0.0, weight_decay=0.0, bf16=False,
                     use_cpu=True, seed=0, data_seed=0, max_length=None, packing=False, completion_only_loss=True,
                     activation_checkpointing=False, logging_steps=1, save_strategy="steps", save_steps=10_000,
                     report_to="none", disable_tqdm=True)
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32), args=args,
                         train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
    output = trainer.train()
    trainer.save_model(str(out / "model"))
    return trainer._total_train_tokens / output.metrics["train_runtime"], time.perf_counter() - t0, \
        trainer._total_train_tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: build the tiny model)")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from tests.training.data import records, write_jsonl
    from training.tiny_model import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("WANDB_SILENT", "true")
        model = args.model or str(build_tiny_model(tmp / "tiny", seed=0))
        data = write_jsonl(tmp / "sft.jsonl", [{k: r[k] for k in ("instruction", "response")} for r in records()])
        plain(model, data, tmp / "warmup", 2)  # imports and first-touch costs outside the measured runs
        results: dict[str, list[tuple[float, float, int]]] = {"ours": [], "plain": []}
        for rep in range(args.repeats):
            for side in (("ours", "plain") if rep % 2 == 0 else ("plain", "ours")):
                out = tmp / f"{side}{rep}"
                results[side].append((ours if side == "ours" else plain)(model, data, out, args.steps))
                shutil.rmtree(out, ignore_errors=True)
                print(f"  {side:5s} run {rep}: {results[side][-1][0]:8.1f} training tokens/s, "
                      f"{results[side][-1][1]:6.1f} s end to end", flush=True)
    tokens = {s: results[s][0][2] for s in results}
    rate = {s: statistics.median(r[0] for r in results[s]) for s in results}
    wall = {s: statistics.median(r[1] for r in results[s]) for s in results}
    name = "tiny model" if not args.model else Path(args.model).name
    print(f"\nsft stage vs plain SFTTrainer, {name}, {args.steps} steps x batch {BATCH} ({tokens['ours']} tokens), "
          f"median of {args.repeats}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  {'':36s}{'tokens/s':>10s}{'wall s':>9s}")
    print(f"  {'plain SFTTrainer script (baseline)':36s}{rate['plain']:10.1f}{wall['plain']:9.1f}")
    print(f"  {'sft stage (training.sft.train)':36s}{rate['ours']:10.1f}{wall['ours']:9.1f}")
    overhead = rate["plain"] / rate["ours"] - 1
    print(f"  training overhead: {overhead:+.1%} (target <= +5%); end to end: {wall['ours'] / wall['plain']:.2f}x "
          "(ours adds the preflight pass, the W&B run and the saved model's checks)")
    same = tokens["ours"] == tokens["plain"]
    print(f"  same tokens trained on both sides: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

"""Supervised fine-tuning with TRL's SFTTrainer: the `sft` stage and `sca train`, with the paper's recipe.

Defaults are SelfCodeAlign's: the paper's instruction template saved as the chat template, loss on the
response only, no packing, dropout 0, max length 1280 (longer examples dropped and counted), Adafactor at
lr 1e-5 (use 2e-5 on another model's data), linear schedule with 5% warmup, no gradient clipping, an
effective batch of 64 (per-device batch x accumulation x world size, the accumulation computed), bf16 and
FlashAttention-2 where a GPU has them, fp32 on CPU, seeded.

Output (an artifact, or `sca train --out DIR`):
    model/               Hugging Face folder: weights, tokenizer + chat template, generation_config whose
                         eos ids include the token every response ends with (`sca generate --model` takes it)
    adapter/             the LoRA adapter, when lora is set (model/ holds the merged weights)
    train_summary.json   counts, batch plan, precision, losses, tokens/s, the stop check, what was resumed
    preflight.json       the checks passed before the first step; dropped.jsonl: over-length examples
    eos_check.jsonl      the greedy generations of the after-training stop check
    loss.png             training loss and learning rate by step
Checkpoints go to checkpoints/ inside the output (the stage's .partial directory), so a rerun after a
kill resumes from the last complete one and ends with the same weights; they are removed at the end.

The stop check after training (`eos_check`): greedy generations, through the saved chat template, for the
trained instructions with the shortest responses must end with EOS within twice the longest response.
`error` (the default) fails the stage: a real model that never stops would make every codegen sample run
to max_new_tokens. The trained model stays in the output, and since the setting is not part of the
fingerprint, rerunning with `eos_check: warn` keeps it without training again. A model with random weights
(the tiny test model) never stops after a few steps: its recipes and tests set `warn`, which records the
outcome (0 of 2) in train_summary.json, eos_check.jsonl and W&B. SmolLM2-135M-Instruct stops after a few
steps on the paper's template.

Multi-GPU and multi-node: run `sca train` under accelerate's launcher with a config of
training/accelerate/ (see the README there), e.g.
    accelerate launch --config_file training/accelerate/zero3.yaml -m harness.cli train --model M --data D --out O
or give the stage `launch: {config_file: training/accelerate/zero3.yaml}` (training/launch.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Literal

from pydantic import Field, ValidationError

from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage
from training.launch import DIE_WITH_PARENT, LaunchOptions

CHECKPOINTS = "checkpoints"
MODEL = "model"
RESULT = "train_result.json"  # written once the final model is in place; a rerun skips training then


class LoraOptions(Strict):
    """LoRA through peft; `quantize` makes it QLoRA (bitsandbytes, GPU only). model/ gets merged weights."""

    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)  # the recipe's dropout 0
    target_modules: list[str] | str = "all-linear"
    quantize: Literal["4bit", "8bit"] | None = None


class SFTStageConfig(Strict):
    model: str | None = None  # local folder or hub id; None: the stage's model input artifact (its model/)
    data: str | None = None  # jsonl/json/parquet file, artifact folder or hub id; None: the data input artifact
    data_file: str | None = None  # which jsonl of a data artifact (default: its only one)
    split: str = "train"  # for hub datasets
    format: Literal["auto", "instruction", "messages", "prompt_completion"] = "auto"
    instruction_field: str = "instruction"
    response_field: str = "response"
    max_examples: int | None = Field(None, ge=1)  # train on the first N records (CPU budgets)

    chat_template: str = "paper"  # "paper", "model" (keep the model's own), or a .jinja file
    eos_token: str | None = None  # make this token the EOS (tokenizer, model and generation_config)
    max_length: int = Field(1280, ge=8)  # longer examples are dropped and counted, never truncated

    epochs: float = Field(4, gt=0)  # StarCoder2-Instruct used 4
    max_steps: int | None = Field(None, ge=1)  # stop after this many optimizer steps (overrides epochs)
    learning_rate: float = Field(1e-5, gt=0)  # 1e-5 on self-generated data; the paper used 2e-5 on others'
    lr_scheduler: str = "linear"
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    optimizer: str = "adafactor"
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = 0.0  # <= 0: no clipping (the norm is still logged)
    effective_batch_size: int = Field(64, ge=1)
    per_device_batch_size: int = Field(1, ge=1)
    seed: int = 0

    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"  # auto: bf16 on a capable GPU, else fp32
    attn_implementation: str = "auto"  # auto: flash_attention_2 where flash-attn and a GPU are, else sdpa
    activation_checkpointing: bool = False
    lora: LoraOptions | None = None

    save_steps: int = Field(100, ge=1)  # checkpoint every N optimizer steps (what a kill can lose)
    save_total_limit: int = Field(2, ge=1)
    logging_steps: int = Field(1, ge=1)
    # After training, greedy generations through the saved template must end with EOS: error | warn | off.
    # Not part of the fingerprint: it decides whether the stage fails, not what it trains.
    eos_check: Literal["error", "warn", "off"] = Field("error", exclude=True)
    eos_check_prompts: int = Field(2, ge=1)
    # Stage only: train under `accelerate launch` with this config (several GPUs or machines); see launch.py.
    launch: LaunchOptions | None = None


# ---------------------------------------------------------------------------------------------- helpers


def zero_dropout(config) -> list[str]:
    """Set every dropout probability of a model config (and its sub-configs) to 0; return what changed."""
    changed = []
    for holder in {id(c): c for c in (config, config.get_text_config())}.values():
        for key, value in list(vars(holder).items()):
            if ("dropout" in key or "pdrop" in key) and isinstance(value, float) and value > 0:
                setattr(holder, key, 0.0)
                changed.append(key)
    return sorted(set(changed))


def pick_attention(requested: str, cuda: bool) -> str:
    import importlib.util

    have_flash = importlib.util.find_spec("flash_attn") is not None
    if requested == "auto":
        return "flash_attention_2" if cuda and have_flash else "sdpa"
    if requested == "flash_attention_2" and not (cuda and have_flash):
        raise UserError("attn_implementation: flash_attention_2 needs a GPU and the flash-attn package "
                        "(pip install -e '.[gpu]'); use auto or sdpa")
    return requested


def load_model(source: str, precision: str, attention: str, lora: LoraOptions | None, cuda: bool):
    """The model in fp32 master weights (bf16 with LoRA on a GPU, 4/8-bit for QLoRA), every dropout at 0."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise UserError(f"model: cannot load '{source}' ({str(exc).splitlines()[0]})") from None
    zeroed = zero_dropout(config)
    kwargs: dict = {"config": config, "dtype": torch.float32, "attn_implementation": attention}
    if lora is not None and cuda and precision in ("bf16", "fp16"):
        kwargs["dtype"] = torch.bfloat16 if precision == "bf16" else torch.float16
    if lora is not None and lora.quantize:
        import importlib.util

        if not cuda or importlib.util.find_spec("bitsandbytes") is None:
            raise UserError("lora.quantize: QLoRA needs a GPU and the bitsandbytes package; unset it for LoRA")
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=lora.quantize == "4bit", load_in_8bit=lora.quantize == "8bit",
            bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=kwargs["dtype"])
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except (OSError, ValueError, ImportError) as exc:
        raise UserError(f"model: cannot load '{source}' ({str(exc).splitlines()[0]})") from None
    for module in model.modules():  # modules some architectures build with a fixed p
        if isinstance(module, torch.nn.Dropout) and module.p > 0:
            module.p = 0.0
    return model, zeroed


def check_optimizer(optimizer: str, state) -> None:
    """Adafactor's state does not save under FSDP (transformers #26776): no checkpoint could be resumed."""
    from accelerate.utils import DistributedType

    fsdp = state.distributed_type == DistributedType.FSDP or \
        os.environ.get("ACCELERATE_USE_FSDP", "").lower() in ("1", "true")
    if fsdp and optimizer.startswith("adafactor"):
        raise UserError("optimizer: adafactor's state cannot be saved under FSDP (transformers #26776); use "
                        "training/accelerate/zero3.yaml to keep it, or optimizer=adamw_torch with FSDP")


def last_checkpoint(directory: Path, is_main: bool = True) -> Path | None:
    """The newest complete checkpoint-N (its trainer_state.json, written last, says step N).

    Incomplete ones (a kill during a save) are deleted by the main process so nothing resumes from them.
    """
    if not directory.is_dir():
        return None
    complete = []
    for path in directory.glob("checkpoint-*"):
        step = path.name.rsplit("-", 1)[1]
        try:
            state = json.loads((path / "trainer_state.json").read_text())
        except (OSError, json.JSONDecodeError):
            state = {}
        if step.isdigit() and state.get("global_step") == int(step):
            complete.append((int(step), path))
        elif is_main:
            shutil.rmtree(path, ignore_errors=True)
    return max(complete)[1] if complete else None


def distributed_state():
    """accelerate's process state; on CPU it must be asked for as such to see a torchrun/mpirun world."""
    import torch
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def config_digest(cfg: SFTStageConfig) -> str:
    return hashlib.sha256(json.dumps(cfg.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def _write_json(path: Path, data) -> None:
    from harness.artifacts import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


# ---------------------------------------------------------------------------------------------- training


def train(cfg: SFTStageConfig, model_source: str, data_source: str, out_dir: Path,
          report: Callable[[dict], None], progress: bool = True,
          log_image: Callable[[str, Path], None] | None = None) -> dict:
    """Fine-tune `model_source` on `data_source` into out_dir; return the summary (also train_summary.json).

    Resumes from out_dir/checkpoints when a previous run was cut short. Under accelerate's launcher every
    process calls this; the main one writes the outputs and reports.
    """
    state = distributed_state()
    is_main = state.is_main_process
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result_path = out_dir / RESULT
    if (out_dir / MODEL).is_dir() and result_path.is_file():
        result = json.loads(result_path.read_text())  # trained already; only the after-training steps remain
    else:
        result = _fit(cfg, model_source, data_source, out_dir, report, progress, state)
    if not is_main:
        return result
    summary = _finish(cfg, out_dir, result, report, progress, log_image)
    shutil.rmtree(out_dir / CHECKPOINTS, ignore_errors=True)
    return summary


def _fit(cfg: SFTStageConfig, model_source: str, data_source: str, out_dir: Path, report, progress, state) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl.trainer.sft_config import SFTConfig

    from training import preflight
    from training.chat_template import resolve_template
    from training.sft_data import load_examples
    from training.sft_metrics import MeteredSFTTrainer, TrackingCallback, epoch_losses

    started = time.perf_counter()
    is_main = state.is_main_process
    check_optimizer(cfg.optimizer, state)
    cuda = torch.cuda.is_available()
    precision = preflight.resolve_precision(cfg.precision, cuda, cuda and torch.cuda.is_bf16_supported())
    world = state.num_processes
    accumulation = preflight.gradient_accumulation(cfg.effective_batch_size, cfg.per_device_batch_size, world)
    attention = pick_attention(cfg.attn_implementation, cuda)

    examples = load_examples(data_source, cfg.format, cfg.split, cfg.data_file, cfg.instruction_field,
                             cfg.response_field, cfg.max_examples)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_source)
    except (OSError, ValueError) as exc:
        raise UserError(f"model: cannot load a tokenizer from '{model_source}' ({str(exc).splitlines()[0]})") from None
    if cfg.eos_token is not None and cfg.eos_token not in tokenizer.get_vocab():
        raise UserError(f"eos_token: {cfg.eos_token!r} is not a token of the model's vocabulary")
    tokenizer.chat_template = resolve_template(cfg.chat_template, tokenizer)
    model, zeroed = load_model(model_source, precision, attention, cfg.lora, cuda)

    peft_config = None
    if cfg.lora is not None:
        from peft import LoraConfig

        peft_config = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                                 target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM")
    args = SFTConfig(
        output_dir=str(out_dir / CHECKPOINTS),
        num_train_epochs=cfg.epochs, max_steps=cfg.max_steps or -1,
        per_device_train_batch_size=cfg.per_device_batch_size, gradient_accumulation_steps=accumulation,
        learning_rate=cfg.learning_rate, lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,  # below 1: a ratio of the total steps (transformers 5 has no warmup_ratio)
        optim=cfg.optimizer, weight_decay=cfg.weight_decay, max_grad_norm=cfg.max_grad_norm,
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=not cuda,  # TRL would default bf16=True
        seed=cfg.seed, data_seed=cfg.seed,
        max_length=None,  # we drop over-length examples ourselves (TRL would truncate them)
        packing=False, completion_only_loss=True, assistant_only_loss=False, eos_token=cfg.eos_token,
        activation_checkpointing=cfg.activation_checkpointing,
        logging_steps=cfg.logging_steps, save_strategy="steps", save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit, report_to="none", disable_tqdm=not progress,
    )
    trainer = MeteredSFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(examples.records),
                                processing_class=tokenizer, peft_config=peft_config)

    # Preflight, on the token ids and labels TRL prepared: nothing below runs a step.
    prepared = trainer.train_dataset
    assert isinstance(prepared, Dataset)  # built from a list above, so never streamed
    generation_config = model.generation_config
    stop_ids = preflight.stop_token_ids(generation_config.eos_token_id, tokenizer)
    masks = preflight.check_loss_masks(prepared, examples, tokenizer, stop_ids)
    lengths = [len(ids) for ids in prepared["input_ids"]]
    keep, dropped = preflight.split_over_length(lengths, cfg.max_length)
    if not keep:
        raise UserError(f"{examples.source}: all {len(lengths)} examples are longer than max_length "
                        f"{cfg.max_length} tokens (shortest: {min(lengths)})")
    trainer.train_dataset = prepared.select(keep)
    preflight.check_effective_batch(args.per_device_train_batch_size, args.gradient_accumulation_steps,
                                    args.world_size, cfg.effective_batch_size)
    checks = {
        "examples": len(lengths), "dropped_over_length": len(dropped), "trained_examples": len(keep),
        "max_length": cfg.max_length, "longest": max(lengths), "format": examples.format,
        "template_applied": examples.conversational, "masks": masks.to_dict(tokenizer),
        "stop_token_ids": stop_ids, "precision": precision, "attention": attention, "dropout_zeroed": zeroed,
        "batch": {"effective": cfg.effective_batch_size, "per_device": cfg.per_device_batch_size,
                  "gradient_accumulation": accumulation, "world_size": world},
    }
    eos_prompts, eos_budget = _eos_check_prompts(cfg, examples, prepared, keep)
    if is_main:
        _write_json(out_dir / "preflight.json", checks)
        from harness.artifacts import write_jsonl

        write_jsonl(out_dir / "dropped.jsonl", ({"where": examples.where[i], "tokens": lengths[i]} for i in dropped))
        report({"data/examples": len(lengths), "data/dropped_over_length": len(dropped),
                "data/trained_examples": len(keep), "data/trained_token_fraction": checks["masks"]["trained_fraction"],
                "batch/effective": cfg.effective_batch_size,
                "batch/gradient_accumulation": accumulation, "batch/world_size": world})

    trainer.add_callback(TrackingCallback(trainer, report))
    resume = last_checkpoint(out_dir / CHECKPOINTS, is_main)
    state.wait_for_everyone()
    output = trainer.train(resume_from_checkpoint=str(resume) if resume else None)

    tmp = out_dir / f"{MODEL}.tmp"
    if is_main:
        shutil.rmtree(tmp, ignore_errors=True)
    _save_model(trainer, cfg, tmp, stop_ids, model_source, is_main)
    history = trainer.state.log_history
    losses = [r["loss"] for r in history if "loss" in r]
    result = {
        **checks,
        "steps": trainer.state.global_step, "resumed_from": resume.name if resume else None,
        "train_runtime_s": output.metrics.get("train_runtime"),
        "train_tokens": trainer._total_train_tokens, "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None, "epoch_losses": epoch_losses(history),
        "log_history": history, "fit_seconds": round(time.perf_counter() - started, 3),
        "eos_check_prompts": eos_prompts if examples.conversational else [], "eos_check_budget": eos_budget,
    }
    if is_main:
        os.replace(tmp, out_dir / MODEL)
        _write_json(out_dir / "training_args.json", args.to_dict())
        _write_json(out_dir / RESULT, result)
    state.wait_for_everyone()
    return result


def _save_model(trainer, cfg: SFTStageConfig, target: Path, stop_ids: list[int], model_source: str,
                is_main: bool) -> None:
    """Weights, tokenizer (with the chat template) and a generation_config that stops on the trained EOS."""
    if cfg.lora is None:
        trainer.save_model(str(target))  # collective under ZeRO-3/FSDP: every process calls it
        model = trainer.model
    else:
        adapter = target.parent / "adapter"
        trainer.save_model(str(adapter))
        if not is_main:
            return
        if cfg.lora.quantize:  # merge into full-precision weights, not into the quantized ones
            import torch
            from peft import PeftModel
            from transformers import AutoModelForCausalLM

            base = AutoModelForCausalLM.from_pretrained(model_source, dtype=torch.bfloat16)
            model = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
        else:
            model = trainer.model.merge_and_unload()
        model.save_pretrained(str(target))
        trainer.processing_class.save_pretrained(str(target))
    if not is_main:
        return
    (target / "training_args.bin").unlink(missing_ok=True)  # pickled; training_args.json holds them readably
    generation = model.generation_config
    generation.eos_token_id = stop_ids if len(stop_ids) > 1 else stop_ids[0]
    generation.pad_token_id = trainer.processing_class.pad_token_id
    generation.save_pretrained(str(target))


def _eos_check_prompts(cfg: SFTStageConfig, examples, prepared, keep: list[int]) -> tuple[list, int]:
    """Prompts of the trained examples with the shortest responses, and a token budget for their answers."""
    trained = {i: sum(label != -100 for label in prepared[i]["labels"]) for i in keep}
    chosen = sorted(trained, key=lambda i: (trained[i], i))[: cfg.eos_check_prompts]
    return [examples.records[i]["prompt"] for i in chosen], min(cfg.max_length, 2 * max(trained[i] for i in chosen) + 16)


def _finish(cfg: SFTStageConfig, out_dir: Path, result: dict, report, progress, log_image) -> dict:
    """After training: the stop check through the saved chat template, the loss plot, the summary."""
    from harness.artifacts import write_jsonl
    from training import preflight
    from training.sft_metrics import plot_loss

    check: dict = {"mode": cfg.eos_check}
    prompts = result.get("eos_check_prompts") or []
    if cfg.eos_check != "off" and not prompts:
        check["skipped"] = "plain-text prompt/completion data: no chat prompt to generate from"
    elif cfg.eos_check != "off":
        check.update(preflight.eos_after_training(out_dir / MODEL, prompts, result["eos_check_budget"], progress))
        write_jsonl(out_dir / "eos_check.jsonl", check.pop("generations"))
        report({"eos_check/stopped": check["stopped"], "eos_check/of": check["of"]})
        if check["stopped"] < check["of"]:
            line = (f"{out_dir / MODEL}: after training, {check['of'] - check['stopped']} of {check['of']} greedy "
                    f"generations through the saved chat template did not end with EOS within "
                    f"{check['max_new_tokens']} tokens (see eos_check.jsonl)")
            if cfg.eos_check == "error":
                raise UserError(line + "; set eos_check: warn to keep such a model")
            print(f"warning: {line}", file=sys.stderr)
    plot = plot_loss(result.get("log_history", []), out_dir / "loss.png")
    if plot is not None and log_image is not None:
        log_image("train/loss_curve", plot)
    tokens, runtime = result.get("train_tokens") or 0, result.get("train_runtime_s") or 0
    summary = {k: v for k, v in result.items() if k not in ("log_history", "eos_check_prompts")}
    summary.update(eos_check=check, tokens_per_second=round(tokens / runtime, 2) if runtime else None,
                   config=cfg.model_dump(mode="json"))
    _write_json(out_dir / "train_summary.json", summary)
    report({"summary/steps": summary["steps"], "summary/tokens_per_second": summary["tokens_per_second"],
            "summary/first_loss": summary["first_loss"], "summary/last_loss": summary["last_loss"]})
    return summary


# ---------------------------------------------------------------------------------------------- the stage


def stage_sources(cfg: SFTStageConfig, inputs: dict, stage_name: str) -> tuple[str, str]:
    """(model, data) from the config, else from the inputs: the one holding model/ and the one that does not."""
    models = [a for a in inputs.values() if (a.path / MODEL / "config.json").is_file()]
    datasets = [a for a in inputs.values() if a not in models]
    if cfg.model is not None:
        model = cfg.model
    elif len(models) == 1:
        model = str(models[0].path / MODEL)
    else:
        raise UserError(f"stages.{stage_name}.with.model: set a model, or give the stage one input holding model/ "
                        f"(it has {len(models)})")
    if cfg.data is not None:
        data = cfg.data
    elif len(datasets) == 1:
        data = str(datasets[0].path)
    else:
        raise UserError(f"stages.{stage_name}.with.data: set a dataset, or give the stage one dataset input "
                        f"(it has {len(datasets)})")
    return model, data


@stage("sft", SFTStageConfig, version=1)
def sft_stage(cfg: SFTStageConfig, inputs: dict, ctx) -> None:
    """Recipe stage: inputs are a model artifact (model/) and a dataset artifact, unless the config names them."""
    model, data = stage_sources(cfg, inputs, ctx.stage_name)
    if cfg.launch is not None:
        from training.launch import run_launched

        config = {**cfg.model_dump(mode="json", exclude={"launch", "model", "data"}), "eos_check": cfg.eos_check}
        summary = run_launched(cfg.launch, config, model, data, ctx)
    else:
        summary = train(cfg, model, data, ctx.out_dir, report=ctx.log, progress=ctx.progress,
                        log_image=ctx.log_image)
    ctx.counts.update({"examples": summary["examples"], "dropped_over_length": summary["dropped_over_length"],
                       "trained_examples": summary["trained_examples"], "steps": summary["steps"]})


# ---------------------------------------------------------------------------------------------- sca train

FLAGS = {  # --flag -> config key, for the settings people change most; any key also works as key=value
    "epochs": float, "max_steps": int, "learning_rate": float, "effective_batch_size": int,
    "per_device_batch_size": int, "max_length": int, "max_examples": int, "chat_template": str, "seed": int,
    "precision": str, "save_steps": int, "eos_check": str, "data_file": str, "format": str,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model folder or hub id")
    parser.add_argument("--data", required=True,
                        help="jsonl/json/parquet file, artifact folder, or hub dataset id (instruction/response, "
                             "messages, or prompt/completion records)")
    parser.add_argument("--out", required=True, type=Path, help="output folder; rerun with the same one to resume")
    parser.add_argument("--config", type=Path, help="YAML/JSON file of config keys (flags and KEY=VALUE win)")
    for key, kind in FLAGS.items():
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, type=kind, help=f"config key {key}")
    parser.add_argument("--lora-r", type=int, help="train a LoRA adapter of this rank (merged into model/)")
    parser.add_argument("--wandb-mode", choices=["auto", "offline", "online", "disabled"], default="auto")
    parser.add_argument("--wandb-project", default="sca")
    parser.add_argument("--metrics-file", type=Path, help="where to mirror what is logged (default OUT/metrics.jsonl)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="any other config key, e.g. warmup_ratio=0.1 lora.alpha=64")


def config_from_args(args: argparse.Namespace) -> SFTStageConfig:
    from harness.config import COMMAND_LINE, apply_overrides, validation_error_line

    origins: dict[str, str] = {}
    raw: dict = {}
    if args.config is not None:
        raw = _read_config(args.config)
        origins.update({key: str(args.config) for key in raw})
    raw.update({"model": args.model, "data": str(args.data)})
    raw.update({k: getattr(args, k) for k in FLAGS if getattr(args, k) is not None})
    if args.lora_r is not None:
        raw["lora"] = {**raw.get("lora", {}), "r": args.lora_r}
    raw = apply_overrides(raw, list(args.overrides), origins)
    if "launch" in raw:
        raise UserError(f"{origins.get('launch', COMMAND_LINE)}: launch: only for the sft stage; run "
                        "`accelerate launch ... -m harness.cli train` yourself")
    try:
        return SFTStageConfig.model_validate(raw)
    except ValidationError as exc:
        raise UserError(validation_error_line(exc, SFTStageConfig, "", origins, COMMAND_LINE)) from None


def _read_config(path: Path) -> dict:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())  # JSON is YAML too
    except OSError as exc:
        raise UserError(f"--config: cannot read {path} ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a config file must hold a mapping of config keys")
    return data


def check_same_run(out: Path, cfg: SFTStageConfig) -> None:
    """An output folder belongs to one config: resuming it under another would mix two trainings."""
    path = out / "sft_config.json"
    wanted = cfg.model_dump(mode="json")
    if path.is_file():
        had = json.loads(path.read_text())
        changed = sorted(k for k in set(had) | set(wanted) if had.get(k) != wanted.get(k))
        if changed:
            key = changed[0]
            raise UserError(f"{out}: holds a training run with {key}={had.get(key)!r}, not {wanted.get(key)!r}; "
                            "use another --out, or delete it to start over")
    else:
        out.mkdir(parents=True, exist_ok=True)
        _write_json(path, wanted)


def main(args: argparse.Namespace) -> int:
    from harness.artifacts import file_digest
    from harness.tracking import Tracker

    cfg = config_from_args(args)
    out = args.out.resolve()
    if "LOCAL_RANK" in os.environ or os.environ.get(DIE_WITH_PARENT):  # started by a launcher: never outlive it
        from training.launch import die_with_parent

        die_with_parent()
    state = distributed_state()
    if state.is_main_process:
        check_same_run(out, cfg)
    state.wait_for_everyone()
    mode = args.wandb_mode if state.is_main_process else "disabled"
    tracker = Tracker(out, project=args.wandb_project, mode=mode, group="train")
    name = f"train/{out.name}"
    with tracker.stage_run(name=name, job_type="sft", config=cfg.model_dump(mode="json"),
                           metrics_path=args.metrics_file or out / "metrics.jsonl") as run:
        data = Path(args.data).expanduser()
        if data.is_file():  # lineage: this dataset file -> the model
            run.use_artifact(name=f"data-{data.stem}", type="dataset", path=data, fingerprint=file_digest(data))
        summary = train(cfg, args.model, str(args.data), out, report=run.log, progress=not args.no_progress,
                        log_image=run.log_image)
        if state.is_main_process:
            run.log_artifact(name=f"sft-{out.name}", type="sft", path=out / MODEL, fingerprint=config_digest(cfg))
    if state.is_main_process:
        check = summary["eos_check"]
        stops = f"{check['stopped']}/{check['of']} stop-check generations ended with EOS" if "of" in check \
            else f"stop check {check.get('skipped', 'off')}"
        print(f"{out / MODEL}: {summary['steps']} steps on {summary['trained_examples']} examples "
              f"({summary['dropped_over_length']} dropped over {cfg.max_length} tokens), loss "
              f"{summary['first_loss']:.4g} -> {summary['last_loss']:.4g}, {summary['tokens_per_second']} tokens/s; "
              f"{stops}")
        print(json.dumps({k: summary[k] for k in ("steps", "trained_examples", "dropped_over_length", "first_loss",
                                                  "last_loss", "tokens_per_second", "resumed_from")}), flush=True)
    return 0

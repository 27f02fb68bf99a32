"""Checks that stop a silently broken SFT run before its first step, and the stop check after it.

Each failure is one UserError line naming the record, key or token at fault:
- precision: bf16/fp16 asked for where no GPU can run them (TRL's SFTConfig defaults bf16=True);
- the effective batch: per-device batch x gradient accumulation x world size is what the recipe says;
- the loss mask of every example is non-empty and covers exactly the response and its end-of-turn token,
  checked on the very token ids and labels TRL will train on (TRL #4147: masks that cover nothing;
  `completion_only_loss` on plain text that covers everything; templates that render the prompt
  differently alone than followed by the response);
- the token that ends every response is one generation stops on (TRL PR #3299: models that never stop;
  TRL appends no EOS to conversational data, so the template must end the turn);
- examples longer than max_length are dropped and counted, never truncated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UserError

IGNORE = -100


def resolve_precision(precision: str, cuda: bool, bf16_supported: bool) -> str:
    """"auto" -> bf16 on a bf16-capable GPU, else fp32; asking for half precision without a GPU fails."""
    if precision == "auto":
        return "bf16" if cuda and bf16_supported else "fp32"
    if precision in ("bf16", "fp16") and not cuda:
        raise UserError(f"precision: {precision} needs a GPU and none is visible; use precision: fp32 (or auto)")
    if precision == "bf16" and not bf16_supported:
        raise UserError("precision: bf16 is not supported by this GPU; use fp16 or fp32")
    return precision


def gradient_accumulation(effective: int, per_device: int, world_size: int) -> int:
    """Accumulation steps so that per-device batch x accumulation x world size = the effective batch."""
    per_step = per_device * world_size
    if effective % per_step:
        raise UserError(f"effective_batch_size: {effective} is not a multiple of per_device_batch_size "
                        f"{per_device} x world size {world_size} = {per_step}; change per_device_batch_size")
    return effective // per_step


def check_effective_batch(per_device: int, accumulation: int, world_size: int, expected: int) -> None:
    """After the trainer is built: the batch it will really use is the recipe's."""
    got = per_device * accumulation * world_size
    if got != expected:
        raise UserError(f"effective_batch_size: the trainer would use {per_device} x {accumulation} x "
                        f"{world_size} (per device x accumulation x world size) = {got}, not {expected}")


def stop_token_ids(generation_eos: Any, tokenizer) -> list[int]:
    """The EOS ids the saved model's generation_config will hold: its own plus the tokenizer's EOS."""
    ids = [] if generation_eos is None else list(generation_eos) if isinstance(generation_eos, list) \
        else [generation_eos]
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids


def split_over_length(lengths: list[int], max_length: int) -> tuple[list[int], list[int]]:
    """(indices kept, indices dropped) for examples of `lengths` tokens under a `max_length` limit."""
    keep = [i for i, n in enumerate(lengths) if n <= max_length]
    drop = [i for i, n in enumerate(lengths) if n > max_length]
    return keep, drop


@dataclass
class MaskReport:
    examples: int = 0
    trained_tokens: int = 0  # labelled tokens in all examples
    total_tokens: int = 0
    end_token_ids: set[int] = field(default_factory=set)  # the tokens that end the responses

    def to_dict(self, tokenizer) -> dict:
        return {"examples": self.examples, "trained_tokens": self.trained_tokens, "total_tokens": self.total_tokens,
                "trained_fraction": round(self.trained_tokens / max(self.total_tokens, 1), 4),
                "end_tokens": sorted(tokenizer.convert_ids_to_tokens(sorted(self.end_token_ids)))}


def _render(record: dict, tokenizer, conversational: bool) -> tuple[str, list[int], list[tuple[int, int]]]:
    """The text TRL tokenizes for `record`, with our own token ids and character offsets for it."""
    if conversational:
        text = tokenizer.apply_chat_template(record["prompt"] + record["completion"], tokenize=False)
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    else:
        completion = record["completion"]
        if not completion.endswith(tokenizer.eos_token):
            completion += tokenizer.eos_token  # what TRL appends to plain prompt/completion data
        text = record["prompt"] + completion
        enc = tokenizer(text, return_offsets_mapping=True)
    return text, enc["input_ids"], enc["offset_mapping"]


def _show(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit // 2] + "..." + text[-limit // 2:])


def check_loss_masks(prepared, examples, tokenizer, stop_ids: list[int]) -> MaskReport:
    """Every example of TRL's prepared dataset trains on exactly its response and one stop token.

    `prepared` holds TRL's input_ids/labels for `examples.records`, in order. Tokens after the stop
    token may be trained only if they are whitespace (e.g. ChatML's newline after <|im_end|>).
    """
    if not tokenizer.is_fast:
        raise UserError("tokenizer: the loss-mask check needs a fast (Rust) tokenizer for character offsets")
    if len(prepared) != len(examples.records):
        raise UserError(f"{examples.source}: TRL prepared {len(prepared)} examples from {len(examples.records)} "
                        "records; something dropped examples silently")
    stops = set(stop_ids)
    stop_names = ", ".join(repr(t) for t in tokenizer.convert_ids_to_tokens(sorted(stops))) or "nothing"
    report = MaskReport()
    for i, (ids, labels) in enumerate(zip(prepared["input_ids"], prepared["labels"])):
        where = examples.where[i]
        trained = [k for k, label in enumerate(labels) if label != IGNORE]
        if not trained:
            raise UserError(f"{where}: the loss mask is empty: no token of this example is trained on (TRL #4147); "
                            "check that the chat template renders the assistant turn")
        text, own_ids, offsets = _render(examples.records[i], tokenizer, examples.conversational)
        if list(own_ids) != list(ids):
            raise UserError(f"{where}: TRL's token ids differ from the rendered chat template's; "
                            "the template is not deterministic or tokenizes differently in pieces")
        response = examples.responses[i]
        start = len(examples.records[i]["prompt"]) if not examples.conversational else text.rfind(response)
        if start < 0 or text[start:start + len(response)] != response:
            raise UserError(f"{where}: the chat template does not render the response verbatim")
        end = start + len(response)
        inside = [k for k, (a, b) in enumerate(offsets) if b > start and a < end]
        first, last = inside[0], inside[-1]
        if offsets[last][1] > end:
            raise UserError(f"{where}: the response's last characters merge with what follows into one token "
                            f"({_show(text[offsets[last][0]:offsets[last][1]])}); the model cannot learn a clean stop")
        stop_at = last + 1
        if stop_at >= len(ids):
            raise UserError(f"{where}: nothing follows the response: the chat template does not end the turn with "
                            "EOS (TRL appends none to conversational data), so the model would never stop")
        if ids[stop_at] not in stops:
            token = tokenizer.convert_ids_to_tokens(ids[stop_at])
            raise UserError(f"{where}: the response is followed by {token!r} (id {ids[stop_at]}), but generation "
                            f"stops only at {stop_names}: the trained model would never stop (TRL PR #3299); end "
                            f"the turn with EOS in the template, or set eos_token: {token!r}")
        if trained[0] < first:
            extra = text[offsets[trained[0]][0]:start]
            raise UserError(f"{where}: the loss mask starts before the response and trains on {_show(extra)}; "
                            "does the template render the prompt differently alone than followed by the response?")
        if trained[0] > first:
            raise UserError(f"{where}: the loss mask misses the start of the response "
                            f"({_show(text[start:offsets[trained[0]][0]])} is not trained on)")
        if trained != list(range(trained[0], trained[-1] + 1)):
            raise UserError(f"{where}: the loss mask has holes inside the response")
        if trained[-1] < stop_at:
            raise UserError(f"{where}: the loss mask ends before the stop token, so the model never learns to stop")
        after = text[offsets[stop_at][1]:offsets[trained[-1]][1]]
        if after.strip():
            raise UserError(f"{where}: the loss mask goes on past the stop token and trains on {_show(after)}")
        report.examples += 1
        report.trained_tokens += len(trained)
        report.total_tokens += len(ids)
        report.end_token_ids.add(ids[stop_at])
    return report


def eos_after_training(model_dir: Path, prompts: list, max_new_tokens: int, progress: bool = False) -> dict:
    """Greedy generations through the saved chat template: did each end with EOS within max_new_tokens?

    Only EOS counts (no stop strings): this is what `sca generate` relies on to stop a model.
    """
    from generation.backends import GenerationRequest, get_backend

    backend = get_backend("hf", model=str(model_dir), progress=progress, batch_size=max(1, len(prompts)))
    requests = [GenerationRequest(prompt=p, max_new_tokens=max_new_tokens) for p in prompts]
    with backend:
        results = backend.generate(requests)
    rows = [{"prompt": p, "completion": c[0].text, "finish_reason": c[0].finish_reason,
             "completion_tokens": c[0].completion_tokens} for p, c in zip(prompts, results)]
    stopped = sum(r["finish_reason"] == "stop" for r in rows)
    return {"stopped": stopped, "of": len(rows), "max_new_tokens": max_new_tokens, "generations": rows}

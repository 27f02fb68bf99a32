"""Known models: prompt style (base = completion prompts, instruct = chat prompts) and public release date.

The release date bounds LiveCodeBench's contamination window (problems published after it are clean).
Models not listed here still work: their style then comes from whether the tokenizer has a chat template.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from harness.errors import UserError

STYLES = ("base", "instruct")


@dataclass(frozen=True)
class ModelInfo:
    hf_id: str
    style: str  # "base" or "instruct"
    release_date: date  # first public release of the weights (model card / announcement)
    family: str
    params_b: float


def _m(hf_id: str, style: str, released: str, family: str, params_b: float) -> ModelInfo:
    return ModelInfo(hf_id, style, date.fromisoformat(released), family, params_b)


# The models of the SelfCodeAlign paper's tables (bases, their instruct variants, and baselines).
MODELS: dict[str, ModelInfo] = {m.hf_id.lower(): m for m in (
    _m("Qwen/CodeQwen1.5-7B", "base", "2024-04-16", "CodeQwen1.5", 7),
    _m("Qwen/CodeQwen1.5-7B-Chat", "instruct", "2024-04-16", "CodeQwen1.5", 7),
    _m("bigcode/starcoder2-3b", "base", "2024-02-28", "StarCoder2", 3),
    _m("bigcode/starcoder2-7b", "base", "2024-02-28", "StarCoder2", 7),
    _m("bigcode/starcoder2-15b", "base", "2024-02-28", "StarCoder2", 15),
    _m("bigcode/starcoder2-15b-instruct-v0.1", "instruct", "2024-04-29", "StarCoder2", 15),
    _m("meta-llama/Meta-Llama-3-8B", "base", "2024-04-18", "Llama-3", 8),
    _m("meta-llama/Meta-Llama-3-8B-Instruct", "instruct", "2024-04-18", "Llama-3", 8),
    _m("meta-llama/Meta-Llama-3-70B-Instruct", "instruct", "2024-04-18", "Llama-3", 70),
    _m("deepseek-ai/deepseek-coder-6.7b-base", "base", "2023-11-02", "DeepSeek-Coder", 6.7),
    _m("deepseek-ai/deepseek-coder-6.7b-instruct", "instruct", "2023-11-02", "DeepSeek-Coder", 6.7),
    _m("deepseek-ai/deepseek-coder-33b-base", "base", "2023-11-02", "DeepSeek-Coder", 33),
    _m("deepseek-ai/deepseek-coder-33b-instruct", "instruct", "2023-11-02", "DeepSeek-Coder", 33),
    _m("codellama/CodeLlama-7b-hf", "base", "2023-08-24", "CodeLlama", 7),
    _m("codellama/CodeLlama-34b-hf", "base", "2023-08-24", "CodeLlama", 34),
    _m("codellama/CodeLlama-70b-Instruct-hf", "instruct", "2024-01-29", "CodeLlama", 70),
    _m("mistralai/Mistral-7B-Instruct-v0.2", "instruct", "2023-12-11", "Mistral", 7),
    _m("ise-uiuc/Magicoder-S-DS-6.7B", "instruct", "2023-12-04", "Magicoder", 6.7),
    _m("bigcode/octocoder", "instruct", "2023-08-14", "OctoCoder", 15.5),
)}


def lookup(model: str) -> ModelInfo | None:
    """Registry entry for a hub id, or for a local dir named like one (e.g. .../starcoder2-3b); else None."""
    key = model.strip().rstrip("/").lower()
    if key in MODELS:
        return MODELS[key]
    base = Path(key).name
    matches = [m for k, m in MODELS.items() if k.split("/")[-1] == base]
    return matches[0] if len(matches) == 1 else None


def get(model: str) -> ModelInfo:
    """Registry entry, or a UserError with a did-you-mean when the name is not known."""
    info = lookup(model)
    if info is None:
        names = [m.hf_id for m in MODELS.values()]
        close = difflib.get_close_matches(model, names, n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UserError(f"model: '{model}' is not in the registry{hint}")
    return info

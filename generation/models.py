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
    # Where the date comes from; "(seen)" = the date was read in that source while checking the
    # registry (2026), "(not re-checked)" = the announcement named, its date not re-read then.
    date_source: str = ""


def _m(hf_id: str, style: str, released: str, family: str, params_b: float, source: str) -> ModelInfo:
    return ModelInfo(hf_id, style, date.fromisoformat(released), family, params_b, source)


_CODEQWEN = "Qwen blog 'Code with CodeQwen1.5', qwenlm.github.io/blog/codeqwen1.5 (not re-checked)"
_STARCODER2 = "BigCode StarCoder2 announcement and arXiv 2402.19173 v1, 2024-02-29 (not re-checked)"
_LLAMA3 = "Meta 'Introducing Meta Llama 3', ai.meta.com/blog/meta-llama-3, 2024-04-18 (seen, in reports of it)"
_DSCODER = "deepseek-ai/DeepSeek-Coder README: first commit 2023-11-02 (seen, in the repo's history)"
_CODELLAMA = "Meta 'Introducing Code Llama' and arXiv 2308.12950 v1, 2023-08-24 (seen)"
_CODELLAMA70 = "Meta Code Llama 70B release, 2024-01-29 (month seen; day not re-checked)"

# The models of the SelfCodeAlign paper's tables (bases, their instruct variants, and baselines).
MODELS: dict[str, ModelInfo] = {m.hf_id.lower(): m for m in (
    _m("Qwen/CodeQwen1.5-7B", "base", "2024-04-16", "CodeQwen1.5", 7, _CODEQWEN),
    _m("Qwen/CodeQwen1.5-7B-Chat", "instruct", "2024-04-16", "CodeQwen1.5", 7, _CODEQWEN),
    _m("bigcode/starcoder2-3b", "base", "2024-02-28", "StarCoder2", 3, _STARCODER2),
    _m("bigcode/starcoder2-7b", "base", "2024-02-28", "StarCoder2", 7, _STARCODER2),
    _m("bigcode/starcoder2-15b", "base", "2024-02-28", "StarCoder2", 15, _STARCODER2),
    _m("bigcode/starcoder2-15b-instruct-v0.1", "instruct", "2024-04-29", "StarCoder2", 15,
       "Hugging Face blog 'StarCoder2-Instruct' (huggingface.co/blog/sc2-instruct) and the model card "
       "(not re-checked)"),
    _m("meta-llama/Meta-Llama-3-8B", "base", "2024-04-18", "Llama-3", 8, _LLAMA3),
    _m("meta-llama/Meta-Llama-3-8B-Instruct", "instruct", "2024-04-18", "Llama-3", 8, _LLAMA3),
    _m("meta-llama/Meta-Llama-3-70B-Instruct", "instruct", "2024-04-18", "Llama-3", 70, _LLAMA3),
    _m("deepseek-ai/deepseek-coder-6.7b-base", "base", "2023-11-02", "DeepSeek-Coder", 6.7, _DSCODER),
    _m("deepseek-ai/deepseek-coder-6.7b-instruct", "instruct", "2023-11-02", "DeepSeek-Coder", 6.7, _DSCODER),
    _m("deepseek-ai/deepseek-coder-33b-base", "base", "2023-11-02", "DeepSeek-Coder", 33, _DSCODER),
    _m("deepseek-ai/deepseek-coder-33b-instruct", "instruct", "2023-11-02", "DeepSeek-Coder", 33, _DSCODER),
    _m("codellama/CodeLlama-7b-hf", "base", "2023-08-24", "CodeLlama", 7, _CODELLAMA),
    _m("codellama/CodeLlama-34b-hf", "base", "2023-08-24", "CodeLlama", 34, _CODELLAMA),
    _m("codellama/CodeLlama-70b-Instruct-hf", "instruct", "2024-01-29", "CodeLlama", 70, _CODELLAMA70),
    _m("mistralai/Mistral-7B-Instruct-v0.2", "instruct", "2023-12-11", "Mistral", 7,
       "Mistral AI 'Mixtral of experts' announcement (mistral.ai/news/mixtral-of-experts), which released "
       "Mistral 7B Instruct v0.2 with it (not re-checked)"),
    _m("ise-uiuc/Magicoder-S-DS-6.7B", "instruct", "2023-12-04", "Magicoder", 6.7,
       "arXiv 2312.02120 v1, 2023-12-04, with the weights (seen)"),
    _m("bigcode/octocoder", "instruct", "2023-08-14", "OctoCoder", 15.5,
       "OctoPack, arXiv 2308.07124 v1, 2023-08-14, with the weights (not re-checked)"),
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

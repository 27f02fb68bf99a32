"""Model backends behind one interface: `get_backend(name, model=..., **options).generate(requests)`."""

from __future__ import annotations

import difflib
import importlib

from generation.backends.base import Backend, Completion, GenerationRequest, ResultCache
from harness.errors import UserError

# name -> "module:class"; imported on use so `hf` never pulls openai and `vllm` is only needed on GPUs.
BACKENDS: dict[str, str] = {
    "hf": "generation.backends.hf:HFBackend",
    "openai": "generation.backends.openai:OpenAIBackend",
    "vllm": "generation.backends.vllm:VLLMBackend",
    "llamacpp": "generation.backends.llamacpp:LlamaCppBackend",
}


def get_backend(name: str, model: str, **options) -> Backend:
    if name not in BACKENDS:
        close = difflib.get_close_matches(name, BACKENDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UserError(f"backend: unknown backend '{name}'{hint}; choose one of {', '.join(BACKENDS)}")
    module_name, _, cls_name = BACKENDS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls(model=model, **options)


__all__ = ["BACKENDS", "Backend", "Completion", "GenerationRequest", "ResultCache", "get_backend"]

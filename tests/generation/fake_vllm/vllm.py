"""FAKE `vllm` for the adapter's contract test (vLLM cannot be installed here). Not vLLM.

The signatures below are transcribed from vLLM's documented API (docs.vllm.ai, vllm/entrypoints/llm.py
and vllm/sampling_params.py, v0.8-v0.9): `LLM(model, *, ...)` with its named parameters plus the
EngineArgs fields the adapter passes through **kwargs, `SamplingParams(...)` fields, and
`LLM.generate(prompts, /, sampling_params=None, *, use_tqdm=True, ...)` /
`LLM.chat(messages, sampling_params=None, use_tqdm=True, ...)`. Unknown keyword arguments raise
TypeError, as in vLLM, so a call off the documented API fails the test. Outputs are synthetic.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

# EngineArgs fields that LLM(**kwargs) forwards (subset: the documented ones the adapter may use).
_ENGINE_ARGS = {"pipeline_parallel_size", "data_parallel_size", "max_model_len", "enable_prefix_caching",
                "max_num_seqs", "max_num_batched_tokens", "distributed_executor_backend", "load_format"}

CALLS: list[dict] = []


def _record(entry: dict) -> None:
    CALLS.append(entry)
    log = os.environ.get("FAKE_VLLM_LOG")
    if log:  # data-parallel engines live in other processes
        with open(log, "a") as fh:
            fh.write(json.dumps(entry) + "\n")


class SamplingParams:
    _FIELDS = {"n": 1, "best_of": None, "presence_penalty": 0.0, "frequency_penalty": 0.0,
               "repetition_penalty": 1.0, "temperature": 1.0, "top_p": 1.0, "top_k": -1, "min_p": 0.0,
               "seed": None, "stop": None, "stop_token_ids": None, "ignore_eos": False, "max_tokens": 16,
               "min_tokens": 0, "logprobs": None, "prompt_logprobs": None, "detokenize": True,
               "skip_special_tokens": True, "spaces_between_special_tokens": True, "logits_processors": None,
               "include_stop_str_in_output": False, "truncate_prompt_tokens": None, "guided_decoding": None,
               "logit_bias": None, "allowed_token_ids": None, "extra_args": None, "bad_words": None}

    def __init__(self, **kwargs):
        unknown = set(kwargs) - set(self._FIELDS)
        if unknown:
            raise TypeError(f"SamplingParams got unexpected keyword argument(s) {sorted(unknown)}")
        for k, v in {**self._FIELDS, **kwargs}.items():
            setattr(self, k, v)
        # Checks vLLM's _verify_args makes.
        if not isinstance(self.n, int) or self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be non-negative, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.seed is not None and not isinstance(self.seed, int):
            raise TypeError("seed must be an int")
        if self.stop is not None and not (isinstance(self.stop, str) or all(isinstance(s, str) for s in self.stop)):
            raise TypeError("stop must be a str or a list of str")


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list
    cumulative_logprob: float | None = None
    logprobs: object = None
    finish_reason: str | None = None
    stop_reason: object = None


@dataclass
class RequestOutput:
    request_id: str
    prompt: str | None
    prompt_token_ids: list
    prompt_logprobs: object = None
    outputs: list = field(default_factory=list)
    finished: bool = True


class LLM:
    def __init__(self, model: str, *, task="auto", tokenizer=None, tokenizer_mode="auto", skip_tokenizer_init=False,
                 trust_remote_code=False, allowed_local_media_path="", tensor_parallel_size=1, dtype="auto",
                 quantization=None, revision=None, tokenizer_revision=None, seed=None, gpu_memory_utilization=0.9,
                 swap_space=4, cpu_offload_gb=0, enforce_eager=False, max_seq_len_to_capture=8192,
                 disable_custom_all_reduce=False, disable_async_output_proc=False, hf_token=None,
                 hf_overrides=None, mm_processor_kwargs=None, override_pooler_config=None,
                 compilation_config=None, **kwargs):
        unknown = set(kwargs) - _ENGINE_ARGS
        if unknown:
            raise TypeError(f"EngineArgs got unexpected keyword argument(s) {sorted(unknown)}")
        self.model = model
        _record({"call": "LLM", "model": model, "tensor_parallel_size": tensor_parallel_size, "dtype": dtype,
                 "seed": seed, "kwargs": kwargs, "pid": os.getpid(),
                 "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")})

    def _outputs(self, prompts: list, params: list, name: str) -> list[RequestOutput]:
        if isinstance(params, SamplingParams):
            params = [params] * len(prompts)
        if len(params) != len(prompts):
            raise ValueError("The lengths of prompts and sampling_params must be the same.")
        outs = []
        for i, (prompt, sp) in enumerate(zip(prompts, params)):
            if not isinstance(sp, SamplingParams):
                raise TypeError("sampling_params must be SamplingParams")
            text_len = 5
            outs.append(RequestOutput(
                request_id=str(i), prompt=prompt if isinstance(prompt, str) else None,
                prompt_token_ids=list(range(len(str(prompt)))),
                outputs=[CompletionOutput(index=j, text=f"{name}|{sp.seed}|{j}|{str(prompt)[-8:]}",
                                          token_ids=list(range(min(text_len, sp.max_tokens))),
                                          finish_reason="length" if sp.max_tokens <= text_len else "stop")
                         for j in range(sp.n)]))
        _record({"call": name, "n_prompts": len(prompts), "pid": os.getpid()})
        return outs

    def generate(self, prompts, /, sampling_params=None, *, use_tqdm=True, lora_request=None,
                 prompt_adapter_request=None, guided_options_request=None):
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        if not all(isinstance(p, str) for p in prompts):
            raise TypeError("generate() takes text prompts here")
        return self._outputs(prompts, sampling_params, "generate")

    def chat(self, messages, sampling_params=None, use_tqdm=True, lora_request=None, chat_template=None,
             chat_template_content_format="auto", add_generation_prompt=True, continue_final_message=False,
             tools=None, chat_template_kwargs=None, mm_processor_kwargs=None):
        conversations = [messages] if messages and isinstance(messages[0], dict) else list(messages)
        for conv in conversations:
            if not all(isinstance(m, dict) and {"role", "content"} <= m.keys() for m in conv):
                raise TypeError("each conversation must be a list of {'role', 'content'} messages")
        return self._outputs(conversations, sampling_params, "chat")

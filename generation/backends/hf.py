"""transformers in-process: batched greedy decoding with left padding; sampling seeded per request.

The CPU default and the GPU fallback. Sampled requests run one at a time under their own seed, so a
request's samples do not depend on which other requests shared its batch (resume gives the same text).
"""

from __future__ import annotations

from collections import defaultdict

from generation.backends.base import Backend, Completion, Emit, GenerationRequest, truncate_at_stop
from harness.errors import UserError

# Samples drawn per generate() call; fixed (not batch_size) because it decides how the seeded RNG is consumed.
SAMPLES_PER_CALL = 16


class HFBackend(Backend):
    name = "hf"

    def __init__(self, model: str, cache=None, progress: bool = True, batch_size: int = 16, dtype: str = "auto",
                 device: str | None = None, trust_remote_code: bool = False):
        super().__init__(model, cache=cache, progress=progress)
        if batch_size < 1:
            raise UserError(f"batch_size: must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        self.dtype = dtype
        self.device = device
        self.trust_remote_code = trust_remote_code
        self._tok = None
        self._model = None

    def options(self) -> dict:
        # batch_size is left out: greedy results do not depend on it (up to padding numerics).
        return {"dtype": self.dtype}

    @property
    def tokenizer(self):
        if self._tok is None:
            from transformers import AutoTokenizer

            try:
                self._tok = AutoTokenizer.from_pretrained(self.model, trust_remote_code=self.trust_remote_code)
            except (OSError, ValueError) as exc:
                raise UserError(f"model: cannot load a tokenizer from '{self.model}' ({exc})") from None
            self._tok.padding_side = "left"
        return self._tok

    @property
    def hf_model(self):
        """The loaded transformers model (loaded on first use, so a fully cached rerun never loads it)."""
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM

            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            # "auto" spreads a model too large for one GPU over all of them (accelerate's device_map).
            placement = {"device_map": "auto"} if device == "auto" else {}
            try:
                model = AutoModelForCausalLM.from_pretrained(self.model, dtype=self.dtype,
                                                             trust_remote_code=self.trust_remote_code, **placement)
            except (OSError, ValueError) as exc:
                raise UserError(f"model: cannot load '{self.model}' ({exc})") from None
            self._model = (model if placement else model.to(device)).eval()
        return self._model

    def render(self, request: GenerationRequest) -> str:
        if not request.is_chat:
            return request.prompt
        if not self.tokenizer.chat_template:
            raise UserError(f"model: '{self.model}' has no chat template, so it cannot take chat messages")
        return self.tokenizer.apply_chat_template(request.prompt, add_generation_prompt=True, tokenize=False)

    def encode(self, text: str) -> list[int]:
        tok = self.tokenizer
        # A rendered chat template already starts with BOS; adding another would shift the model.
        add_special = not (tok.bos_token and text.startswith(tok.bos_token))
        return tok(text, add_special_tokens=add_special)["input_ids"]

    def generation_kwargs(self, request: GenerationRequest, num_return_sequences: int = 1) -> dict:
        from transformers import GenerationConfig

        model = self.hf_model
        config = GenerationConfig(
            max_new_tokens=request.max_new_tokens, do_sample=not request.greedy,
            temperature=None if request.greedy else request.temperature,
            top_p=None if request.greedy else request.top_p, top_k=None,
            num_return_sequences=num_return_sequences,
            eos_token_id=model.generation_config.eos_token_id, pad_token_id=self.pad_id(),
            stop_strings=list(request.stop) or None,
        )
        kwargs = {"generation_config": config}
        if request.stop:
            kwargs["tokenizer"] = self.tokenizer
        return kwargs

    def pad_batch(self, ids: list[list[int]]):
        import torch

        pad = self.pad_id()
        width = max(len(x) for x in ids)
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids])
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids])
        device = self.hf_model.device
        return input_ids.to(device), mask.to(device)

    def pad_id(self) -> int:
        tok = self.tokenizer
        if tok.pad_token_id is not None:
            return tok.pad_token_id
        eos = self.hf_model.generation_config.eos_token_id
        return eos[0] if isinstance(eos, list) else eos

    def _eos_ids(self) -> set[int]:
        eos = self.hf_model.generation_config.eos_token_id
        return set(eos if isinstance(eos, list) else [] if eos is None else [eos])

    def decode(self, new_ids: list[int], request: GenerationRequest, prompt_tokens: int) -> Completion:
        eos, pad = self._eos_ids(), self.pad_id()
        hit_eos = False
        for pos, token in enumerate(new_ids):
            if token in eos:
                new_ids, hit_eos = new_ids[: pos + 1], True
                break
        if not hit_eos:
            while new_ids and new_ids[-1] == pad:  # padding after a stop string ended this row early
                new_ids = new_ids[:-1]
        text, stopped = truncate_at_stop(self.tokenizer.decode(new_ids, skip_special_tokens=True), request.stop)
        ran_out = not (hit_eos or stopped) and len(new_ids) >= request.max_new_tokens
        return Completion(text=text, finish_reason="length" if ran_out else "stop", prompt_tokens=prompt_tokens,
                          completion_tokens=len(new_ids))

    def _generate(self, requests: list[GenerationRequest], emit: Emit) -> None:
        import torch

        encoded = [self.encode(self.render(r)) for r in requests]
        greedy: dict[tuple, list[int]] = defaultdict(list)
        sampled: list[int] = []
        for i, r in enumerate(requests):
            if r.greedy:
                greedy[(r.max_new_tokens, r.stop)].append(i)
            else:
                sampled.append(i)
        with torch.inference_mode():
            for indices in greedy.values():
                # Similar lengths together waste less compute on padding.
                indices = sorted(indices, key=lambda i: len(encoded[i]))
                for start in range(0, len(indices), self.batch_size):
                    batch = indices[start: start + self.batch_size]
                    input_ids, mask = self.pad_batch([encoded[i] for i in batch])
                    out = self.hf_model.generate(input_ids=input_ids, attention_mask=mask,
                                                 **self.generation_kwargs(requests[batch[0]]))
                    for row, i in enumerate(batch):
                        one = self.decode(out[row, input_ids.shape[1]:].tolist(), requests[i], len(encoded[i]))
                        emit(i, [one] * requests[i].n)  # greedy samples are identical
            for i in sampled:
                r = requests[i]
                torch.manual_seed(r.seed)
                input_ids, mask = self.pad_batch([encoded[i]])
                samples: list[Completion] = []
                while len(samples) < r.n:
                    k = min(SAMPLES_PER_CALL, r.n - len(samples))
                    out = self.hf_model.generate(input_ids=input_ids, attention_mask=mask,
                                                 **self.generation_kwargs(r, num_return_sequences=k))
                    samples += [self.decode(row[input_ids.shape[1]:].tolist(), r, len(encoded[i])) for row in out]
                emit(i, samples)

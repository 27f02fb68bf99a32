"""Any OpenAI-compatible server (vllm serve, SGLang, TGI, transformers serve, hosted APIs), over one or many URLs.

Requests run concurrently (asyncio), each call goes to the least-busy server, and transient errors
(connection, timeout, 429, 5xx) are retried with exponential backoff on whichever server is free next.
Servers that return fewer than `n` choices are asked again for the rest, with the next seed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random

from generation.backends.base import Backend, Completion, Emit, GenerationRequest, truncate_at_stop
from harness.errors import UserError

SERVER_FLAVORS = ("openai", "transformers")


def base_urls_from_env() -> list[str]:
    value = os.environ.get("OPENAI_BASE_URL", "")
    return [u.strip() for u in value.split(",") if u.strip()]


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, model: str, cache=None, progress: bool = True, base_urls: list[str] | str | None = None,
                 api_key: str | None = None, concurrency: int = 8, max_retries: int = 5, timeout_s: float = 600.0,
                 server: str = "openai", backoff_s: float = 1.0):
        super().__init__(model, cache=cache, progress=progress)
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls or [])
        self.base_urls = urls or base_urls_from_env()
        if not self.base_urls:
            raise UserError("--base-url: no server given; pass --base-url URL (repeatable) or set OPENAI_BASE_URL")
        if server not in SERVER_FLAVORS:
            raise UserError(f"--server: unknown server flavor '{server}'; choose one of {', '.join(SERVER_FLAVORS)}")
        if concurrency < 1:
            raise UserError(f"--concurrency: must be at least 1, got {concurrency}")
        # Local servers accept any key; the client refuses to start without one.
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.server = server
        self.backoff_s = backoff_s

    def options(self) -> dict:
        # URLs are left out on purpose: every listed server serves the same model, so results are shared.
        return {"server": self.server}

    def _generate(self, requests: list[GenerationRequest], emit: Emit) -> None:
        asyncio.run(self._run_all(requests, emit))

    async def _run_all(self, requests: list[GenerationRequest], emit: Emit) -> None:
        from openai import AsyncOpenAI

        # Retries are ours (below), so a failing server hands its work to a healthy one.
        self._clients = [AsyncOpenAI(base_url=u, api_key=self.api_key, max_retries=0, timeout=self.timeout_s)
                         for u in self.base_urls]
        self._busy = [0] * len(self._clients)
        self._slots = [asyncio.Semaphore(self.concurrency) for _ in self._clients]
        gate = asyncio.Semaphore(self.concurrency * len(self._clients))

        async def one(index: int, request: GenerationRequest) -> None:
            async with gate:
                completions = await self._complete(request)
            emit(index, completions)

        tasks = [asyncio.create_task(one(i, r)) for i, r in enumerate(requests)]
        try:
            for done in asyncio.as_completed(tasks):
                await done
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for client in self._clients:
                await client.close()

    async def _complete(self, request: GenerationRequest) -> list[Completion]:
        completions: list[Completion] = []
        calls = 0
        while len(completions) < request.n:
            # Each extra call gets the next seed, else a seeded sampler would repeat its first answer.
            got = await self._call(request, request.n - len(completions), request.seed + calls)
            calls += 1
            if not got:
                raise UserError(f"--base-url: server returned no choices for model '{self.model}'")
            completions.extend(got[: request.n - len(completions)])
        return completions

    def _pick(self, avoid: int | None) -> int:
        order = sorted(range(len(self._clients)), key=lambda i: (i == avoid, self._busy[i], random.random()))
        return order[0]

    async def _call(self, request: GenerationRequest, n: int, seed: int) -> list[Completion]:
        import openai

        last_error, failed = None, None
        for attempt in range(self.max_retries + 1):
            if attempt:
                await asyncio.sleep(min(self.backoff_s * 2 ** (attempt - 1), 30.0) * (0.5 + random.random()))
            i = self._pick(failed)
            self._busy[i] += 1
            try:
                async with self._slots[i]:
                    return await self._request(self._clients[i], request, n, seed)
            except (openai.APIConnectionError, openai.APITimeoutError, openai.RateLimitError,
                    openai.InternalServerError) as exc:
                last_error, failed = exc, i
            except openai.APIStatusError as exc:
                if exc.status_code in (408, 409):  # request timeout / conflict: worth another try
                    last_error, failed = exc, i
                    continue
                raise UserError(f"--base-url {self.base_urls[i]}: server refused the request for model "
                                f"'{self.model}' (HTTP {exc.status_code}: {exc.message})") from None
            finally:
                self._busy[i] -= 1
        raise UserError(f"--base-url: gave up after {self.max_retries + 1} attempts over "
                        f"{len(self.base_urls)} server(s): {type(last_error).__name__}: {last_error}")

    async def _request(self, client, request: GenerationRequest, n: int, seed: int) -> list[Completion]:
        kwargs = dict(model=self.model, n=n, temperature=request.temperature, top_p=request.top_p,
                      max_tokens=request.max_new_tokens, seed=seed)
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if self.server == "transformers" and not request.greedy:
            # transformers serve decodes greedily unless do_sample comes in its generation_config.
            kwargs["extra_body"] = {"generation_config": json.dumps({"do_sample": True})}
        if request.is_chat:
            resp = await client.chat.completions.create(messages=request.prompt, **kwargs)
            choices = [(c.index, c.message.content or "", c.finish_reason) for c in resp.choices]
        else:
            resp = await client.completions.create(prompt=request.prompt, **kwargs)
            choices = [(c.index, c.text or "", c.finish_reason) for c in resp.choices]
        usage = resp.usage
        out = []
        for _, text, reason in sorted(choices, key=lambda c: c[0]):
            # Some servers return the stop string (transformers serve does); cut it as OpenAI would.
            text, stopped = truncate_at_stop(text, request.stop)
            out.append(Completion(
                text=text, finish_reason="length" if reason == "length" and not stopped else "stop",
                prompt_tokens=usage.prompt_tokens if usage else None,
                completion_tokens=usage.completion_tokens if usage and len(choices) == 1 else None))
        return out

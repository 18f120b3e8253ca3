"""The 40 regression heads of EmpathicInsight-Face in one batched module, the authors' released
per-emotion files, and our checkpoints.

:class:`Heads` holds all 40 MLPs as stacked weights: layer ``l`` has ``weight`` ``(40, in, out)``
and ``bias`` ``(40, out)``. The first layer is one matmul of the shared embedding with all heads'
weights side by side (stored ``(in, 40, out)``), each later layer one batched matmul
(``torch.bmm``) over the heads. Shapes (:data:`SHAPES`): Small ``D -> 128 -> 32 -> 1`` and Large
``D -> 1024 -> 512 -> 256 -> 1``, ReLU and dropout after every hidden layer; ``D`` is 1152 for
SigLIP2 so400m, smaller for the local stand-in encoder. Output: ``(n, 40)`` scores on the 0-7
scale, canonical emotion order.

Input standardisation: the module first maps an embedding ``x`` to ``(x - input_mean) /
input_scale`` (buffers ``(D,)``; identity unless set with :meth:`Heads.standardise`, e.g. to the
training embeddings' per-dimension mean and SD). It is part of the model, so :func:`predict`,
:func:`scores`, ``emonet predict`` and chapter 06 apply it; exported per-head state dicts
(:meth:`Heads.sequential_state`) fold it into the first layer, so the released layout reproduces
the same predictions.

The authors' released per-emotion files load into the same module with
:func:`emonet.model.released.load_released`.

Our checkpoint: ``NAME.safetensors`` (the module's tensors: ``layers.<l>.weight``,
``(D, 40, h1)`` for the first layer and ``(40, in, out)`` for the others, ``layers.<l>.bias``
``(40, out)``, and the input standardisation ``input.mean`` / ``input.scale`` ``(D,)``) plus
``NAME.json`` with :data:`CHECKPOINT_FORMAT`, the shape, input dim, dropout, emotion order, the
encoder spec, neutral means, training settings and the SHA-256 of the weights file.
:func:`load_checkpoint` verifies all of it and fails with a message naming the file and the
problem. Checkpoints of the first format (``emonet-heads/1``, no standardisation tensors) still
load, with the identity standardisation they were trained with.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from emonet.data import taxonomy
from emonet.data.checksums import sha256_of
from emonet.io import atomic_path, write_text

#: Hidden widths of the paper's two head shapes.
SHAPES: dict[str, tuple[int, ...]] = {"small": (128, 32), "large": (1024, 512, 256)}


CHECKPOINT_FORMAT = "emonet-heads/2"


#: Older formats :func:`load_checkpoint` still reads (``emonet-heads/1``: no input standardisation).
READABLE_FORMATS = ("emonet-heads/1", CHECKPOINT_FORMAT)


#: Safetensors names of the input standardisation buffers.
STANDARDISATION = {"input.mean": "input_mean", "input.scale": "input_scale"}


class CheckpointError(ValueError):
    """A checkpoint or released head file is missing, corrupt or does not fit."""


def _add_in_chunks(target: torch.Tensor, other: torch.Tensor, chunk: int = 1 << 20) -> None:
    """``target += other`` for contiguous tensors of another dtype, a million elements at a
    time: one mixed-dtype ``add_`` converts ``other`` into a temporary as large as itself (a
    fresh 188 MB allocation for the Large first layer, 8x slower than this on CPU)."""
    for t, o in zip(target.view(-1).split(chunk), other.view(-1).split(chunk)):
        t.add_(o)


class _StackedLinear(torch.autograd.Function):
    """``h @ W + b`` for all heads at once. ``h``: the shared ``(n, D)`` input with ``W``
    ``(D, heads, out)`` (first layer), or ``(heads, n, in)`` with ``W`` ``(heads, in, out)``;
    ``low``: ``W`` in the compute dtype (``W`` itself for fp32); ``scratch``: a persistent
    buffer of ``low``'s shape and dtype for its weight gradient (None for fp32).

    The backward *adds the weight gradient in place into* ``W.grad`` (created once, then kept:
    zero it with ``zero_grad(set_to_none=False)``) and returns None for ``W``, so autograd never
    allocates it: on CPU a fresh gradient of the Large first layer (47M floats, 188 MB) costs as
    much in page faults as its matmul (``benchmarks/bench_heads.py``). ``loss.backward()``
    therefore leaves the usual ``.grad`` behind, but ``torch.autograd.grad`` and gradient hooks
    do not see the weights' gradients.
    """

    @staticmethod
    def forward(ctx, h, weight, bias, low, scratch):
        ctx.save_for_backward(h, low)
        ctx.weight, ctx.scratch = weight, scratch
        b = bias.to(low.dtype)
        if h.ndim == 2:
            return torch.addmm(b.reshape(-1), h, low.reshape(low.shape[0], -1))
        return torch.baddbmm(b[:, None, :], h, low)

    @staticmethod
    def backward(ctx, grad):
        h, low = ctx.saved_tensors
        weight, scratch = ctx.weight, ctx.scratch
        grad = grad.to(low.dtype)
        if weight.grad is None:
            weight.grad = torch.zeros_like(weight)
        first = h.ndim == 2
        if scratch is None:  # fp32: accumulate straight into the gradient
            if first:
                weight.grad.view(weight.shape[0], -1).addmm_(h.T, grad)
            else:
                weight.grad.baddbmm_(h.transpose(1, 2), grad)
        else:  # low precision: the product into the scratch buffer, then add it in fp32
            if first:
                torch.mm(h.T, grad, out=scratch.view(scratch.shape[0], -1))
            else:
                torch.bmm(h.transpose(1, 2), grad, out=scratch)
            _add_in_chunks(weight.grad, scratch)
        grad_h = None
        if ctx.needs_input_grad[0]:
            grad_h = (
                grad @ low.reshape(low.shape[0], -1).T
                if first
                else torch.bmm(grad, low.transpose(1, 2))
            )
        grad_b = grad.sum(0).view(weight.shape[1:]) if first else grad.sum(1)
        return grad_h, None, grad_b.float(), None, None


class Heads(nn.Module):
    """All 40 heads, stacked. ``forward(x (n, D)) -> (n, 40)``.

    Initialised like ``nn.Linear`` (uniform in ``±1/sqrt(in)``) from ``seed``, so two modules
    with the same arguments are identical. ``forward(x, compute_dtype=torch.bfloat16)`` runs the
    matmuls in bf16 (mixed precision for training on CPUs with native bf16: parameters,
    gradients and optimiser state stay fp32; bf16 copies of the weights are refreshed whenever
    the weights change). Weight gradients accumulate in place (see :class:`_StackedLinear`).
    """

    def __init__(
        self,
        shape: str = "large",
        input_dim: int = 1152,
        dropout: float = 0.1,
        n_heads: int = taxonomy.N_EMOTIONS,
        seed: int = 0,
    ):
        super().__init__()
        if shape not in SHAPES:
            raise ValueError(f"unknown head shape {shape!r}; choose one of {list(SHAPES)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.shape, self.input_dim, self.dropout = shape, int(input_dim), float(dropout)
        self.n_heads = int(n_heads)
        widths = self.widths
        gen = torch.Generator().manual_seed(int(seed))
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for layer, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            bound = 1.0 / math.sqrt(fan_in)
            weight = (torch.rand(n_heads, fan_in, fan_out, generator=gen) * 2 - 1) * bound
            if layer == 0:  # stored (in, heads, out): all heads side by side, one matmul
                weight = weight.permute(1, 0, 2).contiguous()
            self.weights.append(nn.Parameter(weight))
            self.biases.append(
                nn.Parameter((torch.rand(n_heads, fan_out, generator=gen) * 2 - 1) * bound)
            )
        self.register_buffer("input_mean", torch.zeros(self.input_dim))
        self.register_buffer("input_scale", torch.ones(self.input_dim))
        self.drop = nn.Dropout(self.dropout)
        # Per layer, a low-precision copy of the weight and a scratch buffer for its gradient,
        # allocated on first use of a compute dtype and reused (no allocation per step).
        self._low: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def standardise(self, embeddings, min_scale: float = 1e-6) -> Heads:
        """Set the input standardisation to the per-dimension mean and SD of ``embeddings``
        ``(n, D)`` (SDs below ``min_scale`` count as ``min_scale``); returns ``self``."""
        x = torch.as_tensor(np.asarray(embeddings, np.float32))
        if x.ndim != 2 or x.shape[1] != self.input_dim or len(x) < 2:
            raise ValueError(
                f"standardise needs embeddings of shape (n >= 2, {self.input_dim}), "
                f"got {tuple(x.shape)}"
            )
        with torch.no_grad():
            self.input_mean.copy_(x.mean(0))
            self.input_scale.copy_(x.std(0).clamp_min(min_scale))
        return self

    @property
    def standardised(self) -> bool:
        """Whether the input standardisation differs from the identity."""
        return bool((self.input_mean != 0).any() or (self.input_scale != 1).any())

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.input_dim, *SHAPES[self.shape], 1)

    def _in_dtype(self, layer: int, dtype: torch.dtype):
        """``(weight of layer in dtype, its gradient scratch buffer)``; ``(weight, None)`` when
        dtype is the weight's. The copy is refreshed on every call (optimisers such as the fused
        AdamW change weights without bumping their version counter)."""
        w = self.weights[layer]
        if dtype == w.dtype:
            return w, None
        if layer not in self._low or self._low[layer][0].dtype != dtype:
            self._low[layer] = (torch.empty_like(w, dtype=dtype), torch.empty_like(w, dtype=dtype))
        low, scratch = self._low[layer]
        with torch.no_grad():
            low.copy_(w)
        return low, scratch

    def forward(self, x: torch.Tensor, compute_dtype: torch.dtype = torch.float32) -> torch.Tensor:
        n = x.shape[0]
        h = ((x - self.input_mean) / self.input_scale).to(compute_dtype)
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            if layer:
                h = self.drop(torch.relu(h))
            low, scratch = self._in_dtype(layer, compute_dtype)
            # Layer 1: the embedding is shared, so all heads are one (n, D) @ (D, 40 * h)
            # matmul; later layers one batched matmul (40, n, in) @ (40, in, out).
            h = _StackedLinear.apply(h, w, b, low, scratch)
            if layer == 0:
                h = h.reshape(n, self.n_heads, -1).transpose(0, 1)  # (40, n, h)
        return h[..., 0].T.float()  # (n, 40)

    def layer_weight(self, layer: int) -> torch.Tensor:
        """Weights of ``layer`` as ``(heads, in, out)`` (a view)."""
        w = self.weights[layer]
        return w.permute(1, 0, 2) if layer == 0 else w

    def sequential_state(self, head: int) -> dict[str, torch.Tensor]:
        """State dict of head ``head`` in the released ``nn.Sequential`` layout, the input
        standardisation folded into the first layer (``W / scale``, ``b - (mean / scale) W``)."""
        out = {}
        for layer, b in enumerate(self.biases):
            w, b = self.layer_weight(layer)[head].detach(), b[head].detach()
            if layer == 0:
                w = w / self.input_scale[:, None]
                b = b - (self.input_mean / self.input_scale) @ self.layer_weight(0)[head].detach()
            out[f"layers.{3 * layer}.weight"] = w.T.contiguous().clone()
            out[f"layers.{3 * layer}.bias"] = b.clone()
        return out


@dataclass
class Checkpoint:
    """A trained model: heads, the encoder they were trained on, neutral means ``(40,)`` and
    free-form training settings."""

    heads: Heads
    encoder: dict
    neutral_means: np.ndarray
    training: dict = field(default_factory=dict)

    def scores(self, embeddings: np.ndarray) -> dict[str, np.ndarray]:
        """``raw``, ``mean_subtracted`` and ``softmax`` ``(n, 40)`` for embeddings ``(n, D)``
        (eval mode; softmax over the 40 mean-subtracted scores)."""
        return scores(self.heads, embeddings, self.neutral_means)


def predict(heads: Heads, embeddings: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Raw scores ``(n, 40)`` of ``heads`` (eval mode, no dropout) for embeddings ``(n, D)``."""
    x = torch.as_tensor(np.asarray(embeddings, np.float32))
    if x.ndim != 2 or x.shape[1] != heads.input_dim:
        raise CheckpointError(
            f"embeddings of shape {tuple(x.shape)} do not fit heads with "
            f"input dim {heads.input_dim}"
        )
    was = heads.training
    heads.eval()
    with torch.no_grad():
        out = (
            torch.cat([heads(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
            if len(x)
            else torch.zeros(0, heads.n_heads)
        )
    heads.train(was)
    return out.numpy()


def scores(heads: Heads, embeddings: np.ndarray, neutral_means) -> dict[str, np.ndarray]:
    """The paper's three readings: ``raw`` (0-7 scale), ``mean_subtracted`` (raw minus the
    head's neutral mean) and ``softmax`` over the 40 mean-subtracted scores; each ``(n, 40)``."""
    raw = predict(heads, embeddings)
    centred = raw - np.asarray(neutral_means, np.float32)[None, :]
    shifted = np.exp(centred - centred.max(axis=1, keepdims=True))
    return {
        "raw": raw,
        "mean_subtracted": centred,
        "softmax": shifted / shifted.sum(axis=1, keepdims=True),
    }


def metadata_path(path) -> Path:
    """The JSON beside a ``.safetensors`` checkpoint."""
    return Path(path).with_suffix(".json")


def save_checkpoint(checkpoint: Checkpoint, path) -> Path:
    """Write ``path`` (``.safetensors``) and its JSON metadata atomically; return ``path``."""
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise CheckpointError(f"checkpoint path must end in .safetensors, got {path}")
    heads = checkpoint.heads
    neutral = np.asarray(checkpoint.neutral_means, float)
    if neutral.shape != (heads.n_heads,):  # checked before anything is written
        raise CheckpointError(
            f"neutral means must have one value per head ({heads.n_heads}), "
            f"got shape {neutral.shape}"
        )
    tensors = {}
    for layer, (w, b) in enumerate(zip(heads.weights, heads.biases)):
        tensors[f"layers.{layer}.weight"] = w.detach().contiguous().cpu()
        tensors[f"layers.{layer}.bias"] = b.detach().contiguous().cpu()
    for name, buffer in STANDARDISATION.items():
        tensors[name] = getattr(heads, buffer).detach().contiguous().cpu()
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp))
    meta = {
        "format": CHECKPOINT_FORMAT,
        "shape": heads.shape,
        "widths": list(heads.widths),
        "input_dim": heads.input_dim,
        "dropout": heads.dropout,
        "emotions": list(taxonomy.EMOTIONS),
        "encoder": checkpoint.encoder,
        "neutral_means": [round(float(v), 6) for v in neutral],
        "input_standardised": heads.standardised,
        "training": checkpoint.training,
        "weights_file": path.name,
        "weights_sha256": sha256_of(path),
    }
    write_text(metadata_path(path), json.dumps(meta, indent=1, default=str) + "\n")
    return path


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`, verifying the format, the weights'
    SHA-256, the emotion order and every tensor's shape."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if path.suffix != ".safetensors":
        hint = (
            (
                f"; {path.name} is its metadata: pass {path.with_suffix('.safetensors').name} "
                "beside it"
            )
            if path.suffix == ".json"
            else ""
        )
        raise CheckpointError(
            f"{path}: a checkpoint is the .safetensors weights file (with its "
            f".json metadata beside it){hint}"
        )
    meta_file = metadata_path(path)
    for f in (path, meta_file):
        if not f.is_file():
            raise CheckpointError(f"checkpoint file {f} is missing")
    try:
        meta = json.loads(meta_file.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{meta_file}: not valid JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") not in READABLE_FORMATS:
        raise CheckpointError(
            f"{meta_file}: not an emonet heads checkpoint this version reads "
            f"(format {meta.get('format') if isinstance(meta, dict) else None!r}"
            f", expected one of {READABLE_FORMATS})"
        )
    missing = [
        k
        for k in (
            "shape",
            "input_dim",
            "dropout",
            "emotions",
            "encoder",
            "neutral_means",
            "weights_sha256",
        )
        if k not in meta
    ]
    if missing:
        raise CheckpointError(f"{meta_file}: metadata lacks {missing}")
    if meta["emotions"] != list(taxonomy.EMOTIONS):
        raise CheckpointError(
            f"{meta_file}: its emotion order differs from the taxonomy's canonical order"
        )
    digest = sha256_of(path)
    if digest != meta["weights_sha256"]:
        raise CheckpointError(
            f"{path}: SHA-256 {digest[:12]}... does not match the "
            f"{meta['weights_sha256'][:12]}... recorded in {meta_file.name} "
            "(corrupt or replaced weights file)"
        )
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path}: cannot be read as safetensors ({err})") from None
    if meta["shape"] not in SHAPES:
        raise CheckpointError(f"{meta_file}: unknown head shape {meta['shape']!r}")
    heads = Heads(meta["shape"], meta["input_dim"], meta["dropout"])
    expected = {}
    for layer, (w, b) in enumerate(zip(heads.weights, heads.biases)):
        expected[f"layers.{layer}.weight"], expected[f"layers.{layer}.bias"] = w, b
    if meta["format"] != "emonet-heads/1":  # the first format had no input standardisation
        expected.update({name: getattr(heads, buffer) for name, buffer in STANDARDISATION.items()})
    if set(tensors) != set(expected):
        raise CheckpointError(
            f"{path}: tensors {sorted(tensors)} do not match a "
            f"{meta['shape']} head stack ({sorted(expected)})"
        )
    with torch.no_grad():
        for name, param in expected.items():
            if tuple(tensors[name].shape) != tuple(param.shape):
                raise CheckpointError(
                    f"{path}: tensor {name} has shape "
                    f"{tuple(tensors[name].shape)}, expected "
                    f"{tuple(param.shape)} for {meta['shape']} heads on "
                    f"{meta['input_dim']}-d embeddings"
                )
            param.copy_(tensors[name])
    neutral = np.asarray(meta["neutral_means"], float)
    if neutral.shape != (taxonomy.N_EMOTIONS,):
        raise CheckpointError(
            f"{meta_file}: neutral_means must hold 40 values, got {neutral.shape}"
        )
    heads.eval()
    return Checkpoint(heads, meta["encoder"], neutral, meta.get("training", {}))

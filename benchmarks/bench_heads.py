"""Time one training epoch of the batched 40-head module (emonet.model.heads.Heads) against the
released layout: 40 separate nn.Sequential heads trained one after another, each with its own
standard AdamW and DataLoader, on the same embeddings and targets.

Checks first that both give the same predictions from the same weights (and how far the bf16
path is from fp32), then prints per shape (Small, Large) and batch size the seconds per epoch,
the arithmetic done (GFLOP per epoch, the same on both sides) and the rate achieved (GFLOP/s):

* ``separate``: the released layout, default ``torch.optim.AdamW`` per head (the baseline);
* ``separate+fused``: the same loop with ``AdamW(fused=True)`` per head (how much of the gain is
  the optimiser alone);
* ``batched (round 1)``: the stacked weights with plain autograd ops and the default AdamW, as
  round 1 of chapter 05 trained them;
* ``batched``: ``emonet.model.heads.Heads`` as ``emonet.model.training`` trains it (fused AdamW, weight
  gradients accumulated in place, fp32);
* ``batched bf16``: the same with the matmuls in bf16 (``compute_dtype``; parameters, gradients
  and optimiser state fp32).

    .venv/bin/python benchmarks/bench_heads.py [--images N] [--batch-sizes 32 64 ...]
        [--shapes small large] [--threads 2] [--repeats 2]

Defaults: 1,024 images of 1152-d embeddings, batch sizes 32, 64, 128 and 256, both shapes, 2
threads; the best of 2 epochs per variant. Ratios are separate / variant (higher: faster).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from emonet.data import taxonomy
from emonet.model import heads, released

DIM = 1152


def flops_per_image(shape: str, dim: int = DIM) -> int:
    """Floating-point operations of one training step per image, summed over the 40 heads:
    forward (2 per multiply-add) plus backward (weight gradients of every layer, input gradients
    of all but the first, whose input, the embedding, needs none)."""
    widths = (dim, *heads.SHAPES[shape], 1)
    macs = [a * b for a, b in zip(widths[:-1], widths[1:])]
    return taxonomy.N_EMOTIONS * 2 * (2 * sum(macs) + sum(macs[1:]))


def separate_epoch(modules, optimisers, x, y, batch_size, seed):
    """The released layout: for each head in turn, one pass over the data with its own loader."""
    for i, (module, opt) in enumerate(zip(modules, optimisers)):
        loader = DataLoader(
            TensorDataset(x, y[:, i : i + 1]),
            batch_size=batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed + i),
        )
        module.train()
        for xb, yb in loader:
            loss = torch.nn.functional.mse_loss(module(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def round1_forward(module: heads.Heads, x: torch.Tensor) -> torch.Tensor:
    """Round 1's forward: the same stacked weights through plain autograd ops (a fresh weight
    gradient every step)."""
    n = x.shape[0]
    h = torch.addmm(module.biases[0].reshape(-1), x, module.weights[0].reshape(DIM, -1))
    h = h.reshape(n, module.n_heads, -1).transpose(0, 1)
    for w, b in zip(module.weights[1:], module.biases[1:]):
        h = torch.baddbmm(b[:, None, :], module.drop(torch.relu(h)), w)
    return h[..., 0].T


def batched_epoch(module, opt, x, y, batch_size, seed, variant="fp32"):
    """All 40 heads together: one shuffled pass, one loss, one optimiser step per batch.
    ``variant``: ``"round 1"``, ``"fp32"`` or ``"bf16"``."""
    module.train()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    for start in range(0, len(x), batch_size):
        idx = order[start : start + batch_size]
        pred = (
            round1_forward(module, x[idx])
            if variant == "round 1"
            else module(x[idx], torch.bfloat16 if variant == "bf16" else torch.float32)
        )
        loss = torch.nn.functional.mse_loss(pred, y[idx]) * taxonomy.N_EMOTIONS
        opt.zero_grad(set_to_none=variant == "round 1")
        loss.backward()
        opt.step()


def timed(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` calls after one warm-up call (seconds)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - tic)
    return best


def separate_copies(batched: heads.Heads, shape: str) -> list[released.ReleasedHead]:
    modules = []
    for i in range(taxonomy.N_EMOTIONS):
        module = released.ReleasedHead(shape, DIM, dropout=batched.dropout)
        module.load_state_dict(batched.sequential_state(i))
        modules.append(module)
    return modules


def check_predictions(shape: str, x: torch.Tensor) -> None:
    """Same weights -> same predictions (fp32), and the bf16 path's distance from fp32."""
    batched = heads.Heads(shape, DIM, dropout=0.1, seed=0).eval()
    modules = separate_copies(batched, shape)
    with torch.no_grad():
        separate = torch.cat([m.eval()(x) for m in modules], dim=1)
        ours, half = batched(x), batched(x, torch.bfloat16)
    scale = float(separate.abs().max())
    print(
        f"{shape}: max |batched - separate| = {float((ours - separate).abs().max()):.1e} (fp32), "
        f"max |bf16 - fp32| = {float((half - separate).abs().max()):.1e} "
        f"(outputs up to {scale:.2f})"
    )


def variants(shape: str, x, y, batch_size: int) -> dict:
    """``{name: one epoch}`` of every variant, each with its own weights and optimiser."""
    out = {}
    for fused in (False, True):
        modules = separate_copies(heads.Heads(shape, DIM, dropout=0.1, seed=0), shape)
        opts = [torch.optim.AdamW(m.parameters(), lr=1e-4, fused=fused) for m in modules]
        out["separate+fused" if fused else "separate"] = lambda modules=modules, opts=opts: (
            separate_epoch(modules, opts, x, y, batch_size, 1)
        )
    for name, variant in (
        ("batched (round 1)", "round 1"),
        ("batched", "fp32"),
        ("batched bf16", "bf16"),
    ):
        module = heads.Heads(shape, DIM, dropout=0.1, seed=0)
        opt = torch.optim.AdamW(module.parameters(), lr=1e-4, fused=variant != "round 1")
        out[name] = lambda module=module, opt=opt, variant=variant: batched_epoch(
            module, opt, x, y, batch_size, 1, variant
        )
    return out


def run(shape: str, x, y, batch_sizes, repeats: int) -> None:
    gflop = flops_per_image(shape) * len(x) / 1e9
    widths = " -> ".join(map(str, (DIM, *heads.SHAPES[shape], 1)))
    print(
        f"\n{shape} heads ({widths}) x 40, {len(x)} images: {gflop:,.0f} GFLOP per epoch "
        "on either side"
    )
    print(f"{'batch':>5}  {'variant':<18} {'s/epoch':>8} {'GFLOP/s':>8} {'ratio':>6}")
    for batch_size in batch_sizes:
        base = None
        for name, epoch in variants(shape, x, y, batch_size).items():
            seconds = timed(epoch, repeats)
            base = base or seconds
            print(
                f"{batch_size:5d}  {name:<18} {seconds:8.2f} {gflop / seconds:8.1f} "
                f"{base / seconds:5.2f}x",
                flush=True,
            )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument(
        "--shapes", nargs="+", default=["small", "large"], choices=list(heads.SHAPES)
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.images, DIM, generator=gen)
    y = torch.rand(args.images, taxonomy.N_EMOTIONS, generator=gen) * 7
    print(f"{torch.get_num_threads()} threads, torch {torch.__version__}")
    for shape in args.shapes:
        check_predictions(shape, x[:256])
    for shape in args.shapes:
        run(shape, x, y, args.batch_sizes, args.repeats)


if __name__ == "__main__":
    main()

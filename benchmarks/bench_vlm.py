"""Time the VLM runner's two readouts on a tiny random VLM (built locally, LLaVA architecture)
against the straightforward ways, in one run, and check that they agree.

* Replies (the zero-shot prompt, greedy, ``--new-tokens`` per reply): ours generates a batch of
  images at once with the KV cache (:meth:`emonet.benchmarking.vlm.TransformersVLM.generate`);
  against one image at a time with the KV cache, and one image at a time without it (every new
  token recomputes the whole prompt). Same replies expected.
* Rating probabilities (the multi-shot prompt, 40 emotions): ours prefills the chat once per
  batch and runs each emotion's few tokens on the cached prefix, cut back after each
  (:meth:`~emonet.benchmarking.vlm.TransformersVLM.rating_probabilities`); against one full
  forward pass per image and emotion. Same probabilities expected.

Images per second of each, best of ``--repeats``; the ratios. The tiny model stands in for a
real VLM: its prompts have the real protocols' lengths (a byte-level tokenizer trained on them),
its layers are small, so these ratios measure the work the cache and batching save, not a real
model's speed.

    .venv/bin/python benchmarks/bench_vlm.py [--images 8] [--batch 8] [--new-tokens 32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from emonet.benchmarking import annotate, vlm
from emonet.data import protocols, taxonomy


def best_of(repeats: int, run):
    """``(seconds, result)`` of the fastest of ``repeats`` calls of ``run``."""
    best = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        best = (seconds, result) if best is None or seconds < best[0] else best
    return best


def replies(backend, pictures, prompts, new_tokens: int, batch: int, cache: bool):
    """Greedy replies, ``batch`` images per call, with or without the KV cache."""
    backend.use_cache = cache
    out = []
    for start in range(0, len(prompts), batch):
        rows = list(range(start, min(start + batch, len(prompts))))
        out += [
            g.text
            for g in backend.generate(
                pictures, rows, [prompts[i] for i in rows], [0] * len(rows), new_tokens
            )
        ]
    backend.use_cache = True
    return out


def full_passes(backend, pictures, prompt: str, prefix: str, suffixes):
    """The straightforward rating probabilities: one forward pass per image and emotion."""
    ids, tail = backend.rating_tokens()
    probs = np.zeros((len(pictures), len(suffixes), 8))
    with torch.inference_mode():
        for i in range(len(pictures)):
            for k, suffix in enumerate(suffixes):
                inputs = backend._inputs(
                    pictures, [i], [backend._text(prompt) + prefix + suffix + tail]
                )
                p = torch.softmax(backend.model(**inputs).logits[0, -1].float(), -1)[ids]
                probs[i, k] = (p / p.sum()).numpy()
    return probs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument(
        "--rating-images",
        type=int,
        default=2,
        help="images for the rating probabilities (full passes are slow)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        folder = vlm.build_tiny_vlm(Path(tmp) / "model")
        rng = np.random.default_rng(0)
        for k in range(args.images):
            Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(
                Path(tmp) / f"face{k:03d}.png"
            )
        pictures = annotate.ImageSet.from_paths([tmp])
        backend = vlm.TransformersVLM(str(folder), temperature=0, quiet=True)
        zero, multi = protocols.zero_shot(), protocols.multi_shot()
        prompts = [zero.prompt(name) for name in pictures.file_names]
        tokens = backend._inputs(pictures, [0], [backend._text(prompts[0])])["input_ids"]
        print(
            f"tiny random VLM, {args.threads} thread(s); zero-shot prompt "
            f"{tokens.shape[1]:,} tokens, {args.images} images, {args.new_tokens} new tokens "
            "per reply (greedy)"
        )
        rows = {}
        for label, batch, cache in (
            ("batched, KV cache (ours)", args.batch, True),
            ("one at a time, KV cache", 1, True),
            ("one at a time, no cache", 1, False),
        ):
            rows[label] = best_of(
                args.repeats,
                lambda batch=batch, cache=cache: replies(
                    backend, pictures, prompts, args.new_tokens, batch, cache
                ),
            )
        ours = rows["batched, KV cache (ours)"]
        for label, (seconds, texts) in rows.items():
            same = sum(a == b for a, b in zip(texts, ours[1]))
            print(
                f"  {label:26s} {args.images / seconds:7.2f} images/s  "
                f"{seconds / ours[0]:6.1f}x ours' time  same replies: {same}/{args.images}"
            )

        n = min(args.rating_images, len(pictures))
        suffixes = [f'{e}": {{"rating":' for e in taxonomy.EMOTIONS]
        subset = pictures.subset(range(n))
        t_ours, probs = best_of(
            args.repeats,
            lambda: backend.rating_probabilities(
                subset, list(range(n)), multi.prompt(), annotate.LOGIT_PREFIX, suffixes
            )[0],
        )
        t_full, reference = best_of(
            1, lambda: full_passes(backend, subset, multi.prompt(), annotate.LOGIT_PREFIX, suffixes)
        )
        tokens = backend._inputs(subset, [0], [backend._text(multi.prompt())])["input_ids"]
        print(
            f"rating probabilities: multi-shot prompt {tokens.shape[1]:,} tokens, {n} images x "
            f"{len(suffixes)} emotions; largest difference "
            f"{np.abs(probs - reference).max():.1e}"
        )
        print(f"  {'one prefill, KV cache (ours)':30s} {n / t_ours:7.3f} images/s")
        print(
            f"  {'a full pass per emotion':30s} {n / t_full:7.3f} images/s  "
            f"{t_full / t_ours:6.1f}x ours' time"
        )


if __name__ == "__main__":
    main()

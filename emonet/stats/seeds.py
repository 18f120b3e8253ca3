"""The one way to derive a random seed: :func:`keyed_seed` turns a base seed and names or numbers
into a seed for ``numpy.random.default_rng``, so that each named sample draws from its own stream
whatever else is computed and in which order."""

from __future__ import annotations


def keyed_seed(seed: int, *keys: str | int) -> list[int]:
    """A seed for ``numpy.random.default_rng`` derived from ``seed`` and ``keys``: a string key
    adds its UTF-8 bytes, an integer key itself (``keyed_seed(42, "panel") == [42, *b"panel"]``).
    Each distinct key sequence gets its own stream, independent of the order of computation."""
    out = [int(seed)]
    for key in keys:
        out += list(key.encode()) if isinstance(key, str) else [int(key)]
    return out

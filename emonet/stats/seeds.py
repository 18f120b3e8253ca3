"""The one way to derive a random seed: :func:`keyed_seed` turns a base seed and names or numbers
into a seed for ``numpy.random.default_rng``, so that each named sample draws from its own stream
whatever else is computed and in which order.
"""

from __future__ import annotations


def keyed_seed(seed: int, key: str) -> list[int]:
    """A seed for ``numpy.random.default_rng`` derived from ``seed`` and a name (e.g. a group), so
    that each named sample gets its own stream whatever else is computed and in which order."""
    return [int(seed), *key.encode()]

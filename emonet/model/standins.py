"""The local profile's stand-ins for the training data: a simulated weak labeler (for Big's VLM
labels) and neutral offline faces (the reference for the heads' neutral means). Every result that
uses them is labelled as a stand-in.
"""

from __future__ import annotations

import io

import numpy as np

from emonet.data import demographics, taxonomy
from emonet.generation import faces


def weak_labels(
    truth: np.ndarray,
    rng: np.random.Generator,
    noise_sd: float = 1.0,
    bias_sd: float = 0.5,
    scale_sd: float = 0.15,
    floor: float = 1.0,
) -> np.ndarray:
    """VLM-like weak labels ``(n, 40)`` on the integers 0-7 from ground truth ``(n, 40)``.

    Per category a miscalibration (scale ``1 + N(0, scale_sd)``, offset ``N(0, bias_sd)``), per
    rating noise ``N(0, noise_sd)``, rounding to an integer, and values below ``floor`` reported
    as 0 (a VLM names only the emotions it finds salient).
    """
    truth = np.asarray(truth, float)
    scale = 1.0 + rng.normal(0.0, scale_sd, truth.shape[1])
    offset = rng.normal(0.0, bias_sd, truth.shape[1])
    noisy = truth * scale + offset + rng.normal(0.0, noise_sd, truth.shape)
    labels = np.clip(np.rint(noisy), 0, 7)
    return np.where(labels < floor, 0.0, labels)


def neutral_faces(n: int, size: int = 128, seed: int = 0) -> list[bytes]:
    """``n`` offline faces rendered at expression intensity 0 (PNG bytes), spread over the
    demographic cells: only the generator's faint admixture of another category and its AU
    noise remain. The reference for the heads' neutral means."""

    rng = np.random.default_rng(seed)
    groups = list(demographics.ETHNICITY_GROUPS)
    out = []
    for i in range(n):
        face = faces.render(
            taxonomy.EMOTIONS[i % taxonomy.N_EMOTIONS],
            groups[i % len(groups)],
            demographics.AGES[i % len(demographics.AGES)],
            demographics.GENDERS[i % len(demographics.GENDERS)],
            int(rng.integers(2**31 - 1)),
            size=size,
            intensity=0.0,
        )
        buffer = io.BytesIO()
        face.image.save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out

"""Offline face generator: the local profile's stand-in for a text-to-image model.

A face is drawn with Pillow from two parts:

* **expression**: a vector of facial action units (FACS AUs, plus head/eye position codes and a
  non-FACS ``flush`` for reddening), each on 0-1. Every emotion has a prototype
  (:data:`PROTOTYPES`): the EMFACS predictions for the basic emotions (happiness 6+12, sadness
  1+4+15, surprise 1+2+5+26, fear 1+2+4+5+7+20+26, anger 4+5+7+23, disgust 9+10+15, contempt
  unilateral 12+14) and plausible combinations for the other categories. A rendered face shows
  ``intensity x prototype`` plus a weak admixture of another emotion and AU noise.
* **appearance** from the prompt's demographic slots (skin tone by ethnicity group, greying hair,
  wrinkles and thinner lips with age, hair style and jaw by gender) and an identity drawn from the
  image seed (face shape, feature spacing, colours, head pose), so no two faces are the same.

Ground truth: how strongly the rendered AUs express each of the 40 categories, on 0-7. For
category ``c`` with prototype ``p``: ``lam = clip(a.p / p.p, 0, 1)`` (how much of the prototype is
present) and ``fit = 1 - |a - lam p|^2 / |a|^2`` (share of the rendered AU energy it explains);
``truth_c = 7 * lam * fit``. A face rendered at intensity 0.8 from one prototype scores about 5.6
on its category and less on categories that share some of its AUs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from emonet.data import taxonomy

#: Expression codes, each 0-1. R-prefixed codes act on the face's right side only (unilateral);
#: 53/54 head up/down, 55 head tilt, 61 eyes turned sideways, 63/64 eyes up/down.
CODES: tuple[str, ...] = (
    "AU1",
    "AU2",
    "R2",
    "AU4",
    "AU5",
    "AU6",
    "AU7",
    "AU9",
    "AU10",
    "AU12",
    "R12",
    "AU14",
    "R14",
    "AU15",
    "AU17",
    "AU18",
    "AU19",
    "AU20",
    "AU23",
    "AU24",
    "AU25",
    "AU26",
    "AU43",
    "AU53",
    "AU54",
    "AU55",
    "AU61",
    "AU63",
    "AU64",
    "flush",
)


_IDX = {c: i for i, c in enumerate(CODES)}


#: Prototype expression per category (codes not named are 0).
PROTOTYPES: dict[str, dict[str, float]] = {
    "Amusement": {"AU6": 0.9, "AU12": 1, "AU25": 0.8, "AU26": 0.4, "AU55": 0.3},
    "Elation": {"AU1": 0.5, "AU2": 0.6, "AU6": 1, "AU12": 1, "AU25": 1, "AU26": 0.7, "AU53": 0.3},
    "Pleasure/Ecstasy": {"AU6": 0.6, "AU12": 0.7, "AU25": 0.5, "AU43": 0.9, "AU53": 0.6},
    "Contentment": {"AU6": 0.3, "AU12": 0.5, "AU43": 0.3},
    "Thankfulness/Gratitude": {"AU1": 0.6, "AU6": 0.4, "AU12": 0.6, "AU54": 0.3, "AU55": 0.3},
    "Affection": {"AU6": 0.5, "AU12": 0.6, "AU55": 0.6, "AU43": 0.2, "flush": 0.3},
    "Infatuation": {"AU1": 0.4, "AU12": 0.5, "AU6": 0.3, "AU61": 0.6, "AU55": 0.3, "flush": 0.8},
    "Hope/Enthusiasm/Optimism": {"AU1": 0.5, "AU2": 0.4, "AU5": 0.3, "AU12": 0.7, "AU63": 0.7},
    "Triumph": {"AU4": 0.5, "AU6": 0.7, "AU12": 0.8, "AU25": 1, "AU26": 0.8, "AU53": 0.6},
    "Pride": {"AU12": 0.4, "AU24": 0.4, "AU53": 0.9, "AU64": 0.3},
    "Interest": {"AU1": 0.4, "AU2": 0.5, "AU5": 0.4, "AU55": 0.5, "AU25": 0.2},
    "Awe": {"AU1": 0.8, "AU2": 0.6, "AU5": 0.5, "AU25": 0.8, "AU26": 0.5, "AU63": 0.5},
    "Astonishment/Surprise": {"AU1": 1, "AU2": 1, "AU5": 1, "AU25": 1, "AU26": 1},
    "Concentration": {"AU4": 0.7, "AU7": 0.6, "AU24": 0.6, "AU64": 0.3},
    "Contemplation": {"AU4": 0.3, "AU14": 0.3, "AU17": 0.4, "AU63": 0.6, "AU61": 0.6},
    "Relief": {"AU1": 0.3, "AU12": 0.4, "AU25": 0.6, "AU43": 0.6, "AU53": 0.4},
    "Longing": {"AU1": 0.7, "AU4": 0.3, "AU25": 0.3, "AU61": 0.8, "AU63": 0.3},
    "Teasing": {"R12": 0.9, "R2": 0.6, "AU6": 0.4, "AU19": 0.9, "AU25": 0.4},
    "Impatience and Irritability": {"AU4": 0.7, "AU7": 0.5, "AU14": 0.5, "AU24": 0.6, "AU63": 0.4},
    "Sexual Lust": {"AU43": 0.5, "AU25": 0.5, "AU12": 0.3, "AU54": 0.3, "flush": 0.6},
    "Doubt": {"AU4": 0.5, "R2": 0.8, "R14": 0.6, "AU17": 0.4, "AU61": 0.4},
    "Fear": {
        "AU1": 1,
        "AU2": 0.8,
        "AU4": 0.6,
        "AU5": 1,
        "AU7": 0.3,
        "AU20": 1,
        "AU25": 0.8,
        "AU26": 0.5,
    },
    "Distress": {"AU1": 0.9, "AU4": 0.8, "AU7": 0.4, "AU20": 0.6, "AU25": 0.6, "AU15": 0.4},
    "Confusion": {"AU4": 0.6, "R2": 0.7, "AU55": 0.7, "AU25": 0.3, "AU61": 0.3},
    "Embarrassment": {"AU12": 0.4, "AU24": 0.4, "AU54": 0.6, "AU64": 0.8, "AU61": 0.4, "flush": 1},
    "Shame": {"AU1": 0.5, "AU15": 0.5, "AU54": 1, "AU64": 1, "flush": 0.4},
    "Disappointment": {"AU1": 0.6, "AU4": 0.4, "AU15": 0.7, "AU17": 0.6, "AU64": 0.4},
    "Sadness": {"AU1": 1, "AU4": 0.7, "AU15": 1, "AU17": 0.4, "AU43": 0.3, "AU64": 0.3},
    "Bitterness": {"AU4": 0.6, "AU14": 0.5, "AU15": 0.6, "AU23": 0.6, "AU61": 0.4},
    "Contempt": {"R12": 0.9, "R14": 0.9, "AU53": 0.4, "AU61": 0.2},
    "Disgust": {"AU4": 0.4, "AU9": 1, "AU10": 0.9, "AU15": 0.6, "AU17": 0.4, "AU25": 0.3},
    "Anger": {
        "AU4": 1,
        "AU5": 0.7,
        "AU7": 0.8,
        "AU23": 0.9,
        "AU24": 0.5,
        "AU54": 0.2,
        "flush": 0.4,
    },
    "Malevolence/Malice": {"AU4": 0.8, "AU7": 0.6, "AU12": 0.7, "AU54": 0.5, "AU63": 0.3},
    "Sourness": {"AU4": 0.5, "AU7": 0.8, "AU9": 0.4, "AU18": 1, "AU17": 0.5},
    "Pain": {
        "AU4": 1,
        "AU6": 0.8,
        "AU7": 1,
        "AU9": 0.7,
        "AU10": 0.7,
        "AU20": 0.6,
        "AU25": 0.7,
        "AU43": 0.8,
    },
    "Helplessness": {"AU1": 1, "AU2": 0.4, "AU15": 0.6, "AU25": 0.4, "AU55": 0.5, "AU63": 0.4},
    "Fatigue/Exhaustion": {"AU43": 0.7, "AU25": 0.4, "AU26": 0.3, "AU54": 0.4, "AU55": 0.5},
    "Emotional Numbness": {"AU43": 0.35, "AU15": 0.15, "AU26": 0.1},
    "Intoxication/Altered States of Consciousness": {
        "AU43": 0.6,
        "R12": 0.5,
        "AU25": 0.5,
        "AU55": 1,
        "AU61": 0.5,
        "flush": 0.7,
    },
    "Jealousy & Envy": {"AU4": 0.6, "AU7": 0.5, "R14": 0.6, "AU24": 0.5, "AU61": 1},
}


#: ``(40, n_codes)`` prototype matrix in canonical emotion order.
PROTOTYPE_MATRIX = np.array([[PROTOTYPES[e].get(c, 0.0) for c in CODES] for e in taxonomy.EMOTIONS])


#: Skin tones from light to dark (RGB); an ethnicity group draws from a range of this scale.
SKIN_SCALE = np.array(
    [
        (246, 218, 196),
        (229, 188, 158),
        (205, 153, 116),
        (168, 116, 80),
        (124, 83, 56),
        (88, 58, 40),
    ],
    float,
)


SKIN_RANGE: dict[str, tuple[float, float]] = {
    "White": (0.0, 1.4),
    "Black": (3.0, 5.0),
    "East & Southeast Asian": (0.4, 2.2),
    "South Asian": (1.8, 3.8),
    "Middle Eastern & North African": (1.0, 2.8),
    "Hispanic or Latino": (1.0, 3.0),
    "American Indian or Alaska Native": (1.8, 3.2),
    "Pacific Islander": (2.0, 3.8),
}


_HAIR = {
    "black": (25, 20, 18),
    "dark brown": (58, 38, 26),
    "brown": (105, 70, 45),
    "blond": (200, 165, 100),
    "red": (150, 70, 35),
}


@dataclass(frozen=True)
class Face:
    """One rendered face: ``image`` (RGB, size x size), ``codes`` ``(n_codes,)`` on 0-1 and
    ``truth`` ``(40,)`` on 0-7 in canonical order."""

    image: Image.Image
    codes: np.ndarray
    truth: np.ndarray


def truth_of(codes: np.ndarray) -> np.ndarray:
    """Ground-truth intensities ``(..., 40)`` on 0-7 of AU vectors ``(..., n_codes)``."""
    a = np.asarray(codes, float)
    p = PROTOTYPE_MATRIX
    lam = np.clip(a @ p.T / (p * p).sum(1), 0.0, 1.0)
    resid = ((a[..., None, :] - lam[..., None] * p) ** 2).sum(-1)
    energy = (a**2).sum(-1, keepdims=True)
    fit = np.where(energy > 0, 1.0 - resid / np.maximum(energy, 1e-12), 0.0)
    return 7.0 * lam * np.clip(fit, 0.0, 1.0)


def expression(
    emotion: str,
    intensity: float,
    rng: np.random.Generator,
    blend: float = 0.25,
    noise: float = 0.04,
) -> np.ndarray:
    """AU vector ``(n_codes,)`` on 0-1: ``intensity`` x the emotion's prototype, plus up to
    ``blend`` x another random category's prototype and Gaussian noise of SD ``noise``."""
    if not 0.0 <= intensity <= 1.0:
        raise ValueError(f"intensity must lie in [0, 1], got {intensity}")
    target = taxonomy.INDEX[taxonomy.canonical(emotion)]
    other = (target + 1 + rng.integers(taxonomy.N_EMOTIONS - 1)) % taxonomy.N_EMOTIONS
    a = intensity * PROTOTYPE_MATRIX[target] + rng.uniform(0, blend) * PROTOTYPE_MATRIX[other]
    return np.clip(a + rng.normal(0.0, noise, len(CODES)), 0.0, 1.0)


def render(
    emotion: str,
    ethnicity_group: str,
    age: int,
    gender: str,
    seed: int,
    size: int = 128,
    intensity: float | tuple[float, float] = (0.6, 1.0),
) -> Face:
    """Draw a face showing ``emotion`` for the given demographic slots.

    ``intensity`` is a value in [0, 1] or a range to draw it from; ``seed`` fixes identity,
    pose, expression noise and colours (same arguments, same pixels).
    """
    if ethnicity_group not in SKIN_RANGE:
        raise ValueError(f"unknown ethnicity group {ethnicity_group!r}; known: {list(SKIN_RANGE)}")
    if size < 16:
        raise ValueError(f"image size must be at least 16 pixels, got {size}")
    rng = np.random.default_rng(seed)
    k = rng.uniform(*intensity) if isinstance(intensity, tuple) else float(intensity)
    codes = expression(emotion, k, rng)
    image = _draw(codes, ethnicity_group, int(age), gender, rng, size)
    return Face(image, codes, truth_of(codes))


def _curve(left, mid, right, n: int = 12) -> list[tuple[float, float]]:
    """Points of the quadratic Bezier from ``left`` to ``right`` passing through ``mid``."""
    t = np.linspace(0, 1, n)[:, None]
    p0, p2, p1 = (
        np.array(left),
        np.array(right),
        2 * np.array(mid) - (np.array(left) + np.array(right)) / 2,
    )
    pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
    return [tuple(p) for p in pts]


def _arc(P, rx: float, ry: float, y0: float, n: int = 24) -> list[tuple[float, float]]:
    """Upper half-ellipse in face units (radii ``rx``, ``ry``, centre height ``y0``), left to
    right, as pixel points."""
    theta = np.linspace(np.pi, 0, n)
    return [P(rx * np.cos(t), y0 - ry * np.sin(t)) for t in theta]


def _draw(
    a: np.ndarray, group: str, age: int, gender: str, rng: np.random.Generator, size: int
) -> Image.Image:
    c = {name: float(a[i]) for name, i in _IDX.items()}
    S = 2 * size  # drawn at twice the size, then downsampled (anti-aliasing)
    u = S * rng.uniform(0.25, 0.28)  # face half-width in pixels
    old = np.clip((age - 30) / 50, 0, 1)
    # Identity.
    tone = rng.uniform(*SKIN_RANGE[group])
    lo = int(min(tone, len(SKIN_SCALE) - 2))
    skin = SKIN_SCALE[lo] + (tone - lo) * (SKIN_SCALE[lo + 1] - SKIN_SCALE[lo])
    skin = np.clip(skin * rng.uniform(0.96, 1.04), 0, 255)
    shade = tuple(int(v) for v in skin * 0.72)
    skin_c = tuple(int(v) for v in skin)
    hair_names = list(_HAIR) if group == "White" else ["black", "dark brown", "brown"]
    hair = np.array(_HAIR[hair_names[rng.integers(len(hair_names))]], float)
    grey = np.clip((age - 40) / 35 + rng.normal(0, 0.15), 0, 1)
    hair_c = tuple(int(v) for v in hair + grey * (np.array([205, 205, 205]) - hair))
    style = gender if gender != "non-binary person" else ("man", "woman")[rng.integers(2)]
    bg = tuple(int(v) for v in rng.uniform(190, 240, 3))
    shirt = tuple(int(v) for v in rng.uniform(40, 200, 3))
    eye_c = (
        (70, 45, 30)
        if group != "White" or rng.random() < 0.5
        else ((60, 100, 150), (80, 120, 80), (90, 70, 40))[rng.integers(3)]
    )
    wf, hf = rng.uniform(0.92, 1.06), rng.uniform(1.22, 1.36)
    jaw = rng.uniform(0.62, 0.78) + (0.08 if style == "man" else 0)
    eye_dx, eye_y = rng.uniform(0.34, 0.42), rng.uniform(-0.2, -0.1)
    mouth_y, mouth_w = rng.uniform(0.5, 0.6), rng.uniform(0.24, 0.32)
    # Head pose: pitch moves the features, tilt rotates the head.
    pitch = 0.16 * (c["AU54"] - c["AU53"]) + rng.normal(0, 0.03)
    yaw = rng.normal(0, 0.04)
    tilt = 14 * c["AU55"] * (1 if rng.random() < 0.5 else -1) + rng.normal(0, 3)
    cx, cy = S / 2 + rng.normal(0, S * 0.01), S * 0.5 + rng.normal(0, S * 0.01)

    def P(x, y):  # face coordinates (units of u, y down) -> pixels
        return cx + (x * wf + yaw) * u, cy + (y + pitch) * u

    img = Image.new("RGB", (S, S), bg)
    d = ImageDraw.Draw(img, "RGBA")
    W = max(1, int(u * 0.035))  # line width
    # Hair behind the head, neck and shoulders.
    if style == "woman":
        d.ellipse([cx - 1.35 * u, cy - 1.55 * u, cx + 1.35 * u, cy + 1.6 * u], fill=hair_c)
    d.rectangle([cx - 0.45 * u, cy + 0.9 * u, cx + 0.45 * u, cy + 1.8 * u], fill=shade)
    d.ellipse([cx - 1.7 * u, cy + 1.45 * u, cx + 1.7 * u, cy + 3.2 * u], fill=shirt)
    # Head: ears, skull and jaw.
    for s in (-1, 1):
        ex, ey = P(s * 1.0, -0.05)
        d.ellipse([ex - 0.16 * u, ey - 0.25 * u, ex + 0.16 * u, ey + 0.22 * u], fill=shade)
    bottom = P(0, hf * 0.92 + 0.12 * c["AU26"])
    head = (
        _arc(P, 1.0, hf, -0.1)
        + _curve(P(1, -0.1), P(jaw * 1.1, hf * 0.6), bottom, 8)
        + _curve(bottom, P(-jaw * 1.1, hf * 0.6), P(-1, -0.1), 8)
    )
    d.polygon(head, fill=skin_c)
    bald = style == "man" and age >= 60 and rng.random() < 0.4
    if not bald:
        cap = _arc(P, 1.06, hf + 0.12, -0.15)
        fringe = _curve(P(1.0, -0.2), P(0, -hf * rng.uniform(0.45, 0.7)), P(-1.0, -0.2), 16)
        d.polygon(cap + fringe, fill=hair_c)
    if style == "man" and rng.random() < 0.3:  # beard
        d.polygon(
            _curve(P(-0.95, 0.2), P(-jaw, hf * 0.7), P(0, hf * 0.98 + 0.12 * c["AU26"]))
            + _curve(P(0, hf * 0.98 + 0.12 * c["AU26"]), P(jaw, hf * 0.7), P(0.95, 0.2))
            + _curve(P(0.95, 0.2), P(0, mouth_y + 0.2 + 0.3 * c["AU26"]), P(-0.95, 0.2)),
            fill=hair_c + (200,),
        )
    # Flush (non-FACS reddening) and raised cheeks (AU6).
    for s in (-1, 1):
        x, y = P(s * 0.5, 0.22 - 0.08 * c["AU6"])
        r = 0.25 * u
        if c["flush"] > 0.05:
            d.ellipse(
                [x - r, y - r * 0.7, x + r, y + r * 0.7], fill=(220, 40, 50, int(110 * c["flush"]))
            )
        if c["AU6"] > 0.2:
            d.arc([x - r, y - r * 0.6, x + r, y + r * 0.6], 200, 340, fill=shade, width=W)
    _eyes(d, img, c, P, u, W, eye_dx, eye_y, eye_c, shade, old, side=rng.choice([-1, 1]))
    _brows(d, c, P, u, eye_dx, eye_y, hair_c if grey < 0.8 else shade, old)
    _nose(d, c, P, W, shade, eye_y)
    _mouth(d, c, P, u, W, mouth_y, mouth_w, skin, shade, old)
    # Age: forehead lines and nasolabial folds deepen with age.
    for i in range(int(round(3 * old))):
        d.line(
            _curve(P(-0.45, -0.72 - 0.1 * i), P(0, -0.76 - 0.1 * i), P(0.45, -0.72 - 0.1 * i)),
            fill=shade + (int(90 + 100 * old),),
            width=W,
        )
    img = img.rotate(tilt, resample=Image.BILINEAR, center=(cx, cy), fillcolor=bg)
    return img.resize((size, size), Image.LANCZOS)


def _eyes(d, img, c, P, u, W, dx, y0, iris_c, shade, old, side):
    base = 0.085
    up = base * (1 + 0.9 * c["AU5"] - 0.4 * c["AU7"] - 0.3 * c["AU6"]) * (1 - c["AU43"])
    low = base * 0.8 * (1 - 0.55 * c["AU7"] - 0.6 * c["AU6"] + 0.2 * c["AU5"])
    gx = 0.07 * c["AU61"] * side
    gy = 0.05 * (c["AU64"] - c["AU63"])
    mask = Image.new("L", img.size, 0)
    md = ImageDraw.Draw(mask)
    layer = Image.new("RGB", img.size, (245, 245, 240))
    ld = ImageDraw.Draw(layer)
    lids = []
    for s in (-1, 1):
        x = s * dx
        hw = 0.17
        upper = _curve(P(x - hw, y0), P(x, y0 - 2 * up), P(x + hw, y0))
        lower = _curve(P(x + hw, y0), P(x, y0 + 2 * low), P(x - hw, y0))
        md.polygon(upper + lower, fill=255)
        ix, iy = P(x + gx, y0 + gy)
        r = 0.075 * u
        ld.ellipse([ix - r, iy - r, ix + r, iy + r], fill=iris_c)
        ld.ellipse([ix - r * 0.45, iy - r * 0.45, ix + r * 0.45, iy + r * 0.45], fill=(15, 10, 10))
        lids.append((upper, lower, x, hw))
    if up > 0.01:
        img.paste(layer, mask=mask)
    for upper, lower, x, hw in lids:
        d.line(upper, fill=(35, 25, 25), width=int(W * 1.6))
        if up <= 0.01 or old > 0.3:
            d.line(lower, fill=shade, width=W)
        if old > 0.3 or c["AU6"] > 0.4:  # crow's feet
            for k in (-1, 0, 1):
                ox = x + np.sign(x) * (hw + 0.04)
                d.line(
                    [P(ox, y0 + 0.04 * k), P(ox + np.sign(x) * 0.1, y0 + 0.07 * k)],
                    fill=shade,
                    width=max(1, W // 2),
                )


def _brows(d, c, P, u, dx, y0, color, old):
    thick = int(u * (0.075 - 0.025 * old))
    for s in (-1, 1):
        au2 = c["AU2"] + (c["R2"] if s < 0 else 0.0)  # R: the face's right = image left
        raise_in, raise_out = 0.16 * c["AU1"] - 0.1 * c["AU4"], 0.16 * au2 - 0.03 * c["AU4"]
        base = y0 - 0.22
        inner = P(s * (dx - 0.2 - 0.06 * c["AU4"]), base - raise_in)
        mid = P(s * dx, base - 0.06 - 0.5 * (raise_in + raise_out))
        outer = P(s * (dx + 0.22), base + 0.02 - raise_out)
        d.line(_curve(inner, mid, outer, 8), fill=color, width=thick, joint="curve")
    if c["AU4"] > 0.3:  # vertical furrows between the brows
        for s in (-1, 1):
            d.line(
                [P(s * 0.06, y0 - 0.3), P(s * 0.05, y0 - 0.16)],
                fill=(0, 0, 0, 70),
                width=max(1, int(u * 0.02)),
            )


def _nose(d, c, P, W, shade, y0):
    lift = 0.05 * c["AU9"]
    d.line(_curve(P(0.08, y0 + 0.05), P(0.12, 0.15), P(0.1, 0.28 - lift)), fill=shade, width=W)
    for s in (-1, 1):
        d.arc(
            [*P(s * 0.14 - 0.06, 0.25 - lift), *P(s * 0.14 + 0.06, 0.33 - lift)],
            0,
            360,
            fill=shade,
            width=W,
        )
    if c["AU9"] > 0.3:  # wrinkles on the bridge
        for k in range(3):
            dy = 0.03 * k
            d.line(
                _curve(P(-0.1, y0 + dy), P(0, y0 - 0.02 + dy), P(0.1, y0 + dy)), fill=shade, width=W
            )


def _mouth(d, c, P, u, W, y0, hw, skin, shade, old):
    width = hw * (
        1
        + 0.25 * c["AU12"]
        + 0.35 * c["AU20"]
        - 0.45 * c["AU18"]
        - 0.15 * c["AU23"]
        + 0.1 * c["AU14"]
    )
    side = {
        s: (c["AU12"] + (c["R12"] if s < 0 else 0), c["AU14"] + (c["R14"] if s < 0 else 0))
        for s in (-1, 1)
    }
    corner = {
        s: (
            s * width * (1 + 0.12 * side[s][0] + 0.08 * side[s][1]),
            y0 - 0.2 * side[s][0] + 0.17 * c["AU15"] + 0.08 * c["AU20"] - 0.02 * side[s][1],
        )
        for s in (-1, 1)
    }
    lift = 0.07 * c["AU10"] + 0.02 * c["AU9"]
    gap = 0.05 * c["AU25"] + 0.3 * c["AU26"] + 0.06 * c["AU25"] * c["AU12"]
    press = 1 - 0.6 * c["AU24"] - 0.4 * c["AU23"] + 0.6 * c["AU18"]
    tu, tl = 0.05 * press * (1 - 0.4 * old), 0.07 * press * (1 - 0.4 * old)
    y_up = y0 - 0.03 * c["AU17"] - lift  # upper inner lip, centre
    y_lo = y0 - 0.04 * c["AU17"] + gap  # lower inner lip, centre
    L, R = corner[-1], corner[1]
    upper_in = _curve(L, (0, y_up), R)
    lower_in = _curve(R, (0, y_lo), L)
    upper_out = _curve(L, (0, y_up - tu - 0.015), R)
    lower_out = _curve(R, (0, y_lo + tl), L)
    to_px = lambda pts: [P(x, y) for x, y in pts]  # noqa: E731
    lip = tuple(int(v) for v in np.clip(skin * np.array([0.85, 0.55, 0.55]) + [30, 0, 0], 0, 255))
    d.polygon(to_px(upper_out + lower_out), fill=lip)
    if y_lo - y_up > 0.015:  # open mouth: dark inside, teeth, maybe tongue
        d.polygon(to_px(upper_in + lower_in), fill=(70, 22, 28))
        teeth_h = min(0.06, 0.6 * (y_lo - y_up))
        teeth = _curve((L[0] * 0.8, L[1] + 0.005), (0, y_up + teeth_h), (R[0] * 0.8, R[1] + 0.005))
        d.polygon(
            to_px(_curve((L[0] * 0.8, L[1]), (0, y_up), (R[0] * 0.8, R[1])) + teeth[::-1]),
            fill=(238, 236, 225),
        )
    d.line(to_px(_curve(L, (0, (y_up + y_lo) / 2), R)), fill=(90, 40, 40), width=W)
    if c["AU19"] > 0.3:  # tongue out
        tx, ty = P(0.05, y_lo + 0.02)
        r = 0.11 * u * c["AU19"]
        d.ellipse([tx - r, ty - r * 0.6, tx + r, ty + r * 1.2], fill=(205, 85, 95))
    for s in (-1, 1):  # dimples (AU14) and nasolabial folds (smile, disgust, age)
        if side[s][1] > 0.3:
            x, y = corner[s]
            x0, x1 = sorted((x + s * 0.01, x + s * 0.07))
            d.arc(
                [*P(x0, y - 0.06), *P(x1, y + 0.06)],
                -90 if s > 0 else 90,
                90 if s > 0 else 270,
                fill=shade,
                width=W,
            )
        fold = max(side[s][0], c["AU10"], c["AU9"], old)
        if fold > 0.25:
            x, y = corner[s]
            d.line(
                _curve(
                    P(s * 0.25, 0.3),
                    P(s * (0.33 + 0.05 * fold), y0 - 0.05),
                    P(x + s * 0.06, y + 0.04),
                    8,
                ),
                fill=shade + (int(60 + 150 * fold),),
                width=W,
            )

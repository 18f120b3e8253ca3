"""Helpers shared by several test modules (fixtures live in ``conftest.py``): plain constants and
functions, so that no test module imports from another (``tests/build/test_house.py`` checks)."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from emonet.book.page import Page
from emonet.build.notebooks import page_keys
from emonet.data import taxonomy


def missing_from_page(page: Page, notebook: Path) -> dict[str, set[str]]:
    """What the notebook at ``notebook`` pastes or shows that ``page`` does not have, by kind
    (:func:`emonet.build.notebooks.page_keys`); an empty dict when the page has it all."""
    have = {"text": page.texts, "figure": page.figures, "md": page.markdowns, "table": page.tables}
    missing = {kind: keys - set(have[kind]) for kind, keys in page_keys(notebook).items()}
    return {kind: keys for kind, keys in missing.items() if keys}


# --------------------------------------------------------------------------- data files

#: A binary.csv of two valid rows (header and line numbers as in the authors' file).
BINARY_CSV = "path,annotator,value,emotion\n00001,human-1,True,Anger\n00001,human-2,False,Fear\n"


# --------------------------------------------------------------------------- taxonomy and prompts


def make_guide() -> pd.DataFrame:
    """A guide table in load_guide()'s schema: three words per category, one repeated."""
    rows = []
    for e in taxonomy.EMOTIONS:
        words = [e.lower(), f"{e.lower()} feeling", f"strong {e.lower()}", e.upper()]
        rows += [(e, taxonomy.FAMILY_OF[e], i, w) for i, w in enumerate(words)]
    return pd.DataFrame(rows, columns=["emotion", "family", "position", "word"])


#: The guide of the prompt designs in the tests (no mirror needed).
GUIDE = make_guide()


# --------------------------------------------------------------------------- images and models

#: A SigLIP vision tower small enough to run in a test (32 px, one 16-d layer).
TINY_ENCODER = {
    "image_size": 32,
    "patch_size": 16,
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
}


def png(seed: int, size: int = 32) -> bytes:
    """A PNG of seeded random pixels, ``size`` x ``size``."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def trained_checkpoint(tmp_path: Path, images: list[str]):
    """Heads (untrained, standardised on ``images``) on the tiny untrained encoder, saved as
    ``tmp_path/models/m.safetensors``; returns ``(path, encoder)``."""
    from emonet.model import encoder, heads

    enc = encoder.Encoder(encoder.untrained(3, **TINY_ENCODER), progress=False)
    fitted = heads.Heads("small", enc.dim, seed=1).standardise(enc.embed(images)).eval()
    model = heads.Checkpoint(fitted, enc.identity, np.zeros(40), {"recipe": "both"})
    return heads.save_checkpoint(model, tmp_path / "models" / "m.safetensors"), enc


def synthetic_stages(n: int = 160, dim: int = 8, seed: int = 0):
    """Training data with a learnable truth: ``(big, votes, truth)``, two
    :class:`emonet.model.training.Stage` on the same ``(n, dim)`` embeddings (Big: every cell,
    weight 1; votes: one emotion per image, weight 2; every 5th image validation) and the
    ``(n, 40)`` truth on 0-7."""
    from emonet.model import training

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    truth = np.clip(3.5 + x @ rng.normal(size=(dim, 40)) * 0.8, 0, 7)
    big = training.Stage(x, truth, np.ones_like(truth), np.arange(n) % 5 == 0)
    weight = np.zeros_like(truth)
    weight[np.arange(n), rng.integers(40, size=n)] = 2
    votes = training.Stage(x, truth, weight, np.arange(n) % 5 == 1)
    return big, votes, truth


def tiny_pipeline(folder: Path) -> Path:
    """A randomly initialised Stable Diffusion pipeline with a character-level CLIP tokenizer,
    saved to ``folder`` (no downloads); returns the pipeline's folder."""
    import string

    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    chars = string.ascii_lowercase + string.digits + string.punctuation
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    (folder / "vocab").mkdir(parents=True)
    (folder / "vocab" / "vocab.json").write_text(json.dumps(vocab))
    (folder / "vocab" / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(
        str(folder / "vocab" / "vocab.json"),
        str(folder / "vocab" / "merges.txt"),
        model_max_length=32,
    )
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        norm_num_groups=4,
        attention_head_dim=4,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=16,
    )
    text = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=1,
            max_position_embeddings=32,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        scheduler=DDIMScheduler(clip_sample=False, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder / "pipe")
    return folder / "pipe"


# --------------------------------------------------------------------------- panels and agreement


def wide(values, index=None) -> pd.DataFrame:
    """``values`` (images x 40) as a frame with the 40 categories as columns."""
    return pd.DataFrame(values, columns=list(taxonomy.EMOTIONS), index=index)


def small_panel(n_images=12, seed=0, experts=4, per_image=3, noise=None):
    """A hand-sized panel: ``experts`` raters, ``per_image`` per image, integer 0-7 ratings:
    uniform at random, or (``noise`` given) one shared truth plus rating noise of that SD."""
    from emonet.hq import panel

    rng = np.random.default_rng(seed)
    truth = rng.uniform(0, 7, (n_images, 40))
    ratings = np.full((experts, n_images, 40), np.nan)
    for i in range(n_images):
        who = rng.choice(experts, per_image, replace=False)
        ratings[who, i] = (
            rng.integers(0, 8, (per_image, 40))
            if noise is None
            else np.clip(np.rint(truth[i] + rng.normal(0, noise, (per_image, 40))), 0, 7)
        )
    return panel.Panel(
        ratings,
        [f"human-{k + 1}" for k in range(experts)],
        [True] * experts,
        ["Human Annotators"] * experts,
        [f"img{i:02d}" for i in range(n_images)],
    )


def synthetic_fairness(n=600, seed=0) -> tuple[pd.Series, pd.DataFrame]:
    """Per-image agreement with planted effects (ethnicity B -0.2, -0.05 per 10 years) and its
    ``ethnicity, age, gender`` demographics, ``n`` images."""
    rng = np.random.default_rng(seed)
    demo = pd.DataFrame(
        {
            "ethnicity": rng.choice(["A", "B", "C"], n, p=[0.5, 0.25, 0.25]),
            "age": rng.choice([20, 40, 60, 80], n),
            "gender": rng.choice(["man", "woman"], n),
        }
    )
    agreement = (
        0.6
        - 0.2 * (demo["ethnicity"] == "B")
        - 0.05 * (demo["age"] - 20) / 10
        + rng.normal(0, 0.1, n)
    )
    return pd.Series(agreement.to_numpy(), index=demo.index), demo


def tiny_experts_params(**changes):
    """Chapter 06's parameters for the tiny build of ``tests/conftest.py`` (few resamples)."""
    from emonet.model_vs_experts.chapter import ModelVsExpertsParams

    base = {
        "profile": "local",
        "seed": 42,
        "panel_source": "simulated",
        "model_name": "tiny model",
        "n_bootstrap": 20,
        "bootstrap_order": "keyed",
        "kappa_method": "truncate",
        "released_heads": None,
        "hq_images": None,
        "example_emotions": ["Amusement", "Sadness", "Anger", "Astonishment/Surprise"],
        "top_k_shown": 5,
        "n_permutations": 99,
    }
    return ModelVsExpertsParams(**{**base, **changes})


def random_panel(seed: int, n_experts: int, n_models: int, n_images: int, p_rated: float):
    """Experts with integer ratings (many zeros) on a random subset of images (at least 2 per
    image), models with continuous scores partly outside 0-7, some images missing: a
    :class:`emonet.hq.panel.Panel`."""
    from emonet.hq import panel

    rng = np.random.default_rng(seed)
    rated = rng.random((n_experts, n_images)) < p_rated
    rated[:2, :] |= ~rated.any(axis=0)  # every image has an expert
    experts = np.where(
        rng.random((n_experts, n_images, 40)) < 0.35,
        rng.integers(0, 8, (n_experts, n_images, 40)),
        0,
    ).astype(float)
    experts[~rated] = np.nan
    models = rng.normal(2.0, 2.5, (n_models, n_images, 40))
    models[rng.random((n_models, n_images)) < 0.1] = np.nan
    names = [f"human-{k + 1}" for k in range(n_experts)]
    names += ["Random Baseline", "Model A MS", "Model B ZS"][:n_models]
    human = np.arange(len(names)) < n_experts
    return panel.Panel(
        np.concatenate([experts, models]),
        names,
        human,
        [panel.annotator_group(n, h) for n, h in zip(names, human)],
        [f"img{i:03d}" for i in range(n_images)],
    )


def authors_kappa(x, y, method):
    """The authors' kappa of one pair on its shared rows, by sklearn: at least 2 rows, levels by
    ``method`` (sklearn drops levels outside 0-7), NaN where sklearn warns or refuses."""
    from sklearn.metrics import cohen_kappa_score

    from emonet.stats import agreement

    if len(x) < 2:
        return np.nan
    lx, ly = agreement.discretize(x, method), agreement.discretize(y, method)
    if method == "truncate":  # astype(int) keeps every row; labels=range(8) drops the rest
        lx, ly = np.trunc(x).astype(int), np.trunc(y).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return cohen_kappa_score(lx, ly, weights="quadratic", labels=list(range(8)))
        except ValueError:
            return np.nan


# --------------------------------------------------------------------------- model outputs


def affectnet_line(label, image=None, **extra) -> str:
    """One line of the authors' AffectNet scoring output (JSON): ``label``, the 40 heads' and the
    extra dimensions' scores, ``image_path`` when ``image`` is given, and ``extra`` fields."""
    results = {
        taxonomy.head_name(e): {"raw": 0.1 * i, "mean_subtracted": 0.1 * i, "softmax": 0.025}
        for i, e in enumerate(taxonomy.EMOTIONS)
    }
    results.update(
        {
            taxonomy.head_name(d): {"raw": 1.0, "mean_subtracted": 0.5, "softmax": None}
            for d in taxonomy.EXTRA_DIMENSIONS
        }
    )
    record = {"label": label, "results": results, **extra}
    if image is not None:
        record["image_path"] = image
    return json.dumps(record)

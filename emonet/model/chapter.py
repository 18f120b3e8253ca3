"""Chapter 05, *Training*: the 40 heads on the encoder's embeddings, pre-trained on Big's weak
labels and fine-tuned on Binary's expert votes, the ablation of that recipe, the chosen model's
neutral means, and its scores of the held-out HQ images for chapter 06.

:func:`run` fills the page (tables ``training_*.csv``, figures, the numbers the prose quotes),
writes the chosen model (:data:`emonet.model.scoring.CHECKPOINT_PATH`) and the HQ predictions
(:data:`emonet.model.scoring.HQ_PREDICTIONS_PATH`) under the artifacts folder, and returns a
:class:`TrainingResult`.

The training data follow the parameters, not the profile's name
(:func:`emonet.model.roles.load_roles`): with ``big_source``, ``binary_source`` and
``hq_images`` all null (the local profile) the chapter trains on stand-ins, chapter 02's offline
faces in their Big, Binary and HQ roles with the simulated weak labeler (``weak_*``) and the
simulated Binary panel (``panel_*``); with all three set (Hugging Face dataset ids or local
parquet files in their schemas; the full profile) it reads the real data, and the ``weak_*`` and
``panel_*`` parameters go unused. ``encoder_id`` ``"untrained"`` is the random-weight stand-in
encoder, anything else a SigLIP2 hub id or folder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from emonet.binary import protocol
from emonet.book.page import Page, Params
from emonet.data import snapshots, taxonomy
from emonet.io import portable
from emonet.model import (
    ablation,
    diversity,
    encoder,
    figures,
    heads,
    metrics,
    roles,
    scoring,
    standins,
    training,
)


@dataclass(frozen=True)
class TrainingParams(Params):
    """The parameters cell of ``notebooks/05_training.py`` (``profile`` is recorded with the
    checkpoint; the sources choose the data, see the module docstring)."""

    profile: str
    seed: int
    big_source: str | None
    binary_source: str | None
    hq_images: str | None
    weak_noise_sd: float
    weak_bias_sd: float
    weak_scale_sd: float
    weak_floor: float
    panel_threshold: float
    panel_slope: float
    panel_leniency: list[float]
    panel_rater_weights: list[float]
    encoder_id: str
    encoder_dtype: str
    device: str | None
    embed_batch_size: int
    torch_threads: int
    head_shape: str
    dropout: float
    batch_size: int
    lr_pretrain: float
    lr_finetune: float
    weight_decay: float
    max_epochs_pretrain: int
    max_epochs_finetune: int
    patience: int
    standardise: bool
    anchor_weight: float
    precision: str
    val_fraction: float
    test_fraction: float
    n_neutral: int
    diversity_cell: list | None  # [age, gender, emotion] of the ethnicity heat map; None: fullest

    @property
    def weak(self) -> dict:
        """Settings of the simulated weak labeler (:func:`emonet.model.standins.weak_labels`)."""
        return {
            "noise_sd": self.weak_noise_sd,
            "bias_sd": self.weak_bias_sd,
            "scale_sd": self.weak_scale_sd,
            "floor": self.weak_floor,
        }

    @property
    def panel(self) -> dict:
        """Settings of the simulated Binary panel
        (:func:`emonet.binary.protocol.simulate_on_intensity`)."""
        return {
            "threshold": self.panel_threshold,
            "slope": self.panel_slope,
            "leniency": self.panel_leniency,
            "rater_weights": self.panel_rater_weights,
        }

    def settings(self) -> training.Settings:
        """The training settings (saved with the checkpoint)."""
        return training.Settings(
            shape=self.head_shape,
            dropout=self.dropout,
            batch_size=self.batch_size,
            lr_pretrain=self.lr_pretrain,
            lr_finetune=self.lr_finetune,
            weight_decay=self.weight_decay,
            max_epochs_pretrain=self.max_epochs_pretrain,
            max_epochs_finetune=self.max_epochs_finetune,
            patience=self.patience,
            seed=self.seed,
            standardise=self.standardise,
            anchor_weight=self.anchor_weight,
            precision=self.precision,
        )


@dataclass(frozen=True)
class TrainingResult:
    """What chapter 05 trained and found; every table is also a CSV under ``tables/``."""

    data: roles.Roles  # per role (big, binary, hq): image ids and images; weak labels, votes
    embeddings: dict[str, np.ndarray]  # per role: the encoder's embeddings, images x dimensions
    diversity: pd.DataFrame  # pairwise cosine similarity within each group of images
    duplicates: pd.DataFrame  # sets of embedded images that share an embedding
    ablation: pd.DataFrame  # per recipe: seconds, epochs and the test images' metrics
    results: dict[str, training.Result]  # per recipe: the trained heads and learning curves
    per_emotion: pd.DataFrame  # the chosen recipe's test metrics per category
    checkpoint: heads.Checkpoint  # the chosen heads with encoder, neutral means and settings
    hq_scores: dict[str, pd.DataFrame]  # raw, mean-subtracted and softmax: HQ images x 40


def run(params: TrainingParams, page: Page) -> TrainingResult:
    """Data, embeddings, recipe and ablation, per-emotion metrics, the chosen model with its
    neutral means, and the HQ scores."""
    torch.set_num_threads(params.torch_threads)
    data = roles.load_roles(
        params.big_source,
        params.binary_source,
        params.hq_images,
        page.root,
        params.seed,
        params.weak,
        params.panel,
    )
    roles.check_disjoint(data)
    spec = encoder.from_id(params.encoder_id, params.seed, params.encoder_dtype)
    page.text(encoder=spec.label)
    _weak_labels(page, params, data)
    _votes(page, params, data)
    enc = encoder.Encoder(
        spec,
        device=params.device,
        batch_size=params.embed_batch_size,
        cache_dir=page.root / "embeddings",
        progress=False,
    )
    page.table(snapshots.sources_table([*data.sources, enc.snapshot]), "training_hub_sources")
    x = roles.embed_roles(data, enc)
    page.text(embedding_dim=f"{enc.dim}", embedding_cache=f"embeddings/{enc.key}")
    groups, dups = _diversity(page, params, data, x, spec.label)
    big, votes, yes = _recipe(page, params, data, x, enc)
    _roles(page, params, data, big, votes)
    results, table, per_emotion = _ablation(page, data, big, votes, params.settings(), spec.label)
    reference = "ground truth" if data.truth is not None else "weak labels"
    _per_emotion(page, per_emotion[ablation.CHOSEN], reference, spec.label)
    model = _checkpoint(page, params, results[ablation.CHOSEN], enc, yes)
    hq_scores = _hq_scores(page, data, model, x["hq"], spec.label)
    return TrainingResult(
        data, x, groups, dups, table, results, per_emotion[ablation.CHOSEN], model, hq_scores
    )


def _roles(
    page: Page,
    params: TrainingParams,
    data: roles.Roles,
    big: training.Stage,
    votes: training.Stage,
) -> None:
    """The roles' sizes and their validation and test shares."""
    page.table(roles.role_counts(data, big, votes), "training_data")
    page.text(
        validation_share=f"{params.val_fraction:.0%}", test_share=f"{params.test_fraction:.0%}"
    )


def _weak_labels(page: Page, params: TrainingParams, data: roles.Roles) -> None:
    """How far Big's weak labels are from the ground truth, where the images have one (else an
    empty summary, and "n/a")."""
    page.text(
        weak_noise_sd=f"{params.weak_noise_sd}",
        weak_floor=f"{params.weak_floor}",
        weak_rho="n/a",
        weak_mae="n/a",
    )
    summary = pd.DataFrame(columns=["spearman", "mae"])
    if data.truth is not None:
        quality = page.table(
            metrics.per_emotion_metrics(data.weak, data.truth["big"]), "training_weak_label_quality"
        )
        summary = quality.describe().loc[["mean", "min", "max"], ["spearman", "mae"]]
        page.text(
            weak_rho=f"{np.nanmean(quality['spearman']):.2f}",
            weak_mae=f"{quality['mae'].mean():.2f}",
        )
    page.view(summary, "training_weak_label_summary")


def _votes(page: Page, params: TrainingParams, data: roles.Roles) -> None:
    """The vote patterns of Binary's asked items, and how many votes and items there are."""
    page.text(panel_slope=f"{params.panel_slope}", panel_threshold=f"{params.panel_threshold}")
    item_roles = roles.vote_item_roles(data.votes)
    page.table(protocol.vote_patterns(item_roles), "training_vote_patterns")
    page.text(
        n_votes=f"{len(data.votes):,}",
        n_items=f"{len(item_roles):,}",
        items_per_head=f"{len(item_roles) / taxonomy.N_EMOTIONS:,.0f}",
        yes_rate=f"{data.votes['value'].mean():.0%}",
    )


def _diversity(
    page: Page,
    params: TrainingParams,
    data: roles.Roles,
    x: dict[str, np.ndarray],
    encoder_label: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The authors' descriptive statistics of the images in the encoder's eyes: identical
    embeddings over every role, pairwise cosine similarity within groups and the ethnicities of
    one (age, gender, emotion) cell over the images whose prompt slots are known."""
    ids = np.concatenate([data.ids[role] for role in x])
    embeddings = np.concatenate(list(x.values()))
    role_of = np.repeat(list(x), [len(v) for v in x.values()])
    dups = page.table(diversity.duplicates(embeddings, ids, role_of), "training_duplicates")
    page.text(
        n_embedded=f"{len(ids):,}",
        duplicate_sets=f"{len(dups):,}",
        duplicate_images=f"{int(dups['images'].sum()):,}",
        duplicates_across_roles=f"{int(dups['across_roles'].sum()):,}",
    )
    images_label = "offline faces" if data.truth is not None else params.binary_source
    label = f"{images_label}, {encoder_label}"
    known = (
        np.isin(ids, data.demographics.index)
        if data.demographics is not None
        else np.zeros(len(ids), bool)
    )
    page.text(
        diversity_label=label,
        diversity_images=f"{int(known.sum()):,}",
        diversity_unlabelled=f"{int((~known).sum()):,}",
    )
    if not known.any():
        raise training.TrainingDataError(
            "no embedded image has prompt slots (emotion, "
            "ethnicity, age, gender): the diversity analysis "
            "needs them"
        )
    labels = diversity.labels_table(data.demographics.loc[ids[known]])
    unit = diversity.unit_rows(embeddings[known], ids[known])
    groups = page.table(diversity.group_similarity(unit, labels), "training_diversity")
    summary = page.view(diversity.grouping_summary(groups), "training_diversity_summary")
    by = summary.set_index("grouping")
    tightest = by.drop(index="all")["mean"].idxmax()
    page.text(
        similarity_all=f"{by.loc['all', 'mean']:.3f} (SD {groups.loc[0, 'sd']:.3f})",
        tightest_grouping=tightest,
        tightest_similarity=f"{by.loc[tightest, 'mean']:.3f}",
        similarity_emotion=f"{by.loc['emotion', 'mean']:.3f}",
    )
    cell = diversity.pick_cell(labels, params.diversity_cell)
    inside = diversity.in_cell(labels, cell)
    heat = page.table(
        diversity.cross_similarity(unit[inside], labels["ethnicity"][inside]),
        "training_diversity_cell",
        index=True,
    )
    page.text(
        cell=f"{cell[0]}-year-old {cell[1]}, {cell[2]}",
        cell_images=f"{int(inside.sum())}",
        cell_strings=f"{len(heat)}",
    )
    page.figure(
        figures.diversity(
            groups,
            heat,
            f"Pairwise cosine similarity ({label})",
            f"Ethnicity strings of one cell: {cell[0]}, {cell[1]}, {cell[2]}",
        ),
        "training_diversity",
        "fig_diversity",
    )
    return groups, dups


def _recipe(
    page: Page,
    params: TrainingParams,
    data: roles.Roles,
    x: dict[str, np.ndarray],
    enc: encoder.Encoder,
) -> tuple[training.Stage, training.Stage, float]:
    """The two training stages, the intensity a "yes" stands for, and the settings table."""
    big, votes, yes = roles.stages(data, x, params.val_fraction, params.test_fraction, params.seed)
    page.table(
        training.settings_table(
            params.settings(),
            input_dim=enc.dim,
            yes_value=round(yes, 3),
            val_fraction=params.val_fraction,
            test_fraction=params.test_fraction,
            encoder=enc.spec.label,
        ),
        "training_settings",
    )
    widths = (enc.dim, *heads.SHAPES[params.head_shape], 1)
    page.text(
        yes_value=f"{yes:.2f}",
        batch_size=f"{params.batch_size}",
        patience=f"{params.patience}",
        anchor_weight=f"{params.anchor_weight:g}",
        head_shape=params.head_shape,
        head_widths=" → ".join(map(str, widths)),
    )
    return big, votes, yes


def _ablation(
    page: Page,
    data: roles.Roles,
    big: training.Stage,
    votes: training.Stage,
    settings: training.Settings,
    label: str,
) -> tuple[dict[str, training.Result], pd.DataFrame, dict[str, pd.DataFrame]]:
    """Every recipe trained and compared on the test images; returns the results, the
    ablation table and each recipe's per-emotion metrics."""
    results, table, per_emotion = ablation.ablation(data, big, votes, settings)
    page.table(table, "training_ablation")
    history = page.table(
        pd.concat([r.history for r in results.values()], ignore_index=True), "training_history"
    )
    page.figure(
        figures.ablation_bars(
            table, ablation.metric_columns(table), f"Test images, by recipe ({label})"
        ),
        "training_ablation",
        "fig_ablation",
    )
    page.figure(
        figures.learning_curves(history, f"Learning curves ({label})"),
        "training_learning_curves",
        "fig_curves",
    )
    by = table.set_index("recipe")
    page.text(
        **ablation_values(table),
        pretrain_seconds=f"{by.loc['pretrain', 'seconds']:.0f}",
        training_seconds=f"{ablation.total_seconds(results):.0f}",
    )
    return results, table, per_emotion


def ablation_values(table: pd.DataFrame) -> dict[str, str]:
    """What the prose quotes of the ablation table (:func:`emonet.model.ablation.ablation`):
    each recipe's vote AUC (``pretrain_auc``, ``finetune_auc``, ``both_auc``,
    ``unanchored_auc``), its largest standard error (``auc_se``), how fine-tuning after
    pre-training moves it judged against that error (``auc_change``: "up by more than", "down by
    more than" or "within" one standard error), the mean absolute error of the intensities with
    and without the anchor (``both_mae``, ``unanchored_mae``; "n/a" without ground truth) and the
    recipe with the highest vote AUC (``best_recipe``)."""
    by = table.set_index("recipe")
    auc = by["vote_auc"]
    se = float(by["vote_auc_se"].max())
    move = auc["both"] - auc["pretrain"]
    mae = by["truth_mae"] if "truth_mae" in by else pd.Series(dtype=float)
    return {
        **{
            f"{recipe}_auc": f"{auc[recipe]:.3f}" if recipe in auc else "n/a"
            for recipe in ("pretrain", "finetune", "both", ablation.UNANCHORED)
        },
        "auc_se": f"{se:.3f}",
        "auc_change": "within"
        if abs(move) <= se
        else "up by more than"
        if move > 0
        else "down by more than",
        **{
            f"{recipe}_mae": f"{mae[recipe]:.2f}" if recipe in mae else "n/a"
            for recipe in ("both", ablation.UNANCHORED)
        },
        "best_recipe": auc.idxmax(),
    }


def _per_emotion(page: Page, per_emotion: pd.DataFrame, reference: str, label: str) -> None:
    """The chosen recipe's agreement per category with the ``reference`` (ground truth or weak
    labels) on the test images."""
    page.table(per_emotion, "training_per_emotion")
    page.figure(
        figures.per_emotion_metric(
            per_emotion,
            "spearman",
            f"Spearman rho with the {reference}",
            f"Test images, pre-train + fine-tune ({label})",
        ),
        "training_per_emotion",
        "fig_per_emotion",
    )
    page.text(
        best_emotions=metrics.best_emotions(per_emotion),
        mean_rho=f"{np.nanmean(per_emotion['spearman']):.3f}",
        reference=reference,
    )


def _checkpoint(
    page: Page, params: TrainingParams, chosen: training.Result, enc: encoder.Encoder, yes: float
) -> heads.Checkpoint:
    """The chosen heads with their neutral means (offline neutral faces), saved."""
    neutral_x = enc.embed(standins.neutral_faces(params.n_neutral, seed=params.seed))
    model = heads.Checkpoint(
        chosen.heads,
        enc.identity,
        training.neutral_means(chosen.heads, neutral_x),
        {
            **params.settings().to_dict(),
            "recipe": ablation.CHOSEN,
            "yes_value": yes,
            "val_fraction": params.val_fraction,
            "test_fraction": params.test_fraction,
            "profile": params.profile,
        },
    )
    heads.save_checkpoint(model, page.root / scoring.CHECKPOINT_PATH)
    neutral = page.table(
        pd.DataFrame({"emotion": taxonomy.EMOTIONS, "neutral_mean": model.neutral_means}),
        "training_neutral_means",
    )
    page.view(neutral.describe().T, "training_neutral_summary")
    page.text(
        n_neutral=f"{params.n_neutral}",
        neutral_range=f"{model.neutral_means.min():.2f} to {model.neutral_means.max():.2f}",
    )
    return model


def _hq_scores(
    page: Page, data: roles.Roles, model: heads.Checkpoint, hq_x: np.ndarray, label: str
) -> dict[str, pd.DataFrame]:
    """The chosen model's three readings of the HQ-role images, saved for chapter 06; returns
    them as images x 40 tables."""
    hq_scores = model.scores(hq_x)
    hq_table = scoring.write_predictions(
        page.root / scoring.HQ_PREDICTIONS_PATH,
        data.ids["hq"],
        [portable(p, page.root) for p in data.paths("hq")],
        hq_scores,
    )
    page.text(n_hq_scored=f"{len(hq_table):,}")
    readings = scoring.frames(hq_scores, data.ids["hq"])
    page.figure(
        figures.top_emotion_bars(
            readings["softmax"].iloc[:3], 5, f"Top 5 emotions of three HQ-role images ({label})"
        ),
        "training_hq_examples",
        "fig_examples",
    )
    return readings

"""The model on the expert panel: its scores matched to the panel's images (by name, or through
the HQ dataset's content join), counted off the 0-7 scale, the released heads' scores, and the
images' demographics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emonet.data import hub, join, taxonomy
from emonet.generation import images
from emonet.hq import panel, paper_statistics
from emonet.model import encoder, heads, released, scoring


def check_wide(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """An images x 40 frame in canonical column order with finite values, or a ValueError."""
    if list(frame.columns) != list(taxonomy.EMOTIONS):
        missing = [e for e in taxonomy.EMOTIONS if e not in frame.columns]
        extra = [c for c in frame.columns if c not in taxonomy.INDEX]
        raise ValueError(
            f"{name}: expected the 40 categories as columns in canonical order; "
            f"missing {missing}, unknown {extra}"
        )
    values = frame.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        rows = frame.index[~np.isfinite(values).all(axis=1)]
        raise ValueError(
            f"{name}: non-finite values in {len(rows)} image(s), e.g. {list(rows[:5])}"
        )
    return frame


def outside_scale(scores: pd.DataFrame, low: float = 0.0, high: float = 7.0) -> int:
    """How many of a model's scores lie outside the panel's 0-7 scale. They are analysed as
    stored: Spearman's rho needs no common scale, and kappa's levels handle them (the paper's
    truncation drops a level outside 0-7 from the pair, rounding clips it)."""
    values = check_wide(scores, "scores").to_numpy(dtype=float)
    return int(((values < low) | (values > high)).sum())


#: Annotator name of the authors' released heads, rescored on the HQ images by this build.
RELEASED_MODEL = "Empathic Insight Face (released, rescored here)"


def released_scores(folder, hq, embedder, neutral: pd.Series) -> pd.DataFrame:
    """Raw scores (images x 40, index: the dataset's row ids) of the authors' released heads
    (``folder`` of their 40 ``.pth`` files) on the HQ dataset ``hq``
    (:class:`emonet.data.hub.HubSet`); ``embedder``: the encoder the heads take (``embed(images)
    -> (n, D)``); ``neutral``: the released neutral means (40,
    :func:`emonet.model.released.neutral_means`)."""
    return released.score_embeddings(
        released.load_released(folder), embedder.embed(hq.images), neutral, hq.ids
    )["raw"]


def expert_ratings(panel) -> dict[str, dict[str, np.ndarray]]:
    """The experts' ratings of each panel image, ``{image: {expert: (40,)}}`` (the fingerprints
    :func:`emonet.data.join.join_by_ratings` matches the HQ dataset's rows by)."""
    out = {}
    for i, image in enumerate(panel.images):
        out[image] = {
            panel.annotators[a]: panel.ratings[a, i]
            for a in np.flatnonzero(panel.human)
            if panel.rated[a, i]
        }
    return out


def coverage_by_name(counts: dict) -> pd.DataFrame:
    """:func:`match_images`'s counts as a coverage table (``what, count, share``)."""
    scored = counts["matched"] + counts["unmatched_ids"]
    panel_images = counts["matched"] + counts["panel_without_scores"]
    rows = [
        ("scored images", scored, scored),
        ("matched to a panel image by name", counts["matched"], scored),
        ("of those, by file stem", counts["by_stem"], scored),
        ("scored images not in the panel", counts["unmatched_ids"], scored),
        ("panel images without scores", counts["panel_without_scores"], panel_images),
    ]
    return pd.DataFrame(
        [(w, c, c / t if t else np.nan) for w, c, t in rows], columns=["what", "count", "share"]
    )


def match_images(ids, panel_images) -> tuple[pd.Series, dict]:
    """Map image ids of a model's predictions onto the panel's image ids.

    Exact matches first; ids that match nothing exactly are matched by file stem (``a/b/00042.png``
    and ``00042.jpg`` both give ``00042``) when the stem names exactly one panel image. Returns the
    mapping (index: the given ids that matched, values: panel ids) and the counts ``matched,
    unmatched_ids, panel_without_scores, by_stem``; raises when nothing matches (wrong source).
    """
    ids = pd.Index([str(i) for i in ids])
    panel = pd.Index([str(i) for i in panel_images])
    if ids.has_duplicates:
        raise ValueError(f"duplicate image ids among the scores, e.g. {ids[ids.duplicated()][0]!r}")
    exact = ids.isin(panel)
    stem = pd.Series([Path(i).stem for i in panel], index=panel)
    unique_stems = stem[~stem.duplicated(keep=False)]
    by_stem = pd.Series(unique_stems.index, index=unique_stems.to_numpy())
    mapping = pd.Series(ids[exact], index=ids[exact])
    rest = ids[~exact]
    via_stem = pd.Series([Path(i).stem for i in rest], index=rest).map(by_stem).dropna()
    via_stem = via_stem[~via_stem.isin(mapping.to_numpy())]
    mapping = pd.concat([mapping, via_stem])
    if mapping.empty:
        raise ValueError(
            f"none of the {len(ids)} scored images is a panel image (e.g. "
            f"{list(ids[:2])} vs {list(panel[:2])}): scores and panel come from "
            "different image sets"
        )
    counts = {
        "matched": len(mapping),
        "unmatched_ids": len(ids) - len(mapping),
        "panel_without_scores": len(panel) - mapping.nunique(),
        "by_stem": len(via_stem),
    }
    return mapping, counts


def image_demographics(
    meta: pd.DataFrame, id_column: str, panel_images
) -> tuple[pd.DataFrame, dict]:
    """Demographics of the panel's images from an image metadata table (chapter 02's manifest, or
    :func:`emonet.data.hub.real_metadata` of the HQ dataset).

    Returns a frame indexed by panel image with ``ethnicity`` (the ethnicity *group*), ``age``,
    ``gender`` and the prompted ``emotion``, and the matching counts of :func:`match_images`;
    panel images without metadata are left out (and counted there).
    """
    needed = [id_column, "ethnicity_group", "age", "gender", "emotion"]
    missing = [c for c in needed if c not in meta]
    if missing:
        raise ValueError(f"image metadata lack column(s) {missing}")
    mapping, counts = match_images(meta[id_column], panel_images)
    rows = meta.set_index(meta[id_column].astype(str)).loc[mapping.index]
    out = pd.DataFrame(
        {
            "ethnicity": rows["ethnicity_group"].to_numpy(),
            "age": rows["age"].astype(int).to_numpy(),
            "gender": rows["gender"].to_numpy(),
            "emotion": rows["emotion"].to_numpy(),
        },
        index=pd.Index(mapping.to_numpy(), name="image"),
    )
    return out.loc[[i for i in map(str, panel_images) if i in out.index]], counts


def stand_ins(encoder_label: str, panel_source: str) -> list[str]:
    """What the HQ results of a build rest on instead of the paper's data: an encoder other than
    SigLIP2 (``encoder_label`` of the checkpoint: the untrained stand-in, or another model such as
    the rehearsal's replica) and a panel other than the authors' hq.csv (``panel_source``: the
    simulated panel or a given file); empty when the build uses SigLIP2 and the real ratings."""
    out = []
    if encoder_label == encoder.UNTRAINED_LABEL:
        out.append(encoder.UNTRAINED_LABEL)
    elif encoder_label.split("@")[0] != encoder.FULL_MODEL_ID:
        out.append(f"encoder {encoder_label}")
    if panel_source != "real":
        out.append(panel.source_label(panel_source))
    return out


@dataclass(frozen=True)
class ModelOnPanel:
    """The expert panel and this build's model on the same images (chapters 06 and 07)."""

    experts: panel.Panel  # chapter 04's panel
    panel_path: Path  # the panel's hq.csv-format file
    checkpoint: heads.Checkpoint  # chapter 05's model
    encoder: str  # the checkpoint's encoder, as a label
    scores: pd.DataFrame  # the model's raw scores on the panel's image ids: images x 40
    probs: pd.DataFrame  # the model's softmax over the 40 emotions: the same images x 40
    median: pd.DataFrame  # the experts' median rating: panel images x 40 (0-7)
    manifest: pd.DataFrame | None  # chapter 02's manifest, when the panel rates its images
    dataset: hub.HubSet | None  # the HQ dataset (``hq_images``) as opened, once, when read
    mapping: pd.Series | None  # HQ dataset row id -> panel image (content join), when read
    coverage: pd.DataFrame  # how the scored images found their panel images (what, count, share)
    sources: list  # the hub snapshots read (for :func:`emonet.data.snapshots.sources_table`)
    stand_ins: list[str]  # what the HQ results rest on instead of the paper's data
    label: str  # the same for captions, e.g. "untrained encoder, simulated panel"

    @property
    def truth(self) -> pd.DataFrame | None:
        """The offline faces' drawn intensities on the panel's images (images x 40, 0-7): an
        oracle perceiver; None when the panel does not rate chapter 02's faces."""
        if self.manifest is None:
            return None
        truth = pd.DataFrame(
            images.truth_matrix(self.manifest),
            index=self.manifest["id"].astype(str),
            columns=list(self.scores.columns),
        )
        return truth.loc[list(self.experts.images)]


def model_on_panel(root: Path, panel_source: str, hq_images: str | None) -> ModelOnPanel:
    """Chapter 05's model (checkpoint and HQ predictions under ``root``, the artifacts folder)
    and chapter 04's panel (``panel_source``) on the same images: by name, or through the HQ
    dataset ``hq_images`` joined to the panel by the experts' ratings."""
    checkpoint = heads.load_checkpoint(root / scoring.CHECKPOINT_PATH)
    encoder_label = encoder.EncoderSpec.from_dict(checkpoint.encoder).label
    missing = stand_ins(encoder_label, panel_source)
    experts = panel.profile_panel(panel_source, root)
    manifest = (
        images.read_manifest(images.manifest_path(root)) if panel_source == "simulated" else None
    )
    raw = scoring.load_predictions(root, "raw")
    softmax = scoring.load_predictions(root, "softmax")
    dataset = hub.load_hf_hq(hq_images) if hq_images else None
    mapping, ids, coverage, sources = _image_mapping(experts, raw.index, dataset)
    probs = softmax.loc[ids.index].set_axis(ids.to_numpy())
    median = pd.DataFrame(
        paper_statistics.expert_median(experts),
        index=list(experts.images),
        columns=list(probs.columns),
    )
    return ModelOnPanel(
        experts,
        panel.hq_path(panel_source, root),
        checkpoint,
        encoder_label,
        raw.loc[ids.index].set_axis(ids.to_numpy()),
        probs,
        median,
        manifest,
        dataset,
        mapping,
        coverage,
        sources,
        missing,
        ", ".join(missing) or "real HQ ratings",
    )


def _image_mapping(experts: panel.Panel, scored, dataset: hub.HubSet | None):
    """How the scored images find their panel images: with the HQ ``dataset``, its rows joined
    to the panel by the experts' ratings (:func:`emonet.data.join.join_by_ratings`), else by name
    (chapter 02's ids). Returns ``(the join or None, scored id -> panel image, the coverage
    table, the hub snapshots read)``."""
    if dataset is None:
        ids, counts = match_images(scored, experts.images)
        return None, ids, coverage_by_name(counts), []
    labels = hub.hq_expert_ratings(dataset)
    mapping, coverage = join.join_by_ratings(
        labels.ratings, expert_ratings(experts), dataset.source
    )
    ids = mapping[mapping.index.isin(pd.Index(scored))]
    extra = pd.DataFrame(
        [
            (
                "scored by this build's model (chapter 05)",
                len(ids),
                len(ids) / max(len(mapping), 1),
            ),
            (
                "scored rows without a unique panel image (left out)",
                len(scored) - len(ids),
                (len(scored) - len(ids)) / max(len(scored), 1),
            ),
            (
                "label keys naming no category (ignored)",
                int(labels.unknown_keys["rows"].sum()),
                float("nan"),
            ),
        ],
        columns=list(coverage.columns),
    )
    return (
        mapping,
        ids,
        pd.concat([coverage, extra], ignore_index=True),
        [labels.snapshot] if labels.snapshot is not None else [],
    )


def released_models(
    heads_source: str, on_panel: ModelOnPanel, outputs: pd.DataFrame, cache: Path
) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """The authors' released heads (``heads_source``: hub id or folder) rescored on the HQ images
    of ``on_panel.dataset`` with the checkpoint's encoder (embeddings cached under ``cache``) and
    placed on the panel by the content join. ``outputs``: ``ferd.jsonl``'s records, whose stored
    fields give the released neutral means. Returns ``(panel images x 40 raw scores, the head
    files table, the hub snapshots read)``."""
    folder, snapshot = released.locate_heads(heads_source)
    embedder = scoring.encoder_for(on_panel.checkpoint, cache_dir=cache)
    scores = released_scores(folder, on_panel.dataset, embedder, released.neutral_means(outputs))
    placed = scores.loc[on_panel.mapping.index].set_axis(on_panel.mapping.to_numpy())
    return (
        placed,
        released.head_files(folder),
        [s for s in (snapshot, embedder.snapshot) if s is not None],
    )


def demographics(on_panel: ModelOnPanel) -> tuple[pd.DataFrame | None, int | None]:
    """Ethnicity group, age, gender and prompted emotion per panel image, from chapter 02's
    manifest or the HQ dataset's metadata (its rows placed on the panel by the content join), and
    how many panel images have them; ``(None, None)`` when the build has neither."""
    if on_panel.manifest is not None:
        meta = on_panel.manifest
    elif on_panel.dataset is not None:
        meta = hub.metadata(on_panel.dataset)
        meta = meta.assign(id=meta["id"].map(on_panel.mapping)).dropna(subset=["id"])
    else:
        return None, None
    table, counts = image_demographics(meta, "id", on_panel.experts.images)
    return table, counts["matched"]

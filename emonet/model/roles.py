"""The images of one training run by role (Big: pre-training, Binary: fine-tuning, HQ: held out)
with their labels, from chapter 02's manifest and stand-ins (:func:`local_roles`) or from the
Hugging Face datasets (:func:`full_roles`), chosen by :func:`load_roles`; their counts, the roles
of the asked items, their embeddings, and the two training stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emonet.binary import protocol
from emonet.data import taxonomy
from emonet.data.hub import load_hf_big, load_hf_binary, load_hf_hq, metadata
from emonet.generation import images as generation_images
from emonet.generation import prompts
from emonet.model.standins import weak_labels
from emonet.model.training import (
    Stage,
    TrainingDataError,
    split_ids,
    vote_targets,
    yes_value,
)
from emonet.stats.seeds import keyed_seed


@dataclass
class Roles:
    """The images of one run: for each role (``big``, ``binary``, ``hq``) the image ids and the
    images themselves (paths or a lazy sequence of bytes); ``truth`` ``(n, 40)`` per role where
    the images have ground truth (local profile), else None; Big's weak labels and Binary's
    collected votes (:func:`emonet.data.loaders.load_binary` schema); ``demographics``: the
    prompt slots (``emotion``, ``ethnicity``, ``age``, ``gender``) of the images that have them,
    indexed by image id (local: every image; real data: the Binary set's), else None."""

    ids: dict[str, np.ndarray]
    images: dict[str, object]
    weak: np.ndarray
    votes: pd.DataFrame
    truth: dict[str, np.ndarray] | None = None
    demographics: pd.DataFrame | None = None
    sources: tuple = ()  # the verified hub snapshots the data came from (full profile)

    def paths(self, role: str) -> list:
        """The role's image paths where its images are files, else its image ids (images held
        as bytes, e.g. a Hugging Face dataset)."""
        images = self.images[role]
        return images if isinstance(images, list) else list(self.ids[role])


#: The prompt slots :attr:`Roles.demographics` holds.
DEMOGRAPHIC_COLUMNS = ("emotion", "ethnicity", "age", "gender")


#: What each role is used for in chapter 05 (the rows of :func:`role_counts`).
ROLE_USES = {
    "big": "pre-training (weak labels)",
    "binary": "fine-tuning (yes/no votes)",
    "hq": "held out (chapters 04 and 06)",
}


def load_roles(
    big_source: str | None,
    binary_source: str | None,
    hq_images: str | None,
    root,
    seed: int,
    weak: dict,
    panel: dict,
) -> Roles:
    """The run's data from its sources: with all three Hugging Face dataset ids (or local
    parquet files in their schemas) given, :func:`full_roles`; with none, the local stand-ins
    (:func:`local_roles` on chapter 02's manifest under the artifacts folder ``root``, with the
    simulated weak labeler's ``weak`` and the simulated Binary panel's ``panel`` settings)."""
    sources = {"big_source": big_source, "binary_source": binary_source, "hq_images": hq_images}
    unset = [name for name, source in sources.items() if source is None]
    if not unset:
        return full_roles(big_source, binary_source, hq_images)
    if len(unset) < len(sources):
        raise TrainingDataError(
            f"{unset} are null but {sorted(set(sources) - set(unset))} are "
            "set: give all three datasets, or none for the local stand-ins"
        )
    manifest = generation_images.read_manifest(generation_images.manifest_path(root))
    if manifest.empty:
        raise TrainingDataError(
            f"no images in {generation_images.manifest_path(root)}: the "
            "local stand-ins need chapter 02's offline faces (run it first)"
        )
    return local_roles(manifest, root, seed, weak, panel)


def local_roles(manifest: pd.DataFrame, root, seed: int, weak: dict, panel: dict) -> Roles:
    """The stand-in data from chapter 02's manifest: the Big/Binary/HQ roles of
    :func:`emonet.generation.prompts.assign_subsets`, weak labels (:func:`weak_labels` with
    ``weak``) for Big and the simulated Binary panel
    (:func:`emonet.binary.protocol.simulate_on_intensity` with ``panel``; the target is the
    prompted category) for Binary."""

    roles = prompts.assign_subsets(manifest, seed=seed).to_numpy()
    truth = generation_images.truth_matrix(manifest)
    if np.isnan(truth).any():
        raise TrainingDataError(
            "the manifest has no ground truth (not the offline faces): the local stand-ins need it"
        )
    ids = {r: manifest["id"].to_numpy()[roles == r] for r in prompts.SUBSETS}
    images = {
        r: [str(Path(root) / p) for p in manifest["path"].to_numpy()[roles == r]]
        for r in prompts.SUBSETS
    }
    truths = {r: truth[roles == r] for r in prompts.SUBSETS}
    rng = np.random.default_rng(keyed_seed(seed, 4))
    labels = weak_labels(truths["big"], rng, **weak)
    target = manifest["emotion"].map(taxonomy.INDEX).to_numpy()[roles == "binary"]
    panel = dict(panel)
    sim = protocol.simulate_on_intensity(
        ids["binary"],
        truths["binary"],
        target,
        panel.pop("leniency"),
        panel.pop("rater_weights"),
        rng=rng,
        **panel,
    )
    return Roles(
        ids,
        images,
        labels,
        sim[sim["asked"]].drop(columns="asked"),
        truths,
        manifest.set_index("id")[list(DEMOGRAPHIC_COLUMNS)],
    )


def role_counts(data: Roles, big: Stage, votes: Stage) -> pd.DataFrame:
    """Per role (:data:`ROLE_USES`): its use, its images and how many of them validate (early
    stopping) and test (the ablation's metrics) in the training ``big`` and ``votes`` stages
    (HQ: none; it is held out whole)."""
    counts = pd.DataFrame(
        {
            "role": list(ROLE_USES),
            "use": list(ROLE_USES.values()),
            "images": [len(data.ids[role]) for role in ROLE_USES],
        }
    )
    stages = {"big": big, "binary": votes}
    counts["validation images"] = [
        int(stages[r].val.sum()) if r in stages else 0 for r in counts["role"]
    ]
    counts["test images"] = [
        int(stages[r].test.sum()) if r in stages else 0 for r in counts["role"]
    ]
    return counts


def check_disjoint(data: Roles) -> None:
    """Raise :class:`TrainingDataError` when an image id belongs to two roles (an HQ image among
    the training images would leak the test set into training)."""
    for one, two in (("big", "binary"), ("big", "hq"), ("binary", "hq")):
        shared = np.intersect1d(
            np.asarray(data.ids[one]).astype(str), np.asarray(data.ids[two]).astype(str)
        )
        if len(shared):
            raise TrainingDataError(
                f"{len(shared)} image id(s) are in both the {one} and the "
                f"{two} role, e.g. {list(shared[:3])}"
            )


def vote_item_roles(votes: pd.DataFrame) -> pd.DataFrame:
    """The asked items (:func:`emonet.binary.protocol.items`) with their ``role``: as the
    simulated panel recorded it where the votes carry one, else reconstructed from the vote
    patterns (:func:`emonet.binary.protocol.assign_roles`, as in chapter 03)."""
    item_table = protocol.items(votes)
    if "role" in votes:
        return item_table.merge(
            votes[["image", "emotion", "role"]].drop_duplicates(), on=["image", "emotion"]
        )
    return protocol.assign_roles(item_table)


def embed_roles(data: Roles, encoder) -> dict[str, np.ndarray]:
    """Embeddings ``(n, D)`` of every role's images (cached by the encoder)."""
    return {role: encoder.embed(images) for role, images in data.images.items()}


def stages(
    data: Roles, x: dict[str, np.ndarray], val_fraction: float, test_fraction: float, seed: int
) -> tuple[Stage, Stage, float]:
    """The Big and Binary training stages (targets, weights, validation and test masks) and the
    ``yes_value`` used for the votes (from the Big images trained on)."""
    big_val, big_test = split_ids(data.ids["big"], val_fraction, seed, test_fraction)
    big = Stage(x["big"], data.weak, np.ones_like(data.weak), big_val, big_test)
    yes = yes_value(data.weak[big.train])
    target, weight = vote_targets(data.votes, data.ids["binary"], yes)
    votes = Stage(
        x["binary"],
        target,
        weight,
        *split_ids(data.ids["binary"], val_fraction, seed + 1, test_fraction),
    )
    return big, votes, yes


def full_roles(big_source: str, binary_source: str, hq_images: str) -> Roles:
    """The real data: Big's weak labels, Binary's expert votes (and its images' prompt slots)
    and the HQ images from the Hugging Face hub at their revisions (or local folders and parquet
    files in their schemas; :mod:`emonet.data.hub`), rows named by position; no ground truth."""
    big, weak = load_hf_big(big_source)
    binary, votes = load_hf_binary(binary_source)
    hq = load_hf_hq(hq_images)
    sets = {"big": big, "binary": binary, "hq": hq}
    return Roles(
        {r: s.ids for r, s in sets.items()},
        {r: s.images for r, s in sets.items()},
        weak,
        votes,
        None,
        metadata(binary).set_index("id")[list(DEMOGRAPHIC_COLUMNS)],
        tuple(s.snapshot for s in sets.values() if s.snapshot is not None),
    )

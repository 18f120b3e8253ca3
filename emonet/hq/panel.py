"""The HQ expert panel as one dense array: who rated which image how, in the canonical order.

A :class:`Panel` holds ``ratings`` ``(annotators, images, 40)`` on the 0-7 scale with NaN where an
annotator did not rate an image, the annotators' names, a human flag and a group per annotator
(the paper's groups, :data:`GROUPS`), and the image ids. It is built from an ``hq.csv`` file
(:func:`read_hq`, through :func:`emonet.data.loaders.load_hq`), written back to that format
(:func:`write_hq_csv`), and extended with a model's scores (:meth:`Panel.with_annotator`), which
is how a newly trained model joins the panel before the agreement suite (:mod:`emonet.hq.paper_statistics`)
runs. The simulated panel of the local profile is :mod:`emonet.hq.simulation`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from emonet.data import loaders, registry, taxonomy
from emonet.io import atomic_path

#: The paper's annotator groups, in the order of its figures.
GROUPS: tuple[str, ...] = (
    "Human Annotators",
    "Our Models",
    "Proprietary Models",
    "VLMs Multi-Shot",
    "VLMs Zero-Shot",
    "Random Baseline",
)


#: Group of a model name that none of the authors' rules places (see :func:`annotator_group`).
OTHER_GROUP = "Other Models"


RANDOM_BASELINE = "Random Baseline"


#: File name of the simulated panel in a profile's artifacts folder.
SIMULATED_FILE = Path("panel") / "hq_simulated.csv"


EXTRA_COLUMNS = ["image", "annotator", "dimension", "value"]


def annotator_group(name: str, human: bool) -> str:
    """The paper's group of an ``hq.csv`` annotator, by the authors' rules in their order.

    Human flag -> Human Annotators; name contains "Empathic Insight" -> Our Models; ends with "MS"
    -> VLMs Multi-Shot; ends with "ZS" -> VLMs Zero-Shot; contains "Hume Face" -> Proprietary
    Models; contains "Random Baseline" -> Random Baseline. The authors stop on any other name; here
    it goes to :data:`OTHER_GROUP`, so a file with extra models still runs (the chapter lists every
    annotator's group).
    """
    if human:
        return GROUPS[0]
    rules = (
        (lambda n: "Empathic Insight" in n, GROUPS[1]),
        (lambda n: n.endswith("MS"), GROUPS[3]),
        (lambda n: n.endswith("ZS"), GROUPS[4]),
        (lambda n: loaders.HUME_MARK in n, GROUPS[2]),
        (lambda n: RANDOM_BASELINE in n, GROUPS[5]),
    )
    return next((group for rule, group in rules if rule(name)), OTHER_GROUP)


def group_order(groups) -> list[str]:
    """The distinct ``groups`` in display order: the paper's six first, then the others sorted."""
    present = set(groups)
    return [g for g in GROUPS if g in present] + sorted(present - set(GROUPS))


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _annotator_order(names, human, groups) -> np.ndarray:
    """Humans first (natural order: human-2 before human-10), then models by group and name."""
    rank = {g: i for i, g in enumerate(group_order(groups))}
    keys = [(not h, rank[g], _natural_key(n)) for n, h, g in zip(names, human, groups)]
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=int)


def _empty_extra() -> pd.DataFrame:
    return pd.DataFrame(columns=EXTRA_COLUMNS)


@dataclass(frozen=True, eq=False)
class Panel:
    """Ratings of the HQ images by humans and models.

    ``ratings``: ``(annotators, images, 40)`` float on the 0-7 scale (models may leave it), NaN =
    not rated; ``annotators``: names; ``human``: ``(annotators,)`` bool; ``groups``: group per
    annotator; ``images``: image ids; ``extra``: the extra dimensions as a tidy table
    (``image, annotator, dimension, value``; they take no part in the agreement suite).
    """

    ratings: np.ndarray
    annotators: tuple[str, ...]
    human: np.ndarray
    groups: tuple[str, ...]
    images: tuple[str, ...]
    extra: pd.DataFrame = field(default_factory=_empty_extra)

    def __post_init__(self):
        ratings = np.asarray(self.ratings, dtype=float)
        object.__setattr__(self, "ratings", ratings)
        object.__setattr__(self, "human", np.asarray(self.human, dtype=bool))
        for name in ("annotators", "groups", "images"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        a, i = len(self.annotators), len(self.images)
        if ratings.shape != (a, i, taxonomy.N_EMOTIONS):
            raise ValueError(
                f"ratings have shape {ratings.shape}, expected "
                f"({a} annotators, {i} images, {taxonomy.N_EMOTIONS})"
            )
        if self.human.shape != (a,) or len(self.groups) != a:
            raise ValueError("human and groups need one entry per annotator")
        for name in ("annotators", "images"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                dup = pd.Series(values)[pd.Series(values).duplicated()].iloc[0]
                raise ValueError(f"duplicate {name[:-1]} {dup!r}")
        if np.isinf(ratings).any():
            raise ValueError("ratings must be finite or NaN (not rated)")
        if not self.human.any():
            raise ValueError("a panel needs at least one human annotator")

    # ------------------------------------------------------------------ views
    @property
    def n_annotators(self) -> int:
        return len(self.annotators)

    @property
    def n_images(self) -> int:
        return len(self.images)

    @property
    def rated(self) -> np.ndarray:
        """``(annotators, images)`` bool: the annotator rated the image."""
        return ~np.isnan(self.ratings).all(axis=-1)

    def index(self, name: str) -> int:
        """Position of annotator ``name``."""
        try:
            return self.annotators.index(name)
        except ValueError:
            raise KeyError(f"no annotator {name!r} in the panel") from None

    def annotator_table(self) -> pd.DataFrame:
        """One row per annotator: ``annotator, group, human, n_images`` (images rated),
        ``share_images`` and ``marked`` (mean number of categories rated above 0 per image)."""
        rated = self.rated
        marked = (np.nan_to_num(self.ratings) > 0).sum(axis=-1)
        n = rated.sum(axis=1)
        return pd.DataFrame(
            {
                "annotator": self.annotators,
                "group": self.groups,
                "human": self.human,
                "n_images": n,
                "share_images": n / self.n_images,
                "marked": np.divide(
                    (marked * rated).sum(axis=1), n, out=np.full(len(n), np.nan), where=n > 0
                ),
            }
        )

    # ------------------------------------------------------------------ building
    @classmethod
    def from_table(cls, ratings: pd.DataFrame, extra: pd.DataFrame | None = None) -> Panel:
        """A panel from :func:`emonet.data.loaders.load_hq`'s tables (one row per image and
        annotator).

        Images are sorted; annotators are ordered humans first, then by group and name, so the
        panel does not depend on the order of the rows in the file.
        """
        names = ratings.drop_duplicates("annotator")[["annotator", "human"]]
        groups = [annotator_group(n, h) for n, h in zip(names["annotator"], names["human"])]
        order = _annotator_order(names["annotator"].tolist(), names["human"].tolist(), groups)
        annotators = names["annotator"].to_numpy()[order]
        images = np.sort(ratings["image"].unique())
        a_idx = pd.Index(annotators).get_indexer(ratings["annotator"])
        i_idx = pd.Index(images).get_indexer(ratings["image"])
        dense = np.full((len(annotators), len(images), taxonomy.N_EMOTIONS), np.nan)
        dense[a_idx, i_idx] = ratings[list(taxonomy.EMOTIONS)].to_numpy(float)
        extra = _empty_extra() if extra is None else extra[EXTRA_COLUMNS].reset_index(drop=True)
        return cls(
            dense,
            tuple(annotators),
            names["human"].to_numpy()[order],
            tuple(np.asarray(groups, dtype=object)[order]),
            tuple(images),
            extra,
        )

    def with_annotator(
        self, name: str, scores: pd.DataFrame, group: str, human: bool = False
    ) -> Panel:
        """A new panel with one more annotator (this panel is unchanged).

        ``scores``: ``images x 40`` DataFrame indexed by image id with the 40 categories as columns
        in canonical order (e.g. a model's predictions on the 0-7 scale). Every index entry must be
        an image of the panel; panel images missing from ``scores`` stay NaN (not rated), and
        :meth:`annotator_table` reports the coverage. Values must be finite.
        """
        if name in self.annotators:
            raise ValueError(f"annotator {name!r} is already in the panel")
        if list(scores.columns) != list(taxonomy.EMOTIONS):
            raise ValueError(
                "scores need the 40 categories as columns in canonical order "
                "(emonet.data.taxonomy.EMOTIONS)"
            )
        if scores.index.has_duplicates:
            raise ValueError(f"scores of {name!r}: duplicate image ids in the index")
        where = pd.Index(self.images).get_indexer(scores.index.astype(str))
        if (where < 0).any():
            unknown = scores.index[where < 0]
            raise ValueError(
                f"scores of {name!r}: {len(unknown)} image(s) not in the panel, "
                f"e.g. {list(unknown[:3])}"
            )
        values = scores.to_numpy(float)
        if not np.isfinite(values).all():
            raise ValueError(f"scores of {name!r} must be finite numbers")
        row = np.full((1, self.n_images, taxonomy.N_EMOTIONS), np.nan)
        row[0, where] = values
        return replace(
            self,
            ratings=np.concatenate([self.ratings, row]),
            annotators=(*self.annotators, name),
            human=np.append(self.human, human),
            groups=(*self.groups, group),
        )

    def subset(self, annotators) -> Panel:
        """The panel restricted to the named annotators (in the given order)."""
        idx = [self.index(a) for a in annotators]
        keep = self.extra["annotator"].isin(list(annotators))
        return replace(
            self,
            ratings=self.ratings[idx],
            annotators=tuple(annotators),
            human=self.human[idx],
            groups=tuple(self.groups[i] for i in idx),
            extra=self.extra[keep].reset_index(drop=True),
        )


def read_hq(path: str | os.PathLike | None = None) -> Panel:
    """A panel from an ``hq.csv`` file (default: the authors' file, fetched and verified)."""
    ratings, extra = loaders.load_hq(path)
    return Panel.from_table(ratings, extra)


def hq_path(source: str, artifacts_root: str | os.PathLike) -> Path:
    """The ``hq.csv``-format file a profile analyses: ``"real"`` is the authors' ``hq.csv``
    (fetched, verified by its git blob id), ``"simulated"`` the simulated panel that notebook
    04_hq_panel writes into ``artifacts_root``; anything else is an ``hq.csv``-format file (a
    researcher's own panel, or the rehearsal's replica), read as it is: a path, or a bare file
    name looked up like other supplied files (the mirror, then the cache folder)."""
    if source == "real":
        return registry.fetch("hq.csv")
    if source == "simulated":
        path = Path(artifacts_root) / SIMULATED_FILE
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: run notebook 04_hq_panel first (it writes the simulated panel)"
            )
        return path
    path = Path(source).expanduser()
    if not str(source).endswith(".csv"):
        raise ValueError(
            f"unknown panel source {source!r}; choose 'real', 'simulated' or an "
            "hq.csv-format file (.csv)"
        )
    if path.is_file():
        return path
    if path.name != str(source):
        raise FileNotFoundError(f"panel source {source!r}: no such file")
    return registry.locate_supplied(str(source))


def profile_panel(source: str, artifacts_root: str | os.PathLike) -> Panel:
    """The panel of a profile (see :func:`hq_path`), read through the ``hq.csv`` loader."""
    return read_hq(hq_path(source, artifacts_root))


#: The panels a profile can analyse by name (:func:`hq_path`), as titles and captions name them.
#: A file path is the third kind.
SOURCES = {"simulated": "simulated panel", "real": "real HQ ratings"}


def source_label(source: str) -> str:
    """The panel of ``source`` as figure titles and captions name it ("simulated panel", "panel
    file hq-replica.csv")."""
    if source in SOURCES:
        return SOURCES[source]
    if str(source).endswith(".csv"):
        return f"panel file {Path(source).name}"
    raise ValueError(
        f"unknown panel source {source!r}; choose from {list(SOURCES)} or name an "
        "hq.csv-format file (.csv)"
    )


def annotator_overview(panel: Panel, ratings: pd.DataFrame) -> pd.DataFrame:
    """:meth:`Panel.annotator_table` of a panel read from ``ratings`` (the rows of
    :func:`emonet.data.loaders.load_hq`) with ``keys_missing``: how many category keys the
    annotator's dictionaries leave out in the file (each read as 0)."""
    missing = ratings.groupby("annotator", sort=False)["n_missing"].sum().rename("keys_missing")
    return panel.annotator_table().merge(missing.reset_index(), on="annotator")


def _literal(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def write_hq_csv(panel: Panel, path: str | os.PathLike, zeros: str = "humans") -> Path:
    """Write ``panel`` in the ``hq.csv`` format (atomically); :func:`read_hq` reads it back.

    One row per rated (image, annotator), images in panel order. ``zeros``: which rows list
    categories rated 0 (``"humans"``, ``"all"``, ``"none"``); elsewhere a 0 is left out of the dict,
    which the format reads as 0. Hume scores are divided by 7 again; extra dimensions are written
    into their rows.
    """
    if zeros not in ("humans", "all", "none"):
        raise ValueError(f"zeros must be 'humans', 'all' or 'none', got {zeros!r}")
    keys = [taxonomy.family_key(e) for e in taxonomy.EMOTIONS]
    extra = {(r.image, r.annotator): [] for r in panel.extra.itertuples()}
    for r in panel.extra.itertuples():
        extra[(r.image, r.annotator)].append((taxonomy.family_key(r.dimension), r.value))
    rows = []
    for i, image in enumerate(panel.images):
        for a, name in enumerate(panel.annotators):
            values = panel.ratings[a, i]
            if np.isnan(values).all():
                continue
            scale = loaders.HUME_FACTOR if loaders.HUME_MARK in name else 1.0
            keep_zero = zeros == "all" or (zeros == "humans" and panel.human[a])
            items = [
                f"{k!r}: {_literal(v / scale)}" for k, v in zip(keys, values) if keep_zero or v != 0
            ]
            items += [f"{k!r}: {_literal(v / scale)}" for k, v in extra.get((image, name), [])]
            rows.append((image, name, bool(panel.human[a]), "{" + ", ".join(items) + "}"))
    frame = pd.DataFrame(rows, columns=list(loaders.HQ_COLUMNS))
    with atomic_path(Path(path)) as tmp:
        frame.to_csv(tmp, index=False)
    return Path(path)

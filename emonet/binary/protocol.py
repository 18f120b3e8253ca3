"""The Binary set's sequential yes/no protocol: items, vote patterns, agreement splits, target vs
contrast roles, alpha with bootstrap CIs, a logistic rater model, and a simulation of the
protocol with known truth.

Protocol (paper; reconstructed from binary.csv by :func:`assign_roles`): each image is asked about
2 categories. The prompted *target* goes to one expert and, while the answers stay "yes", to a
second and a third (1-3 ratings); a *contrast* category is asked once.

Tables are pandas frames; ``labels`` has the schema of :func:`emonet.data.loaders.load_binary`
(``image, annotator, value, emotion, line``). Shares are fractions in [0, 1].
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from emonet.data import taxonomy
from emonet.stats import agreement
from emonet.stats.seeds import keyed_seed

ROLES = ("target", "contrast", "unassigned")


#: How an item's role was decided (see :func:`assign_roles`).
RULES = {
    "re-asked": "the one item rated more than once is the target",
    "single no": "both rated once, exactly one 'no': under the protocol the 'no' is the target",
    "both no": "both rated once, both 'no': target's answer known ('no'), not which item it is",
    "both yes": "both rated once, both 'yes': not possible under the protocol",
    "both re-asked": "both items rated more than once: not possible under the protocol",
    "single-rating phase": "image before the first re-asked image: no follow-up ratings yet",
}


#: Vote patterns (yes first) that the protocol can produce.
PROTOCOL_PATTERNS = ("Y", "N", "YN", "YYN", "YYY")

#: Answers an expert needs in a role for their observed "yes" rate in that role to be read (with
#: fewer, the rater model's value for that role is an extrapolation).
MIN_ROLE_LABELS = 50


def items(labels: pd.DataFrame) -> pd.DataFrame:
    """One row per (image, emotion): ``image, emotion, family, n_ratings, n_yes, n_no, pattern,
    line`` (first line in the file), sorted by image and line. Every image must have 2 items."""
    out = (
        labels.groupby(["image", "emotion"], observed=True, sort=False)
        .agg(n_ratings=("value", "size"), n_yes=("value", "sum"), line=("line", "min"))
        .reset_index()
        .sort_values(["image", "line"], ignore_index=True)
    )
    out["n_yes"] = out["n_yes"].astype(int)
    out["n_no"] = out["n_ratings"] - out["n_yes"]
    out["pattern"] = ["Y" * y + "N" * n for y, n in zip(out["n_yes"], out["n_no"])]
    out.insert(2, "family", out["emotion"].map(taxonomy.FAMILY_OF).astype(str))
    per_image = out.groupby("image").size()
    if (per_image != 2).any():
        bad = per_image[per_image != 2]
        raise ValueError(
            f"{len(bad)} image(s) are not asked about exactly 2 categories, e.g. "
            f"{bad.index[0]!r} with {bad.iloc[0]}"
        )
    return out


def assign_roles(item_table: pd.DataFrame) -> pd.DataFrame:
    """Add ``role`` (target / contrast / unassigned), ``rule`` (a key of :data:`RULES`) and
    ``first_yes`` (the first answer on the item, NaN where the order is unknown).

    Images are taken in id order; those before the first image with a re-asked item form the
    single-rating phase. A re-asked target's first answer was "yes" (else it would not have been
    re-asked); a single-rated target's only answer is its first.
    """
    out = item_table.copy()
    multi = out["n_ratings"] > 1
    img = (
        out.assign(n_multi=multi.astype(int))
        .groupby("image", sort=True)
        .agg(n_multi=("n_multi", "sum"), n_no=("n_no", "sum"), n_yes=("n_yes", "sum"))
    )
    reasked = img.index[img["n_multi"] > 0]
    phase_end = reasked.min() if len(reasked) else None
    rule = pd.Series("single-rating phase", index=img.index)
    later = img.index >= phase_end if phase_end is not None else np.zeros(len(img), bool)
    rule[later & (img["n_multi"] == 1)] = "re-asked"
    rule[later & (img["n_multi"] == 2)] = "both re-asked"
    single = later & (img["n_multi"] == 0)
    rule[single & (img["n_no"] == 1)] = "single no"
    rule[single & (img["n_no"] == 2)] = "both no"
    rule[single & (img["n_yes"] == 2)] = "both yes"
    out["rule"] = out["image"].map(rule)
    role = np.full(len(out), "unassigned", dtype=object)
    re_asked = (out["rule"] == "re-asked").to_numpy()
    role[re_asked] = np.where(multi[re_asked], "target", "contrast")
    single_no = (out["rule"] == "single no").to_numpy()
    role[single_no] = np.where(out["n_no"][single_no] == 1, "target", "contrast")
    out["role"] = role
    first = np.where(multi, 1.0, out["n_yes"].astype(float))
    out["first_yes"] = np.where(multi & (out["role"] != "target"), np.nan, first)
    return out


def facts(labels: pd.DataFrame, roles: pd.DataFrame) -> pd.Series:
    """Descriptive counts and shares of the label file (index: fact name)."""
    n = roles["n_ratings"]
    return pd.Series(
        {
            "n_labels": len(labels),
            "n_images": labels["image"].nunique(),
            "n_annotators": labels["annotator"].nunique(),
            "n_items": len(roles),
            "n_items_1": int((n == 1).sum()),
            "n_items_2": int((n == 2).sum()),
            "n_items_3": int((n == 3).sum()),
            "n_items_multi": int((n > 1).sum()),
            "positive_rate": float(labels["value"].mean()),
            "labels_per_annotator_min": int(labels["annotator"].value_counts().min()),
            "labels_per_annotator_max": int(labels["annotator"].value_counts().max()),
            "n_images_single_phase": int(
                roles.loc[roles["rule"] == "single-rating phase", "image"].nunique()
            ),
        },
        dtype=object,
    )


def vote_patterns(roles: pd.DataFrame) -> pd.DataFrame:
    """Items per vote pattern (``Y``/``N`` per rating, yes first) and role, with totals and
    whether the protocol can produce the pattern."""
    table = pd.crosstab(roles["pattern"], roles["role"]).reindex(columns=list(ROLES), fill_value=0)
    table["total"] = table.sum(axis=1)
    table["protocol"] = table.index.isin(PROTOCOL_PATTERNS)
    order = sorted(table.index, key=lambda p: (len(p), -p.count("Y")))
    return table.loc[order].rename_axis("pattern").reset_index()


def rule_counts(roles: pd.DataFrame) -> pd.DataFrame:
    """Images per role-assignment rule with its meaning (every image is counted once)."""
    per = roles.groupby("rule")["image"].nunique().reindex(list(RULES), fill_value=0)
    return pd.DataFrame(
        {
            "rule": list(RULES),
            "n_images": per.to_numpy(),
            "share": per.to_numpy() / per.sum(),
            "meaning": list(RULES.values()),
        }
    )


def agreement_splits(item_table: pd.DataFrame, by: str = "emotion") -> pd.DataFrame:
    """The authors' agreement summary over items with more than one rating, per emotion (or per
    family, ``by="family"``) and overall (last row, named ``"All"``): ``n`` items, shares
    ``full``, ``split_2_1``, ``split_1_1``, and the shares of those items rated twice
    (``rated_2``) and thrice (``rated_3``). Groups sorted by ``full`` (descending)."""
    multi = item_table[item_table["n_ratings"] > 1]
    full = (multi["n_yes"] == 0) | (multi["n_no"] == 0)
    frame = pd.DataFrame(
        {
            "emotion": multi["emotion"].astype(str),
            "family": multi["family"],
            "full": full,
            "split_2_1": ~full & (multi["n_ratings"] == 3),
            "split_1_1": ~full & (multi["n_ratings"] == 2),
            "rated_2": multi["n_ratings"] == 2,
            "rated_3": multi["n_ratings"] == 3,
        }
    )
    shares = ["full", "split_2_1", "split_1_1", "rated_2", "rated_3"]
    keys = ["emotion", "family"] if by == "emotion" else ["family"]
    per = frame.groupby(keys)[shares].mean()
    per.insert(0, "n", frame.groupby(keys).size())
    per = per.reset_index().sort_values(["full", by], ascending=[False, True])
    overall = pd.DataFrame(
        [{**dict.fromkeys(keys, "All"), "n": len(frame), **frame[shares].mean().to_dict()}]
    )
    return pd.concat([per, overall], ignore_index=True)


def role_rates(roles: pd.DataFrame) -> pd.DataFrame:
    """Share of "yes" as the first answer on the target and on the contrast, over the images of
    the rules ``re-asked``, ``single no`` and ``both no`` (where both roles' first answers are
    known: a both-no image gives a "no" to each role). Columns ``role, n_images, n_yes, rate``."""
    used = roles[roles["rule"].isin(["re-asked", "single no", "both no"])]
    both_no = used["rule"] == "both no"
    rows = []
    for role in ("target", "contrast"):
        known = used[used["role"] == role]
        n_images = len(known) + both_no.sum() // 2
        n_yes = int(known["first_yes"].sum())
        rows.append((role, int(n_images), n_yes, n_yes / n_images))
    return pd.DataFrame(rows, columns=["role", "n_images", "n_yes", "rate"])


def role_rates_by(roles: pd.DataFrame, by: str = "emotion") -> pd.DataFrame:
    """Per emotion or family (``by``; canonical order): items as target, contrast and in both-no
    images, and bounds on the share of "yes" as first answer in each role.

    Which item of a both-no image was the target is unknown, so each role's rate lies between
    ``low`` (every both-no item of the group counted in that role's denominator) and ``high``
    (none counted). Only images of the rules ``re-asked``, ``single no``, ``both no`` are used.
    """
    used = roles[roles["rule"].isin(["re-asked", "single no", "both no"])]
    key = used["emotion"].astype(str) if by == "emotion" else used["family"]
    order = list(taxonomy.EMOTIONS) if by == "emotion" else list(taxonomy.FAMILIES)
    grouped = (
        pd.DataFrame(
            {
                "key": key,
                "target": used["role"] == "target",
                "contrast": used["role"] == "contrast",
                "both_no": used["rule"] == "both no",
                "yes_target": (used["role"] == "target") & (used["first_yes"] == 1),
                "yes_contrast": (used["role"] == "contrast") & (used["first_yes"] == 1),
            }
        )
        .groupby("key")
        .sum()
        .reindex(order, fill_value=0)
    )
    out = pd.DataFrame({by: order})
    if by == "emotion":
        out["family"] = [taxonomy.FAMILY_OF[e] for e in order]
    out["n_target"] = grouped["target"].to_numpy()
    out["n_contrast"] = grouped["contrast"].to_numpy()
    out["n_both_no"] = grouped["both_no"].to_numpy()
    for role in ("target", "contrast"):
        yes, n = grouped[f"yes_{role}"].to_numpy(), grouped[role].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{role}_low"] = yes / (n + out["n_both_no"].to_numpy())
            out[f"{role}_high"] = np.where(n > 0, yes / np.maximum(n, 1), np.nan)
    return out


def n_separated(rates_by: pd.DataFrame) -> int:
    """Groups of :func:`role_rates_by` whose lowest possible target rate lies above the highest
    possible contrast rate: the roles differ whichever item of a both-no image was the target."""
    return int((rates_by["target_low"] > rates_by["contrast_high"]).sum())


def annotators(labels: pd.DataFrame, roles: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: ``n_labels``, ``share`` of all labels, ``n_images``, ``positive_rate``, and
    labels and "yes" rate on targets and on contrasts (unassigned items counted apart)."""
    merged = _labels_with_roles(labels, roles)
    by = merged.groupby("annotator")
    out = pd.DataFrame(
        {
            "n_labels": by.size(),
            "n_images": by["image"].nunique(),
            "positive_rate": by["value"].mean(),
        }
    )
    out.insert(1, "share", out["n_labels"] / len(merged))
    for role in ROLES:
        sub = merged[merged["role"] == role].groupby("annotator")["value"]
        out[f"n_{role}"] = sub.size().reindex(out.index, fill_value=0)
        if role != "unassigned":
            out[f"{role}_rate"] = sub.mean().reindex(out.index)
    return out.rename_axis("annotator").reset_index()


def annotators_in_both_roles(
    annotator_table: pd.DataFrame, min_labels: int = MIN_ROLE_LABELS
) -> list[str]:
    """Annotators of :func:`annotators` with at least ``min_labels`` answers on targets and at
    least ``min_labels`` on contrasts, in table order."""
    enough = (annotator_table["n_target"] >= min_labels) & (
        annotator_table["n_contrast"] >= min_labels
    )
    return annotator_table.loc[enough, "annotator"].tolist()


def _labels_with_roles(labels: pd.DataFrame, roles: pd.DataFrame) -> pd.DataFrame:
    keys = roles[["image", "emotion", "role"]]
    return labels[["image", "annotator", "value", "emotion"]].merge(
        keys, on=["image", "emotion"], how="left", validate="many_to_one"
    )


def fit_rater_model(labels: pd.DataFrame, roles: pd.DataFrame):
    """Logistic regression of a "yes" on annotator, emotion and role (target vs contrast) over
    the labels of assigned items (statsmodels ``logit``; treatment coding, references: the first
    annotator, the first canonical emotion, contrast). Returns ``(result, frame)``; ``frame``
    holds the labels used (columns ``yes, annotator, emotion, role``)."""
    import statsmodels.formula.api as smf

    merged = _labels_with_roles(labels, roles)
    frame = merged[merged["role"] != "unassigned"]
    frame = pd.DataFrame(
        {
            "yes": frame["value"].astype(int).to_numpy(),
            "annotator": frame["annotator"].to_numpy(),
            "emotion": frame["emotion"].astype(str).to_numpy(),
            "role": pd.Categorical(frame["role"], ["contrast", "target"]),
        }
    )
    result = smf.logit("yes ~ C(annotator) + C(emotion) + role", data=frame).fit(disp=0)
    return result, frame


def role_odds_ratio(result) -> float:
    """Odds ratio of a "yes" on a target vs on a contrast at a fixed annotator and emotion (the
    role term of :func:`fit_rater_model`'s result)."""
    return float(np.exp(result.params["role[T.target]"]))


def rater_effects(result, frame: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: labels modelled in each role, odds ratio of "yes" vs the reference
    annotator with 95% CI (same emotion and role), and standardised P(yes) as target and as
    contrast: the model's mean prediction over the modelled labels' emotions, each label given to
    this annotator in that role (an extrapolation where the annotator has few labels in a role)."""
    conf = result.conf_int()
    weights = frame["emotion"].value_counts(normalize=True)
    grid = pd.DataFrame({"emotion": weights.index})
    rows = []
    for name in sorted(frame["annotator"].unique()):
        term = f"C(annotator)[T.{name}]"
        odds = (
            np.exp([result.params[term], *conf.loc[term]]) if term in result.params else np.ones(3)
        )
        probs = [
            float(
                result.predict(
                    grid.assign(
                        annotator=name,
                        role=pd.Categorical([role] * len(grid), ["contrast", "target"]),
                    )
                )
                @ weights.to_numpy()
            )
            for role in ("target", "contrast")
        ]
        n_role = frame.loc[frame["annotator"] == name, "role"].value_counts()
        rows.append(
            (name, int(n_role.get("target", 0)), int(n_role.get("contrast", 0)), *odds, *probs)
        )
    return pd.DataFrame(
        rows,
        columns=[
            "annotator",
            "n_target",
            "n_contrast",
            "odds_ratio",
            "or_low",
            "or_high",
            "p_yes_target",
            "p_yes_contrast",
        ],
    )


def target_yes_range(
    effects: pd.DataFrame, min_labels: int = MIN_ROLE_LABELS
) -> tuple[float, float]:
    """Lowest and highest standardised P(yes) on a target (:func:`rater_effects`) among the
    annotators with at least ``min_labels`` modelled answers on targets."""
    p_yes = effects.loc[effects["n_target"] >= min_labels, "p_yes_target"]
    return float(p_yes.min()), float(p_yes.max())


def item_counts(item_table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``(images, 40, 2)`` counts of [no, yes] per image and emotion (canonical order) and
    the image ids (length ``images``). Emotions not asked about an image have zero counts."""
    images, image_idx = np.unique(item_table["image"].to_numpy(), return_inverse=True)
    emo_idx = item_table["emotion"].astype(str).map(taxonomy.INDEX).to_numpy()
    counts = np.zeros((len(images), taxonomy.N_EMOTIONS, 2))
    counts[image_idx, emo_idx, 0] = item_table["n_no"].to_numpy()
    counts[image_idx, emo_idx, 1] = item_table["n_yes"].to_numpy()
    return counts, images


def alpha_table(
    item_table: pd.DataFrame, n_boot: int = 1000, seed: int = 42, level: float = 0.95
) -> pd.DataFrame:
    """Nominal Krippendorff's alpha of the yes/no labels per emotion, per family and overall
    (units: (image, emotion) items), with percentile CIs from one bootstrap over images.

    Columns: ``scope`` (emotion / family / overall), ``name``, ``family``, ``n_pairable`` (items
    with 2+ ratings), ``n_yes``, ``n_no`` (pairable values), ``alpha``, ``ci_low``, ``ci_high``.
    """
    counts, _ = item_counts(item_table)
    contrib = agreement.unit_coincidences(counts)  # (images, 40, 2, 2)
    delta = agreement.distance([False, True])
    fam = np.array(
        [list(taxonomy.FAMILIES).index(taxonomy.FAMILY_OF[e]) for e in taxonomy.EMOTIONS]
    )
    groups = np.concatenate(
        [
            np.eye(taxonomy.N_EMOTIONS),
            (fam[None, :] == np.arange(len(taxonomy.FAMILIES))[:, None]),
            np.ones((1, taxonomy.N_EMOTIONS)),
        ]
    )  # (40 + 7 + 1, 40)

    def by_group(o):  # (..., 40, 2, 2) -> (..., 48, 2, 2)
        return np.einsum("ge,...eck->...gck", groups, o)

    point = by_group(contrib.sum(axis=0))
    boot = by_group(agreement.bootstrap_sums(contrib, n_boot, seed))
    lo, hi = agreement.percentile_ci(agreement.alpha_from_coincidences(boot, delta), level)
    pairable = counts.sum(axis=-1) > 1
    values = np.where(pairable[..., None], counts, 0).sum(axis=0)  # (40, 2)
    grouped_values = groups @ values
    names = [*taxonomy.EMOTIONS, *taxonomy.FAMILIES, "All"]
    return pd.DataFrame(
        {
            "scope": ["emotion"] * taxonomy.N_EMOTIONS
            + ["family"] * len(taxonomy.FAMILIES)
            + ["overall"],
            "name": names,
            "family": [taxonomy.FAMILY_OF[e] for e in taxonomy.EMOTIONS]
            + [*taxonomy.FAMILIES, "All"],
            "n_pairable": (groups @ pairable.sum(axis=0)).astype(int),
            "n_yes": grouped_values[:, 1].astype(int),
            "n_no": grouped_values[:, 0].astype(int),
            "alpha": agreement.alpha_from_coincidences(point, delta),
            "ci_low": lo,
            "ci_high": hi,
        }
    )


def alpha_if_no_ends_chain(n_yes, n_no):
    """Nominal alpha ``(1 - n_no) / n_yes`` of pairable yes/no values when no unit holds two
    "no" (so the no-no coincidence is 0), as under a protocol that stops at the first "no"."""
    return (1.0 - np.asarray(n_no, float)) / np.asarray(n_yes, float)


def simulated_raters(labels: pd.DataFrame, leniency_spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Simulated stand-ins for the experts of ``labels``: ``(leniency, workload)``, both
    ``(n_annotators,)`` in annotator-name order. Leniencies (log-odds shifts of "yes") are evenly
    spaced from ``-leniency_spread`` to ``+leniency_spread``; workloads are the experts' answer
    counts, the weights with which :func:`draw_raters` picks them."""
    workload = labels["annotator"].value_counts().sort_index().to_numpy()
    return np.linspace(-leniency_spread, leniency_spread, len(workload)), workload


def draw_raters(n_images: int, rater_weights, rng: np.random.Generator) -> np.ndarray:
    """Three distinct raters per image ``(n_images, 3)`` (indices into ``rater_weights``), drawn
    with probabilities ``rater_weights`` without replacement (Gumbel top-3)."""
    weights = np.asarray(rater_weights, float) / np.sum(rater_weights)
    if len(weights) < 3:
        raise ValueError(f"the protocol needs at least 3 raters, got {len(weights)}")
    keys = np.log(weights) - np.log(-np.log(rng.random((n_images, len(weights)))))
    return np.argsort(-keys, axis=1)[:, :3]


def run_protocol(
    image_ids, emotions: np.ndarray, raters: np.ndarray, p_yes: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Simulated raters answering the Binary sequential protocol ("simulated raters").

    ``emotions`` ``(n, 2)``: canonical indices of each image's target and contrast category;
    ``raters`` ``(n, 3)``: the three raters who would answer; ``p_yes`` ``(n, 2, 3)``: each
    rater's probability of "yes" on the target and the contrast. Every rater's answer is drawn
    (the full design); ``asked`` marks the answers the sequential protocol collects: the
    target's until the first "no" (1-3), the contrast's first.

    Returns six rows per image in the :func:`emonet.data.loaders.load_binary` schema (``image,
    annotator, value, emotion, line``) plus ``role`` (target / contrast) and ``asked``.
    """
    n_images = len(emotions)
    yes = rng.random(p_yes.shape) < p_yes
    asked = np.zeros_like(yes)
    asked[:, 0, :] = np.cumprod(
        np.concatenate([np.ones((n_images, 1), bool), yes[:, 0, :2]], axis=1), axis=1
    ).astype(bool)
    asked[:, 1, 0] = True
    return pd.DataFrame(
        {
            "image": np.repeat(np.asarray(image_ids, dtype=object), 6),
            "annotator": pd.Series(np.repeat(raters, 2, axis=0).ravel() + 1).map("sim-{}".format),
            "value": yes.ravel(),
            "emotion": pd.Categorical.from_codes(
                np.repeat(emotions, 3, axis=1).ravel(), categories=taxonomy.EMOTIONS
            ),
            "line": np.arange(n_images * 6) + 2,
            "role": np.tile(np.repeat(["target", "contrast"], 3), n_images),
            "asked": asked.ravel(),
        }
    )


def simulate_protocol(
    n_images: int,
    accuracy: float,
    leniency,
    rater_weights,
    p_target: float = 0.8,
    p_contrast: float = 0.1,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """The Binary protocol with known present/absent truth ("simulated raters").

    Each image has a target and a contrast emotion (random, distinct), truly present with
    probability ``p_target`` / ``p_contrast``. Three distinct raters (drawn with probabilities
    ``rater_weights``) answer both; rater ``r`` says "yes" with probability
    ``expit(±logit(accuracy) + leniency[r])`` (+ if present). Returns :func:`run_protocol`'s
    table with image ids ``00000, 00001, ...`` plus ``truth`` (True if present).
    """
    rng = np.random.default_rng() if rng is None else rng
    leniency = np.asarray(leniency, float)
    if len(rater_weights) != len(leniency):
        raise ValueError(
            f"need one leniency per rater, got {len(leniency)} leniencies for "
            f"{len(rater_weights)} raters"
        )
    raters = draw_raters(n_images, rater_weights, rng)
    emotions = np.argsort(rng.random((n_images, taxonomy.N_EMOTIONS)), axis=1)[:, :2]
    truth = rng.random((n_images, 2)) < [p_target, p_contrast]  # (images, [target, contrast])
    sign = np.where(truth, 1.0, -1.0)[:, :, None]
    p_yes = expit(sign * logit(accuracy) + leniency[raters][:, None, :])  # (images, 2, 3)
    ids = [f"{i:05d}" for i in range(n_images)]
    out = run_protocol(ids, emotions, raters, p_yes, rng)
    out.insert(5, "truth", np.repeat(truth, 3, axis=1).ravel())
    return out


def simulate_on_intensity(
    image_ids,
    intensity: np.ndarray,
    target: np.ndarray,
    leniency,
    rater_weights,
    threshold: float = 2.5,
    slope: float = 1.5,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """The Binary protocol run by simulated raters on images with graded truth (the offline
    faces' ground truth, chapter 05).

    ``intensity`` ``(n, 40)`` on 0-7; ``target`` ``(n,)``: canonical index of each image's
    prompted category. The contrast is a uniformly drawn other category. Rater ``r`` says "yes"
    with probability ``expit(slope * (intensity - threshold) + leniency[r])``: half the time at
    the threshold intensity, more often for stronger expressions. Returns :func:`run_protocol`'s
    table plus ``truth`` (the item's 0-7 intensity).
    """
    rng = np.random.default_rng() if rng is None else rng
    intensity, target = np.asarray(intensity, float), np.asarray(target, int)
    leniency = np.asarray(leniency, float)
    if len(rater_weights) != len(leniency):
        raise ValueError(
            f"need one leniency per rater, got {len(leniency)} leniencies for "
            f"{len(rater_weights)} raters"
        )
    if intensity.shape != (len(target), taxonomy.N_EMOTIONS):
        raise ValueError(
            f"intensity must be (n_images, 40) for {len(target)} targets, got {intensity.shape}"
        )
    n_images = len(target)
    raters = draw_raters(n_images, rater_weights, rng)
    contrast = (
        target + 1 + rng.integers(taxonomy.N_EMOTIONS - 1, size=n_images)
    ) % taxonomy.N_EMOTIONS
    emotions = np.stack([target, contrast], axis=1)
    level = np.take_along_axis(intensity, emotions, axis=1)  # (images, 2)
    p_yes = expit(slope * (level[:, :, None] - threshold) + leniency[raters][:, None, :])
    out = run_protocol(image_ids, emotions, raters, p_yes, rng)
    out.insert(5, "truth", np.repeat(level, 3, axis=1).ravel())
    return out


def simulation_study(
    accuracies,
    n_images: int,
    leniency,
    rater_weights,
    p_target: float = 0.8,
    p_contrast: float = 0.1,
    seed: int = 42,
) -> pd.DataFrame:
    """Alpha and raw agreement of simulated raters under the full and the sequential design.

    One row per (accuracy, design): ``alpha`` (nominal, all items as units), ``full_share``
    (full agreement among items with 2+ ratings), ``yes_gap`` (first-answer "yes" rate on targets
    minus contrasts), ``n_pairable``. Each accuracy draws from its own generator, seeded by
    ``(seed, accuracy in millionths)``, so a row does not depend on which other accuracies run.
    """
    rows = []
    for acc in accuracies:
        rng = np.random.default_rng(keyed_seed(seed, round(acc * 1_000_000)))
        sim = simulate_protocol(n_images, acc, leniency, rater_weights, p_target, p_contrast, rng)
        first = sim.groupby(["image", "role"], sort=False)["value"].first().unstack()
        gap = first["target"].mean() - first["contrast"].mean()
        for design, subset in (("full", sim), ("sequential", sim[sim["asked"]])):
            tab = items(subset)
            counts = tab[["n_no", "n_yes"]].to_numpy()
            split = agreement_splits(tab).iloc[-1]
            rows.append(
                (
                    acc,
                    design,
                    agreement.krippendorff_alpha(counts=counts),
                    split["full"],
                    gap,
                    int(split["n"]),
                )
            )
    return pd.DataFrame(
        rows, columns=["accuracy", "design", "alpha", "full_share", "yes_gap", "n_pairable"]
    )

"""The released model on real photographs (FERD, AffectNet).

The authors' rule (their ``eval/eval.ipynb``): for one image, take the mean-subtracted scores of the
``n_mapped`` heads that the mapping assigns to some basic emotion (all 40 in both published
mappings), softmax over those heads, and count the image correct when any head mapped to its gold
label has softmax strictly greater than ``1.5 / n_mapped``. ``n_mapped`` counts the mapped heads
of the whole mapping, not the heads of the gold label. Beside it: a strict top-1 variant, the
chance level of each rule under permutation of the gold labels, a confusion matrix and the
sensitivity to the choice of 40 -> 8 mapping.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from emonet.data import taxonomy
from emonet.data.taxonomy import BASIC_EMOTIONS

#: Multiple of the uniform share ``1 / n_mapped`` a gold head must exceed (the authors' 1.5).
AUTHORS_FACTOR = 1.5


#: Label of a strict top-1 prediction whose maximal heads map to different basic emotions.
TIE = "tie"


#: The authors' published accuracies of their rule (the output stored in their ``eval/eval.ipynb``,
#: rounded to 4 decimals): dataset -> {class or "overall": accuracy}, and the image counts.
AUTHORS_RESULTS = {
    "ferd": {
        "anger": 0.7368,
        "contempt": 0.3158,
        "disgust": 0.7895,
        "fear": 1.0,
        "happy": 1.0,
        "neutral": 0.8421,
        "sad": 0.7895,
        "surprise": 0.7895,
        "overall": 0.7829,
    },
    "affectnet": {
        "anger": 0.7705,
        "contempt": 0.2875,
        "disgust": 0.4053,
        "fear": 0.6908,
        "happy": 0.9925,
        "neutral": 0.7896,
        "sad": 0.8394,
        "surprise": 0.9870,
        "overall": 0.7572,
    },
}


AUTHORS_N = {"ferd": 152, "affectnet": 31002}


#: What to do with an image whose gold label is missing or receives no mapped head.
UNSCORABLE_POLICIES = ("error", "wrong", "exclude")


def photo_scores(
    outputs: pd.DataFrame, field: str = "mean_subtracted"
) -> tuple[pd.DataFrame, pd.Series]:
    """Wide scores and gold labels from a :func:`emonet.data.loaders.load_model_outputs` table.

    Returns ``scores`` (images x 40, canonical column order, rows in file order) of ``field`` and
    ``gold`` (basic label per image; NaN where the file has none).
    """
    cats = outputs[outputs["is_category"]]
    order = pd.unique(cats["image"])
    scores = cats.pivot(index="image", columns="emotion", values=field)
    scores = scores.reindex(index=order, columns=list(taxonomy.EMOTIONS))
    scores.columns.name = "emotion"
    gold = cats.groupby("image", sort=False)["gold"].first().reindex(order)
    return scores, gold


def stored_score_check(outputs: pd.DataFrame) -> pd.DataFrame:
    """How well the stored ``mean_subtracted`` and ``softmax`` fields follow from ``raw``.

    Rows: ``offset`` (per head, ``raw - mean_subtracted`` should be one constant: the largest
    spread of that offset within a head, over the 40 categories and the 4 extra heads) and
    ``softmax`` (stored softmax vs the softmax over the 40 stored mean-subtracted scores: largest
    absolute difference). Columns ``check, max_abs_deviation, n_values``.
    """
    offset = (outputs["raw"] - outputs["mean_subtracted"]).groupby(outputs["emotion"])
    spread = float((offset.max() - offset.min()).max())
    mean_sub, _ = photo_scores(outputs, "mean_subtracted")
    stored, _ = photo_scores(outputs, "softmax")
    recomputed = special.softmax(mean_sub.to_numpy(), axis=1)
    return pd.DataFrame(
        {
            "check": ["offset", "softmax"],
            "max_abs_deviation": [spread, float(np.abs(recomputed - stored.to_numpy()).max())],
            "n_values": [len(outputs), stored.size],
        }
    )


def _mapped_heads(mapping: pd.Series, columns: pd.Index) -> pd.Series:
    """The mapping restricted to mapped heads (non-null label), in score-column order."""
    mapping = mapping.reindex(columns)
    unknown = sorted(set(mapping.dropna()) - set(BASIC_EMOTIONS))
    if unknown:
        raise ValueError(
            f"mapping has labels {unknown} that are not basic emotions {list(BASIC_EMOTIONS)}"
        )
    mapped = mapping.dropna()
    if mapped.empty:
        raise ValueError("the mapping assigns no head to a basic emotion")
    return mapped


def mapped_softmax(scores: pd.DataFrame, mapping: pd.Series) -> pd.DataFrame:
    """Softmax over the mapped heads' scores, per image (images x n_mapped; rows sum to 1)."""
    mapped = _mapped_heads(mapping, scores.columns)
    values = scores[mapped.index].to_numpy(dtype=float)
    return pd.DataFrame(special.softmax(values, axis=1), index=scores.index, columns=mapped.index)


def accepted_labels(
    probs: pd.DataFrame, mapping: pd.Series, factor: float = AUTHORS_FACTOR
) -> pd.DataFrame:
    """Which basic labels the authors' rule accepts per image (images x 8, bool).

    A label is accepted when any head mapped to it has softmax ``> factor / n_mapped`` (strict).
    """
    mapped = _mapped_heads(mapping, probs.columns)
    above = probs[mapped.index].to_numpy() > factor / len(mapped)
    labels = mapped.to_numpy()
    return pd.DataFrame(
        {b: above[:, labels == b].any(axis=1) for b in BASIC_EMOTIONS}, index=probs.index
    )


def top1_labels(probs: pd.DataFrame, mapping: pd.Series) -> pd.Series:
    """Strict top-1 prediction: the basic label of the head with the largest softmax.

    When several heads share the maximum and map to different labels the prediction is
    :data:`TIE` (scored wrong); ties within one label are that label.
    """
    mapped = _mapped_heads(mapping, probs.columns)
    values = probs[mapped.index].to_numpy()
    at_max = values == values.max(axis=1, keepdims=True)
    codes = np.array([BASIC_EMOTIONS.index(b) for b in mapped])
    low = np.where(at_max, codes, len(BASIC_EMOTIONS)).min(axis=1)
    high = np.where(at_max, codes, -1).max(axis=1)
    labels = np.asarray(BASIC_EMOTIONS, dtype=object)[low]
    return pd.Series(np.where(low == high, labels, TIE), index=probs.index, name="top1")


def _scorable(gold: pd.Series, mapping: pd.Series, policy: str) -> np.ndarray:
    """Bool per image: gold label present and mapped by at least one head; apply ``policy``."""
    if policy not in UNSCORABLE_POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose one of {UNSCORABLE_POLICIES}")
    unknown = sorted(set(gold.dropna()) - set(BASIC_EMOTIONS))
    if unknown:
        raise ValueError(f"gold labels {unknown} are not basic emotions {list(BASIC_EMOTIONS)}")
    ok = gold.isin(set(mapping.dropna())).to_numpy()
    if policy == "error" and not ok.all():
        bad = gold[~ok]
        shown = ", ".join(f"{i!r} ({g})" for i, g in bad.head(5).items())
        raise ValueError(
            f"{len(bad)} image(s) have no gold label or a gold label that no head is "
            f"mapped to: {shown}; pass policy='wrong' (the authors' behaviour: "
            "counted incorrect) or 'exclude' (dropped and counted)"
        )
    return ok


#: Column prefix of the per-label acceptance flags in :func:`evaluate_photos`' table.
ACCEPTS = "accepts:"


def evaluate_photos(
    scores: pd.DataFrame,
    gold: pd.Series,
    mapping: pd.Series,
    factor: float = AUTHORS_FACTOR,
    policy: str = "error",
) -> pd.DataFrame:
    """Per-image verdicts of the authors' rule and the strict top-1 rule.

    ``scores``: images x heads (mean-subtracted); ``gold``: basic label per image (same index);
    ``mapping``: head -> basic label (NaN: unmapped). Images whose gold label is missing or has no
    mapped head follow ``policy``: ``"error"`` raises, ``"wrong"`` scores them incorrect (the
    authors' code), ``"exclude"`` drops them; column ``scorable`` says which they are.

    Columns: ``image, gold, scorable, authors_correct, top1, top1_correct, n_accepted`` (labels
    the authors' rule accepts), ``gold_max_softmax`` (largest softmax of a gold head; NaN when
    unscorable) and ``accepts:<label>`` (bool) for the 8 basic labels.
    """
    if not scores.index.equals(gold.index):
        raise ValueError("scores and gold must have the same images in the same order")
    scorable = _scorable(gold, mapping, policy)
    probs = mapped_softmax(scores, mapping)
    accepted = accepted_labels(probs, mapping, factor).to_numpy()
    top1 = top1_labels(probs, mapping).to_numpy()
    mapped = _mapped_heads(mapping, probs.columns)
    labels = gold.to_numpy()
    gold_heads = mapped.to_numpy()[None, :] == labels[:, None]
    gold_max = np.where(gold_heads, probs.to_numpy(), -np.inf).max(axis=1)
    code = np.where(scorable, pd.Categorical(labels, categories=BASIC_EMOTIONS).codes, 0)
    hit = accepted[np.arange(len(code)), code] & scorable
    table = pd.DataFrame(
        {
            "image": scores.index,
            "gold": labels,
            "scorable": scorable,
            "authors_correct": hit,
            "top1": top1,
            "top1_correct": (top1 == labels) & scorable,
            "n_accepted": accepted.sum(axis=1),
            "gold_max_softmax": np.where(scorable, gold_max, np.nan),
        }
    )
    for j, label in enumerate(BASIC_EMOTIONS):
        table[ACCEPTS + label] = accepted[:, j]
    return table[table["scorable"]].reset_index(drop=True) if policy == "exclude" else table


#: The two rules of :func:`evaluate_photos`: name -> per-image verdict column.
RULES = {"authors": "authors_correct", "top1": "top1_correct"}


def verdict_sets(table: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Images x 8 bool: the labels ``rule`` would count correct for each image of ``table``
    (authors: the accepted labels; top1: the predicted label, none for a tie)."""
    if rule == "authors":
        sets = table[[ACCEPTS + b for b in BASIC_EMOTIONS]]
        return sets.set_axis(list(BASIC_EMOTIONS), axis=1)
    if rule == "top1":
        top1 = table["top1"].to_numpy()
        return pd.DataFrame({b: top1 == b for b in BASIC_EMOTIONS}, index=table.index)
    raise ValueError(f"unknown rule {rule!r}; choose one of {list(RULES)}")


def chance_by_class(sets: pd.DataFrame, classes) -> pd.Series:
    """Expected accuracy per gold class when the gold labels are permuted over the images.

    ``sets``: images x 8 bool from :func:`verdict_sets`. A permutation keeps each class's size,
    so an image of class c after permutation is a uniform draw from all images: the chance
    accuracy of class c is the share of images whose set contains c, and the overall chance is
    ``sum_c share_of_class_c * chance_c``. Exact (an expectation over all permutations).
    """
    return sets.mean(axis=0).reindex(list(classes))


def permutation_p(sets: pd.DataFrame, gold: pd.Series, n_perm: int, seed: int) -> float:
    """One-sided permutation p-value of the overall accuracy (gold labels shuffled over images).

    ``sets``: images x 8 bool (:func:`verdict_sets`), ``gold``: labels of the same images.
    ``(1 + #permutations with accuracy >= observed) / (1 + n_perm)``; vectorised (n_perm x
    images index array).
    """
    cols = np.array([BASIC_EMOTIONS.index(g) for g in gold])
    values = sets.to_numpy()
    rows = np.arange(len(cols))
    observed = values[rows, cols].mean()
    rng = np.random.default_rng(seed)
    perms = rng.permuted(np.tile(cols, (n_perm, 1)), axis=1)
    null = values[rows[None, :], perms].mean(axis=1)
    return float((1 + np.sum(null >= observed - 1e-12)) / (1 + n_perm))


def accuracy_table(table: pd.DataFrame, n_perm: int = 10_000, seed: int = 42) -> pd.DataFrame:
    """Accuracy and chance per class and overall, for both rules.

    ``table`` from :func:`evaluate_photos`. Rows: each gold class, then ``overall``
    (image-weighted, as the authors report) and ``class mean`` (balanced). Columns ``class, n``,
    per rule ``<rule>_accuracy, <rule>_chance`` and, on the overall row, ``<rule>_p`` (permutation
    p-value over the scorable images). Unscorable images (policy "wrong") count as wrong in
    ``overall`` and in no class.
    """
    scorable = table["scorable"].to_numpy()
    gold = table.loc[scorable, "gold"]
    counts = gold.value_counts().reindex(sorted(gold.unique()))
    out = pd.DataFrame({"class": counts.index, "n": counts.to_numpy()})
    overall = {"class": "overall", "n": len(table)}
    balanced = {"class": "class mean", "n": int(scorable.sum())}
    share = counts / len(table)
    for rule, column in RULES.items():
        sets = verdict_sets(table, rule)
        by_class = table[scorable].groupby("gold")[column].mean().reindex(counts.index)
        chance = chance_by_class(sets, counts.index)
        out[f"{rule}_accuracy"] = by_class.to_numpy()
        out[f"{rule}_chance"] = chance.to_numpy()
        overall[f"{rule}_accuracy"] = table[column].mean()
        overall[f"{rule}_chance"] = float((share * chance).sum())
        overall[f"{rule}_p"] = permutation_p(sets[scorable], gold, n_perm, seed)
        balanced[f"{rule}_accuracy"] = by_class.mean()
        balanced[f"{rule}_chance"] = chance.mean()
    return pd.concat([out, pd.DataFrame([overall, balanced])], ignore_index=True)


def reproduction(accuracy: pd.DataFrame, published: dict[str, float]) -> pd.DataFrame:
    """Our authors'-rule accuracies next to the published ones (rounded to the published 4
    decimals). Columns ``class, published, ours, difference``; rows as ``published``."""
    ours = accuracy.set_index("class")["authors_accuracy"]
    table = pd.DataFrame({"class": list(published), "published": list(published.values())})
    table["ours"] = ours.reindex(table["class"]).round(4).to_numpy()
    table["difference"] = (table["ours"] - table["published"]).round(4)
    return table


def confusion(table: pd.DataFrame) -> pd.DataFrame:
    """Gold x strict top-1 prediction counts (8 x 8, plus a ``tie`` column when one occurs)."""
    columns = list(BASIC_EMOTIONS) + ([TIE] if (table["top1"] == TIE).any() else [])
    matrix = pd.crosstab(table["gold"], table["top1"]).reindex(
        index=sorted(table["gold"].dropna().unique()), columns=columns, fill_value=0
    )
    matrix.index.name, matrix.columns.name = "gold", "predicted"
    return matrix


def top_confusion(matrix: pd.DataFrame) -> tuple[str, str, int]:
    """The most frequent confusion of a :func:`confusion` matrix: ``(gold, predicted, count)`` of
    its largest off-diagonal cell (the first in row order on ties)."""
    cells = matrix.stack()
    cells = cells[[gold != predicted for gold, predicted in cells.index]]
    (gold, predicted), count = cells.idxmax(), int(cells.max())
    return gold, predicted, count


def acceptance_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """Gold x basic label: share of a class's images for which the authors' rule accepts the label
    (the diagonal is the per-class accuracy; a row sums to the mean number of accepted labels)."""
    sets = verdict_sets(table, "authors").astype(float)
    out = sets.groupby(table["gold"].to_numpy()).mean()
    out.index.name, out.columns.name = "gold", "accepted"
    return out


def namesake_heads(mappings: dict[str, pd.Series]) -> pd.DataFrame:
    """Heads whose name contains a basic-emotion word (``Fear``, ``Sadness`` -> sad, ``Astonishment/
    Surprise``, …) and where each mapping sends them. Columns ``emotion, namesake`` and one per
    mapping, plus ``<mapping>_agrees`` (maps the head to its namesake)."""
    rows = [(e, b) for e in taxonomy.EMOTIONS for b in BASIC_EMOTIONS if b in e.casefold()]
    table = pd.DataFrame(rows, columns=["emotion", "namesake"])
    for name, mapping in mappings.items():
        table[name] = mapping.reindex(table["emotion"]).to_numpy()
        table[f"{name}_agrees"] = table[name] == table["namesake"]
    return table


def mapping_sensitivity(
    scores: pd.DataFrame,
    gold: pd.Series,
    mappings: dict[str, pd.Series],
    factor: float = AUTHORS_FACTOR,
) -> pd.DataFrame:
    """Accuracy of both rules on the same predictions under several mappings.

    ``mappings``: name -> head mapping. Rows: each gold class, then ``overall``; columns
    ``class, n`` and ``<mapping>_<rule>`` (accuracies).
    """
    counts = gold.value_counts()
    classes = sorted(counts.index)
    out = pd.DataFrame(
        {"class": classes + ["overall"], "n": [int(counts[c]) for c in classes] + [len(gold)]}
    )
    for name, mapping in mappings.items():
        table = evaluate_photos(scores, gold, mapping, factor)
        for rule, column in RULES.items():
            per = table.groupby("gold")[column].mean().reindex(classes)
            out[f"{name}_{rule}"] = [*per.to_numpy(), table[column].mean()]
    return out


def verdict_flips(
    scores: pd.DataFrame,
    gold: pd.Series,
    first: pd.Series,
    second: pd.Series,
    factor: float = AUTHORS_FACTOR,
) -> pd.DataFrame:
    """Images whose authors'-rule verdict differs between two mappings, and the heads mapped to
    the image's gold label under exactly one of them.

    Columns ``image, gold, first_correct, second_correct, changed_gold_heads`` ("; "-joined).
    """
    a = evaluate_photos(scores, gold, first, factor)
    b = evaluate_photos(scores, gold, second, factor)
    first, second = first.reindex(scores.columns), second.reindex(scores.columns)
    rows = []
    for i in np.flatnonzero((a["authors_correct"] != b["authors_correct"]).to_numpy()):
        g = a.at[i, "gold"]
        heads = [h for h in scores.columns if (first[h] == g) != (second[h] == g)]
        rows.append(
            (
                a.at[i, "image"],
                g,
                bool(a.at[i, "authors_correct"]),
                bool(b.at[i, "authors_correct"]),
                "; ".join(heads),
            )
        )
    return pd.DataFrame(
        rows, columns=["image", "gold", "first_correct", "second_correct", "changed_gold_heads"]
    )


def affectnet_summary(
    table: pd.DataFrame, accuracy: pd.DataFrame, reproduction: pd.DataFrame, ignored: dict[str, int]
) -> pd.DataFrame:
    """The AffectNet result as a ``what, value`` table: the images (and those with a class
    outside the 8, counted wrong), the authors' rule against its published value, the largest
    per-class difference and chance, strict top-1 and its chance, and the record fields the
    loader ignored.

    ``table``: :func:`evaluate_photos` (policy "wrong"); ``accuracy``: its :func:`accuracy_table`;
    ``reproduction``: :func:`reproduction` against :data:`AUTHORS_RESULTS` ``["affectnet"]``;
    ``ignored``: field -> records (``attrs["ignored_fields"]`` of the loaded outputs).
    """
    overall = accuracy.set_index("class").loc["overall"]
    rows = [
        ("images", f"{len(table):,}"),
        ("with a class outside the 8 (counted wrong)", f"{int((~table['scorable']).sum()):,}"),
        ("authors' rule", f"{overall['authors_accuracy']:.1%}"),
        ("published", f"{AUTHORS_RESULTS['affectnet']['overall']:.1%}"),
        ("largest per-class difference", f"{reproduction['difference'].abs().max():.4f}"),
        ("chance of the authors' rule", f"{overall['authors_chance']:.1%}"),
        ("strict top-1", f"{overall['top1_accuracy']:.1%}"),
        ("chance of strict top-1", f"{overall['top1_chance']:.1%}"),
        (
            "record fields the loader ignored",
            ", ".join(f"{k} ({v:,})" for k, v in ignored.items()) or "none",
        ),
    ]
    return pd.DataFrame(rows, columns=["what", "value"])


#: Columns of a summary of real-photograph checks (``photos_summary.csv``): one row per dataset,
#: its overall numbers (:func:`photo_result`) when ``read``.
SUMMARY_COLUMNS = ["dataset", "read", "accuracy", "chance", "top1", "max_difference", "published"]


def photo_result(accuracy: pd.DataFrame, repro: pd.DataFrame, dataset: str) -> dict:
    """The overall numbers of a real-photograph check: the authors' rule's ``accuracy`` and
    ``chance`` (``accuracy``: :func:`accuracy_table`), strict ``top1``, the largest per-class
    ``max_difference`` from the published numbers (``repro``: :func:`reproduction`) and the
    ``published`` accuracy of ``dataset`` (a key of :data:`AUTHORS_RESULTS`)."""
    overall = accuracy.set_index("class").loc["overall"]
    return {
        "accuracy": overall["authors_accuracy"],
        "chance": overall["authors_chance"],
        "top1": overall["top1_accuracy"],
        "max_difference": repro["difference"].abs().max(),
        "published": AUTHORS_RESULTS[dataset]["overall"],
    }

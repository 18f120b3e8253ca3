"""Chapter 08, *Real photographs*: the released model's outputs on the real FERD photographs (real
data in every build) under the authors' rule and strict top-1, their chance levels, confusions,
namesake heads and the choice of 40 -> 8 mapping; AffectNet when the profile reads its
user-supplied files.

:func:`run` fills the page (tables ``photos_*.csv``, figures, the numbers the prose quotes) and
returns a :class:`PhotographsResult`; ``photos_summary.csv`` hands the overall numbers to the
results at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from emonet.book import style
from emonet.book.page import Page, Params
from emonet.data import checksums, loaders, registry
from emonet.io import portable
from emonet.paths import PROJECT_ROOT
from emonet.photographs import figures, rules
from emonet.taxonomy import vocabulary


@dataclass(frozen=True)
class PhotographsParams(Params):
    """The parameters cell (``notebooks/params/<profile>.yaml``, ``common`` and
    ``08_real_photographs``)."""

    profile: str
    seed: int
    n_permutations: int  # permutations of the gold labels: the rules' p-values
    affectnet: bool  # read the user-supplied AffectNet outputs
    affectnet_expected_records: int


@dataclass(frozen=True)
class PhotographsResult:
    """What chapter 08 found; every table is also a CSV under ``tables/``."""

    ferd: pd.DataFrame  # per FERD photograph: gold label, the rules' verdicts, accepted labels
    accuracy: pd.DataFrame  # FERD accuracy per class and overall, both rules, chance and p
    summary: pd.DataFrame  # the overall numbers per dataset (``photos_summary.csv``)
    affectnet: pd.DataFrame | None  # AffectNet accuracy per class; None when not read


def run(params: PhotographsParams, page: Page) -> PhotographsResult:
    """FERD: the file, the authors' rule and its chance level, confusions, namesake heads and the
    mapping's weight; AffectNet when read; the overall numbers of both."""
    outputs = loaders.load_model_outputs()
    mappings = loaders.load_basic_mappings()
    scores, gold = rules.photo_scores(outputs)
    _ferd_file(page, outputs, gold)
    table, accuracy, ferd = _ferd_rule(params, page, scores, gold, mappings["ferd"])
    _confusions(page, table, mappings["ferd"])
    both = {"ferd": mappings["ferd"], "affectnet": mappings["affectnet"]}
    _namesakes(page, both)
    _mapping_sensitivity(page, scores, gold, both)
    affectnet_accuracy, affectnet = _affectnet(params, page, mappings)
    summary = page.table(
        pd.DataFrame(
            [
                {"dataset": "ferd", "read": True, **ferd},
                {"dataset": "affectnet", "read": affectnet is not None, **(affectnet or {})},
            ],
            columns=rules.SUMMARY_COLUMNS,
        ),
        "photos_summary",
    )
    return PhotographsResult(table, accuracy, summary, affectnet_accuracy)


def _ferd_file(page: Page, outputs: pd.DataFrame, gold: pd.Series) -> None:
    """What ``ferd.jsonl`` holds, and whether its stored fields follow from the raw scores."""
    per_class = page.table(
        gold.value_counts().rename_axis("class").reset_index(name="n_images").sort_values("class"),
        "photos_ferd_images",
    )["n_images"]
    deviation = page.table(rules.stored_score_check(outputs), "photos_ferd_score_check").set_index(
        "check"
    )["max_abs_deviation"]
    page.text(
        ferd_n=f"{len(gold):,}",
        ferd_n_classes=f"{gold.nunique()}",
        ferd_per_class=f"{int(per_class.min())}"
        if per_class.nunique() == 1
        else f"{int(per_class.min())}–{int(per_class.max())}",
        ferd_n_heads=f"{outputs['emotion'].nunique()}",
        offset_deviation=f"{deviation['offset']:.1e}",
        softmax_deviation=f"{deviation['softmax']:.1e}",
    )


def _ferd_rule(
    params: PhotographsParams, page: Page, scores: pd.DataFrame, gold: pd.Series, mapping: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The authors' rule and strict top-1 on FERD (FERD mapping), their chance levels and the
    published numbers; returns the per-image table, the accuracy table and the overall numbers
    (:func:`emonet.photographs.rules.photo_result`)."""
    table = rules.evaluate_photos(scores, gold, mapping)
    accuracy = page.table(
        rules.accuracy_table(table, params.n_permutations, params.seed), "photos_ferd_accuracy"
    )
    overall = accuracy.set_index("class").loc["overall"]
    repro = page.table(
        rules.reproduction(accuracy, rules.AUTHORS_RESULTS["ferd"]), "photos_ferd_reproduction"
    )
    result = rules.photo_result(accuracy, repro, "ferd")
    n_mapped = int(mapping.notna().sum())
    smallest_p = 1 / (params.n_permutations + 1)
    page.text(
        n_permutations=f"{params.n_permutations:,}",
        seed=f"{params.seed}",
        n_mapped=f"{n_mapped}",
        cutoff=f"{rules.AUTHORS_FACTOR / n_mapped:.4f}",
        **{f"ferd_{rule}_accuracy": f"{overall[f'{rule}_accuracy']:.1%}" for rule in rules.RULES},
        **{f"ferd_{rule}_chance": f"{overall[f'{rule}_chance']:.1%}" for rule in rules.RULES},
        **{f"ferd_{rule}_p": f"{overall[f'{rule}_p']:.4f}" for rule in rules.RULES},
        ferd_published=f"{result['published']:.1%}",
        ferd_max_difference=f"{result['max_difference']:.4f}",
        ferd_reproduces="reproduce exactly"
        if result["max_difference"] == 0
        else "do not reproduce exactly",
        ferd_versus_chance="above it"
        if overall["authors_accuracy"] > overall["authors_chance"]
        else "not above it",
        ferd_p_note=f"the smallest value {params.n_permutations:,} permutations can give"
        if overall["authors_p"] <= smallest_p
        else "permutation test",
        ferd_mean_accepted=f"{table['n_accepted'].mean():.1f}",
    )
    page.figure(
        figures.photo_accuracy_bars(
            accuracy, "Released model on real FERD photographs (FERD mapping)"
        ),
        "photos_ferd_accuracy",
        "fig_ferd_accuracy",
    )
    return table, accuracy, result


def _confusions(page: Page, table: pd.DataFrame, mapping: pd.Series) -> None:
    """Strict top-1 confusions, the authors' rule's acceptances, and the most frequent confusion
    with the heads the mapping sends to its two labels."""
    matrix = page.table(rules.confusion(table), "photos_ferd_confusion", index=True)
    acceptance = page.table(rules.acceptance_matrix(table), "photos_ferd_acceptance", index=True)
    gold, predicted, count = rules.top_confusion(matrix)
    page.text(
        confused_gold=gold,
        confused_as=predicted,
        confused_n=f"{count}",
        confused_of=f"{int(matrix.loc[gold].sum())}",
        confused_gold_heads=", ".join(mapping.index[mapping == gold]),
        confused_as_heads=", ".join(mapping.index[mapping == predicted]),
    )
    page.figure(
        figures.photo_confusion(matrix, acceptance, "Real FERD photographs, FERD mapping"),
        "photos_ferd_confusion",
        "fig_ferd_confusion",
    )


def _namesakes(page: Page, mappings: dict[str, pd.Series]) -> None:
    """Heads named after a basic emotion, and where each mapping sends them."""
    namesakes = page.table(rules.namesake_heads(mappings), "photos_namesake_heads")
    renamed = namesakes[~namesakes["ferd_agrees"]]
    page.text(
        namesakes_rerouted="; ".join(f"{r.emotion} → {r.ferd}" for r in renamed.itertuples())
        or "none",
        namesakes_n=f"{len(renamed)} of {len(namesakes)}",
        namesakes_affectnet_n=f"{int((~namesakes['affectnet_agrees']).sum())}",
    )


def _mapping_sensitivity(
    page: Page, scores: pd.DataFrame, gold: pd.Series, both: dict[str, pd.Series]
) -> None:
    """The same FERD predictions under the FERD and the AffectNet mapping (``both``): the heads
    they assign differently, accuracies, changed verdicts and the largest per-class swing."""
    mapping_table = vocabulary.mapping_table(both)
    differing = page.table(
        mapping_table[~mapping_table["agree"]].drop(columns="agree"), "photos_mapping_differences"
    )
    sensitivity = page.table(
        rules.mapping_sensitivity(scores, gold, both), "photos_ferd_mapping_sensitivity"
    )
    flips = page.table(
        rules.verdict_flips(scores, gold, both["ferd"], both["affectnet"]),
        "photos_ferd_mapping_flips",
    )
    page.view(flips.head(8), "photos_ferd_mapping_flips_first")
    sens = sensitivity.set_index("class")
    swing = (sens["ferd_authors"] - sens["affectnet_authors"]).drop("overall")
    swing_class = swing.abs().idxmax()
    page.text(
        n_differing=f"{len(differing)}",
        **{
            f"{name}_mapping_{rule}": f"{sens.loc['overall', f'{name}_{rule}']:.1%}"
            for name in both
            for rule in rules.RULES
        },
        n_flips=f"{len(flips)}",
        n_flips_up=f"{int((~flips['first_correct']).sum())}",
        n_flips_down=f"{int(flips['first_correct'].sum())}",
        swing_class=swing_class,
        swing_ferd=f"{sens.loc[swing_class, 'ferd_authors']:.1%}",
        swing_affectnet=f"{sens.loc[swing_class, 'affectnet_authors']:.1%}",
    )
    page.figure(
        figures.mapping_sensitivity_bars(
            sensitivity, tuple(both), "Same predictions on real FERD photographs, two mappings"
        ),
        "photos_ferd_mapping_sensitivity",
        "fig_sensitivity",
    )


def _affectnet(
    params: PhotographsParams, page: Page, mappings: dict
) -> tuple[pd.DataFrame | None, dict | None]:
    """The released model on AffectNet (AffectNet mapping), when the profile reads the four
    user-supplied files (``params.affectnet``): its accuracy table and overall numbers
    (:func:`emonet.photographs.rules.photo_result`); otherwise the page says it does not (``(None, None)``)."""
    page.text(affectnet_expected=f"{params.affectnet_expected_records:,}")
    if not params.affectnet:
        message = f"AffectNet is not read in the {params.profile} profile"
        for name in (
            "photos_affectnet_files",
            "photos_affectnet_accuracy",
            "photos_affectnet_summary",
        ):
            page.view(pd.DataFrame({"note": [message]}), name)
        page.text(
            affectnet_status=f"This build runs the {params.profile} profile, which does "
            "not read AffectNet (set affectnet: true, as the full profile does, once the "
            "four files are in place)"
        )
        page.figure(
            style.message_figure(message), "photos_affectnet_accuracy", "fig_affectnet_accuracy"
        )
        return None, None
    found = [registry.locate_supplied(name) for name in loaders.AFFECTNET_PARTS]
    page.table(
        pd.DataFrame(
            [
                {**checksums.file_record(path), "folder": portable(path.parent, PROJECT_ROOT)}
                for path in found
            ]
        ),
        "photos_affectnet_files",
    )
    outputs = loaders.load_affectnet_outputs(expected_records=params.affectnet_expected_records)
    scores, gold = rules.photo_scores(outputs)
    table = rules.evaluate_photos(scores, gold, mappings["affectnet"], policy="wrong")
    accuracy = page.table(
        rules.accuracy_table(table, params.n_permutations, params.seed), "photos_affectnet_accuracy"
    )
    repro = page.table(
        rules.reproduction(accuracy, rules.AUTHORS_RESULTS["affectnet"]),
        "photos_affectnet_reproduction",
    )
    page.table(
        rules.affectnet_summary(table, accuracy, repro, outputs.attrs["ignored_fields"]),
        "photos_affectnet_summary",
    )
    page.text(affectnet_status="This build reads the four files; the numbers below are this run's")
    page.figure(
        figures.photo_accuracy_bars(accuracy, "Released model on AffectNet (AffectNet mapping)"),
        "photos_affectnet_accuracy",
        "fig_affectnet_accuracy",
    )
    return accuracy, rules.photo_result(accuracy, repro, "affectnet")

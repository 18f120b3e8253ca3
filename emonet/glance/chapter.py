"""Chapter 09, *Results at a glance*: one row per claim or headline number of the paper, with the
paper's value, this build's, what it rests on (real data or a stand-in), the verdict and the
section that shows it; then the claims in full, with why.

The rows come only from tables the chapters before wrote (``tables/*.csv``): the taxonomy's
families (01), the Binary file's facts (03), the HQ panel's facts and source (04), the model
against the experts (06) and the real photographs (08). :func:`run` fills the page with the claims
(``evaluation_claims.csv``, verdicts :data:`emonet.glance.claims.VERDICTS`), the results table
(``glance_results.csv``) with a Markdown version whose checks link to their sections, and a
figure of where the checks land among the verdicts; it returns a :class:`GlanceResult`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from emonet.book.artifacts import Artifacts
from emonet.book.page import Page, Params
from emonet.glance import claims, figures
from emonet.photographs.rules import SUMMARY_COLUMNS

#: The paper's numbers that the dataset rows compare with (MISSION: 40 categories in 7
#: families; Binary 19,999 images with about 65.7k labels; HQ 2,500 images, 4 experts each).
PAPER_TAXONOMY = (40, 7)
PAPER_BINARY_IMAGES, PAPER_BINARY_LABELS_K = 19_999, 65.7
PAPER_HQ_IMAGES, PAPER_HQ_PER_IMAGE = 2_500, 4

#: The section (MyST label) that shows each row, by the row's ``check`` (the ``evaluation-*``
#: labels are in chapters 06 and 08, the part of the book called Evaluation).
SECTIONS = {
    "Taxonomy": "taxonomy-families",
    "Binary set": "binary-file",
    "HQ panel": "hq-panel",
    "Human-expert level on HQ": "evaluation-headline",
    "Beats the VLMs": "evaluation-headline",
    "Blind study": "evaluation-top5",
    "Real photographs (FERD)": "evaluation-ferd-rule",
    "Real photographs (AffectNet)": "evaluation-affectnet",
    "Demographic balance": "evaluation-fairness",
}

#: A sign before each verdict in the Markdown table, so the column reads at a glance.
VERDICT_SIGNS = {
    claims.REPRODUCED: "✓",
    claims.CONSISTENT: "≈",
    claims.NOT_REPRODUCED: "✗",
    claims.NOT_TESTABLE: "–",
}

#: The evidence column in a word.
EVIDENCE_WORDS = {claims.REAL: "real data", claims.STAND_INS: "stand-in"}

COLUMNS = ["check", "paper", "this_build", "evidence", "verdict", "section"]


@dataclass(frozen=True)
class GlanceParams(Params):
    profile: str
    seed: int  # every chapter takes the build's seed; this page draws nothing at random
    model_name: str  # the model of chapter 06 whose claims the table judges


@dataclass(frozen=True)
class GlanceResult:
    """What the results page shows; both tables are also CSVs under ``tables/``."""

    claims: pd.DataFrame  # each claim: paper, this build, evidence, verdict, why
    results: pd.DataFrame  # the dataset rows and the claims, each with its section


def run(params: GlanceParams, page: Page) -> GlanceResult:
    """The claims from chapters 06 and 08, then the results table from every chapter's tables,
    as CSV and as linked Markdown."""
    judged = page.table(closing_claims(page.art, params.model_name), "evaluation_claims")
    table = page.table(results(page.art, judged), "glance_results")
    page.markdown(glance_table=markdown_table(table))
    page.figure(
        figures.verdict_map(table, f"Verdicts of this build ({params.profile} profile)"),
        "glance_verdicts",
        "fig_glance_verdicts",
    )
    stand_ins = page.art.read_table("expert_stand_ins", ["stand_in"])["stand_in"].tolist()
    page.text(
        profile=params.profile,
        n_checks=f"{len(table)}",
        n_real=f"{int((table['evidence'] == claims.REAL).sum())}",
        n_stand_ins=f"{int((table['evidence'] == claims.STAND_INS).sum())}",
        **_counts("checks", table),
        **_counts("claims", judged),
        n_claims=f"{len(judged)}",
        hq_evidence=", ".join(stand_ins) or "the real HQ ratings and the SigLIP2 encoder",
    )
    return GlanceResult(judged, table)


def _counts(prefix: str, table: pd.DataFrame) -> dict[str, str]:
    """The verdict counts of ``table`` as page texts ``<prefix>_reproduced``,
    ``<prefix>_consistent``, ``<prefix>_not_reproduced``, ``<prefix>_not_testable``."""
    names = ("reproduced", "consistent", "not_reproduced", "not_testable")
    counts = claims.verdict_counts(table)
    return {f"{prefix}_{n}": f"{counts[v]}" for n, v in zip(names, claims.VERDICTS)}


def closing_claims(art: Artifacts, model: str) -> pd.DataFrame:
    """The claims table (:func:`emonet.glance.claims.claims`) from what chapters 06 and 08 wrote:
    the model's statistics against the experts, its paired comparison with the VLMs, the top-5
    overlap, the fairness factors, what the HQ results rest on, and the real photographs'
    overall numbers."""
    rho = art.read_table("expert_rho_summary", ["annotator", "human", "mean_rho"]).set_index(
        "annotator"
    )
    experts = rho.loc[rho["human"], "mean_rho"]
    could = (
        art.read_table("expert_could_be", ["annotator", "could_be", "p_value"])
        .set_index("annotator")
        .loc[model]
    )
    authors = {
        "mean_rho": rho.loc[model, "mean_rho"],
        "experts_min": experts.min(),
        "experts_max": experts.max(),
        "could_be": could["could_be"],
        "p_value": could["p_value"],
    }
    factors = art.read_table("expert_fairness_factors", ["annotator", "factor", "reject"])
    factors = factors[factors["annotator"] == "model"].drop(columns="annotator")
    photos = art.read_table("photos_summary", SUMMARY_COLUMNS).set_index("dataset")
    found = {
        name: row.drop("read").to_dict() if row["read"] else None for name, row in photos.iterrows()
    }
    stand_ins = art.read_table("expert_stand_ins", ["stand_in"])["stand_in"].tolist()
    return claims.claims(
        model,
        art.read_table("expert_inference"),
        art.read_table("expert_like_for_like"),
        authors,
        art.read_table("expert_vs_vlms"),
        art.read_table("expert_top5_test").iloc[0].to_dict(),
        found["ferd"],
        found["affectnet"],
        factors.assign(reject=factors["reject"].astype(bool)),
        stand_in=", ".join(stand_ins) or None,
    )


def results(art: Artifacts, judged: pd.DataFrame) -> pd.DataFrame:
    """The rows of the page (columns :data:`COLUMNS`): the three dataset rows, then the claims
    (``judged``: :func:`closing_claims`) in their order."""
    rows = [
        taxonomy_row(art.read_table("taxonomy_families", ["family", "n_categories"])),
        binary_row(_facts(art.read_table("binary_facts", ["fact", "value"]))),
        hq_row(
            _facts(art.read_table("hq_facts", ["fact", "value"])),
            art.read_table("hq_source", ["panel", "real"]).iloc[0],
        ),
    ]
    table = pd.DataFrame(rows, columns=COLUMNS[:-1])
    claimed = judged.rename(columns={"claim": "check"})[COLUMNS[:-1]]
    table = pd.concat([table, claimed], ignore_index=True)
    unknown = sorted(set(table["check"]) - set(SECTIONS))
    if unknown:
        raise ValueError(
            f"no section is known for check(s) {unknown}: add them to "
            "emonet.glance.chapter.SECTIONS"
        )
    bad = sorted(set(table["verdict"]) - set(claims.VERDICTS))
    if bad:
        raise ValueError(f"unknown verdict(s) {bad}; expected one of {list(claims.VERDICTS)}")
    return table.assign(section=table["check"].map(SECTIONS))


def _facts(frame: pd.DataFrame) -> pd.Series:
    """A ``fact, value`` table as a Series of numbers by fact."""
    return pd.to_numeric(frame.set_index("fact")["value"])


def taxonomy_row(families: pd.DataFrame) -> tuple:
    """The taxonomy's size (``taxonomy_families``: one row per family with ``n_categories``),
    read from the authors' guide.json in every build."""
    n, k = int(families["n_categories"].sum()), len(families)
    return (
        "Taxonomy",
        f"{PAPER_TAXONOMY[0]} categories in {PAPER_TAXONOMY[1]} families",
        f"{n} categories in {k} families",
        claims.REAL,
        claims.REPRODUCED if (n, k) == PAPER_TAXONOMY else claims.NOT_REPRODUCED,
    )


def binary_row(facts: pd.Series) -> tuple:
    """The Binary set's size (``binary_facts``), counted in the authors' binary.csv in every
    build; it reproduces when the images match and the labels round to the paper's thousands."""
    images, labels = int(facts["n_images"]), int(facts["n_labels"])
    holds = images == PAPER_BINARY_IMAGES and round(labels / 1000, 1) == PAPER_BINARY_LABELS_K
    return (
        "Binary set",
        f"{PAPER_BINARY_IMAGES:,} images, about {PAPER_BINARY_LABELS_K}k expert yes/no labels",
        f"{images:,} images, {labels:,} labels from {int(facts['n_annotators'])} experts",
        claims.REAL,
        claims.REPRODUCED if holds else claims.NOT_REPRODUCED,
    )


def hq_row(facts: pd.Series, source: pd.Series) -> tuple:
    """The HQ panel's design (``hq_facts``) and what it is (``hq_source``: ``panel`` label,
    ``real``): a simulated or given panel's design is a setting of this build, not a finding, so
    it is not testable here."""
    images, per_image = int(facts["n_images"]), float(facts["experts_per_image"])
    measured = (
        f"{images:,} images, {int(facts['n_experts'])} experts, {per_image:.1f} per image "
        f"({source['panel']})"
    )
    if not bool(source["real"]):
        return ("HQ panel", _paper_hq(), measured, claims.STAND_INS, claims.NOT_TESTABLE)
    holds = images == PAPER_HQ_IMAGES and round(per_image) == PAPER_HQ_PER_IMAGE
    return (
        "HQ panel",
        _paper_hq(),
        measured,
        claims.REAL,
        claims.REPRODUCED if holds else claims.NOT_REPRODUCED,
    )


def _paper_hq() -> str:
    return (
        f"{PAPER_HQ_IMAGES:,} images rated 0–7 on all 40 categories, {PAPER_HQ_PER_IMAGE} "
        "experts per image"
    )


def markdown_table(table: pd.DataFrame) -> str:
    """The results as a MyST Markdown table: each check a ``{ref}`` link to the section that
    shows it, this build's value as its headline (:func:`headline`), the evidence in a word and
    the verdict with its sign (:data:`VERDICT_SIGNS`)."""
    lines = ["| Check | Paper | This build | Rests on | Verdict |", "|---|---|---|---|---|"]
    for row in table.itertuples(index=False):
        cells = [
            f"{{ref}}`{_cell(row.check)} <{row.section}>`",
            _cell(row.paper),
            _cell(headline(row.this_build)),
            EVIDENCE_WORDS[row.evidence],
            f"{VERDICT_SIGNS[row.verdict]} {row.verdict}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def headline(measured: str) -> str:
    """The headline of a measured value: its text up to the first semicolon, where the claims
    table (:func:`emonet.glance.claims.claims`) puts the main number before the details
    (which the linked section and ``glance_results.csv`` keep), with an ellipsis when cut."""
    first, _, rest = str(measured).partition("; ")
    return f"{first} …" if rest else first


def _cell(text: str) -> str:
    """A table cell's text with its pipes escaped and on one line."""
    return " ".join(str(text).replace("|", "\\|").split())

"""Chapter 07, *Results at a glance*: one row per claim or headline number of the paper, with the
paper's value, this build's, what it rests on (real data or a stand-in), the verdict and the
section that shows it.

The rows come only from tables the chapters before wrote (``tables/*.csv``): the taxonomy's
families (01), the Binary file's facts (03), the HQ panel's facts and source (04) and chapter 06's
claims table, whose verdicts (:data:`emonet.evaluation.claims.VERDICTS`) are kept as they are.
:func:`run` fills the page with the table (``glance_results.csv``), a Markdown version whose
checks link to their sections, a figure of where the checks land among the verdicts and the
count of verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from emonet.book.artifacts import Artifacts
from emonet.book.page import Page, Params
from emonet.evaluation import claims
from emonet.glance import figures

#: The paper's numbers that the dataset rows compare with (MISSION: 40 categories in 7
#: families; Binary 19,999 images with about 65.7k labels; HQ 2,500 images, 4 experts each).
PAPER_TAXONOMY = (40, 7)
PAPER_BINARY_IMAGES, PAPER_BINARY_LABELS_K = 19_999, 65.7
PAPER_HQ_IMAGES, PAPER_HQ_PER_IMAGE = 2_500, 4

#: The section (MyST label) that shows each row, by the row's ``check``.
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
VERDICT_SIGNS = {claims.REPRODUCED: "✓", claims.CONSISTENT: "≈", claims.NOT_REPRODUCED: "✗",
                 claims.NOT_TESTABLE: "–"}

#: The evidence column in a word.
EVIDENCE_WORDS = {claims.REAL: "real data", claims.STAND_INS: "stand-in"}

COLUMNS = ["check", "paper", "this_build", "evidence", "verdict", "section"]


@dataclass(frozen=True)
class GlanceParams(Params):
    profile: str
    seed: int  # every chapter takes the build's seed; this page draws nothing at random


def run(params: GlanceParams, page: Page) -> Page:
    """The results table from the earlier chapters' tables, as CSV and as linked Markdown."""
    table = page.table(results(page.art), "glance_results")
    page.markdown(glance_table=markdown_table(table))
    page.figure(figures.verdict_map(table, f"Verdicts of this build ({params.profile} profile)"),
                "glance_verdicts", "fig_glance_verdicts")
    page.text(glance_profile=params.profile, glance_counts=claims.verdict_counts(table),
              glance_n_checks=f"{len(table)}",
              glance_n_real=f"{int((table['evidence'] == claims.REAL).sum())}",
              glance_n_stand_ins=f"{int((table['evidence'] == claims.STAND_INS).sum())}")
    return page


def results(art: Artifacts) -> pd.DataFrame:
    """The rows of the page (columns :data:`COLUMNS`): the three dataset rows, then chapter 06's
    claims in its order."""
    rows = [taxonomy_row(art.read_table("taxonomy_families", ["family", "n_categories"])),
            binary_row(_facts(art.read_table("binary_facts", ["fact", "value"]))),
            hq_row(_facts(art.read_table("hq_facts", ["fact", "value"])),
                   art.read_table("hq_source", ["panel", "real"]).iloc[0])]
    table = pd.DataFrame(rows, columns=COLUMNS[:-1])
    claimed = art.read_table("evaluation_claims", ["claim", "paper", "this_build", "evidence",
                                                   "verdict"])
    claimed = claimed.rename(columns={"claim": "check"})[COLUMNS[:-1]]
    table = pd.concat([table, claimed], ignore_index=True)
    unknown = sorted(set(table["check"]) - set(SECTIONS))
    if unknown:
        raise ValueError(f"no section is known for check(s) {unknown}: add them to "
                         "emonet.glance.chapter.SECTIONS")
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
    return ("Taxonomy", f"{PAPER_TAXONOMY[0]} categories in {PAPER_TAXONOMY[1]} families",
            f"{n} categories in {k} families", claims.REAL,
            claims.REPRODUCED if (n, k) == PAPER_TAXONOMY else claims.NOT_REPRODUCED)


def binary_row(facts: pd.Series) -> tuple:
    """The Binary set's size (``binary_facts``), counted in the authors' binary.csv in every
    build; it reproduces when the images match and the labels round to the paper's thousands."""
    images, labels = int(facts["n_images"]), int(facts["n_labels"])
    holds = images == PAPER_BINARY_IMAGES and round(labels / 1000, 1) == PAPER_BINARY_LABELS_K
    return ("Binary set",
            f"{PAPER_BINARY_IMAGES:,} images, about {PAPER_BINARY_LABELS_K}k expert yes/no labels",
            f"{images:,} images, {labels:,} labels from {int(facts['n_annotators'])} experts",
            claims.REAL, claims.REPRODUCED if holds else claims.NOT_REPRODUCED)


def hq_row(facts: pd.Series, source: pd.Series) -> tuple:
    """The HQ panel's design (``hq_facts``) and what it is (``hq_source``: ``panel`` label,
    ``real``): a simulated or given panel's design is a setting of this build, not a finding, so
    it is not testable here."""
    images, per_image = int(facts["n_images"]), float(facts["experts_per_image"])
    measured = (f"{images:,} images, {int(facts['n_experts'])} experts, {per_image:.1f} per image "
                f"({source['panel']})")
    if not bool(source["real"]):
        return ("HQ panel", _paper_hq(), measured, claims.STAND_INS, claims.NOT_TESTABLE)
    holds = images == PAPER_HQ_IMAGES and round(per_image) == PAPER_HQ_PER_IMAGE
    return ("HQ panel", _paper_hq(), measured, claims.REAL,
            claims.REPRODUCED if holds else claims.NOT_REPRODUCED)


def _paper_hq() -> str:
    return (f"{PAPER_HQ_IMAGES:,} images rated 0–7 on all 40 categories, {PAPER_HQ_PER_IMAGE} "
            "experts per image")


def markdown_table(table: pd.DataFrame) -> str:
    """The results as a MyST Markdown table: each check a ``{ref}`` link to the section that
    shows it, this build's value as its headline (:func:`headline`), the evidence in a word and
    the verdict with its sign (:data:`VERDICT_SIGNS`)."""
    lines = ["| Check | Paper | This build | Rests on | Verdict |", "|---|---|---|---|---|"]
    for row in table.itertuples(index=False):
        cells = [f"{{ref}}`{_cell(row.check)} <{row.section}>`", _cell(row.paper),
                 _cell(headline(row.this_build)), EVIDENCE_WORDS[row.evidence],
                 f"{VERDICT_SIGNS[row.verdict]} {row.verdict}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def headline(measured: str) -> str:
    """The headline of a measured value: its text up to the first semicolon, where the claims
    table (:func:`emonet.evaluation.claims.claims`) puts the main number before the details
    (which the linked section and ``glance_results.csv`` keep), with an ellipsis when cut."""
    first, _, rest = str(measured).partition("; ")
    return f"{first} …" if rest else first


def _cell(text: str) -> str:
    """A table cell's text with its pipes escaped and on one line."""
    return " ".join(str(text).replace("|", "\\|").split())

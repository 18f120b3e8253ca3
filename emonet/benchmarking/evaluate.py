"""Any model's scores through the paper's analysis (``emonet evaluate``): :func:`read_scores`
reads a score table or an ``hq.csv``-format file and checks it against the panel, errors naming
the file, line and column; :func:`evaluate` adds each model to the panel as one more annotator,
runs the HQ suite unchanged and writes the tables, figures and a self-contained report into one
folder (same inputs and seed, same files).

The two file forms, the checks and the files written: ``docs/benchmarking.md``.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emonet import __version__
from emonet.benchmarking import figures
from emonet.data import checksums, loaders, taxonomy
from emonet.data.registry import DataError
from emonet.hq import figures as hq_figures
from emonet.hq import panel as hq_panel
from emonet.hq import paper_statistics
from emonet.io import atomic_path, write_text
from emonet.model_vs_experts import joined

#: Scales a score table may be on, and the factor onto the panel's 0-7.
SCALES = {"0-7": 1.0, "0-1": loaders.HUME_FACTOR}

#: The annotator name of a score table given without ``name``.
DEFAULT_NAME = "My model"

#: Share of a file's image ids that may be unknown to the panel before it is refused.
MAX_UNKNOWN = 0.05

SUMMARY_COLUMNS = (
    "annotator",
    "group",
    "human",
    "added",
    "n_images",
    "mean_kappa",
    "mean_rho",
    "rho_ci_low",
    "rho_ci_high",
    "could_be",
    "could_be_p",
    "kappa_difference",
    "kappa_ci_low",
    "kappa_ci_high",
)


class ScoresError(ValueError):
    """Bad input to an evaluation: a score file that cannot join the panel, a missing panel, an
    option out of range."""


def _cells(
    path: Path,
    lines: np.ndarray,
    columns: list[str],
    mask: np.ndarray,
    values,
    problem: str,
    limit: int = 5,
) -> None:
    """Raise for the cells where ``mask`` (rows x columns) is True: the count and the first
    ``limit`` as line, column and value."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return
    shown = ", ".join(
        f"line {lines[r]} column {columns[c]!r} ({values[r, c]!r})"
        for r, c in zip(rows[:limit], cols[:limit])
    )
    more = f" and {rows.size - limit} more" if rows.size > limit else ""
    raise ScoresError(f"{path}: {problem} in {rows.size} cell(s): {shown}{more}")


def _category_columns(path: Path, columns: list[str]) -> dict[str, str]:
    """Map the score table's category columns onto the canonical 40; raise naming what is
    unknown, missing or given twice."""
    mapping, unknown = {}, []
    for column in columns:
        try:
            mapping[column] = taxonomy.canonical(column)
        except taxonomy.UnknownEmotionError as err:
            hint = str(err).find(" (did you mean")
            unknown.append(repr(column) + (str(err)[hint:] if hint >= 0 else ""))
    twice = pd.Series(mapping).duplicated(keep=False)
    missing = [e for e in taxonomy.EMOTIONS if e not in mapping.values()]
    problems = []
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if missing:
        problems.append(f"missing category column(s) {missing}")
    if twice.any():
        problems.append(f"columns {list(twice.index[twice])} name the same category")
    if problems:
        raise ScoresError(
            f"{path}: line 1: " + "; ".join(problems) + ". A score table needs "
            "a column 'image' and one column per category, named as the 40 of "
            "the taxonomy (emonet.data.taxonomy.EMOTIONS)"
        )
    return mapping


def _table_scores(path: Path, scale: str, keep_outside: bool) -> pd.DataFrame:
    """A CSV score table as images x 40 on 0-7 (index: the image ids as given); values outside
    the scale stop it unless ``keep_outside`` (then ``attrs["outside_scale"]`` counts them)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ScoresError(f"{path}: empty file") from None
    except pd.errors.ParserError as err:
        raise ScoresError(f"{path}: malformed CSV ({err})") from None
    if "image" not in frame.columns:
        raise ScoresError(
            f"{path}: line 1: no column 'image' (columns: {list(frame.columns)[:5]}...)"
        )
    if frame.empty:
        raise ScoresError(f"{path}: no data rows after the header")
    mapping = _category_columns(path, [c for c in frame.columns if c != "image"])
    lines = np.arange(len(frame)) + 2
    ids = frame["image"].str.strip()
    _cells(
        path,
        lines,
        ["image"],
        (ids == "").to_numpy()[:, None],
        ids.to_numpy()[:, None],
        "empty image id",
    )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = ids[dup].iloc[0]
        where = lines[(ids == first).to_numpy()]
        raise ScoresError(
            f"{path}: image {first!r} has {len(where)} rows (lines "
            f"{', '.join(map(str, where[:5]))}); {int(ids.duplicated().sum())} "
            "duplicate row(s) in all; one row per image"
        )
    columns = list(mapping)
    raw = frame[columns].to_numpy(dtype=object)
    numbers = frame[columns].apply(lambda s: pd.to_numeric(s.str.strip(), errors="coerce"))
    values = numbers.to_numpy(dtype=float)
    _cells(path, lines, columns, ~np.isfinite(values), raw, "empty or non-numeric value")
    high = 1.0 if scale == "0-1" else loaders.RATING_RANGE[1]
    outside = (values < 0) | (values > high)
    if not keep_outside:
        _cells(
            path,
            lines,
            columns,
            outside,
            raw,
            f"value outside the {scale} scale"
            + (
                " (use --scale 0-1 for scores on 0-1, --keep-outside-scale for scores as stored)"
                if scale == "0-7"
                else ""
            ),
        )
    scores = pd.DataFrame(
        values * SCALES[scale], index=ids.to_numpy(), columns=[mapping[c] for c in columns]
    )[list(taxonomy.EMOTIONS)]
    scores.attrs["outside_scale"] = int(outside.sum())
    return scores


def _hq_scores(path: Path, scale: str, keep_outside: bool) -> dict[str, pd.DataFrame]:
    """An hq.csv-format score file: one images x 40 table per (model) annotator (values outside
    0-7 stop it unless ``keep_outside``)."""
    if scale != "0-7":
        raise ScoresError(
            f"{path}: an hq.csv-format file is on 0-7 (Hume rows on 0-1 by their "
            "name); --scale applies to a score table"
        )
    try:
        ratings, _ = loaders.load_hq(path)
    except DataError as err:
        raise ScoresError(str(err)) from None
    humans = ratings[ratings["human"]]
    if len(humans):
        raise ScoresError(
            f"{path}: line {humans['line'].iloc[0]}: expert rows (human=True, "
            f"{humans['annotator'].iloc[0]!r}); evaluate adds models to the "
            "panel, whose experts come from --panel"
        )
    values = ratings[list(taxonomy.EMOTIONS)].to_numpy(float)
    lines = ratings["line"].to_numpy()
    outside = (values < 0) | (values > 7)
    if not keep_outside:
        _cells(
            path,
            lines,
            list(taxonomy.EMOTIONS),
            outside,
            values,
            "rating outside 0-7 (--keep-outside-scale for scores as stored)",
        )
    models = {}
    for name, rows in ratings.groupby("annotator", sort=True):
        models[name] = rows.set_index("image")[list(taxonomy.EMOTIONS)]
        models[name].attrs["outside_scale"] = int(outside[rows.index.to_numpy()].sum())
    return models


def read_scores(
    path,
    panel_images,
    *,
    name: str | None = None,
    scale: str = "0-7",
    max_unknown: float = MAX_UNKNOWN,
    keep_outside: bool = False,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The models of a score file on the panel's image ids and 0-7 scale, ``{annotator:
    images x 40}``, and a coverage table (one row per model: ``annotator, rows, matched,
    matched_by_stem, unknown_ids, unknown_examples, panel_images, panel_without_scores,
    outside_scale``). ``keep_outside``: keep values outside the scale as stored (a regression's
    slightly negative scores; Spearman uses them as they are, kappa drops them as the authors'
    levels do) instead of stopping, and count them."""
    path = Path(path)
    if scale not in SCALES:
        raise ScoresError(f"unknown scale {scale!r}; choose one of {list(SCALES)}")
    if not path.is_file():
        raise ScoresError(f"{path}: no such file")
    try:
        header = list(pd.read_csv(path, nrows=0).columns)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ScoresError(f"{path}: not a readable CSV ({type(err).__name__}: {err})") from None
    if set(header) == set(loaders.HQ_COLUMNS):
        models = _hq_scores(path, scale, keep_outside)
        if name is not None:
            if len(models) != 1:
                raise ScoresError(
                    f"{path}: --name renames one model; the file holds "
                    f"{len(models)}: {list(models)}"
                )
            models = {name: next(iter(models.values()))}
    else:
        models = {name or DEFAULT_NAME: _table_scores(path, scale, keep_outside)}
    out, rows = {}, []
    for model, scores in models.items():
        try:
            mapping, counts = joined.match_images(scores.index, panel_images)
        except ValueError as err:
            raise ScoresError(f"{path}: {model!r}: {err}") from None
        unknown = [i for i in scores.index.astype(str) if i not in mapping.index]
        if len(unknown) > max_unknown * len(scores):
            raise ScoresError(
                f"{path}: {len(unknown)} of {len(scores)} image ids of {model!r} "
                f"({len(unknown) / len(scores):.0%}) are not images of the panel (at most "
                f"{max_unknown:.0%} may be), e.g. {unknown[:3]}; do the scores and the panel "
                "rate the same images?"
            )
        twice = mapping[mapping.duplicated(keep=False)]
        if len(twice):
            raise ScoresError(
                f"{path}: image ids {list(twice.index[:2])} both name panel image {twice.iloc[0]!r}"
            )
        out[model] = scores.loc[mapping.index].set_axis(mapping.to_numpy())
        rows.append(
            {
                "annotator": model,
                "rows": len(scores),
                "matched": counts["matched"],
                "matched_by_stem": counts["by_stem"],
                "unknown_ids": len(unknown),
                "unknown_examples": ", ".join(unknown[:3]),
                "panel_images": len(panel_images),
                "panel_without_scores": counts["panel_without_scores"],
                "outside_scale": scores.attrs.get("outside_scale", 0),
            }
        )
    return out, pd.DataFrame(rows)


def summary_table(statistics: paper_statistics.PaperStatistics, added) -> pd.DataFrame:
    """One row per annotator (panel order): ``mean_kappa`` (the authors'
    ``average_all_emotions``: per emotion the mean kappa with every expert, then the mean over
    the emotions), ``mean_rho`` (Spearman against the human median, mean over the emotions) with
    its CI, the "could be an annotator" verdict (``could_be``, ``could_be_p``) and the kappa
    difference behind it with its CI; ``added``: the annotator came from the score file."""
    agreement = statistics.agreement.set_index("annotator")
    rho = statistics.rho_summary.set_index("annotator")
    could = statistics.could_be.set_index("annotator")
    names = list(statistics.panel.annotators)
    table = pd.DataFrame(
        {
            "annotator": names,
            "group": list(statistics.panel.groups),
            "human": statistics.panel.human,
            "added": [n in set(added) for n in names],
            "n_images": statistics.panel.rated.sum(axis=1),
            "mean_kappa": agreement.loc[names, "average"].to_numpy(),
            "mean_rho": rho.loc[names, "mean_rho"].to_numpy(),
            "rho_ci_low": rho.loc[names, "ci_low"].to_numpy(),
            "rho_ci_high": rho.loc[names, "ci_high"].to_numpy(),
            "could_be": (could.loc[names, "could_be"] == "yes").to_numpy(),
            "could_be_p": could.loc[names, "p_value"].to_numpy(),
            "kappa_difference": could.loc[names, "mean_difference"].to_numpy(),
            "kappa_ci_low": could.loc[names, "ci_low"].to_numpy(),
            "kappa_ci_high": could.loc[names, "ci_high"].to_numpy(),
        }
    )
    return table[list(SUMMARY_COLUMNS)]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """What :func:`evaluate` wrote: the suite, the summary, the coverage and the folder."""

    statistics: paper_statistics.PaperStatistics
    summary: pd.DataFrame
    coverage: pd.DataFrame
    added: tuple[str, ...]
    out: Path

    @property
    def report(self) -> Path:
        return self.out / "report.html"


def evaluate(
    scores,
    out,
    panel_path,
    *,
    name: str | None = None,
    scale: str = "0-7",
    n_boot: int = 1000,
    seed: int = 42,
    max_unknown: float = MAX_UNKNOWN,
    panel_label: str | None = None,
    keep_outside: bool = False,
) -> Evaluation:
    """Score file ``scores`` against the panel ``panel_path`` (an hq.csv-format file); write the
    tables, figures and ``report.html`` into ``out``. ``panel_label`` says in the report what the
    panel is (e.g. "simulated panel (stand-in)")."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ScoresError(f"--out {out} is a file, not a folder")
    if n_boot < 1 or not 0 <= max_unknown <= 1:
        raise ScoresError(
            f"the bootstrap needs at least 1 resample (got {n_boot}) and the "
            f"share of unknown ids lies within 0-1 (got {max_unknown})"
        )
    if not Path(panel_path).is_file():
        raise ScoresError(f"--panel {panel_path}: no such file")
    experts = hq_panel.read_hq(panel_path)
    models, coverage = read_scores(
        scores,
        experts.images,
        name=name,
        scale=scale,
        max_unknown=max_unknown,
        keep_outside=keep_outside,
    )
    joined = experts
    for model, frame in models.items():
        if model in joined.annotators:
            raise ScoresError(
                f"{scores}: annotator {model!r} is already in the panel "
                f"{panel_path}; give the model another name (--name)"
            )
        joined = joined.with_annotator(model, frame, hq_panel.annotator_group(model, False))
    statistics = paper_statistics.compute(joined, n_boot, seed, "truncate")
    summary = summary_table(statistics, models)
    tables = {
        "summary": summary,
        "kappa_by_emotion": statistics.agreement,
        "rho_by_emotion": statistics.rho,
        "could_be": statistics.could_be,
        "group_tests": statistics.groups,
        "coverage": coverage,
    }
    for table_name, frame in tables.items():
        with atomic_path(out / f"{table_name}.csv") as tmp:
            frame.to_csv(tmp, index=False)
    result = Evaluation(statistics, summary, coverage, tuple(models), out)
    pictures = _figures(result)
    for figure_name, fig in pictures.items():
        with atomic_path(out / "figures" / f"{figure_name}.png") as tmp:
            fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    write_text(
        out / "report.html",
        report_html(
            result,
            {k: (out / "figures" / f"{k}.png").read_bytes() for k in pictures},
            Path(scores),
            Path(panel_path),
            panel_label,
            n_boot,
            seed,
        ),
    )
    import matplotlib.pyplot as plt

    for fig in pictures.values():
        plt.close(fig)
    return result


def _figures(result: Evaluation) -> dict:
    """The report's figures: rho per annotator, the new models' kappa per emotion against the
    experts', agreement by group, and the "could be an annotator" forest."""
    statistics = result.statistics
    return {
        "rho": hq_figures.rho_bars(
            statistics.rho_summary,
            "Mean Spearman rho against the human median over the 40 emotions",
        ),
        "kappa_by_emotion": figures.emotion_profile(
            statistics.agreement, list(result.added), "Agreement with the experts per emotion"
        ),
        "groups": hq_figures.group_boxplot(
            paper_statistics.group_values(statistics.agreement),
            hq_panel.group_order(statistics.agreement["group"]),
            "Agreement with the experts by annotator group",
        ),
        "could_be": hq_figures.difference_forest(statistics.could_be, "Could it be an annotator?"),
    }


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1.5em}"
    "th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}"
    "th:first-child,td:first-child{text-align:left}img{max-width:100%}"
    ".note{background:#f5f5f5;padding:0.6em 1em;border-left:3px solid #999}"
)


def _html_table(frame: pd.DataFrame, decimals: int = 3) -> str:
    return frame.round(decimals).to_html(index=False, border=0, escape=True, na_rep="–")


def report_html(
    result: Evaluation,
    pngs: dict[str, bytes],
    scores: Path,
    panel: Path,
    panel_label: str | None,
    n_boot: int,
    seed: int,
) -> str:
    """One self-contained HTML page: inputs with checksums, coverage, the summary, how to read
    it, the figures (PNG data URIs) and the per-emotion values of the added models."""
    esc = html.escape
    statistics, added = result.statistics, list(result.added)
    experts = statistics.panel.subset(
        [a for a, h in zip(statistics.panel.annotators, statistics.panel.human) if h]
    )
    files = pd.DataFrame(
        [
            {**checksums.file_record(scores), "role": "scores"},
            {**checksums.file_record(panel), "role": "panel"},
        ]
    )
    agreement = statistics.agreement.set_index("annotator")
    rho = statistics.rho.set_index("annotator")
    expert_names = list(experts.annotators)
    per_emotion = pd.DataFrame(
        {
            "emotion": list(taxonomy.EMOTIONS),
            "experts: mean kappa": agreement.loc[expert_names, list(taxonomy.EMOTIONS)]
            .mean()
            .to_numpy(),
        }
    )
    for model in added:
        per_emotion[f"{model}: kappa"] = agreement.loc[model, list(taxonomy.EMOTIONS)].to_numpy(
            float
        )
        per_emotion[f"{model}: rho"] = rho.loc[model, list(taxonomy.EMOTIONS)].to_numpy(float)
    images = "".join(
        f'<figure><img alt="{esc(k)}" src="data:image/png;base64,'
        f'{base64.b64encode(v).decode()}"></figure>'
        for k, v in pngs.items()
    )
    title = f"EmoNet-Face benchmark: {', '.join(added)}"
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>",
        f"<p>Scores joined the expert panel of <b>{esc(panel_label or panel.name)}</b> "
        f"({experts.n_annotators} experts, {experts.n_images:,} images) as "
        f"{len(added)} more annotator(s); the HQ agreement suite of the EmoNet-Face paper "
        f"(arXiv:2505.20033) ran unchanged: {n_boot:,} bootstrap resamples, seed {seed}. "
        f"Made by emonet {esc(__version__)}.</p>",
        "<h2>Inputs</h2>",
        _html_table(files[["role", "name", "bytes", "sha256"]]),
        "<h2>Coverage</h2><p>Score rows matched to panel images (exactly or by file stem); ids "
        "unknown to the panel are left out and counted.</p>",
        _html_table(result.coverage),
        "<h2>Summary</h2>",
        _html_table(result.summary),
        "<div class='note'><p><b>mean_kappa</b>: per emotion, the mean over the experts of the "
        "quadratic-weighted Cohen's kappa with that expert on the images both rated (at least "
        "2; levels 0-7 cast with astype(int) as the authors do), then the mean over the 40 "
        "emotions (an expert: against the other experts); undefined values are skipped. "
        "<b>mean_rho</b>: the mean over the emotions of Spearman's rho between the scores as "
        "given and the per-image median of the experts (an expert: of the others). "
        "<b>could_be</b>: the authors' test, the annotator's kappas with the experts against "
        "all expert-expert kappas (two-sided Mann-Whitney U); true when p &gt; 0.05.</p></div>",
        "<h2>Figures</h2>",
        images,
        "<h2>Per emotion</h2>",
        _html_table(per_emotion),
        "<h2>Groups</h2><p>Two-sided Mann-Whitney U tests between the groups' per-emotion "
        "agreement values, with bootstrap CIs of the difference in means.</p>",
        _html_table(statistics.groups),
        "</body></html>",
    ]
    return "\n".join(parts)

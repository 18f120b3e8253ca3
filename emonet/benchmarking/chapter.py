"""Chapter 07, *Benchmarking any model*: the authors' VLM protocols read from their notebooks,
simulated VLMs read out three ways, a transformer VLM under the protocols (``emonet annotate``)
and ``emonet evaluate`` on a score file of this build's model.

:func:`run` fills the page (tables ``vlm_*.csv``, ``bench_*.csv``, figures, the numbers the prose
quotes) and returns a :class:`BenchmarkingResult`. The chapter's runs go to
``<artifacts>/benchmark/``, which starts afresh, so the page shows this code's runs, not resumed
ones.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from emonet.benchmarking import annotate, evaluate, figures, vlm, vlm_study
from emonet.book.page import Page, Params
from emonet.data import loaders, protocols, registry
from emonet.io import atomic_path, portable
from emonet.model_vs_experts import joined

#: The chapter's folder in the artifacts (annotation runs, evaluations).
BENCHMARK_DIR = "benchmark"


@dataclass(frozen=True)
class BenchmarkingParams(Params):
    """The parameters cell (``notebooks/params/<profile>.yaml``, ``common`` and
    ``07_benchmarking``)."""

    profile: str
    seed: int
    panel_source: str  # "simulated" (chapter 04's stand-in) or "real" (the authors' hq.csv)
    model_name: str
    n_bootstrap: int
    hq_images: str | None  # HQ dataset (hub id or parquet): the VLM's images without faces
    vlm_model: str | None  # the VLM under the protocols; None: a tiny random one built here
    vlm_demo_images: int  # HQ images it annotates
    vlm_max_new_tokens: int | None  # cap on its replies; None: the authors' 1000 / 2000
    vlm_rating_sd: float  # spread of a simulated VLM's rating probabilities (0-7 scale)
    vlm_slip_rate: float  # share of a simulated VLM's replies that break the protocol's rule


@dataclass(frozen=True)
class BenchmarkingResult:
    """What chapter 07 found; every table is also a CSV under ``tables/``, every run's files
    under ``<artifacts>/benchmark/``."""

    zero_shot: protocols.ZeroShot  # the authors' zero-shot protocol, read from their notebook
    multi_shot: protocols.MultiShot  # the authors' multi-shot protocol
    readouts: pd.DataFrame  # each simulated VLM under each readout: annotation and agreement
    demo: pd.DataFrame | None  # the transformer VLM's annotation summary; None without images
    evaluation: evaluate.Evaluation  # ``emonet evaluate`` on this build's model's scores


def run(params: BenchmarkingParams, page: Page) -> BenchmarkingResult:
    """The protocols, simulated VLMs under them, a transformer VLM, and ``emonet evaluate``."""
    root = page.root / BENCHMARK_DIR
    shutil.rmtree(root, ignore_errors=True)
    on_panel = joined.model_on_panel(page.root, params.panel_source, params.hq_images)
    zero, multi = protocols.zero_shot(), protocols.multi_shot()
    _protocols(page, zero, multi)
    page.text(label=on_panel.label, model=params.model_name)
    readouts = _simulated_vlms(params, page, on_panel, root / "simulated", zero, multi)
    demo = _vlm_demo(params, page, on_panel, root / "vlm")
    result = _evaluate_demo(params, page, on_panel, root / "evaluate")
    return BenchmarkingResult(zero, multi, readouts, demo, result)


def _protocols(page: Page, zero: protocols.ZeroShot, multi: protocols.MultiShot) -> None:
    """The anatomy of each prompt and the rules a reply must obey, read from the notebooks."""
    anatomy = page.table(vlm_study.prompt_anatomy(zero, multi), "vlm_prompt_anatomy")
    page.table(vlm_study.protocol_rules(zero, multi), "vlm_protocol_rules")
    parts = anatomy.dropna(subset=["share"]).set_index("part")
    files = {
        f: registry.REGISTRY[f].sha256[:12]
        for f in (protocols.ZERO_SHOT_FILE, protocols.MULTI_SHOT_FILE)
    }
    examples = parts.index[parts.index.str.contains("EXAMPLES")][0]
    page.text(
        protocol_files="; ".join(f"{f}, SHA-256 {h}…" for f, h in files.items()),
        zero_shot_chars=f"{len(zero.prompt('image.png')):,}",
        multi_shot_chars=f"{len(multi.prompt()):,}",
        zero_shot_guideline=f"{parts['share'].filter(like='INSTRUCTIONS').iloc[0]:.0%}",
        zero_shot_options=f"{parts['share'].filter(like='OPTIONS').iloc[0]:.0%}",
        multi_shot_examples=f"{parts.loc[examples, 'share']:.0%}",
        zero_shot_n=f"{len(zero.keys)}",
        zero_shot_attempts=f"{zero.max_attempts}",
        multi_shot_max=f"{multi.max_nonzero}",
    )


def _simulated_vlms(
    params: BenchmarkingParams,
    page: Page,
    on_panel: joined.ModelOnPanel,
    root: Path,
    zero: protocols.ZeroShot,
    multi: protocols.MultiShot,
) -> pd.DataFrame:
    """VLMs that perceive what a perceiver scores and answer as each protocol asks
    (:class:`emonet.benchmarking.vlm.PerceiverVLM`), annotated and evaluated like any model;
    returns the readout table."""
    perceivers = {"our model": on_panel.scores}
    if on_panel.truth is not None:
        perceivers["ground truth (oracle)"] = on_panel.truth
    prefixes = {label: f"VLM seeing {label}" for label in perceivers}
    runs = []
    for k, (label, perception) in enumerate(perceivers.items()):
        backend = vlm.PerceiverVLM(perception, params.vlm_rating_sd, params.vlm_slip_rate)
        runs.append(
            annotate.annotate(
                annotate.ImageSet.of_ids(perception.index),
                backend,
                root / f"perceiver-{k + 1}",
                model_name=prefixes[label],
                seed=params.seed,
                progress=False,
            )
        )
    rows = vlm_study.combine_hq(
        [root / f"perceiver-{k + 1}" / "hq.csv" for k in range(len(perceivers))]
    )
    with atomic_path(root / "hq.csv") as tmp:
        rows.to_csv(tmp, index=False)
    result = evaluate.evaluate(
        root / "hq.csv",
        root / "evaluation",
        on_panel.panel_path,
        n_boot=params.n_bootstrap,
        seed=params.seed,
        panel_label=on_panel.label,
    )
    readout = page.table(
        vlm_study.readout_table(result.summary, pd.concat(runs), prefixes), "vlm_readouts"
    )
    counts = vlm_study.nonzero_counts(on_panel.experts, loaders.load_hq(root / "hq.csv")[0])
    order = [
        "experts",
        *[f"{prefixes[p]} {annotate.SUFFIX[r]}" for p in perceivers for r in annotate.READOUTS],
    ]
    nonzero = counts.groupby("who")["nonzero"].describe().reindex(order)  # NaN: no rows
    page.table(nonzero.rename_axis("annotator").reset_index(), "vlm_nonzero")
    experts = counts[counts["who"] == "experts"]["nonzero"]
    label = f"simulated VLMs, {on_panel.label}"
    ours = readout[readout["perceiver"] == "our model"].set_index("readout")
    by_readout = readout.groupby("readout")
    page.text(
        vlm_perceivers=", ".join(perceivers),
        vlm_rating_sd=f"{params.vlm_rating_sd}",
        vlm_slip=f"{params.vlm_slip_rate:.0%}",
        experts_nonzero=f"{experts.mean():.1f}",
        experts_over_max=f"{(experts > multi.max_nonzero).mean():.0%}",
        vlm_label=label,
        **{
            f"vlm_{r.replace('-', '_')}": f"{ours.loc[r, 'mean_rho']:.3f} (kappa "
            f"{ours.loc[r, 'mean_kappa']:.3f})"
            for r in annotate.READOUTS
        },
        vlm_swing=f"{ours['mean_rho'].max() - ours['mean_rho'].min():.3f}",
        multi_shot_lost=f"{int(by_readout.get_group('multi-shot')['failed'].sum())} of "
        f"{int(by_readout.get_group('multi-shot')['images'].sum())}",
        zero_shot_attempts_mean=f"{by_readout.get_group('zero-shot')['mean_attempts'].mean():.2f}",
        zero_shot_failed=f"{int(by_readout.get_group('zero-shot')['failed'].sum())}",
    )
    page.figure(
        figures.nonzero_distribution(
            counts,
            order,
            {
                f"zero-shot: exactly {len(zero.keys)}": len(zero.keys),
                f"multi-shot: at most {multi.max_nonzero}": multi.max_nonzero,
            },
            f"Categories rated above 0 per image ({label})",
        ),
        "vlm_nonzero",
        "fig_vlm_nonzero",
    )
    page.figure(
        figures.protocol_readouts(
            readout,
            result.summary[result.summary["human"]],
            f"The same perception read out three ways ({label})",
        ),
        "vlm_readouts",
        "fig_vlm_readouts",
    )
    return readout


def _demo_images(params: BenchmarkingParams, page: Page, on_panel: joined.ModelOnPanel):
    """The first ``vlm_demo_images`` panel images as files: chapter 02's faces, or the HQ
    dataset's first images that the content join placed on the panel (``hq_images``, named by
    their panel ids); None when the build has neither."""
    n = params.vlm_demo_images
    if on_panel.manifest is not None:
        rows = on_panel.manifest.set_index("id").loc[list(on_panel.experts.images)[:n]]
        return annotate.ImageSet.from_manifest(page.root, rows.reset_index())
    if on_panel.dataset is not None and on_panel.mapping is not None:
        opened, mapping = on_panel.dataset, on_panel.mapping
        rows = [k for k, row in enumerate(opened.ids) if row in mapping.index][:n]
        ids = tuple(str(mapping[opened.ids[k]]) for k in rows)
        if ids:
            return annotate.ImageSet(
                ids,
                tuple(f"{Path(i).stem}.png" for i in ids),
                tuple(opened.images[k] for k in rows),
            )
    return None


def _vlm_demo(
    params: BenchmarkingParams, page: Page, on_panel: joined.ModelOnPanel, root: Path
) -> pd.DataFrame | None:
    """A transformer VLM (``vlm_model``, or a tiny random one built here) under both protocols
    and the rating-probability readout, every attempt recorded; returns its summary."""
    pictures = _demo_images(params, page, on_panel)
    if pictures is None or params.vlm_demo_images < 1:
        message = "no HQ images in this build for the VLM"
        page.view(_note(message), "vlm_demo_summary")
        page.view(_note(message), "vlm_demo_reasons")
        page.text(
            demo_model="none",
            demo_images="0",
            demo_cap="n/a",
            demo_zero_shot_tokens="n/a",
            demo_retry_tokens="n/a",
            demo_multi_shot_tokens="n/a",
            demo_rating_mass="n/a",
        )
        return None
    model = params.vlm_model or str(vlm.build_tiny_vlm(root / "model", seed=params.seed))
    name = Path(params.vlm_model).name if params.vlm_model else "tiny random VLM"
    backend = vlm.TransformersVLM(
        model,
        batch_size=len(pictures),
        max_new_tokens=params.vlm_max_new_tokens,
        quiet=True,
        threads=None if params.vlm_model else 1,
    )  # tiny: one is faster
    summary = annotate.annotate(
        pictures, backend, root, model_name=name, seed=params.seed, progress=False
    )
    page.table(summary.drop(columns=["mean_seconds"]), "vlm_demo_summary")
    page.table(annotate.reasons_table(root), "vlm_demo_reasons")
    tokens = pd.DataFrame(annotate.read_log(root / "attempts.jsonl"))
    longest = tokens.groupby(["readout", "retry"])["prompt_tokens"].max()
    cap = params.vlm_max_new_tokens
    page.text(
        demo_model=name
        if params.vlm_model
        else "a tiny randomly initialised VLM (LLaVA architecture, built here from a config; "
        "a stand-in whose replies are noise)",
        demo_images=f"{len(pictures)}",
        demo_cap=f"capped at {cap} tokens" if cap else "as long as the authors allowed",
        demo_zero_shot_tokens=f"{longest[('zero-shot', False)]:,}",
        demo_retry_tokens=f"{longest.get(('zero-shot', True), 0):,}",
        demo_multi_shot_tokens=f"{longest[('multi-shot', False)]:,}",
        demo_rating_mass=f"{summary.set_index('readout').loc['logits', 'rating_mass']:.2%}",
    )
    return summary


def _evaluate_demo(
    params: BenchmarkingParams, page: Page, on_panel: joined.ModelOnPanel, root: Path
) -> evaluate.Evaluation:
    """``emonet evaluate`` on a score file of our model's scores written here, compared with
    chapter 06's numbers for the same model."""
    scores = root / "scores.csv"
    with atomic_path(scores) as tmp:
        on_panel.scores.rename_axis("image").reset_index().to_csv(tmp, index=False)
    result = evaluate.evaluate(
        scores,
        root,
        on_panel.panel_path,
        name=params.model_name,
        n_boot=params.n_bootstrap,
        seed=params.seed,
        panel_label=on_panel.label,
        keep_outside=True,
    )
    page.table(
        result.summary[
            ["annotator", "group", "n_images", "mean_kappa", "mean_rho", "could_be", "could_be_p"]
        ],
        "bench_summary",
    )
    ours = result.summary.set_index("annotator").loc[params.model_name]
    chapter_kappa = (
        page.art.read_table("expert_agreement", ["annotator", "average"])
        .set_index("annotator")
        .loc[params.model_name, "average"]
    )
    chapter_rho = (
        page.art.read_table("expert_rho_summary", ["annotator", "mean_rho"])
        .set_index("annotator")
        .loc[params.model_name, "mean_rho"]
    )
    gap = max(abs(ours["mean_kappa"] - chapter_kappa), abs(ours["mean_rho"] - chapter_rho))
    page.text(
        bench_scores=portable(scores, page.root),
        bench_kappa=f"{ours['mean_kappa']:.3f}",
        bench_rho=f"{ours['mean_rho']:.3f}",
        bench_could_be="yes" if ours["could_be"] else "no",
        bench_p=f"{ours['could_be_p']:.3g}",
        bench_same="the same numbers as chapter 06"
        if gap < 1e-12
        else f"numbers that differ from chapter 06 by up to {gap:.2g}",
        bench_report=portable(result.report, page.root),
        bench_report_kb=f"{result.report.stat().st_size / 1024:,.0f}",
    )
    page.figure(
        figures.emotion_profile(
            result.statistics.agreement,
            [params.model_name],
            f"emonet evaluate: agreement with the experts per emotion ({on_panel.label})",
        ),
        "bench_profile",
        "fig_bench_profile",
    )
    return result


def _note(text: str) -> pd.DataFrame:
    """A one-cell table that stands where a table of data absent from this build would be."""
    return pd.DataFrame({"note": [text]})

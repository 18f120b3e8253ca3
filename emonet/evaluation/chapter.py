"""Chapter 06, *Evaluation*: everything the page shows.

Model vs experts: chapter 05's model (and, when the profile names them, the authors' released
heads rescored on the HQ images) joins chapter 04's panel as an annotator; the suite, the readout
study, the distributions over the 40 emotions, the blind study's top-5 lists and the fairness
regression follow. Benchmarking any model: the authors' VLM protocols, simulated VLMs read out
three ways, a transformer VLM under the protocols and ``emonet evaluate`` on a score file written
here. Real photographs: the released model's outputs on FERD (real data in every build) and, when
the profile reads them, on AffectNet. The chapter closes with the table of claims.

:func:`run` fills a :class:`emonet.book.page.Page` with the chapter's tables (``expert_*.csv``,
``vlm_*.csv``, ``bench_*.csv``, ``photos_*.csv``, ``evaluation_claims.csv``), figures and the
numbers its prose quotes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from emonet.book import style
from emonet.book.page import Page, Params
from emonet.data import checksums, hub, join, loaders, protocols, registry, snapshots
from emonet.evaluation import (
    annotate,
    benchmark,
    claims,
    figures,
    photos,
    vlm,
    vlm_study,
)
from emonet.evaluation import experts as evaluation_experts
from emonet.generation import images
from emonet.hq import figures as hq_figures
from emonet.hq import panel, resampled
from emonet.hq import suite as hq_suite
from emonet.io import atomic_path, portable
from emonet.model import encoder, heads, released, scoring
from emonet.paths import PROJECT_ROOT
from emonet.taxonomy import vocabulary


@dataclass(frozen=True)
class EvaluationParams(Params):
    """The parameters cell (``notebooks/params/<profile>.yaml``, ``common`` and
    ``06_evaluation``)."""

    profile: str
    seed: int
    panel_source: str  # "simulated" (chapter 04's stand-in) or "real" (the authors' hq.csv)
    model_name: str
    n_bootstrap: int
    bootstrap_order: str  # "keyed" (order-free) or "authors" (their generator's order)
    kappa_method: str  # "truncate" (the paper's astype(int)) or "round"
    released_heads: str | None  # hub id or folder of the released heads; None: not scored
    hq_images: str | None  # HQ dataset (hub id or parquet): released heads, demographics
    example_emotions: list[str]
    top_k_shown: int
    n_permutations: int
    affectnet: bool  # read the user-supplied AffectNet outputs
    affectnet_expected_records: int
    vlm_model: str | None  # the VLM under the protocols; None: a tiny random one built here
    vlm_demo_images: int  # HQ images it annotates
    vlm_max_new_tokens: int | None  # cap on its replies; None: the authors' 1000 / 2000
    vlm_rating_sd: float  # spread of a simulated VLM's rating probabilities (0-7 scale)
    vlm_slip_rate: float  # share of a simulated VLM's replies that break the protocol's rule

    def __post_init__(self):
        if self.released_heads and not self.hq_images:
            raise ValueError(f"released_heads={self.released_heads!r} needs hq_images: the "
                             "released heads are scored on the HQ images")


@dataclass(frozen=True)
class _Hq:
    """The HQ panel with the model in it, as the model-vs-experts sections read it."""

    experts: panel.Panel  # chapter 04's panel
    joined: panel.Panel  # the experts plus the model(s), group "Our Models"
    suite: hq_suite.Suite  # the suite of ``joined``
    resampled: resampled.Resampled  # the suite's statistics on image resamples of ``joined``
    models: list[str]  # the models of this build in ``joined`` (ours, the released heads)
    scores: pd.DataFrame  # our model's raw scores on the panel's ids: images x 40
    probs: pd.DataFrame  # our model's softmax over the 40 emotions: same images x 40
    median: pd.DataFrame  # the experts' median rating: panel images x 40 (0-7)
    manifest: pd.DataFrame | None  # chapter 02's manifest when the panel rates its images
    stand_ins: list[str]  # what the HQ results rest on instead of the paper's data
    label: str  # the same for captions, e.g. "untrained encoder, simulated panel"
    mapping: pd.Series | None  # HQ dataset row id -> panel image (content join), when read
    dataset: hub.HubSet | None  # the HQ dataset (``hq_images``) as opened, once, when read


def run(params: EvaluationParams, page: Page) -> Page:
    """Model vs experts (headline, agreement, readouts, distributions, top-5 overlap, fairness),
    real photographs (FERD, AffectNet) and the closing table of claims."""
    outputs = loaders.load_model_outputs()
    mappings = loaders.load_basic_mappings()
    hq = _model_vs_experts(params, page, outputs)
    _headline(params, page, hq)
    vlms = _versus_vlms(params, page, hq)
    _agreement(params, page, hq)
    _readouts(params, page, hq)
    demographics, matched = _demographics(params, hq)
    _distributions(params, page, hq, demographics)
    overlap = _top_k_overlap(params, page, hq)
    fairness = _fairness(params, page, hq, demographics, matched)
    _benchmarking(params, page, hq)
    ferd = _real_photographs(params, page, outputs, mappings)
    affectnet = _affectnet(params, page, mappings)
    _claims(params, page, hq, vlms, overlap, ferd, affectnet, fairness)
    return page


def _model_vs_experts(params: EvaluationParams, page: Page, outputs: pd.DataFrame) -> _Hq:
    """Chapter 05's model (and the released heads) on the panel's scale, joined to the panel."""
    checkpoint = heads.load_checkpoint(page.root / scoring.CHECKPOINT_PATH)
    encoder_label = encoder.EncoderSpec.from_dict(checkpoint.encoder).label
    stand_ins = claims.stand_ins(encoder_label, params.panel_source)
    label = ", ".join(stand_ins) or "real HQ ratings"
    experts = panel.profile_panel(params.panel_source, page.root)
    simulated = params.panel_source == "simulated"
    manifest = images.read_manifest(images.manifest_path(page.root)) if simulated else None
    raw = scoring.load_predictions(page.root, "raw")
    softmax = scoring.load_predictions(page.root, "softmax")
    dataset = hub.load_hf_hq(params.hq_images) if params.hq_images else None
    mapping, ids, sources = _image_mapping(page, experts, raw.index, dataset)
    ours = raw.loc[ids.index].set_axis(ids.to_numpy())  # as stored: rho needs no common scale
    probs = softmax.loc[ids.index].set_axis(ids.to_numpy())
    rescored, read = _released_models(params, page, checkpoint, outputs, mapping, dataset)
    models = {params.model_name: ours, **rescored}
    page.table(snapshots.sources_table(sources + read), "expert_hub_sources")
    joined = experts
    for name, scores in models.items():
        joined = joined.with_annotator(name, scores, "Our Models")
    suite = hq_suite.run_suite(joined, params.n_bootstrap, params.seed, params.kappa_method,
                               bootstrap_order=params.bootstrap_order)
    res = resampled.resample(joined, params.n_bootstrap, params.seed, params.kappa_method)
    median = pd.DataFrame(hq_suite.expert_median(experts), index=list(experts.images),
                          columns=list(probs.columns))
    n_experts = experts.human.sum()
    others = [a for a, human in zip(experts.annotators, experts.human) if not human]
    named = "the authors' hq.csv" if params.panel_source == "real" else \
        panel.source_label(params.panel_source)
    panel_text = (f"a simulated panel of {n_experts} experts, 4 per image, rating the HQ-role "
                  f"offline faces, plus {hq_suite.models_text(len(others))} "
                  f"({', '.join(others)})" if simulated else
                  f"{named}: {n_experts} experts and {(~experts.human).sum()} model annotators")
    released_text = ("The authors' released heads are scored here as well (see the file table "
                     "below) and join as a second model." if params.released_heads else
                     "The authors' released heads need the HQ images and the SigLIP2 encoder; "
                     "this build does not score them (the full profile does).")
    page.text(ev_label=label, ev_model=params.model_name, ev_encoder=encoder_label,
              ev_panel_text=panel_text,
              ev_n_outside=f"{evaluation_experts.outside_scale(ours):,}",
              ev_n_scores=f"{ours.size:,}", ev_released_text=released_text)
    return _Hq(experts, joined, suite, res, list(models), ours, probs, median, manifest,
               stand_ins, label, mapping, dataset)


def _image_mapping(page: Page, experts: panel.Panel, scored, dataset: hub.HubSet | None
                   ) -> tuple[pd.Series | None, pd.Series, list]:
    """How the scored images find their panel images, with the coverage table and sentence:
    with the HQ ``dataset`` (``hq_images``), its rows joined to the panel by the experts'
    ratings (:func:`emonet.data.join.join_by_ratings`), else by name (chapter 02's ids).
    Returns ``(the join or None, scored id -> panel image, the hub snapshots read)``."""
    if dataset is None:
        ids, counts = evaluation_experts.match_images(scored, experts.images)
        page.table(evaluation_experts.coverage_by_name(counts), "expert_model_coverage")
        page.text(ev_join_text="The model's scores find their panel images by image id.")
        return None, ids, []
    labels = hub.hq_expert_ratings(dataset)
    mapping, coverage = join.join_by_ratings(labels.ratings,
                                             evaluation_experts.expert_ratings(experts),
                                             dataset.source)
    ids = mapping[mapping.index.isin(pd.Index(scored))]
    extra = pd.DataFrame([
        ("scored by this build's model (chapter 05)", len(ids), len(ids) / max(len(mapping), 1)),
        ("scored rows without a unique panel image (left out)", len(scored) - len(ids),
         (len(scored) - len(ids)) / max(len(scored), 1)),
        ("label keys naming no category (ignored)", int(labels.unknown_keys["rows"].sum()),
         float("nan"))], columns=list(coverage.columns))
    page.table(pd.concat([coverage, extra], ignore_index=True), "expert_model_coverage")
    page.text(ev_join_text=f"The HQ dataset ({snapshots.short(dataset.source)}) keeps no file "
              "names, so its rows are joined to the panel's images by the experts' ratings: "
              f"{len(mapping):,} of {len(labels.ratings):,} rows match exactly one image (the run "
              f"stops when more than {join.MAX_UNMATCHED:.0%} do not).")
    return mapping, ids, [labels.snapshot] if labels.snapshot is not None else []


def _released_models(params: EvaluationParams, page: Page, checkpoint: heads.Checkpoint,
                     outputs: pd.DataFrame, mapping: pd.Series | None,
                     dataset: hub.HubSet | None) -> tuple[dict[str, pd.DataFrame], list]:
    """The authors' released heads rescored on the HQ images (``dataset``, ``hq_images``) with the
    checkpoint's encoder, the rows placed on the panel by ``mapping`` (:func:`_image_mapping`):
    ``({name: panel images x 40, raw as stored}, the hub snapshots read)``; empty when the profile names
    no ``released_heads``."""
    if not params.released_heads:
        return {}, []
    folder, snapshot = released.locate_heads(params.released_heads)
    page.table(released.head_files(folder), "expert_released_head_files")
    embedder = scoring.encoder_for(checkpoint, cache_dir=page.root / "embeddings")
    scores = evaluation_experts.released_scores(folder, dataset, embedder,
                                                released.neutral_means(outputs))
    placed = scores.loc[mapping.index].set_axis(mapping.to_numpy())
    return ({evaluation_experts.RELEASED_MODEL: placed},
            [s for s in (snapshot, embedder.snapshot) if s is not None])


def _headline(params: EvaluationParams, page: Page, hq: _Hq) -> None:
    """Mean Spearman rho against the human median, per annotator."""
    rho = page.table(hq.suite.rho_summary, "expert_rho_summary")
    page.table(hq.suite.rho, "expert_rho")
    ours = rho.set_index("annotator").loc[params.model_name]
    experts_rho = rho[rho["human"]]["mean_rho"]
    rank = int((rho["mean_rho"] > ours["mean_rho"]).sum()) + 1
    page.text(ev_n_boot=f"{params.n_bootstrap:,}", ev_boot_seed=f"{params.seed}",
              ev_rho=f"{ours['mean_rho']:.3f}",
              ev_rho_ci=f"{ours['ci_low']:.3f} to {ours['ci_high']:.3f}",
              ev_rho_experts=f"{experts_rho.min():.3f} to {experts_rho.max():.3f}",
              ev_rho_rank=f"{rank} of {len(rho)}",
              ev_rho_position="within the experts' range"
              if ours["mean_rho"] >= experts_rho.min() else
              f"below every expert (the lowest expert is {experts_rho.min():.3f})")
    page.figure(hq_figures.rho_bars(
        rho, f"Mean Spearman rho against the human median over the 40 emotions ({hq.label})"),
        "expert_rho", "fig_ev_rho")
    like = page.table(resampled.like_for_like_table(hq.resampled, hq.models),
                      "expert_like_for_like")
    mean, per_expert, reached = resampled.like_for_like_of(like, params.model_name)
    page.text(ev_lfl_model=f"{mean['model_rho']:.3f}", ev_lfl_experts=f"{mean['expert_rho']:.3f}",
              ev_lfl_diff=f"{mean['difference']:+.3f}",
              ev_lfl_ci=f"{mean['ci_low']:+.3f} to {mean['ci_high']:+.3f}",
              ev_lfl_reached=f"{reached} of {len(per_expert)}")


def _agreement(params: EvaluationParams, page: Page, hq: _Hq) -> None:
    """Pairwise kappa, agreement by annotator group and the "could be an annotator" test."""
    matrix = page.table(hq.suite.matrix, "expert_kappa_matrix", index=True)
    page.table(hq.suite.agreement, "expert_agreement")
    page.figure(hq_figures.kappa_heatmap(
        matrix, f"Mean pairwise weighted kappa over the 40 emotions ({hq.label})"),
        "expert_kappa_matrix", "fig_ev_kappa")
    values = page.table(hq_suite.group_values(hq.suite.agreement), "expert_group_values")
    page.table(hq.suite.groups, "expert_group_tests")
    page.figure(hq_figures.group_boxplot(
        values, panel.group_order(values["group"]),
        f"Agreement with the experts by annotator group ({hq.label})"),
        "expert_groups", "fig_ev_groups")
    could_be = page.table(hq.suite.could_be, "expert_could_be")
    verdict = could_be.set_index("annotator").loc[params.model_name]
    page.text(ev_kappa_method="levels truncated with astype(int), as in the paper"
              if params.kappa_method == "truncate" else "levels rounded to the nearest integer",
              ev_could_be="could" if verdict["could_be"] == "yes" else "could not",
              ev_could_be_p=f"{verdict['p_value']:.3g}",
              ev_could_be_diff=f"{verdict['mean_difference']:+.3f}",
              ev_could_be_ci=f"{verdict['ci_low']:+.3f} to {verdict['ci_high']:+.3f}")
    page.figure(hq_figures.difference_forest(could_be, f"Could it be an annotator? ({hq.label})"),
                "expert_could_be", "fig_ev_could_be")
    groups = page.table(resampled.group_intervals(hq.resampled), "expert_group_inference")
    people = page.table(resampled.annotator_intervals(hq.resampled), "expert_inference")
    ours = people.set_index("annotator").loc[params.model_name]
    page.text(ev_matched_could_be="could" if ours["could_be"] == "yes" else "could not",
              ev_matched_diff=f"{ours['matched_difference']:+.3f}",
              ev_matched_ci=f"{ours['matched_low']:+.3f} to {ours['matched_high']:+.3f}",
              ev_matched_p=f"{ours['p_value']:.3g}",
              ev_kappa_images=f"{ours['mean_kappa']:.3f} ({ours['kappa_low']:.3f} to "
                              f"{ours['kappa_high']:.3f})",
              ev_n_groups_holm=f"{int(groups['reject'].sum())} of {len(groups)}")


def _readouts(params: EvaluationParams, page: Page, hq: _Hq) -> None:
    """Our model's scores (and, with chapter 02's manifest, the offline faces' ground truth as an
    oracle perceiver) read out as the VLMs were asked to answer."""
    perceivers = {"our model": hq.scores}
    if hq.manifest is not None:
        truth = pd.DataFrame(images.truth_matrix(hq.manifest),
                             index=hq.manifest["id"].astype(str), columns=list(hq.scores.columns))
        perceivers["ground truth (oracle)"] = truth.loc[list(hq.experts.images)]
    readout = page.table(evaluation_experts.readout_table(
        hq.experts, perceivers, params.n_bootstrap, params.seed, params.kappa_method),
        "expert_readouts")
    page.text(ev_zero_shot_categories=", ".join(protocols.zero_shot().categories),
              ev_readout_perceivers="Two perceivers here: our model, and, as a reference with "
              "perfect perception, the ground truth of the offline faces (an oracle that knows "
              "what was drawn)." if len(perceivers) > 1 else "The perceiver here is our model.",
              ev_readout_text=evaluation_experts.readout_summary(readout))
    page.figure(figures.readout_bars(readout, f"Same perception, different readouts ({hq.label})"),
                "expert_readouts", "fig_ev_readouts")


def _demographics(params: EvaluationParams, hq: _Hq) -> tuple[pd.DataFrame | None, int | None]:
    """Ethnicity group, age, gender and prompted emotion per panel image, from chapter 02's
    manifest or the HQ dataset's metadata (``params.hq_images``, its rows placed on the panel by
    the content join), and how many panel images have them; ``(None, None)`` when the build has
    neither."""
    if hq.manifest is not None:
        meta = hq.manifest
    elif hq.dataset is not None:
        meta = hub.metadata(hq.dataset)
        meta = meta.assign(id=meta["id"].map(hq.mapping)).dropna(subset=["id"])
    else:
        return None, None
    demographics, counts = evaluation_experts.image_demographics(meta, "id", hq.experts.images)
    return demographics, counts["matched"]


def _distributions(params: EvaluationParams, page: Page, hq: _Hq,
                   demographics: pd.DataFrame | None) -> None:
    """The model's softmax next to the experts' median for example images, and how widely each
    spreads over the 40 emotions."""
    prompted = demographics["emotion"] if demographics is not None else pd.Series(dtype=str)
    examples = evaluation_experts.example_images(prompted, params.example_emotions, hq.median)
    thumbnails = None if hq.manifest is None else images.open_images(
        page.root, hq.manifest.set_index("id").loc[examples, "path"])
    spread = pd.DataFrame({
        "model softmax": evaluation_experts.effective_categories(hq.probs),
        "expert median": evaluation_experts.effective_categories(hq.median.loc[hq.probs.index])})
    page.table(spread.describe().loc[["count", "mean", "50%"]].rename(index={"50%": "median"})
               .rename_axis("statistic").reset_index(), "expert_spread")
    page.text(ev_n_examples=f"{len(examples)}",
              ev_spread_model=f"{spread['model softmax'].median():.1f}",
              ev_spread_human=f"{spread['expert median'].median():.1f}",
              ev_spread_n_zero=f"{int(spread['expert median'].isna().sum())}")
    page.figure(figures.distribution_panels(
        hq.probs.loc[examples], hq.median.loc[examples],
        f"Model softmax vs the experts' median ({hq.label})", thumbnails=thumbnails,
        human_label="expert median (0-7)"), "expert_distributions", "fig_ev_distributions")
    page.table(pd.concat({"model_softmax": hq.probs.loc[examples],
                          "expert_median": hq.median.loc[examples]}).rename_axis(
        ["source", "image"]), "expert_distribution_examples", index=True)


def _top_k_overlap(params: EvaluationParams, page: Page, hq: _Hq) -> dict:
    """How much the model's and the experts' median's top-k lists share (each side's top k
    non-zero categories, ties broken at random), against images paired at random and against
    each expert's own list; returns the test (:func:`~emonet.evaluation.experts.overlap_null`
    plus ``expert_mean`` and ``expert_chance``) for the claims."""
    k = params.top_k_shown
    overlap, first, second = evaluation_experts.top_k_overlap(
        hq.probs, hq.median.loc[hq.probs.index], k, params.seed)
    page.table(overlap.reset_index(), "expert_top5_overlap")
    test = evaluation_experts.overlap_null(first, second, params.n_permutations, params.seed)
    chance = page.table(evaluation_experts.overlap_chance(
        overlap["overlap"], test.pop("chance_shares"), test["chance_mean"]), "expert_top5_chance")
    expert, test["expert_chance"] = evaluation_experts.expert_top_k_overlap(hq.experts, k,
                                                                           params.seed)
    test["expert_mean"] = float(expert.mean())
    page.table(pd.DataFrame([test]), "expert_top5_test")
    page.text(ev_k=f"{k}", ev_overlap_mean=f"{test['mean']:.2f}",
              ev_overlap_chance=f"{test['chance_mean']:.2f}", ev_overlap_p=f"{test['p']:.2g}",
              ev_overlap_experts=f"{test['expert_mean']:.2f}",
              ev_overlap_experts_chance=f"{test['expert_chance']:.2f}",
              ev_overlap_short=f"{(overlap['n_human'] < k).mean():.0%}",
              ev_overlap_ties=f"{overlap['human_tie_at_cut'].mean():.0%}")
    page.figure(figures.overlap_bars(
        chance, f"Top-{k} overlap, model vs the experts' median ({hq.label})"),
        "expert_top5_overlap", "fig_ev_overlap")
    return test


def _versus_vlms(params: EvaluationParams, page: Page, hq: _Hq) -> pd.DataFrame:
    """Our model's mean rho minus each VLM's, paired over the same image resamples; returns the
    table for the claims (empty without VLMs in the panel)."""
    vlms = [a for a, g in zip(hq.joined.annotators, hq.joined.groups) if g.startswith("VLMs")]
    table = page.table(pd.DataFrame(
        [{"vlm": v, **resampled.paired_difference(hq.resampled, params.model_name, v)}
         for v in vlms], columns=["vlm", "difference", "ci_low", "ci_high", "p_value"]),
        "expert_vs_vlms")
    page.text(ev_vlm_text=claims.vlm_row(params.model_name, table, "")[2] + "."
              if len(table) else "This panel has no VLM annotators.")
    return table


def _fairness(params: EvaluationParams, page: Page, hq: _Hq, demographics: pd.DataFrame | None,
              matched: int | None) -> pd.DataFrame:
    """Per-image agreement of the model and of the experts regressed on the demographics; returns
    the model's factor tests (empty without demographics) for the claims."""
    if demographics is None:
        message = "no image demographics in this build"
        page.tables["expert_fairness_factors"] = _note(message)
        page.text(ev_fair_n="n/a", ev_fair_excluded="n/a", ev_fair_refs="n/a",
                  ev_fair_result="This build has no image demographics (set hq_images)",
                  ev_fair_meta="no demographics")
        page.figure(style.message_figure(message), "expert_fairness", "fig_ev_fairness")
        return pd.DataFrame({"factor": [], "reject": []})
    by_image = evaluation_experts.per_image_agreement(hq.joined)
    expert_names = [a for a, human in zip(hq.joined.annotators, hq.joined.human) if human]
    per_image = pd.DataFrame({"model": by_image[params.model_name],
                              "experts": by_image[expert_names].mean(axis=1)}
                             ).loc[demographics.index]
    fits = {who: evaluation_experts.fairness_regression(per_image[who], demographics)
            for who in per_image}
    coefficients = page.table(pd.concat({who: fit[0] for who, fit in fits.items()},
                                        names=["annotator"]).reset_index(level=0),
                              "expert_fairness_coefficients")
    page.table(pd.concat({who: fit[1] for who, fit in fits.items()},
                         names=["annotator"]).reset_index(level=0), "expert_fairness_factors")
    factors, info = fits["model"][1], fits["model"][2]
    page.text(ev_fair_n=f"{info['n_used']:,}", ev_fair_excluded=f"{info['n_excluded']:,}",
              ev_fair_refs=", ".join(f"{k}: {v}" for k, v in info["references"].items()),
              ev_fair_result=evaluation_experts.fairness_result(factors),
              ev_fair_meta=f"{matched:,} of {hq.experts.n_images:,} panel images have "
              "demographics")
    page.figure(figures.fairness_effects(
        coefficients, f"Per-image agreement by demographic group ({hq.label})"),
        "expert_fairness", "fig_ev_fairness")
    return factors


#: The chapter's benchmarking folder in the artifacts (annotation runs, evaluations).
BENCHMARK_DIR = "benchmark"


def _benchmarking(params: EvaluationParams, page: Page, hq: _Hq) -> None:
    """The authors' VLM protocols, simulated VLMs read out three ways, a transformer VLM under
    the protocols, and ``emonet evaluate`` on a score file written here. The folder starts
    afresh, so the page shows this code's runs, not resumed ones."""
    root = page.root / BENCHMARK_DIR
    shutil.rmtree(root, ignore_errors=True)
    zero, multi = protocols.zero_shot(), protocols.multi_shot()
    _protocols(page, zero, multi)
    panel_path = panel.hq_path(params.panel_source, page.root)
    _simulated_vlms(params, page, hq, root / "simulated", panel_path, zero, multi)
    _vlm_demo(params, page, hq, root / "vlm")
    _evaluate_demo(params, page, hq, root / "evaluate", panel_path)


def _protocols(page: Page, zero, multi) -> None:
    """The anatomy of each prompt and the rules a reply must obey, read from the notebooks."""
    anatomy = page.table(vlm_study.prompt_anatomy(zero, multi), "vlm_prompt_anatomy")
    page.table(vlm_study.protocol_rules(zero, multi), "vlm_protocol_rules")
    parts = anatomy.dropna(subset=["share"]).set_index("part")
    files = {f: registry.REGISTRY[f].sha256[:12] for f in (protocols.ZERO_SHOT_FILE,
                                                           protocols.MULTI_SHOT_FILE)}
    examples = parts.index[parts.index.str.contains("EXAMPLES")][0]
    page.text(ev_vlm_files="; ".join(f"{f}, SHA-256 {h}…" for f, h in files.items()),
              ev_vlm_zs_chars=f"{len(zero.prompt('image.png')):,}",
              ev_vlm_ms_chars=f"{len(multi.prompt()):,}",
              ev_vlm_zs_guide=f"{parts['share'].filter(like='INSTRUCTIONS').iloc[0]:.0%}",
              ev_vlm_zs_options=f"{parts['share'].filter(like='OPTIONS').iloc[0]:.0%}",
              ev_vlm_ms_examples=f"{parts.loc[examples, 'share']:.0%}",
              ev_vlm_zs_n=f"{len(zero.keys)}", ev_vlm_zs_attempts=f"{zero.max_attempts}",
              ev_vlm_ms_max=f"{multi.max_nonzero}")


def _simulated_vlms(params: EvaluationParams, page: Page, hq: _Hq, root: Path,
                    panel_path: Path, zero, multi) -> None:
    """VLMs that perceive what a perceiver scores and answer as each protocol asks
    (:class:`emonet.evaluation.vlm.PerceiverVLM`), annotated and evaluated like any model."""
    perceivers = {"our model": hq.scores}
    if hq.manifest is not None:
        truth = pd.DataFrame(images.truth_matrix(hq.manifest),
                             index=hq.manifest["id"].astype(str), columns=list(hq.scores.columns))
        perceivers["ground truth (oracle)"] = truth.loc[list(hq.experts.images)]
    prefixes = {label: f"VLM seeing {label}" for label in perceivers}
    runs = []
    for k, (label, perception) in enumerate(perceivers.items()):
        backend = vlm.PerceiverVLM(perception, params.vlm_rating_sd, params.vlm_slip_rate)
        runs.append(annotate.annotate(annotate.ImageSet.of_ids(perception.index), backend,
                                      root / f"perceiver-{k + 1}", model_name=prefixes[label],
                                      seed=params.seed, progress=False))
    rows = vlm_study.combine_hq([root / f"perceiver-{k + 1}" / "hq.csv"
                                 for k in range(len(perceivers))])
    with atomic_path(root / "hq.csv") as tmp:
        rows.to_csv(tmp, index=False)
    result = benchmark.evaluate(root / "hq.csv", root / "evaluation", panel_path,
                                n_boot=params.n_bootstrap, seed=params.seed, panel_label=hq.label)
    readout = page.table(vlm_study.readout_table(result.summary, pd.concat(runs), prefixes),
                         "vlm_readouts")
    counts = vlm_study.nonzero_counts(hq.experts, loaders.load_hq(root / "hq.csv")[0])
    order = ["experts", *[f"{prefixes[p]} {annotate.SUFFIX[r]}" for p in perceivers
                          for r in annotate.READOUTS]]
    nonzero = counts.groupby("who")["nonzero"].describe().reindex(order)  # NaN: no rows
    page.table(nonzero.rename_axis("annotator").reset_index(), "vlm_nonzero")
    experts = counts[counts["who"] == "experts"]["nonzero"]
    label = f"simulated VLMs, {hq.label}"
    page.text(ev_vlm_perceivers=", ".join(perceivers), ev_vlm_rating_sd=f"{params.vlm_rating_sd}",
              ev_vlm_slip=f"{params.vlm_slip_rate:.0%}",
              ev_vlm_expert_nonzero=f"{experts.mean():.1f}",
              ev_vlm_expert_over5=f"{(experts > multi.max_nonzero).mean():.0%}",
              ev_vlm_readout_text=vlm_study.readout_sentences(readout),
              ev_vlm_label=label)
    page.figure(figures.nonzero_distribution(
        counts, order, {f"zero-shot: exactly {len(zero.keys)}": len(zero.keys),
                        f"multi-shot: at most {multi.max_nonzero}": multi.max_nonzero},
        f"Categories rated above 0 per image ({label})"), "vlm_nonzero", "fig_ev_vlm_nonzero")
    page.figure(figures.protocol_readouts(
        readout, result.summary[result.summary["human"]],
        f"The same perception read out three ways ({label})"), "vlm_readouts",
        "fig_ev_vlm_readouts")


def _demo_images(params: EvaluationParams, page: Page, hq: _Hq):
    """The first ``vlm_demo_images`` panel images as files: chapter 02's faces, or the HQ
    dataset's first images that the content join placed on the panel (``hq_images``, named by
    their panel ids); None when the build has neither."""
    n = params.vlm_demo_images
    if hq.manifest is not None:
        rows = hq.manifest.set_index("id").loc[list(hq.experts.images)[:n]].reset_index()
        return annotate.ImageSet.from_manifest(page.root, rows)
    if hq.dataset is not None and hq.mapping is not None:
        opened = hq.dataset
        rows = [k for k, row in enumerate(opened.ids) if row in hq.mapping.index][:n]
        ids = tuple(str(hq.mapping[opened.ids[k]]) for k in rows)
        if ids:
            return annotate.ImageSet(ids, tuple(f"{Path(i).stem}.png" for i in ids),
                                     tuple(opened.images[k] for k in rows))
    return None


def _vlm_demo(params: EvaluationParams, page: Page, hq: _Hq, root: Path) -> None:
    """A transformer VLM (``vlm_model``, or a tiny random one built here) under both protocols
    and the rating-probability readout, every attempt recorded."""
    pictures = _demo_images(params, page, hq)
    if pictures is None or params.vlm_demo_images < 1:
        message = "no HQ images in this build for the VLM"
        page.tables["vlm_demo_summary"] = page.tables["vlm_demo_reasons"] = _note(message)
        page.text(ev_vlm_demo_model="none", ev_vlm_demo_text=message + ".")
        return
    model = params.vlm_model or str(vlm.build_tiny_vlm(root / "model", seed=params.seed))
    name = Path(params.vlm_model).name if params.vlm_model else "tiny random VLM"
    backend = vlm.TransformersVLM(model, batch_size=len(pictures),
                                  max_new_tokens=params.vlm_max_new_tokens, quiet=True,
                                  threads=None if params.vlm_model else 1)  # tiny: one is faster
    summary = annotate.annotate(pictures, backend, root, model_name=name, seed=params.seed,
                                progress=False)
    page.table(summary.drop(columns=["mean_seconds"]), "vlm_demo_summary")
    page.table(annotate.reasons_table(root), "vlm_demo_reasons")
    tokens = pd.DataFrame(annotate.read_log(root / "attempts.jsonl"))
    first = tokens.groupby(["readout", "retry"])["prompt_tokens"].max()
    page.text(ev_vlm_demo_model=name if params.vlm_model else
              "a tiny randomly initialised VLM (LLaVA architecture, built here from a config; "
              "a stand-in whose replies are noise)",
              ev_vlm_demo_text=vlm_study.demo_sentence(summary, first, len(pictures),
                                                       params.vlm_max_new_tokens))


def _evaluate_demo(params: EvaluationParams, page: Page, hq: _Hq, root: Path,
                   panel_path: Path) -> None:
    """``emonet evaluate`` on a score file of our model's scores written here."""
    scores = root / "scores.csv"
    with atomic_path(scores) as tmp:
        hq.scores.rename_axis("image").reset_index().to_csv(tmp, index=False)
    result = benchmark.evaluate(scores, root, panel_path, name=params.model_name,
                                n_boot=params.n_bootstrap, seed=params.seed,
                                panel_label=hq.label, keep_outside=True)
    page.table(result.summary[["annotator", "group", "n_images", "mean_kappa", "mean_rho",
                               "could_be", "could_be_p"]], "bench_summary")
    ours = result.summary.set_index("annotator").loc[params.model_name]
    chapter_kappa = hq.suite.agreement.set_index("annotator").loc[params.model_name, "average"]
    chapter_rho = hq.suite.rho_summary.set_index("annotator").loc[params.model_name, "mean_rho"]
    gap = max(abs(ours["mean_kappa"] - chapter_kappa), abs(ours["mean_rho"] - chapter_rho))
    page.text(ev_bench_scores=portable(scores, page.root),
              ev_bench_kappa=f"{ours['mean_kappa']:.3f}", ev_bench_rho=f"{ours['mean_rho']:.3f}",
              ev_bench_could_be="yes" if ours["could_be"] else "no",
              ev_bench_p=f"{ours['could_be_p']:.3g}",
              ev_bench_same="the same numbers as the sections above" if gap < 1e-12 else
              f"numbers that differ from the sections above by up to {gap:.2g}",
              ev_bench_report=portable(result.report, page.root),
              ev_bench_report_kb=f"{result.report.stat().st_size / 1024:,.0f}")
    page.figure(figures.emotion_profile(
        result.suite.agreement, [params.model_name],
        f"emonet evaluate: agreement with the experts per emotion ({hq.label})"),
        "bench_profile", "fig_ev_bench_profile")


def _real_photographs(params: EvaluationParams, page: Page, outputs: pd.DataFrame,
                      mappings: dict) -> dict:
    """The released model on the real FERD photographs: the file, the authors' rule and its
    chance level, confusions, namesake heads and the choice of mapping; returns the numbers of
    the claims table."""
    scores, gold = photos.photo_scores(outputs)
    _ferd_file(page, outputs, gold)
    ferd = _ferd_rule(params, page, scores, gold, mappings["ferd"])
    _confusions(page, ferd["table"], mappings["ferd"])
    both = {"ferd": mappings["ferd"], "affectnet": mappings["affectnet"]}
    _namesakes(page, both)
    _mapping_sensitivity(page, scores, gold, both)
    return {key: ferd[key] for key in ("accuracy", "chance", "top1", "max_difference",
                                       "published")}


def _ferd_file(page: Page, outputs: pd.DataFrame, gold: pd.Series) -> None:
    """What ``ferd.jsonl`` holds, and whether its stored fields follow from the raw scores."""
    per_class = page.table(gold.value_counts().rename_axis("class").reset_index(name="n_images")
                           .sort_values("class"), "photos_ferd_images")["n_images"]
    deviation = page.table(photos.stored_score_check(outputs), "photos_ferd_score_check"
                           ).set_index("check")["max_abs_deviation"]
    page.text(ev_ferd_n=f"{len(gold):,}", ev_ferd_n_classes=f"{gold.nunique()}",
              ev_ferd_per_class=f"{int(per_class.min())}" if per_class.nunique() == 1
              else f"{int(per_class.min())}–{int(per_class.max())}",
              ev_ferd_n_heads=f"{outputs['emotion'].nunique()}",
              ev_offset_dev=f"{deviation['offset']:.1e}",
              ev_softmax_dev=f"{deviation['softmax']:.1e}")


def _ferd_rule(params: EvaluationParams, page: Page, scores: pd.DataFrame, gold: pd.Series,
               mapping: pd.Series) -> dict:
    """The authors' rule and strict top-1 on FERD (FERD mapping), their chance levels and the
    published numbers; returns the per-image ``table`` and the overall numbers."""
    table = photos.evaluate_photos(scores, gold, mapping)
    accuracy = page.table(photos.accuracy_table(table, params.n_permutations, params.seed),
                          "photos_ferd_accuracy")
    overall = accuracy.set_index("class").loc["overall"]
    repro = page.table(photos.reproduction(accuracy, photos.AUTHORS_RESULTS["ferd"]),
                       "photos_ferd_reproduction")
    result = _photo_result(accuracy, repro, "ferd")
    max_diff, published = result["max_difference"], result["published"]
    n_mapped = int(mapping.notna().sum())
    smallest_p = 1 / (params.n_permutations + 1)
    page.text(
        ev_n_perm=f"{params.n_permutations:,}", ev_seed=f"{params.seed}",
        ev_n_mapped=f"{n_mapped}", ev_cutoff=f"{photos.AUTHORS_FACTOR / n_mapped:.4f}",
        **{f"ev_ferd_{rule}_acc": f"{overall[f'{rule}_accuracy']:.1%}" for rule in photos.RULES},
        **{f"ev_ferd_{rule}_chance": f"{overall[f'{rule}_chance']:.1%}" for rule in photos.RULES},
        **{f"ev_ferd_{rule}_p": f"{overall[f'{rule}_p']:.4f}" for rule in photos.RULES},
        ev_ferd_published=f"{published:.1%}", ev_ferd_max_diff=f"{max_diff:.4f}",
        ev_repro_verdict="The published numbers reproduce exactly from the released file, so "
        "any question about them is about the rule, not the arithmetic." if max_diff == 0 else
        "The published numbers do not reproduce exactly from the released file; the table "
        "below shows where they differ.",
        ev_ferd_vs_chance="above it" if overall["authors_accuracy"] > overall["authors_chance"]
        else "not above it",
        ev_p_note=f"the smallest value {params.n_permutations:,} permutations can give"
        if overall["authors_p"] <= smallest_p else "permutation test",
        ev_ferd_mean_accepted_text=f"{table['n_accepted'].mean():.1f} of the 8 basic labels per "
        "photograph as correct")
    page.figure(figures.photo_accuracy_bars(
        accuracy, "Released model on real FERD photographs (FERD mapping)"),
        "photos_ferd_accuracy", "fig_ev_ferd_accuracy")
    return {"table": table, **result}


def _photo_result(accuracy: pd.DataFrame, repro: pd.DataFrame, dataset: str) -> dict:
    """The overall numbers of a real-photograph check for the claims table: the authors' rule's
    ``accuracy`` and ``chance``, strict ``top1``, the ``published`` accuracy and the largest
    per-class ``max_difference`` from the published numbers."""
    overall = accuracy.set_index("class").loc["overall"]
    return {"accuracy": overall["authors_accuracy"], "chance": overall["authors_chance"],
            "top1": overall["top1_accuracy"], "max_difference": repro["difference"].abs().max(),
            "published": photos.AUTHORS_RESULTS[dataset]["overall"]}


def _confusions(page: Page, table: pd.DataFrame, mapping: pd.Series) -> None:
    """Strict top-1 confusions, the authors' rule's acceptances, and the most frequent confusion
    with the heads the mapping sends to its two labels."""
    matrix = page.table(photos.confusion(table), "photos_ferd_confusion", index=True)
    acceptance = page.table(photos.acceptance_matrix(table), "photos_ferd_acceptance", index=True)
    gold, predicted, count = photos.top_confusion(matrix)
    page.text(ev_conf_gold=gold, ev_conf_pred=predicted, ev_conf_n=f"{count}",
              ev_conf_of=f"{int(matrix.loc[gold].sum())}",
              ev_conf_gold_heads=", ".join(mapping.index[mapping == gold]),
              ev_conf_pred_heads=", ".join(mapping.index[mapping == predicted]))
    page.figure(figures.photo_confusion(matrix, acceptance, "Real FERD photographs, FERD mapping"),
                "photos_ferd_confusion", "fig_ev_ferd_confusion")


def _namesakes(page: Page, mappings: dict[str, pd.Series]) -> None:
    """Heads named after a basic emotion, and where each mapping sends them."""
    namesakes = page.table(photos.namesake_heads(mappings), "photos_namesake_heads")
    renamed = namesakes[~namesakes["ferd_agrees"]]
    page.text(ev_namesake_off="; ".join(f"{r.emotion} → {r.ferd}" for r in renamed.itertuples())
              or "none", ev_namesake_n=f"{len(renamed)} of {len(namesakes)}",
              ev_namesake_aff_n=f"{int((~namesakes['affectnet_agrees']).sum())}")


def _mapping_sensitivity(page: Page, scores: pd.DataFrame, gold: pd.Series,
                         both: dict[str, pd.Series]) -> None:
    """The same FERD predictions under the FERD and the AffectNet mapping (``both``): the heads
    they assign differently, accuracies, changed verdicts and the largest per-class swing."""
    mapping_table = vocabulary.mapping_table(both)
    differing = page.table(mapping_table[~mapping_table["agree"]].drop(columns="agree"),
                           "photos_mapping_differences")
    sensitivity = page.table(photos.mapping_sensitivity(scores, gold, both),
                             "photos_ferd_mapping_sensitivity")
    flips = page.table(photos.verdict_flips(scores, gold, both["ferd"], both["affectnet"]),
                       "photos_ferd_mapping_flips")
    page.tables["photos_ferd_mapping_flips_first"] = flips.head(8)
    sens = sensitivity.set_index("class")
    swing = (sens["ferd_authors"] - sens["affectnet_authors"]).drop("overall")
    swing_class = swing.abs().idxmax()
    page.text(ev_n_differing=f"{len(differing)}",
              **{f"ev_sens_{name}_{rule}": f"{sens.loc['overall', f'{name}_{rule}']:.1%}"
                 for name in both for rule in photos.RULES},
              ev_n_flips=f"{len(flips)}",
              ev_n_flips_up=f"{int((~flips['first_correct']).sum())}",
              ev_n_flips_down=f"{int(flips['first_correct'].sum())}",
              ev_swing_class=swing_class,
              ev_swing_ferd=f"{sens.loc[swing_class, 'ferd_authors']:.1%}",
              ev_swing_affectnet=f"{sens.loc[swing_class, 'affectnet_authors']:.1%}")
    page.figure(figures.mapping_sensitivity_bars(
        sensitivity, tuple(both), "Same predictions on real FERD photographs, two mappings"),
        "photos_ferd_mapping_sensitivity", "fig_ev_sensitivity")


def _affectnet(params: EvaluationParams, page: Page, mappings: dict) -> dict | None:
    """The released model on AffectNet (AffectNet mapping), when the profile reads the four
    user-supplied files (``params.affectnet``; returns its overall numbers, :func:`_photo_result`);
    otherwise the page says it does not (returns None)."""
    page.text(ev_affectnet_expected=f"{params.affectnet_expected_records:,}")
    if not params.affectnet:
        message = f"AffectNet is not read in the {params.profile} profile"
        page.tables["photos_affectnet_files"] = _note(message)
        page.tables["photos_affectnet_accuracy"] = _note(message)
        page.text(ev_affectnet_summary=f"This build runs the {params.profile} profile, which does "
                  "not read AffectNet (set affectnet: true, as the full profile does, once the "
                  "four files are in place).")
        page.figure(style.message_figure(message), "photos_affectnet_accuracy",
                    "fig_ev_affectnet_accuracy")
        return None
    found = [registry.locate_supplied(name) for name in loaders.AFFECTNET_PARTS]
    page.table(pd.DataFrame([{**checksums.file_record(path),
                              "folder": portable(path.parent, PROJECT_ROOT)} for path in found]),
               "photos_affectnet_files")
    outputs = loaders.load_affectnet_outputs(expected_records=params.affectnet_expected_records)
    scores, gold = photos.photo_scores(outputs)
    table = photos.evaluate_photos(scores, gold, mappings["affectnet"], policy="wrong")
    accuracy = page.table(photos.accuracy_table(table, params.n_permutations, params.seed),
                          "photos_affectnet_accuracy")
    repro = page.table(photos.reproduction(accuracy, photos.AUTHORS_RESULTS["affectnet"]),
                       "photos_affectnet_reproduction")
    page.text(ev_affectnet_summary=photos.affectnet_summary(
        table, accuracy, repro, outputs.attrs["ignored_fields"]))
    page.figure(figures.photo_accuracy_bars(
        accuracy, "Released model on AffectNet (AffectNet mapping)"),
        "photos_affectnet_accuracy", "fig_ev_affectnet_accuracy")
    return _photo_result(accuracy, repro, "affectnet")


def _claims(params: EvaluationParams, page: Page, hq: _Hq, vlms: pd.DataFrame, overlap: dict,
            ferd: dict, affectnet: dict | None, fairness: pd.DataFrame) -> None:
    """The closing table: each claim of the paper, what this run measured, on what evidence, a
    verdict and why."""
    rho = hq.suite.rho_summary.set_index("annotator")
    experts = rho.loc[rho["human"], "mean_rho"]
    could = hq.suite.could_be.set_index("annotator").loc[params.model_name]
    authors = {"mean_rho": rho.loc[params.model_name, "mean_rho"],
               "experts_min": experts.min(), "experts_max": experts.max(),
               "could_be": could["could_be"], "p_value": could["p_value"]}
    verdicts = page.table(claims.claims(
        params.model_name, page.tables["expert_inference"], page.tables["expert_like_for_like"],
        authors, vlms, overlap, ferd, affectnet, fairness,
        stand_in=", ".join(hq.stand_ins) or None),
        "evaluation_claims")
    page.text(ev_verdict_counts=claims.verdict_counts(verdicts),
              ev_stand_in_note=claims.stand_in_note(hq.stand_ins))


def _note(text: str) -> pd.DataFrame:
    """A one-cell table that stands where a table of data absent from this build would be."""
    return pd.DataFrame({"note": [text]})


"""Chapter 02, *Generation*: the balanced prompt design, the images and their manifest, the
ground truth of the offline faces, the balance of a real dataset and the images' roles.

:func:`run` fills a :class:`emonet.book.page.Page` with the chapter's tables
(``generation_*.csv``), figures and the numbers its prose quotes; the images and
``manifest.parquet`` go to the page's artifacts folder for the later chapters.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from emonet.book import style
from emonet.book.page import Page, Params
from emonet.data import demographics, hub, loaders, snapshots
from emonet.generation import figures, images, prompts, representation

#: Categories of the example grid, one row each.
GRID_EMOTIONS = ("Amusement", "Sadness", "Astonishment/Surprise", "Disgust", "Anger", "Fear",
                 "Contempt", "Pain", "Embarrassment", "Concentration")


@dataclass(frozen=True)
class GenerationParams(Params):
    seed: int
    backend: str  # "offline" (offline faces) or "diffusers"
    n_images: int
    image_size: int  # pixels, square
    generation_batch_size: int  # images per backend call
    generation_workers: int  # offline faces: processes that draw them (same images)
    intensity: list[float]  # offline faces: expression intensity range, [low, high] on 0-1
    model_id: str | None  # diffusers: hub id or local folder of a text-to-image model
    dtype: str  # diffusers: "float32", "float16" or "bfloat16"
    steps: int | None  # diffusers: inference steps (None: the pipeline's default)
    guidance_scale: float | None  # diffusers (None: the pipeline's default)
    negative_prompt: str | None  # diffusers
    grid_per_row: int  # example images per category in the grid
    real_source: str | None  # a real dataset whose balance is shown (hub id or parquet file)
    replace_images: bool  # regenerate requested images whose file exists but does not match


def make_generator(params: GenerationParams):
    """The image backend ``params.backend`` names (:func:`emonet.generation.images.make_backend`),
    with its options from ``params``."""
    options = {"offline": {"size": params.image_size, "intensity": tuple(params.intensity),
                           "workers": params.generation_workers},
               "diffusers": {"model_id": params.model_id, "dtype": params.dtype,
                             "steps": params.steps, "guidance_scale": params.guidance_scale,
                             "negative_prompt": params.negative_prompt,
                             "height": params.image_size, "width": params.image_size}}
    return images.make_backend(params.backend, batch_size=params.generation_batch_size,
                               **options.get(params.backend, {}))


def run(params: GenerationParams, page: Page) -> Page:
    """Prompt slots, the design, the images, their ground truth, a real dataset's balance and
    the images' roles."""
    _slots(page)
    design = _design(params, page)
    manifest, generator = _images(params, page, design)
    _truth(params, page, manifest)
    real = _real_balance(params, page)
    _represented(page, {f"this build ({generator.label})": manifest,
                        **({snapshots.short(params.real_source): real.metadata}
                           if real is not None else {})})
    _roles(params, page, manifest)
    page.table(snapshots.sources_table([getattr(generator, "snapshot", None),
                                        real.snapshot if real is not None else None]),
               "generation_hub_sources")
    return page


def _slots(page: Page) -> None:
    page.table(prompts.ethnicity_groups_table(), "generation_ethnicity_groups")
    page.table(prompts.templates_table(), "generation_templates")
    ages = demographics.AGES
    page.text(n_ethnicities=f"{len(demographics.ETHNICITIES)}",
              n_groups=f"{len(demographics.ETHNICITY_GROUPS)}", n_ages=f"{len(ages)}",
              age_range=f"{ages[0]} to {ages[-1]}", n_genders=f"{len(demographics.GENDERS)}",
              n_cells=f"{prompts.N_CELLS:,}", n_templates=f"{len(prompts.TEMPLATES)}")


def _design(params: GenerationParams, page: Page) -> pd.DataFrame:
    design = page.table(prompts.design(params.n_images, loaders.load_guide(), seed=params.seed),
                        "generation_prompts")
    summary = page.table(prompts.balance_summary(design), "generation_balance_summary")
    spread_emotion, spread_demo = prompts.max_spreads(summary)
    page.text(n_images=f"{len(design)}", max_spread_emotion=f"{spread_emotion}",
              max_spread_demo=f"{spread_demo}",
              per_emotion=f"{len(design) / design['emotion'].nunique():.0f}")
    page.view(prompts.examples(design), "generation_prompt_examples")
    panels = prompts.balance_panels(design)
    for title, table in panels.items():
        page.table(table, f"generation_balance_{prompts.panel_name(title)}", index=True)
    page.figure(figures.balance_heatmaps(panels, f"Images per cell, {len(design)} prompts"),
                "generation_balance", "fig_balance")
    return design


def _images(params: GenerationParams, page: Page, design: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                                  object]:
    """The images and their manifest, with the generator that made them."""
    generator = make_generator(params)
    manifest = images.generate(design, generator, page.root, progress=False,
                               replace=params.replace_images)
    speed = page.table(images.timing(manifest), "generation_timing").iloc[0]
    page.text(backend_label=generator.label, gen_seconds=f"{speed['seconds']:.1f}",
              images_per_s=f"{speed['images_per_s']:.0f}",
              ms_per_image=f"{speed['ms_per_image']:.1f}", image_px=f"{speed['width']}",
              n_grid_emotions=f"{len(GRID_EMOTIONS)}", grid_per_row=f"{params.grid_per_row}")
    shown, captions = images.examples(manifest, page.root, list(GRID_EMOTIONS),
                                      per_row=params.grid_per_row)
    page.figure(figures.image_grid(shown, list(GRID_EMOTIONS), captions,
                                   f"Generated images by prompted emotion ({generator.label})"),
                "generation_grid", "fig_grid")
    return manifest, generator


def _truth(params: GenerationParams, page: Page, manifest: pd.DataFrame) -> None:
    low, high = params.intensity
    page.text(intensity_range=f"{low} to {high}")
    if not images.has_truth(manifest):
        page.text(truth_top1="n/a (no ground truth for this backend)", truth_target_mean="n/a")
        page.figure(style.message_figure(f"{params.backend} images carry no ground truth"),
                    "generation_truth", "fig_truth")
        return
    by_target = page.table(images.truth_by_target(manifest), "generation_truth_by_target",
                           index=True)
    top1, target_mean = images.prompted_truth(manifest)
    page.text(truth_top1=f"{100 * top1:.0f}%", truth_target_mean=f"{target_mean:.1f}")
    page.figure(figures.truth_heatmap(by_target), "generation_truth", "fig_truth")


@dataclass(frozen=True)
class RealSet:
    """A real dataset as read: its normalised metadata (:func:`emonet.data.hub.metadata`) and
    the hub snapshot it came from (None for a local folder or file)."""

    metadata: pd.DataFrame
    snapshot: snapshots.Snapshot | None


def _real_balance(params: GenerationParams, page: Page) -> RealSet | None:
    """The balance of the real dataset ``real_source`` names; returns its metadata and hub
    snapshot (None without one)."""
    name = "generation_real_balance_summary"
    if params.real_source is None:
        page.text(real_source_label="none in this profile")
        page.view(pd.DataFrame(columns=list(prompts.BALANCE_SUMMARY_COLUMNS)), name)
        page.figure(style.message_figure("no real dataset in this profile (real_source is unset)"),
                    "generation_real_balance", "fig_real_balance")
        return None
    opened = hub.open_set(params.real_source, "real")
    real = hub.metadata(opened)
    page.text(real_source_label=snapshots.short(params.real_source))
    page.table(prompts.balance_summary(real), name)
    page.figure(figures.balance_heatmaps(prompts.balance_panels(real),
                                         f"Images per cell, "
                                         f"{snapshots.short(params.real_source)}"),
                "generation_real_balance", "fig_real_balance")
    return RealSet(real, opened.snapshot)


def _represented(page: Page, sources: dict[str, pd.DataFrame]) -> None:
    """Who is represented: FairFace groups' shares and their spread over the families, per
    source (this build's images first, then the real dataset if any)."""
    groups, families = representation.represented(sources)
    page.table(groups, "generation_represented")
    page.table(families, "generation_represented_families")
    texts = {}
    for key, source in zip(("rep", "rep_real"), sources):
        rows = groups[groups["source"] == source].reset_index(drop=True)
        farthest = rows.loc[rows["tv_from_even"].idxmax()]
        texts[key] = (f"{representation.extreme_text(rows, 'share', 'largest')} and "
                      f"{representation.extreme_text(rows, 'share', 'smallest')}; "
                      f"{farthest['group']} is farthest from an even spread over the emotions "
                      f"(distance {farthest['tv_from_even']:.2f}, closest "
                      f"{rows['tv_from_even'].min():.2f})")
    label, build = next(iter(sources.items()))
    strings = page.table(representation.strings_by_emotion(build),
                         "generation_strings_by_emotion")
    page.text(rep_n_groups=f"{len(representation.GROUPS)}", rep_build=label,
              rep_build_text=texts["rep"],
              rep_real_text=(f"In {list(sources)[1]}, {texts['rep_real']}." if "rep_real" in texts
                             else "No real dataset is read in this profile (its real_source is "
                                  "unset)."),
              rep_strings_text=representation.single_string_text(strings, "this build"),
              rep_sources=" and ".join(sources))
    page.figure(figures.represented(groups, families, "Who is represented: FairFace groups"),
                "generation_represented", "fig_represented")


def _roles(params: GenerationParams, page: Page, manifest: pd.DataFrame) -> None:
    subsets = prompts.assign_subsets(manifest, seed=params.seed)
    counts = page.table(prompts.subset_counts(manifest, subsets), "generation_subsets",
                        index=True)
    page.text(**{f"n_{name}": f"{counts.loc['images', name]}" for name in prompts.SUBSETS})

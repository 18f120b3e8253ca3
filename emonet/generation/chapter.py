"""Chapter 02, *Generation*: the balanced prompt design, the images and their manifest, the
ground truth of the offline faces, the balance of a real dataset and the images' roles.

:func:`run` fills the page (tables ``generation_*.csv``, figures, the numbers the prose quotes)
and returns a :class:`GenerationResult`; the images and ``manifest.parquet`` go to the page's
artifacts folder for the later chapters.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from emonet.book import style
from emonet.book.page import Page, Params
from emonet.data import demographics, hub, loaders, snapshots
from emonet.generation import figures, images, prompts, representation

#: Categories of the example grid, one row each.
GRID_EMOTIONS = (
    "Amusement",
    "Sadness",
    "Astonishment/Surprise",
    "Disgust",
    "Anger",
    "Fear",
    "Contempt",
    "Pain",
    "Embarrassment",
    "Concentration",
)


@dataclass(frozen=True)
class GenerationParams(Params):
    """The parameters cell (``notebooks/params/<profile>.yaml``, ``common`` and
    ``02_generation``)."""

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


@dataclass(frozen=True)
class RealSet:
    """A real dataset as read: its normalised metadata (:func:`emonet.data.hub.metadata`) and
    the hub snapshot it came from (None for a local folder or file)."""

    metadata: pd.DataFrame
    snapshot: snapshots.Snapshot | None


@dataclass(frozen=True)
class GenerationResult:
    """What chapter 02 made and found; every table is also a CSV under ``tables/``."""

    design: pd.DataFrame  # one prompt row per image: id, prompt, template, emotion, slots, seed
    balance: pd.DataFrame  # per factor and crossing of factors: levels, min, max, spread
    manifest: pd.DataFrame  # one row per image: prompt row, file, SHA-256, ground truth
    backend_label: str  # the generator that drew the images ("offline faces", "diffusers: ...")
    truth_by_target: pd.DataFrame | None  # mean ground truth per prompted category; None: none
    real: RealSet | None  # the real dataset whose balance is shown; None when not read
    represented: pd.DataFrame  # per source and FairFace group: share of images, family spread
    represented_families: pd.DataFrame  # per source, group and family: share of the images
    strings_by_emotion: pd.DataFrame  # per group of several strings: emotions with one string
    subsets: pd.DataFrame  # images per role (Big, Binary, HQ), in total and per emotion


def make_generator(params: GenerationParams):
    """The image backend ``params.backend`` names (:func:`emonet.generation.images.make_backend`),
    with its options from ``params``."""
    options = {
        "offline": {
            "size": params.image_size,
            "intensity": tuple(params.intensity),
            "workers": params.generation_workers,
        },
        "diffusers": {
            "model_id": params.model_id,
            "dtype": params.dtype,
            "steps": params.steps,
            "guidance_scale": params.guidance_scale,
            "negative_prompt": params.negative_prompt,
            "height": params.image_size,
            "width": params.image_size,
        },
    }
    return images.make_backend(
        params.backend, batch_size=params.generation_batch_size, **options.get(params.backend, {})
    )


def run(params: GenerationParams, page: Page) -> GenerationResult:
    """Prompt slots, the design, the images, their ground truth, a real dataset's balance and
    the images' roles."""
    _slots(page)
    design, balance = _design(params, page)
    manifest, generator = _images(params, page, design)
    by_target = _truth(params, page, manifest)
    real = _real_balance(params, page)
    groups, families, strings = _represented(
        page,
        {
            f"this build ({generator.label})": manifest,
            **({snapshots.short(params.real_source): real.metadata} if real is not None else {}),
        },
    )
    subsets = _roles(params, page, manifest)
    page.table(
        snapshots.sources_table(
            [getattr(generator, "snapshot", None), real.snapshot if real is not None else None]
        ),
        "generation_hub_sources",
    )
    return GenerationResult(
        design,
        balance,
        manifest,
        generator.label,
        by_target,
        real,
        groups,
        families,
        strings,
        subsets,
    )


def _slots(page: Page) -> None:
    page.table(prompts.ethnicity_groups_table(), "generation_ethnicity_groups")
    page.table(prompts.templates_table(), "generation_templates")
    ages = demographics.AGES
    page.text(
        n_ethnicities=f"{len(demographics.ETHNICITIES)}",
        n_groups=f"{len(demographics.ETHNICITY_GROUPS)}",
        n_ages=f"{len(ages)}",
        age_range=f"{ages[0]} to {ages[-1]}",
        n_genders=f"{len(demographics.GENDERS)}",
        n_cells=f"{prompts.N_CELLS:,}",
        n_templates=f"{len(prompts.TEMPLATES)}",
    )


def _design(params: GenerationParams, page: Page) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The balanced design of ``n_images`` prompts and how balanced it is; returns both."""
    design = page.table(
        prompts.design(params.n_images, loaders.load_guide(), seed=params.seed),
        "generation_prompts",
    )
    summary = page.table(prompts.balance_summary(design), "generation_balance_summary")
    spread_emotion, spread_demo = prompts.max_spreads(summary)
    page.text(
        n_images=f"{len(design)}",
        max_spread_emotion=f"{spread_emotion}",
        max_spread_demo=f"{spread_demo}",
        per_emotion=f"{len(design) / design['emotion'].nunique():.0f}",
    )
    page.view(prompts.examples(design), "generation_prompt_examples")
    panels = prompts.balance_panels(design)
    for title, table in panels.items():
        page.table(table, f"generation_balance_{prompts.panel_name(title)}", index=True)
    page.figure(
        figures.balance_heatmaps(panels, f"Images per cell, {len(design)} prompts"),
        "generation_balance",
        "fig_balance",
    )
    return design, summary


def _images(
    params: GenerationParams, page: Page, design: pd.DataFrame
) -> tuple[pd.DataFrame, object]:
    """The images and their manifest, with the generator that made them."""
    generator = make_generator(params)
    manifest = images.generate(
        design, generator, page.root, progress=False, replace=params.replace_images
    )
    speed = page.table(images.timing(manifest), "generation_timing").iloc[0]
    page.text(
        backend_label=generator.label,
        gen_seconds=f"{speed['seconds']:.1f}",
        images_per_s=f"{speed['images_per_s']:.0f}",
        ms_per_image=f"{speed['ms_per_image']:.1f}",
        image_px=f"{speed['width']}",
        n_grid_emotions=f"{len(GRID_EMOTIONS)}",
        grid_per_row=f"{params.grid_per_row}",
    )
    shown, captions = images.examples(
        manifest, page.root, list(GRID_EMOTIONS), per_row=params.grid_per_row
    )
    page.figure(
        figures.image_grid(
            shown,
            list(GRID_EMOTIONS),
            captions,
            f"Generated images by prompted emotion ({generator.label})",
        ),
        "generation_grid",
        "fig_grid",
    )
    return manifest, generator


def _truth(params: GenerationParams, page: Page, manifest: pd.DataFrame) -> pd.DataFrame | None:
    """The offline faces' ground truth by prompted category (None for images without one)."""
    low, high = params.intensity
    page.text(intensity_range=f"{low} to {high}")
    if not images.has_truth(manifest):
        page.text(truth_top1="n/a (no ground truth for this backend)", truth_target_mean="n/a")
        page.figure(
            style.message_figure(f"{params.backend} images carry no ground truth"),
            "generation_truth",
            "fig_truth",
        )
        return None
    by_target = page.table(
        images.truth_by_target(manifest), "generation_truth_by_target", index=True
    )
    top1, target_mean = images.prompted_truth(manifest)
    page.text(truth_top1=f"{100 * top1:.0f}%", truth_target_mean=f"{target_mean:.1f}")
    page.figure(figures.truth_heatmap(by_target), "generation_truth", "fig_truth")
    return by_target


def _real_balance(params: GenerationParams, page: Page) -> RealSet | None:
    """The balance of the real dataset ``real_source`` names; returns its metadata and hub
    snapshot (None without one)."""
    name = "generation_real_balance_summary"
    if params.real_source is None:
        page.text(real_source_label="none in this profile")
        page.view(pd.DataFrame(columns=list(prompts.BALANCE_SUMMARY_COLUMNS)), name)
        page.figure(
            style.message_figure("no real dataset in this profile (real_source is unset)"),
            "generation_real_balance",
            "fig_real_balance",
        )
        return None
    opened = hub.open_set(params.real_source, "real")
    real = hub.metadata(opened)
    page.text(real_source_label=snapshots.short(params.real_source))
    page.table(prompts.balance_summary(real), name)
    page.figure(
        figures.balance_heatmaps(
            prompts.balance_panels(real), f"Images per cell, {snapshots.short(params.real_source)}"
        ),
        "generation_real_balance",
        "fig_real_balance",
    )
    return RealSet(real, opened.snapshot)


def _represented(
    page: Page, sources: dict[str, pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Who is represented: FairFace groups' shares and their spread over the families, per
    source (this build's images first, then the real dataset if any); returns the group and the
    family tables and, for this build, the strings of each group per emotion."""
    groups, families = representation.represented(sources)
    page.table(groups, "generation_represented")
    page.table(families, "generation_represented_families")
    build = next(iter(sources))
    rows = groups[groups["source"] == build].reset_index(drop=True)
    farthest = rows.loc[rows["tv_from_even"].idxmax()]
    strings = page.table(
        representation.strings_by_emotion(sources[build]), "generation_strings_by_emotion"
    )
    page.text(
        n_fairface_groups=f"{len(representation.GROUPS)}",
        represented_sources=" and ".join(sources),
        largest_groups=_groups_phrase(*representation.extreme_groups(rows, "largest")),
        smallest_groups=_groups_phrase(*representation.extreme_groups(rows, "smallest")),
        farthest_group=farthest["group"],
        farthest_distance=f"{farthest['tv_from_even']:.2f}",
        closest_distance=f"{rows['tv_from_even'].min():.2f}",
        single_string_groups=" and ".join(representation.single_string_groups(strings)) or "none",
    )
    page.figure(
        figures.represented(groups, families, "Who is represented: FairFace groups"),
        "generation_represented",
        "fig_represented",
    )
    return groups, families, strings


def _groups_phrase(names: list[str], share: float) -> str:
    """Groups tied at one share of the images: "White (12.5%)", "East Asian and Southeast Asian
    (6.2% each)"."""
    if len(names) == 1:
        return f"{names[0]} ({share:.1%})"
    return f"{', '.join(names[:-1])} and {names[-1]} ({share:.1%} each)"


def _roles(params: GenerationParams, page: Page, manifest: pd.DataFrame) -> pd.DataFrame:
    """The images' roles (Big, Binary, HQ): within each emotion a seeded shuffle, cut in fixed
    proportions; returns the images per role."""
    subsets = prompts.assign_subsets(manifest, seed=params.seed)
    counts = page.table(prompts.subset_counts(manifest, subsets), "generation_subsets", index=True)
    page.text(**{f"n_{name}": f"{counts.loc['images', name]}" for name in prompts.SUBSETS})
    return counts

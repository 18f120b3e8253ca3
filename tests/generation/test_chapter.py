"""Chapter 02's page and result: every glue key and table the notebook quotes, the backend chosen
by the parameters, the summaries the prose is written from, and the sections without ground truth
or with a real dataset."""

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from emonet.book.page import Page
from emonet.build.notebooks import notebook_defaults
from emonet.generation import chapter, images, prompts
from emonet.generation.images import GenerationError
from emonet.paths import NOTEBOOK_DIR
from tests.helpers import GUIDE, missing_from_page, tiny_pipeline

NOTEBOOK = NOTEBOOK_DIR / "02_generation.py"


def tiny_params(**changes) -> chapter.GenerationParams:
    """The notebook's defaults at a tiny size (40 images of 32 pixels)."""
    defaults = notebook_defaults(NOTEBOOK)
    params = chapter.GenerationParams.from_namespace(defaults)
    return dataclasses.replace(
        params, **{"n_images": 40, "image_size": 32, "grid_per_row": 2, **changes}
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """``(page, result)`` of a tiny run."""
    page = Page.for_profile("local", tmp_path_factory.mktemp("a"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chapter.loaders, "load_guide", lambda: GUIDE)
        return page, chapter.run(tiny_params(), page)


@pytest.fixture(scope="module")
def page(run):
    return run[0]


@pytest.mark.integration
def test_page_has_every_key_and_table_the_notebook_uses(page):
    assert missing_from_page(page, NOTEBOOK) == {}


@pytest.mark.integration
def test_page_writes_tables_and_figures(page):
    written = {p.stem for p in (page.root / "tables").glob("generation_*.csv")}
    assert {
        "generation_prompts",
        "generation_timing",
        "generation_truth_by_target",
        "generation_subsets",
        "generation_balance_emotion_by_ethnicity_group",
    } <= written
    assert "generation_real_balance_summary" not in written  # no real dataset offline
    pngs = {p.stem for p in (page.root / "figures").glob("generation_*.png")}
    assert pngs == {
        "generation_balance",
        "generation_grid",
        "generation_truth",
        "generation_real_balance",
        "generation_represented",
    }
    assert {
        "generation_represented",
        "generation_represented_families",
        "generation_strings_by_emotion",
    } <= written
    assert len(images.read_manifest(page.root / "manifest.parquet")) == 40


@pytest.mark.integration
def test_page_texts(page):
    assert page.texts["n_images"] == "40" and page.texts["per_emotion"] == "1"
    assert page.texts["backend_label"] == "offline faces" and page.texts["image_px"] == "32"
    assert page.texts["intensity_range"] == "0.6 to 1.0"
    assert re.fullmatch(r"\d+%", page.texts["truth_top1"])
    assert re.fullmatch(r"\d+\.\d", page.texts["gen_seconds"])
    # one image per emotion: each goes to the largest role
    assert [page.texts[f"n_{s}"] for s in prompts.SUBSETS] == ["40", "0", "0"]
    assert page.texts["real_source_label"] == "none in this profile"
    assert page.texts["represented_sources"] == "this build (offline faces)"


def test_result_holds_what_the_chapter_made(run):
    page, result = run
    assert len(result.design) == len(result.manifest) == 40 and result.real is None
    assert result.backend_label == page.texts["backend_label"] == "offline faces"
    assert result.truth_by_target is not None and result.subsets.loc["images", "big"] == 40
    assert set(result.represented["source"]) == {"this build (offline faces)"}
    # the notebook's show-input cell: a smaller design with the seed is the build's beginning
    first = prompts.design(8, GUIDE, seed=tiny_params().seed)
    assert first.equals(result.design.head(8))


def test_generator_follows_the_parameters():
    offline = chapter.make_generator(tiny_params(intensity=[0.5, 0.9]))
    assert isinstance(offline, images.OfflineFaces) and offline.label == "offline faces"
    assert (offline.size, offline.intensity, offline.batch_size) == (32, (0.5, 0.9), 32)
    with pytest.raises(GenerationError, match="unknown backend 'dalle'"):
        chapter.make_generator(tiny_params(backend="dalle"))


def test_diffusers_generator_follows_the_parameters(tmp_path, monkeypatch):
    pytest.importorskip("diffusers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = str(tiny_pipeline(tmp_path))
    generator = chapter.make_generator(
        tiny_params(
            backend="diffusers",
            model_id=model,
            image_size=16,
            steps=2,
            guidance_scale=3.0,
            negative_prompt="blurry",
        )
    )
    assert generator.label == f"diffusers: {model}" and generator.batch_size == 32
    assert generator.dtype == "float32" and generator.call_kwargs == {
        "num_inference_steps": 2,
        "guidance_scale": 3.0,
        "negative_prompt": "blurry",
        "height": 16,
        "width": 16,
    }


def test_no_ground_truth_gives_a_message(tmp_path):
    manifest = pd.DataFrame({"emotion": ["Anger"], **dict.fromkeys(images.TRUTH_COLUMNS, np.nan)})
    page = Page.for_profile("local", tmp_path)
    assert chapter._truth(tiny_params(backend="diffusers"), page, manifest) is None
    assert page.texts["truth_target_mean"] == "n/a" and "fig_truth" in page.figures
    assert not (tmp_path / "tables" / "generation_truth_by_target.csv").exists()


def test_real_dataset_balance(tmp_path, replica_data):
    path = replica_data.root / "binary"
    page = Page.for_profile("local", tmp_path / "art")
    real = chapter._real_balance(tiny_params(real_source=str(path)), page)
    assert real.snapshot is None and len(real.metadata) == 40  # a local folder: no hub snapshot
    summary = pd.read_csv(tmp_path / "art" / "tables" / "generation_real_balance_summary.csv")
    assert summary.loc[0, "factor"] == "emotion" and page.texts["real_source_label"] == str(path)
    assert (tmp_path / "art" / "figures" / "generation_real_balance.png").exists()


def test_who_is_represented_in_the_build_and_a_real_dataset(tmp_path, replica_data):
    path = replica_data.root / "binary"
    page = Page.for_profile("local", tmp_path / "art")
    real = chapter._real_balance(tiny_params(real_source=str(path)), page).metadata
    build = real.assign(ethnicity="Asian")  # a build of one string: all East Asian
    groups, _, strings = chapter._represented(
        page, {"this build (offline faces)": build, str(path): real}
    )
    written = pd.read_csv(tmp_path / "art" / "tables" / "generation_represented.csv")
    assert list(written["source"].unique()) == ["this build (offline faces)", str(path)]
    assert list(groups["source"].unique()) == list(written["source"].unique())
    assert page.texts["largest_groups"] == "East Asian (100.0%)"
    assert page.texts["smallest_groups"].endswith(" and AI/AN-NHPI (0.0% each)")
    assert page.texts["farthest_group"] == "East Asian"
    assert page.texts["single_string_groups"] == "none"  # one string in all: no group of several
    assert page.texts["represented_sources"] == f"this build (offline faces) and {path}"
    assert (tmp_path / "art" / "figures" / "generation_represented.png").exists()

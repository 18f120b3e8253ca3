"""Chapter 05 (:mod:`emonet.model.chapter`): the parameters cell against the profiles, and tiny
runs of the chapter (on offline faces and on the real datasets' schemas) that produce every glue
key and table the notebook uses."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from emonet.book.page import Page
from emonet.build.notebooks import notebook_defaults
from emonet.build.params import load_params
from emonet.data import hub
from emonet.generation import images, prompts
from emonet.model import chapter, metrics, scoring
from emonet.paths import NOTEBOOK_DIR
from tests.helpers import GUIDE, missing_from_page


NOTEBOOK = NOTEBOOK_DIR / "05_training.py"


def test_parameters_cell_is_the_local_profile_and_full_has_the_same_keys():
    cell = notebook_defaults(NOTEBOOK)
    local = load_params("local")["05_training"]
    assert cell == {"profile": "local", "artifacts_dir": None, **local}
    assert {k: type(v) for k, v in cell.items() if k in local} == \
        {k: type(v) for k, v in local.items()}
    assert set(load_params("full")["05_training"]) == set(local)
    fields = {f.name for f in dataclasses.fields(chapter.TrainingParams)}
    assert fields == set(cell) - {"artifacts_dir"}


@pytest.mark.integration
def test_a_tiny_run_gives_every_key_table_and_output_of_the_page(tmp_path):
    design = prompts.design(120, GUIDE, seed=3)
    images.generate(design, images.OfflineFaces(size=32, batch_size=40), tmp_path,
                    progress=False)
    params = chapter.TrainingParams.from_namespace({
        **notebook_defaults(NOTEBOOK), "embed_batch_size": 64, "max_epochs_pretrain": 2,
        "max_epochs_finetune": 2, "patience": 1, "n_neutral": 2,
        "torch_threads": torch.get_num_threads()})
    page = chapter.run(params, Page.for_profile("local", tmp_path))
    assert missing_from_page(page, NOTEBOOK) == {}
    assert all(isinstance(v, str) for v in page.texts.values())
    for name in ("data", "weak_label_quality", "vote_patterns", "settings", "ablation",
                 "history", "per_emotion", "neutral_means", "diversity", "diversity_cell",
                 "duplicates"):
        assert (tmp_path / "tables" / f"training_{name}.csv").is_file()
    assert page.texts["tr_div_images"] == "120" and page.texts["tr_div_unlabelled"] == "0"
    assert page.texts["tr_div_label"] == "offline faces, untrained encoder"
    assert page.texts["tr_dup_sets"] == "0"
    for name in ("ablation", "learning_curves", "per_emotion", "hq_examples", "diversity"):
        assert (tmp_path / "figures" / f"training_{name}.png").is_file()
    hq = scoring.load_predictions(tmp_path, "softmax")
    assert len(hq) == page.tables["training_data"].set_index("role").loc["hq", "images"]
    np.testing.assert_allclose(hq.sum(axis=1), 1.0, rtol=1e-6)
    assert (tmp_path / scoring.CHECKPOINT_PATH).is_file()
    assert page.texts["tr_verdict"].startswith("The highest vote AUC comes from")


@pytest.mark.integration
def test_a_tiny_run_on_real_data_schemas(tmp_path, replica_data):
    """Sources set: the chapter reads Big, Binary and HQ in the Hugging Face datasets' published
    schemas (the rehearsal's replicas as local folders: no ground truth, votes without recorded
    roles, rows named by position)."""
    params = chapter.TrainingParams.from_namespace({
        **notebook_defaults(NOTEBOOK), **{f"{n}_source": str(replica_data.root / n)
                                          for n in ("big", "binary")},
        "hq_images": str(replica_data.root / "hq"), "max_epochs_pretrain": 2,
        "max_epochs_finetune": 2, "patience": 1, "n_neutral": 2,
        "torch_threads": torch.get_num_threads()})
    page = chapter.run(params, Page.for_profile("full", tmp_path / "artifacts"))
    assert missing_from_page(page, NOTEBOOK) == {}
    assert page.texts["tr_weak_note"] == metrics.weak_label_note(None)
    assert page.texts["tr_reference"] == "weak labels"
    assert page.tables["training_weak_label_summary"].empty
    assert page.tables["training_data"]["images"].tolist() == [48, 40, 40]
    assert page.tables["training_hub_sources"]["note"].tolist() == [
        "no Hugging Face artefacts in this build"]  # local folders, the untrained encoder
    hq = pd.read_parquet(tmp_path / "artifacts" / scoring.HQ_PREDICTIONS_PATH)
    assert hq["path"].tolist() == hq["id"].tolist() == list(hub.row_ids("hq", 40))
    # the diversity section covers the Binary images, the only ones with prompt slots
    assert page.texts["tr_div_images"] == "40" and page.texts["tr_div_unlabelled"] == "88"
    assert page.texts["tr_div_label"].startswith(str(replica_data.root / "binary"))

"""Scoring images with a checkpoint (:mod:`emonet.model.scoring`): the predictions table and a
checkpoint of another encoder refused."""

import json

import numpy as np
import pytest

from emonet.data import taxonomy
from emonet.model import encoder, heads, scoring
from tests.helpers import trained_checkpoint


def test_score_images_and_predictions_table(tmp_path, png_paths):
    path, enc = trained_checkpoint(tmp_path, png_paths)
    result = scoring.score_images(png_paths, path)
    assert list(result) == list(scoring.FIELDS)
    assert result["raw"].shape == (6, 40) and list(result["raw"].columns) == list(taxonomy.EMOTIONS)
    embedded = enc.embed(png_paths)
    expected = heads.load_checkpoint(path).scores(embedded)
    np.testing.assert_allclose(result["softmax"].to_numpy(), expected["softmax"], rtol=1e-5)
    # the stored standardisation is applied: the same heads on standardised embeddings
    z = (embedded - embedded.mean(0)) / embedded.std(0, ddof=1)
    np.testing.assert_allclose(
        result["raw"].to_numpy(),
        heads.predict(heads.Heads("small", enc.dim, seed=1), z),
        rtol=1e-4,
        atol=1e-5,
    )
    table_path = tmp_path / "predictions" / "hq.parquet"
    scoring.write_predictions(table_path, [f"id{i}" for i in range(6)], png_paths, expected)
    back = scoring.load_predictions(tmp_path, "mean_subtracted")
    assert list(back.index) == [f"id{i}" for i in range(6)]
    np.testing.assert_allclose(back.to_numpy(), expected["mean_subtracted"], rtol=1e-6)
    with pytest.raises(ValueError, match="unknown field"):
        scoring.load_predictions(table_path, "logits")


def test_checkpoint_refuses_another_encoder(tmp_path, png_paths):
    path, _ = trained_checkpoint(tmp_path, png_paths)
    meta = json.loads(heads.metadata_path(path).read_text())
    meta["encoder"]["weights"] = "0" * 16
    heads.metadata_path(path).write_text(json.dumps(meta))
    with pytest.raises(encoder.EncoderError, match="weights .* differs"):
        scoring.score_images(png_paths, path)

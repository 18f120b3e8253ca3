"""The training recipe (:mod:`emonet.model.training`): vote targets, splits, learning,
determinism, early stopping, the recipe's pieces and bf16 training."""

import numpy as np
import pandas as pd
import pytest
import torch

from emonet.data import taxonomy
from emonet.model import heads, training
from emonet.model import metrics as model_metrics
from tests.helpers import synthetic_stages


def test_settings_table():
    table = training.settings_table(training.Settings(shape="small"), input_dim=8, encoder="x")
    assert list(table.columns) == ["setting", "value"]
    assert table["setting"].iloc[0] == "shape" and table["value"].iloc[0] == "small"
    assert table.iloc[-2:].values.tolist() == [["input_dim", "8"], ["encoder", "x"]]


def test_vote_targets_are_yes_share_times_yes_value():
    labels = pd.DataFrame(
        {
            "image": ["a", "a", "a", "a", "b", "b"],
            "value": [True, True, False, False, False, True],
            "emotion": ["Anger", "Anger", "Anger", "Fear", "Pain", "Pride"],
            "line": range(2, 8),
        }
    )
    labels["emotion"] = pd.Categorical(labels["emotion"], categories=taxonomy.EMOTIONS)
    target, weight = training.vote_targets(labels, ["b", "c", "a"], 6.0)
    anger, fear = taxonomy.INDEX["Anger"], taxonomy.INDEX["Fear"]
    assert target[2, anger] == pytest.approx(4.0) and weight[2, anger] == 3
    assert target[2, fear] == 0 and weight[2, fear] == 1
    assert weight[1].sum() == 0 and weight.sum() == 6
    assert target[0, taxonomy.INDEX["Pride"]] == 6.0
    with pytest.raises(training.TrainingDataError, match="not among the images"):
        training.vote_targets(labels, ["a"], 6.0)


def test_split_is_seeded_order_free_and_disjoint():
    ids = np.array([f"x{i}" for i in range(50)])
    val, test = training.split_ids(ids, 0.2, 7, test_fraction=0.3)
    assert val.sum() == 10 and test.sum() == 15 and not (val & test).any()
    again = training.split_ids(ids[::-1], 0.2, 7, test_fraction=0.3)
    np.testing.assert_array_equal(again[0], val[::-1])
    np.testing.assert_array_equal(again[1], test[::-1])
    assert not np.array_equal(training.split_ids(ids, 0.2, 8, 0.3)[0], val)
    only_val, none = training.split_ids(ids, 0.2, 7)
    assert only_val.sum() == 10 and not none.any()
    with pytest.raises(ValueError, match="test_fraction"):
        training.split_ids(ids, 0.5, 7, test_fraction=0.5)


def test_fused_adamw_matches_the_default_adamw():
    """The recipe's fused optimiser takes the same steps as torch's default AdamW."""
    x, y = torch.randn(16, 10), torch.rand(16, 40) * 7
    trained = []
    for fused in (False, True):
        h = heads.Heads("small", 10, dropout=0.0, seed=2)
        opt = torch.optim.AdamW(h.parameters(), lr=1e-3, weight_decay=0.05, fused=fused)
        for _ in range(5):
            opt.zero_grad(set_to_none=False)
            ((h(x) - y) ** 2).mean().backward()
            opt.step()
        trained.append(h)
    for a, b in zip(*(t.parameters() for t in trained)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_training_learns_and_is_deterministic():
    big, votes, truth = synthetic_stages()
    settings = training.Settings(
        shape="small",
        dropout=0.0,
        batch_size=32,
        max_epochs_pretrain=40,
        max_epochs_finetune=5,
        patience=40,
    )
    first = training.train("both", 8, big, votes, settings)
    second = training.train("both", 8, big, votes, settings)
    for a, b in zip(first.heads.parameters(), second.heads.parameters()):
        assert torch.equal(a, b)
    hist = first.history
    assert list(hist["stage"].unique()) == ["pretrain", "finetune"]
    pre = hist[hist["stage"] == "pretrain"]
    assert pre["val_loss"].iloc[-1] < 0.5 * pre["val_loss"].iloc[0]
    metrics = model_metrics.per_emotion_metrics(heads.predict(first.heads, big.x), truth)
    assert metrics["spearman"].mean() > 0.8 and list(metrics["emotion"]) == list(taxonomy.EMOTIONS)
    with pytest.raises(training.TrainingDataError, match="needs Binary"):
        training.train("finetune", 8, big, None, settings)


def test_early_stopping_keeps_the_best_epoch():
    big, votes, _ = synthetic_stages()
    noisy = training.Stage(
        big.x, np.random.default_rng(3).uniform(0, 7, big.target.shape), big.weight, big.val
    )  # nothing to learn: validation gets worse
    settings = training.Settings(
        shape="small", max_epochs_pretrain=100, patience=3, lr_pretrain=1e-2
    )
    result = training.train("pretrain", 8, noisy, None, settings)
    hist = result.history
    assert len(hist) < 100 and hist["best"].sum() == 1
    best = hist.loc[hist["best"], "val_loss"].item()
    assert best == hist["val_loss"].min()
    x, y, w = noisy.part(val=True)
    with torch.no_grad():
        kept = float(training.weighted_mse(result.heads.eval()(x), y, w))
    assert kept == pytest.approx(best, rel=1e-5)


def test_recipe_pieces_standardise_anchor_and_reuse_pretraining():
    big, votes, _ = synthetic_stages()
    big = training.Stage(big.x * 4 + 2, big.target, big.weight, big.val)
    votes = training.Stage(big.x, votes.target, votes.weight, votes.val)
    settings = training.Settings(
        shape="small",
        dropout=0.0,
        batch_size=32,
        lr_finetune=1e-2,
        max_epochs_pretrain=6,
        max_epochs_finetune=4,
        patience=10,
    )
    pre = training.train("pretrain", 8, big, None, settings)
    np.testing.assert_allclose(pre.heads.input_mean.numpy(), big.x[~big.val].mean(0), rtol=1e-5)
    # "both" is the fine-tuning of the pretrain result: the same weights either way
    both = training.train("both", 8, big, votes, settings)
    again = training.finetune(pre, votes, settings)
    for a, b in zip(both.heads.parameters(), again.heads.parameters()):
        assert torch.equal(a, b)
    assert list(both.history["stage"].unique()) == ["pretrain", "finetune"]
    # the seconds cover both stages (from the same runs' clocks: no comparison across runs)
    assert again.seconds == pre.seconds + again.extra["finetune_seconds"]
    assert both.seconds > both.extra["finetune_seconds"] > 0 and pre.heads is not again.heads
    # anchoring: unasked training cells get the pre-trained prediction, validation is untouched
    stage = training.anchored(votes, pre.heads, 0.5)
    prior = heads.predict(pre.heads, votes.x)
    asked, val = votes.weight > 0, votes.val[:, None]
    np.testing.assert_allclose(stage.target[~asked & ~val], prior[~asked & ~val], rtol=1e-6)
    assert (stage.weight[~asked & ~val] == 0.5).all()
    np.testing.assert_array_equal(stage.weight[asked | val], votes.weight[asked | val])
    assert training.anchored(votes, pre.heads, 0.0) is votes
    with pytest.raises(ValueError, match="continues a 'pretrain' result"):
        training.finetune(both, votes, settings)
    with pytest.raises(ValueError, match="unknown precision"):
        training.Settings(precision="float8")


def test_a_stage_that_cannot_improve_keeps_the_starting_weights():
    big, _, _ = synthetic_stages()
    settings = training.Settings(shape="small", dropout=0.0, max_epochs_pretrain=3, patience=5)
    h = heads.Heads("small", 8, dropout=0.0, seed=1)
    start = [p.detach().clone() for p in h.parameters()]
    history = training._fit(h, big, 0.0, settings, 3, "pretrain", 0)  # lr 0: nothing moves
    assert history["epoch"].tolist() == [0, 1, 2, 3] and history["best"].tolist()[0]
    assert np.isnan(history["train_loss"].iloc[0])
    for a, b in zip(h.parameters(), start):
        assert torch.equal(a, b)


def test_bf16_training_matches_fp32_training():
    """The bf16 path learns what the fp32 path learns (same data, seed and epochs)."""
    big, votes, truth = synthetic_stages()
    runs = {}
    for precision in ("float32", "bfloat16"):
        settings = training.Settings(
            shape="small",
            dropout=0.0,
            batch_size=32,
            patience=40,
            max_epochs_pretrain=30,
            precision=precision,
        )
        result = training.train("pretrain", 8, big, None, settings)
        runs[precision] = heads.predict(result.heads, big.x[big.val])
    rho = [
        model_metrics.per_emotion_metrics(r, truth[big.val])["spearman"].mean()
        for r in runs.values()
    ]
    assert abs(rho[0] - rho[1]) < 0.02 and min(rho) > 0.8
    assert np.abs(runs["float32"] - runs["bfloat16"]).mean() < 0.1

"""The readout study: only the readout changes between a perceiver's rows."""

import matplotlib
import numpy as np
import pytest

from emonet.hq import paper_statistics
from emonet.model_vs_experts import readout_study
from tests.helpers import small_panel, wide

matplotlib.use("Agg")


def test_readout_table_changes_only_the_readout(mirror):
    p = small_panel(n_images=30, seed=2, experts=4, per_image=4, noise=1.0)
    median = wide(np.nan_to_num(paper_statistics.expert_median(p)), index=list(p.images))
    noise = median.sample(frac=1, random_state=0).set_axis(median.index)
    table = readout_study.readout_table(p, {"median": median, "noise": noise}, n_boot=100, seed=0)
    assert table[["perceiver", "readout"]].values.tolist() == [
        [who, r] for who in ("median", "noise") for r in readout_study.READOUTS
    ]
    assert (table["ci_low"] <= table["ci_high"]).all()  # percentile intervals over images
    full = table["readout"] == "all 40 scores"
    assert (table.loc[full, ["difference", "diff_low", "diff_high"]] == 0).all().all()
    assert (table["diff_low"] <= table["diff_high"]).all()
    # the full readout of the median is exactly what the suite gives for that annotator alone
    alone = paper_statistics.compute(p.with_annotator("m", median, "Readouts"), n_boot=100, seed=0)
    row = alone.rho_summary.set_index("annotator").loc["m"]
    assert table.loc[0, "mean_rho"] == pytest.approx(row["mean_rho"])
    median_rows = table[table["perceiver"] == "median"].set_index("readout")["mean_rho"]
    noise_rows = table[table["perceiver"] == "noise"].set_index("readout")["mean_rho"]
    assert (median_rows > noise_rows).all()
    zero_shot = readout_study.read_out(median, "zero-shot")
    assert ((zero_shot > 0).sum(axis=1) == 25).all()  # the protocol's 25 categories, rated 1-7
    assert (
        table.set_index(["perceiver", "readout"]).loc[
            ("median", "zero-shot protocol"), "n_emotions"
        ]
        <= 25
    )

"""The claims table: verdicts that follow the numbers and name their evidence."""

import matplotlib
import numpy as np
import pandas as pd

from emonet.glance import claims
from emonet.hq import image_bootstrap, paper_statistics
from tests.helpers import small_panel, wide

matplotlib.use("Agg")


def claims_for(model_scores, groups=(), stand_in=None):
    p = small_panel(n_images=40, seed=1, experts=4, per_image=4, noise=1.0)
    model = "Empathic Insight m"
    joined = p.with_annotator(model, model_scores(p), "Our Models")
    for name, group in groups:
        joined = joined.with_annotator(name, model_scores(p) / 2, group)
    statistics = paper_statistics.compute(joined, n_boot=200, seed=0)
    res = image_bootstrap.resample(joined, n_boot=100, seed=0)
    rho = statistics.rho_summary.set_index("annotator")
    could = statistics.could_be.set_index("annotator").loc[model]
    authors = {
        "mean_rho": rho.loc[model, "mean_rho"],
        "experts_min": 0.1,
        "experts_max": 0.5,
        "could_be": could["could_be"],
        "p_value": could["p_value"],
    }
    vlms = pd.DataFrame(
        [
            {"vlm": name, **image_bootstrap.paired_difference(res, model, name)}
            for name, group in groups
            if group.startswith("VLMs")
        ],
        columns=["vlm", "difference", "ci_low", "ci_high", "p_value"],
    )
    overlap = {
        "mean": 1.0,
        "chance_mean": 0.625,
        "p": 0.01,
        "expert_mean": 2.0,
        "expert_chance": 0.9,
    }
    ferd = {
        "accuracy": 0.7829,
        "published": 0.7829,
        "max_difference": 0.0,
        "chance": 0.6,
        "top1": 0.5,
    }
    factors = pd.DataFrame(
        {"factor": ["ethnicity", "age", "gender"], "reject": [False, True, False]}
    )
    return claims.claims(
        model,
        image_bootstrap.annotator_intervals(res),
        image_bootstrap.like_for_like_table(res, [model]),
        authors,
        vlms,
        overlap,
        ferd,
        None,
        factors,
        stand_in,
    )


def test_claims_follow_the_numbers_and_name_their_evidence():
    def median_copy(p):  # the experts' median: agrees as well as an expert does
        return wide(np.nan_to_num(paper_statistics.expert_median(p)), index=list(p.images))

    table = claims_for(median_copy).set_index("claim")
    assert list(table.columns) == ["paper", "this_build", "evidence", "verdict", "why"]
    assert set(table["verdict"]) <= set(claims.VERDICTS)
    assert table.loc["Real photographs (FERD)", "verdict"] == "reproduced on real data"
    assert table.loc["Human-expert level on HQ", "verdict"] == "reproduced on real data"
    assert table.loc["Beats the VLMs", "verdict"] == "not testable here"
    assert table.loc["Demographic balance", "verdict"] == "not reproduced"
    assert "age" in table.loc["Demographic balance", "this_build"]
    assert table.loc["Blind study", "verdict"] == "not testable here"
    assert "related check" in table.loc["Blind study", "this_build"]
    assert table.loc["Real photographs (AffectNet)", "verdict"] == "not testable here"
    assert table.loc["Real photographs (AffectNet)", "this_build"].startswith("not read")
    assert table.loc["Real photographs (AffectNet)", "paper"] == "75.7% with the authors' rule"

    def noise(p):
        return wide(np.random.default_rng(9).uniform(0, 7, (p.n_images, 40)), index=list(p.images))

    table = claims_for(noise, groups=[("vlm ZS", "VLMs Zero-Shot")]).set_index("claim")
    assert table.loc["Human-expert level on HQ", "verdict"] == "not reproduced"
    assert "vlm ZS" in table.loc["Beats the VLMs", "this_build"]
    assert table.loc["Beats the VLMs", "verdict"] == "not reproduced"  # noise vs noise / 2


def test_stand_in_rows_are_never_counted_as_reproduced():
    def median_copy(p):
        return wide(np.nan_to_num(paper_statistics.expert_median(p)), index=list(p.images))

    table = claims_for(median_copy, stand_in="simulated panel")
    by = table.set_index("claim")
    assert by.loc["Human-expert level on HQ", "verdict"] == "consistent on stand-ins"
    assert by.loc["Human-expert level on HQ", "evidence"] == "stand-ins"
    assert by.loc["Real photographs (FERD)", "verdict"] == "reproduced on real data"
    assert claims.verdict_counts(table) == {
        claims.REPRODUCED: 1,
        claims.CONSISTENT: 1,
        claims.NOT_REPRODUCED: 1,
        claims.NOT_TESTABLE: 3,
    }

"""The simulation study of chapter 04 (:mod:`emonet.hq.study`): small, deterministic and
independent of the order of its sweeps, and the readings the chapter quotes from its summary."""

import numpy as np
import pandas as pd
import pytest

from emonet.hq import simulation, study


def test_simulation_study_is_small_deterministic_and_order_free():
    truth = simulation.synthetic_truth(80, seed=4)
    base = simulation.RaterModel(noise_sd=1.5)
    kwargs = dict(model_noise=[0.5, 2.0], reference_noise=1.0, n_rep=2, seed=3)
    full = study.simulation_study(truth, base, {"noise_sd": [0.5, 3.0], "offset": [0.0]}, **kwargs)
    part = study.simulation_study(truth, base, {"offset": [0.0]}, **kwargs)
    assert set(full["sweep"]) == {"noise_sd", "offset", "ranking"}
    pd.testing.assert_frame_equal(
        full[full["sweep"] == "offset"].reset_index(drop=True),
        part[part["sweep"] == "offset"].reset_index(drop=True),
    )
    summary = study.study_summary(full)
    alpha = summary[(summary["sweep"] == "noise_sd") & (summary["metric"] == "alpha")]
    assert alpha.set_index("level")["mean"][0.5] > alpha.set_index("level")["mean"][3.0]
    recovery = study.ranking_recovery(full, [0.5, 2.0])
    assert set(recovery["statistic"]) == {"rho", "rho vs truth", "kappa (truncate)"}
    assert recovery["tau"].between(-1, 1).all()


def test_unknown_sweep_is_refused():
    with pytest.raises(ValueError, match="unknown sweep"):
        study.simulation_study(
            simulation.synthetic_truth(10, 0),
            simulation.RaterModel(),
            {"lenience": [1]},
            [1.0],
            1.0,
            1,
        )


def _summary(rows) -> pd.DataFrame:
    """A :func:`study.study_summary` table from ``(sweep, level, annotator, metric, mean)``."""
    return pd.DataFrame(rows, columns=["sweep", "level", "annotator", "metric", "mean"])


def test_study_readings():
    ref = study.REFERENCE
    summary = _summary(
        [
            ("noise_sd", 0.5, study.EXPERTS, "alpha", 0.7),
            ("noise_sd", 3.0, study.EXPERTS, "alpha", 0.1),
            ("offset", -0.5, ref, "kappa (truncate)", 0.4),
            ("offset", -0.5, ref, "kappa (round)", 0.5),
            ("offset", 0.0, ref, "kappa (truncate)", 0.47),
            ("offset", 0.0, ref, "kappa (round)", 0.4),
            ("offset", 0.5, ref, "kappa (truncate)", 0.47),
            ("offset", 0.5, ref, "kappa (round)", 0.3),
        ]
    )
    assert study.sweep_value(summary, "noise_sd", 3.0, study.EXPERTS, "alpha") == 0.1
    with pytest.raises(KeyError, match="rho"):
        study.sweep_value(summary, "noise_sd", 3.0, study.EXPERTS, "rho")
    assert study.offset_peak(summary, "truncate") == 0.0  # the first of two equal peaks
    assert study.offset_peak(summary, "round") == -0.5
    assert study.rater_pool(8, 4) == 8 and study.rater_pool(8, 10) == 10


def test_recovery_summary_averages_the_replicates():
    recovery = pd.DataFrame(
        {
            "rep": [0, 1, 0, 1],
            "statistic": ["rho", "rho", "kappa", "kappa"],
            "tau": [1.0, 0.6, 0.2, 0.4],
            "best_found": [True, False, True, True],
        }
    )
    out = study.recovery_summary(recovery)
    np.testing.assert_allclose(out.loc[["kappa", "rho"]].to_numpy(), [[0.3, 1.0], [0.8, 0.5]])


def test_could_be_shares():
    noise = [0.5, 1.0, 1.5, 2.5]
    shares = [0.0, 0.5, 1 / 3, 0.0]
    summary = _summary(
        [
            ("ranking", 0, study.ranking_model(s), "could be", v)
            for s, v in zip(noise[::-1], shares[::-1])
        ]
        + [("ranking", 0, study.ranking_model(0.5), "rho", 0.9)]
    )
    got = study.could_be_shares(summary, noise)
    assert got.index.tolist() == noise and got.tolist() == shares

"""The HQ agreement suite: equal (to 1e-9) to the straightforward loop with the reference
functions (krippendorff, sklearn, scipy) on random panels with missing ratings, independent of
the order of annotators and images, and right on hand-checked cases; and the sentences the
chapter writes from it."""

import importlib.util

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emonet.data import taxonomy
from emonet.hq import panel, paper_statistics, simulation
from emonet.paths import PROJECT_ROOT
from emonet.stats import agreement
from tests.helpers import random_panel

EMOTIONS = list(taxonomy.EMOTIONS)


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_panel", PROJECT_ROOT / "benchmarks" / "bench_panel.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()


@settings(max_examples=4, deadline=None)  # the loop's sklearn kappas take seconds per panel
@given(
    st.integers(0, 10_000),
    st.integers(3, 4),
    st.integers(1, 2),
    st.integers(6, 14),
    st.sampled_from([0.5, 0.8]),
    st.sampled_from(agreement.DISCRETIZE),
)
def test_suite_equals_the_reference_loop(seed, n_experts, n_models, n_images, p_rated, method):
    p = random_panel(seed, n_experts, n_models, n_images, p_rated)
    statistics = paper_statistics.compute(p, n_boot=30, seed=7, method=method)
    bench.assert_same(
        statistics, bench.loop_statistics(p, n_boot=30, seed=7, method=method), tol=1e-9
    )


def test_suite_equals_the_reference_loop_on_a_simulated_panel(mirror):
    p = bench.hq_size_panel(60, seed=3)
    # the 8 experts and one model of each readout (the random panels have a Random Baseline)
    p = p.subset([*p.annotators[:8], "Empathic Insight Face Large", "VLM 1 MS", "VLM 2 ZS"])
    statistics = paper_statistics.compute(p, n_boot=15, seed=42)
    bench.assert_same(statistics, bench.loop_statistics(p, n_boot=15, seed=42))


def test_results_do_not_depend_on_the_order_of_annotators_or_images():
    p = random_panel(11, 4, 2, 12, 0.7)
    rng = np.random.default_rng(0)
    a_order, i_order = rng.permutation(p.n_annotators), rng.permutation(p.n_images)
    shuffled = panel.Panel(
        p.ratings[a_order][:, i_order],
        np.array(p.annotators)[a_order],
        p.human[a_order],
        np.array(p.groups)[a_order],
        np.array(p.images)[i_order],
    )
    one, two = paper_statistics.compute(p, 50), paper_statistics.compute(shuffled, 50)
    pd.testing.assert_frame_equal(one.alpha, two.alpha)
    for name, key in (
        ("agreement", "annotator"),
        ("rho", "annotator"),
        ("could_be", "annotator"),
        ("rho_summary", "annotator"),
    ):
        a = getattr(one, name).set_index(key).sort_index()
        b = getattr(two, name).set_index(key).sort_index()
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(one.groups, two.groups, check_exact=False, rtol=0, atol=1e-12)


def authors_alpha_cis(p: panel.Panel, n_boot: int, seed: int) -> np.ndarray:
    """A straight port of the authors' alpha bootstrap (``analysis-hq.ipynb``): one generator,
    emotion after emotion, ``rng.choice`` per resample, ``krippendorff.alpha`` on each; failed
    resamples dropped. Returns ``(40, 2)`` CIs."""
    import krippendorff

    rng = np.random.default_rng(seed)
    humans = [a for a, h in zip(p.annotators, p.human) if h]
    cis = []
    for j in range(len(EMOTIONS)):
        pivot = (
            pd.DataFrame(p.ratings[p.human][:, :, j].T, index=list(p.images), columns=humans)
            .dropna(how="all")
            .sort_index()
        )
        data = [row for row in pivot.T.values if np.count_nonzero(~np.isnan(row)) > 1]
        if len(data) < 2:
            cis.append((np.nan, np.nan))
            continue
        data = np.array(data)
        boots = []
        for _ in range(n_boot):
            idxs = rng.choice(data.shape[1], size=data.shape[1], replace=True)
            try:
                with np.errstate(invalid="ignore", divide="ignore"):  # undefined: NaN
                    boots.append(
                        krippendorff.alpha(
                            reliability_data=data[:, idxs], level_of_measurement="interval"
                        )
                    )
            except Exception:
                boots.append(np.nan)
        boots = [b for b in boots if not pd.isnull(b)]
        cis.append(np.percentile(boots, [2.5, 97.5]) if boots else (np.nan, np.nan))
    return np.array(cis, dtype=float)


def authors_rho_cis(p: panel.Panel, n_boot: int, seed: int) -> dict[str, tuple]:
    """A straight port of the authors' rho bootstrap: Spearman of each model against the median
    of every expert per emotion (scipy), then one generator, model after model in the order of
    their ``groupby`` (sorted names), ``rng.choice`` of the known rhos per resample."""
    import warnings

    from scipy.stats import spearmanr

    humans = [a for a, h in zip(p.annotators, p.human) if h]
    frames = [
        pd.DataFrame(p.ratings[:, :, j].T, index=list(p.images), columns=p.annotators)
        for j in range(len(EMOTIONS))
    ]
    rng = np.random.default_rng(seed)
    out = {}
    for model in sorted(a for a, h in zip(p.annotators, p.human) if not h):
        vals = []
        for frame in frames:
            median = frame[humans].median(axis=1)
            valid = frame[model].dropna().index.intersection(median.dropna().index)
            if len(valid) < 2:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vals.append(spearmanr(frame.loc[valid, model], median.loc[valid]).statistic)
        vals = np.array([v for v in vals if not np.isnan(v)])
        if len(vals) < 2:
            out[model] = (np.nan, np.nan)
            continue
        boots = [rng.choice(vals, size=len(vals), replace=True).mean() for _ in range(n_boot)]
        out[model] = tuple(np.percentile(boots, [2.5, 97.5]))
    return out


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 4), st.integers(8, 13))
def test_the_authors_order_equals_a_port_of_their_loops(seed, n_experts, n_images):
    p = random_panel(seed, n_experts, 3, n_images, 0.7)
    statistics = paper_statistics.compute(p, n_boot=25, seed=seed, bootstrap_order="authors")
    alpha = statistics.alpha[statistics.alpha["scope"] == "emotion"][
        ["ci_low", "ci_high"]
    ].to_numpy()
    np.testing.assert_allclose(alpha, authors_alpha_cis(p, 25, seed), rtol=0, atol=1e-9)
    mean = statistics.alpha.set_index("name").loc["Mean of 40"]
    assert mean["ci_low"] == pytest.approx(np.nanmean(alpha[:, 0]))
    rho = statistics.rho_summary.set_index("annotator")
    for model, ci in authors_rho_cis(p, 25, seed).items():
        np.testing.assert_allclose(
            rho.loc[model, ["ci_low", "ci_high"]].to_numpy(float), ci, rtol=0, atol=1e-9
        )
    keyed = paper_statistics.compute(p, n_boot=25, seed=seed)  # the experts' intervals stay keyed
    experts = list(p.annotators[:n_experts])
    pd.testing.assert_frame_equal(
        rho.loc[experts], keyed.rho_summary.set_index("annotator").loc[experts]
    )
    with pytest.raises(ValueError, match="unknown bootstrap order 'file'"):
        paper_statistics.compute(p, n_boot=5, bootstrap_order="file")


def test_adding_an_annotator_moves_no_other_number():
    p = random_panel(5, 4, 1, 12, 0.8)
    scores = pd.DataFrame(
        np.random.default_rng(1).uniform(0, 7, (p.n_images, 40)),
        index=list(p.images),
        columns=EMOTIONS,
    )
    q = p.with_annotator("new model", scores, "Our Models")
    one, two = paper_statistics.compute(p, 50), paper_statistics.compute(q, 50)
    pd.testing.assert_frame_equal(one.alpha, two.alpha)
    keep = list(p.annotators)
    for name in ("rho_summary", "could_be"):
        a = getattr(one, name).set_index("annotator").loc[keep]
        b = getattr(two, name).set_index("annotator").loc[keep]
        pd.testing.assert_frame_equal(a, b)


def test_identical_experts_agree_perfectly():
    rng = np.random.default_rng(2)
    one = rng.integers(0, 8, (1, 30, 40)).astype(float)
    p = panel.Panel(
        np.repeat(one, 3, axis=0),
        ("human-1", "human-2", "human-3"),
        [True] * 3,
        ["Human Annotators"] * 3,
        [str(i) for i in range(30)],
    )
    statistics = paper_statistics.compute(p, 20)
    np.testing.assert_allclose(statistics.alpha["alpha"], 1.0)
    np.testing.assert_allclose(statistics.agreement["average"], 1.0)
    np.testing.assert_allclose(statistics.rho[EMOTIONS].to_numpy(), 1.0)
    assert (statistics.could_be["mean_difference"] == 0).all()


def test_leave_one_out_medians_leave_the_annotator_out():
    ratings = np.full((4, 1, 40), np.nan)
    ratings[:, 0, 0] = [1.0, 2.0, 6.0, 0.0]  # three experts, one model
    p = panel.Panel(
        ratings,
        ("human-1", "human-2", "human-3", "m"),
        [True, True, True, False],
        ["Human Annotators"] * 3 + ["Our Models"],
        ["x"],
    )
    med = paper_statistics.leave_one_out_medians(p)[:, 0, 0]
    np.testing.assert_array_equal(med, [4.0, 3.5, 1.5, 2.0])
    assert paper_statistics.expert_median(p)[0, 0] == 2.0


def test_summary_and_methods():
    p = random_panel(3, 4, 2, 16, 0.8)
    statistics = paper_statistics.compute(p, 20)
    first = statistics.agreement.iloc[0]
    values = first[EMOTIONS].to_numpy(float)
    row = statistics.summary.set_index("annotator").loc[first["annotator"]]
    assert row["mean"] == pytest.approx(np.nanmean(values))
    assert row["sd"] == pytest.approx(np.nanstd(values, ddof=1))
    assert row["median"] == pytest.approx(np.nanmedian(values))
    assert row["best_emotion"] == EMOTIONS[int(np.nanargmax(values))]
    methods = paper_statistics.method_comparison(p).set_index("annotator")
    experts = methods[methods["human"]]
    assert (experts["difference"] == 0).all() and (experts["share_dropped"] == 0).all()
    models = methods[~methods["human"]]
    assert (models["share_dropped"] > 0).all()  # N(2, 2.5) scores leave 0-7
    facts = paper_statistics.panel_facts(p)
    assert facts["n_experts"] == 4 and facts["n_models"] == 2
    shares = paper_statistics.level_shares(p)
    assert shares["share"].sum() == pytest.approx(1.0) and len(shares) == 8


def test_could_be_is_two_sided():
    """A model that copies the consensus agrees with the experts better than they agree with each
    other, and the two-sided test says "no" although it is the best annotator."""
    truth = simulation.synthetic_truth(300, seed=1)
    p = simulation.simulate_panel(
        truth,
        range(300),
        simulation.RaterModel(noise_sd=1.5),
        seed=1,
        models=(simulation.SyntheticModel("oracle", 0.05),),
    )
    could_be = paper_statistics.compute(p, 50).could_be.set_index("annotator")
    assert could_be.loc["oracle", "mean_difference"] > 0
    assert could_be.loc["oracle", "could_be"] == "no"


# ------------------------------------------------------------------ what the chapter says


def test_method_texts():
    assert set(paper_statistics.METHOD_TEXTS) == set(agreement.DISCRETIZE)


def test_expert_pair_kappas_are_the_off_diagonal_expert_block():
    p = random_panel(5, 3, 2, 12, 0.8)
    matrix = paper_statistics.kappa_matrix(p, paper_statistics.pairwise_kappa(p)[0])
    pairs = [
        ("human-1", "human-2"),
        ("human-1", "human-3"),
        ("human-2", "human-1"),
        ("human-2", "human-3"),
        ("human-3", "human-1"),
        ("human-3", "human-2"),
    ]
    np.testing.assert_array_equal(
        paper_statistics.expert_pair_kappas(p, matrix), [matrix.loc[a, b] for a, b in pairs]
    )


def test_method_changes():
    comparison = pd.DataFrame(
        {"annotator": ["human-1", "model", "other"], "difference": [0.0, -0.0123, 1e-14]}
    )
    changes = paper_statistics.method_changes(comparison)
    assert changes.to_dict() == {"model": 0.0123}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30), st.floats(0.0, 0.9))
def test_alpha_distribution_equals_numpy_per_emotion(seed, n_boot, p_missing):
    rng = np.random.default_rng(seed)
    boot = rng.normal(0.4, 0.2, (n_boot, 40))
    boot[rng.random(boot.shape) < p_missing] = np.nan
    boot[:, 3] = np.nan  # an emotion undefined on every resample
    alphas = pd.DataFrame(
        {
            "scope": "emotion",
            "name": EMOTIONS,
            "family": [taxonomy.FAMILY_OF[e] for e in EMOTIONS],
            "alpha": rng.normal(0.4, 0.2, 40),
        }
    )
    table = paper_statistics.alpha_distribution(boot, alphas)
    for k in range(40):
        values = boot[~np.isnan(boot[:, k]), k]
        row = table.iloc[k]
        assert row["name"] == EMOTIONS[k] and row["n_defined"] == len(values)
        if not len(values):
            assert np.isnan(row[["boot_mean", "boot_sd", "q25", "q50", "q75"]].astype(float)).all()
            continue
        assert row["boot_mean"] == pytest.approx(values.mean())
        np.testing.assert_allclose(
            row[["q25", "q50", "q75"]].astype(float), np.percentile(values, [25, 50, 75])
        )
        if len(values) > 1:
            assert row["boot_sd"] == pytest.approx(values.std(ddof=1))
        else:
            assert np.isnan(row["boot_sd"])

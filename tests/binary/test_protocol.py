"""The Binary protocol: items, role reconstruction, splits, alpha and the simulation."""

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emonet.binary import protocol
from emonet.data import taxonomy
from emonet.stats import agreement

A, B, C = "Anger", "Contentment", "Fear"


def _labels(rows):
    """rows: (image, annotator, value, emotion) -> the load_binary schema."""
    frame = pd.DataFrame(rows, columns=["image", "annotator", "value", "emotion"])
    frame["emotion"] = pd.Categorical(frame["emotion"], categories=taxonomy.EMOTIONS)
    frame["line"] = np.arange(len(frame)) + 2
    return frame


HAND = _labels(
    [
        # single-rating phase: nothing re-asked yet
        ("00000", "h1", True, A),
        ("00000", "h2", False, B),
        # re-asked target A (YYY), contrast B
        ("00001", "h1", True, A),
        ("00001", "h2", True, A),
        ("00001", "h3", True, A),
        ("00001", "h4", False, B),
        # re-asked target C with a 1:1 split, listed after its contrast
        ("00002", "h4", True, A),
        ("00002", "h2", False, C),
        ("00002", "h1", True, C),
        # single no: the "no" is the target
        ("00003", "h1", False, B),
        ("00003", "h4", True, C),
        # both no
        ("00004", "h1", False, A),
        ("00004", "h4", False, C),
        # both yes: off protocol
        ("00005", "h1", True, A),
        ("00005", "h4", True, B),
        # re-asked with a 2:1 split
        ("00006", "h1", True, B),
        ("00006", "h2", True, B),
        ("00006", "h3", False, B),
        ("00006", "h4", False, A),
    ]
)


@pytest.fixture
def roles():
    return protocol.assign_roles(protocol.items(HAND))


def test_roles_are_reconstructed_by_the_rules(roles):
    got = {(r.image, r.emotion): (r.role, r.rule) for r in roles.itertuples()}
    assert got[("00000", A)] == ("unassigned", "single-rating phase")
    assert got[("00001", A)] == ("target", "re-asked")
    assert got[("00001", B)] == ("contrast", "re-asked")
    assert got[("00002", C)] == ("target", "re-asked")
    assert got[("00002", A)] == ("contrast", "re-asked")
    assert got[("00003", B)] == ("target", "single no")
    assert got[("00003", C)] == ("contrast", "single no")
    assert got[("00004", A)] == ("unassigned", "both no")
    assert got[("00005", B)] == ("unassigned", "both yes")
    rules = protocol.rule_counts(roles).set_index("rule")["n_images"]
    assert rules.sum() == 7 and rules["re-asked"] == 3 and rules["both re-asked"] == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.integers(0, 3), st.integers(1, 3), st.integers(0, 3)),
        min_size=1,
        max_size=12,
    )
)
def test_each_images_rule_is_the_one_a_loop_over_its_items_finds(images):
    """The rule of every image (re-asked items counted per image at once) equals the one read off
    the image's two items in a loop, as the docstring states the rules."""
    rows = []
    for k, (n_a, yes_a, n_b, yes_b) in enumerate(images):
        for emotion, n, yes in ((A, n_a, min(yes_a, n_a)), (B, n_b, min(yes_b, n_b))):
            rows += [(f"{k:05d}", f"h{j}", j < yes, emotion) for j in range(n)]
    roles = protocol.assign_roles(protocol.items(_labels(rows)))
    phase_end = next(
        (f"{k:05d}" for k, (n_a, _, n_b, _) in enumerate(images) if n_a > 1 or n_b > 1), None
    )
    for image, group in roles.groupby("image"):
        n_multi, n_no, n_yes = (
            (group["n_ratings"] > 1).sum(),
            group["n_no"].sum(),
            group["n_yes"].sum(),
        )
        if phase_end is None or image < phase_end:
            expected = "single-rating phase"
        elif n_multi:
            expected = "re-asked" if n_multi == 1 else "both re-asked"
        else:
            expected = {1: "single no", 2: "both no"}.get(n_no, "both yes" if n_yes == 2 else None)
        assert set(group["rule"]) == {expected}, image


def test_first_answers_follow_the_protocol(roles):
    first = roles.set_index(["image", "emotion"])["first_yes"]
    assert first[("00002", C)] == 1.0  # re-asked: the first answer was yes
    assert first[("00003", B)] == 0.0
    assert first[("00003", C)] == 1.0


def test_vote_patterns_and_protocol_flags(roles):
    patterns = protocol.vote_patterns(roles).set_index("pattern")
    assert patterns.loc["YYY", "target"] == 1 and patterns.loc["YN", "target"] == 1
    assert patterns.loc["YYN", "target"] == 1
    assert patterns["total"].sum() == len(roles) == 14
    assert patterns["protocol"].all()


def test_agreement_splits_by_hand(roles):
    splits = protocol.agreement_splits(roles)
    overall = splits.iloc[-1]
    assert overall["emotion"] == "All" and overall["n"] == 3
    assert overall[["full", "split_2_1", "split_1_1"]].tolist() == pytest.approx([1 / 3] * 3)
    assert overall["rated_2"] == pytest.approx(1 / 3)
    family = protocol.agreement_splits(roles, by="family")
    assert family.iloc[-1]["n"] == 3 and "emotion" not in family


def test_role_rates_count_both_no_images_in_both_roles(roles):
    rates = protocol.role_rates(roles).set_index("role")
    # images 00001, 00002, 00006 (re-asked), 00003 (single no), 00004 (both no)
    assert rates.loc["target", "n_images"] == 5 and rates.loc["target", "n_yes"] == 3
    assert rates.loc["contrast", "n_images"] == 5 and rates.loc["contrast", "n_yes"] == 2
    by = protocol.role_rates_by(roles, "emotion").set_index("emotion")
    assert by.loc[C, "target_high"] == pytest.approx(1.0)  # target once, yes
    assert by.loc[C, "target_low"] == pytest.approx(0.5)  # plus its both-no item
    assert (by["target_low"].dropna() <= by["target_high"].dropna()).all()


def test_n_separated_compares_the_bounds():
    rates = pd.DataFrame(
        {"target_low": [0.6, 0.4, np.nan, 0.5], "contrast_high": [0.5, 0.5, 0.1, 0.5]}
    )
    assert protocol.n_separated(rates) == 1  # only strictly above, NaN never


def test_items_require_two_categories_per_image():
    with pytest.raises(ValueError, match="exactly 2"):
        protocol.items(HAND[~((HAND["image"] == "00003") & (HAND["emotion"] == C))])


def test_alpha_table_matches_reference_and_group_sums(roles):
    table = protocol.alpha_table(roles, n_boot=50, seed=42).set_index("name")
    counts = roles[["n_no", "n_yes"]].to_numpy()
    reliability = np.full((3, len(roles)), np.nan)
    for u, (no, yes) in enumerate(counts):
        reliability[:no, u] = 0
        reliability[no : no + yes, u] = 1
    ref = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert table.loc["All", "alpha"] == pytest.approx(ref, abs=1e-9)
    assert table.loc["All", "n_pairable"] == 3
    emo = table[table["scope"] == "emotion"]
    assert emo["n_pairable"].sum() == 3 and emo["n_yes"].sum() == table.loc["All", "n_yes"]
    assert table.loc["All", "ci_low"] <= table.loc["All", "ci_high"]
    again = protocol.alpha_table(roles, n_boot=50, seed=42).set_index("name")
    pd.testing.assert_frame_equal(table, again)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.booleans()), min_size=2, max_size=40))
def test_alpha_closed_form_when_no_ends_the_chain(chains):
    # each unit: k yes, then optionally one no (at most one "no" per unit)
    counts = np.array([[int(stop), k] for k, stop in chains])
    pairable = counts.sum(axis=1) > 1
    n_no, n_yes = counts[pairable].sum(axis=0)
    if n_no == 0 or n_yes == 0:
        return
    alpha = agreement.krippendorff_alpha(counts=counts)
    assert alpha == pytest.approx(protocol.alpha_if_no_ends_chain(n_yes, n_no), abs=1e-12)
    assert alpha <= 0


def test_simulation_with_perfect_raters():
    rng = np.random.default_rng(0)
    sim = protocol.simulate_protocol(400, 1.0, np.zeros(4), [1, 2, 3, 4], rng=rng)
    assert (sim["value"] == sim["truth"]).all()
    full = protocol.items(sim)
    assert agreement.krippendorff_alpha(counts=full[["n_no", "n_yes"]].to_numpy()) == 1.0
    seq = protocol.items(sim[sim["asked"]])
    assert (seq.loc[seq["n_ratings"] > 1, "n_no"] == 0).all()


def test_simulated_protocol_matches_the_design():
    rng = np.random.default_rng(1)
    sim = protocol.simulate_protocol(500, 0.8, [-1.0, 0.0, 1.0], [3, 2, 1], rng=rng)
    assert len(sim) == 500 * 6
    assert sim.groupby(["image", "role"])["annotator"].nunique().eq(3).all()
    seq = protocol.assign_roles(protocol.items(sim[sim["asked"]]))
    assert set(protocol.vote_patterns(seq)["pattern"]) <= set(protocol.PROTOCOL_PATTERNS)
    truth = sim[sim["asked"]].groupby(["image", "emotion"], observed=True)["role"].first()
    known = seq[seq["role"] != "unassigned"].set_index(["image", "emotion"])["role"]
    assert (known == truth.loc[known.index]).all()


def test_simulation_refuses_mismatched_raters():
    with pytest.raises(ValueError, match="leniency"):
        protocol.simulate_protocol(10, 0.8, [0.0, 1.0], [1, 1, 1])


def test_simulation_study_is_seeded_and_order_free():
    kwargs = dict(n_images=300, leniency=[-0.5, 0.0, 0.5], rater_weights=[1, 1, 1], seed=7)
    both = protocol.simulation_study([0.7, 0.9], **kwargs)
    again = protocol.simulation_study([0.7, 0.9], **kwargs)
    pd.testing.assert_frame_equal(both, again)
    alone = protocol.simulation_study([0.9], **kwargs)
    pd.testing.assert_frame_equal(alone, both[both["accuracy"] == 0.9].reset_index(drop=True))
    full = both[both["design"] == "full"].set_index("accuracy")["alpha"]
    assert full[0.9] > full[0.7]
    seq = both[both["design"] == "sequential"]["alpha"]
    assert (seq <= 0).all()


def test_rater_model_recovers_leniency_order():
    rng = np.random.default_rng(2)
    sim = protocol.simulate_protocol(3000, 0.85, [-1.0, 0.0, 1.0, 2.0], [1, 1, 1, 1], rng=rng)
    labels = sim[sim["asked"]]
    roles = protocol.assign_roles(protocol.items(labels))
    result, frame = protocol.fit_rater_model(labels, roles)
    effects = protocol.rater_effects(result, frame)
    assert effects["p_yes_contrast"].is_monotonic_increasing
    assert (effects["p_yes_target"] > effects["p_yes_contrast"]).all()
    assert protocol.role_odds_ratio(result) > 1


def test_annotators_in_both_roles_need_enough_answers_in_each():
    table = pd.DataFrame(
        {"annotator": ["a", "b", "c"], "n_target": [60, 50, 10], "n_contrast": [50, 49, 90]}
    )
    assert protocol.annotators_in_both_roles(table) == ["a"]
    assert protocol.annotators_in_both_roles(table, min_labels=10) == ["a", "b", "c"]


def test_target_yes_range_skips_annotators_with_few_targets():
    effects = pd.DataFrame({"n_target": [100, 10, 60], "p_yes_target": [0.7, 0.2, 0.9]})
    assert protocol.target_yes_range(effects) == (0.7, 0.9)
    assert protocol.target_yes_range(effects, min_labels=5) == (0.2, 0.9)


def test_simulated_raters_follow_the_experts_workloads():
    leniency, workload = protocol.simulated_raters(HAND, 1.5)
    assert workload.tolist() == [7, 4, 2, 6]  # h1..h4, in name order
    assert leniency.tolist() == pytest.approx([-1.5, -0.5, 0.5, 1.5])


def test_panel_on_intensity_follows_the_protocol():
    n = 2000
    rng = np.random.default_rng(0)
    intensity = np.zeros((n, 40))
    target = rng.integers(40, size=n)
    intensity[np.arange(n), target] = 7.0
    ids = [f"i{k}" for k in range(n)]
    sim = protocol.simulate_on_intensity(
        ids, intensity, target, [0, 0, 0], [1, 1, 1], threshold=3.5, slope=3.0, rng=rng
    )
    asked = sim[sim["asked"]]
    items = protocol.items(asked)
    assert set(items["pattern"]) <= set(protocol.PROTOCOL_PATTERNS)
    target_rows = asked[asked["role"] == "target"]
    by_image = dict(zip(ids, target))
    assert (
        target_rows["emotion"].cat.codes.to_numpy() == target_rows["image"].map(by_image).to_numpy()
    ).all()
    assert target_rows["value"].mean() > 0.95  # truth 7 vs threshold 3.5: nearly always yes
    assert asked.loc[asked["role"] == "contrast", "value"].mean() < 0.05
    contrast = sim[(sim["role"] == "contrast")]["emotion"].cat.codes.to_numpy()[::3]
    assert (contrast != target).all()
    with pytest.raises(ValueError, match="intensity must be"):
        protocol.simulate_on_intensity(ids[:3], intensity, target[:3], [0, 0, 0], [1, 1, 1])

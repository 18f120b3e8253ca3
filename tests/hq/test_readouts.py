"""The VLM protocols' readouts against a direct reading of the protocols, per image."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from emonet.data import protocols, taxonomy
from emonet.hq import readouts

scores = arrays(
    float,
    st.tuples(st.integers(1, 6), st.just(40)),
    elements=st.one_of(st.floats(-2, 9), st.sampled_from([0.0, 0.5, 2.5, 7.0])),
)


def _nearest(value: float) -> int:
    return int(np.floor(value + 0.5))


@settings(max_examples=100, deadline=None)
@given(scores)
def test_zero_shot_rates_the_25_example_categories_from_1_to_7(mirror, values):
    fixed = {taxonomy.INDEX[e] for e in protocols.zero_shot().categories}
    out = readouts.zero_shot(values)
    for row, got in zip(values, out):
        expected = [min(7, max(1, _nearest(v))) if j in fixed else 0 for j, v in enumerate(row)]
        assert got.tolist() == expected


@settings(max_examples=100, deadline=None)
@given(scores)
def test_multi_shot_keeps_at_most_five_rounded_ratings(values):
    out = readouts.multi_shot(values)
    for row, got in zip(values, out):
        top = sorted(range(40), key=lambda j: (-row[j], j))[: protocols.MULTI_SHOT_MAX_NONZERO]
        expected = [min(7, max(0, _nearest(v))) if j in top else 0 for j, v in enumerate(row)]
        assert got.tolist() == expected
        assert (got > 0).sum() <= protocols.MULTI_SHOT_MAX_NONZERO


def test_read_out_names_the_protocols(mirror):
    values = np.linspace(0, 7, 40)[None]
    np.testing.assert_array_equal(
        readouts.read_out(values, "zero-shot"), readouts.zero_shot(values)
    )
    np.testing.assert_array_equal(
        readouts.read_out(values, "multi-shot"), readouts.multi_shot(values)
    )
    with pytest.raises(ValueError, match="unknown readout 'top 5'"):
        readouts.read_out(values, "top 5")

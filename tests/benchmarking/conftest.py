"""Fixtures of the evaluation tests: the authors' two VLM protocols, parsed from the mirror."""

import pytest

from emonet.data import protocols


@pytest.fixture(scope="module")
def zero(mirror):
    """The zero-shot protocol (:func:`emonet.data.protocols.zero_shot`)."""
    return protocols.zero_shot(mirror / protocols.ZERO_SHOT_FILE)


@pytest.fixture(scope="module")
def multi(mirror):
    """The multi-shot protocol (:func:`emonet.data.protocols.multi_shot`)."""
    return protocols.multi_shot(mirror / protocols.MULTI_SHOT_FILE)

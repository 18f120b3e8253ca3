"""The examples in the statistics' docstrings run and give what they say."""

import doctest

import pytest

from emonet.stats import agreement, inference


@pytest.mark.parametrize("module", [agreement, inference], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    import numpy as np

    result = doctest.testmod(
        module, extraglobs={"np": np}, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0 and result.failed == 0

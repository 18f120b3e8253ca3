"""The authors' VLM protocols, parsed from their pinned notebooks without executing them."""

import json

import pytest

from emonet.data import protocols, taxonomy
from emonet.data.registry import DataError


def test_zero_shot_protocol(mirror):
    z = protocols.zero_shot()
    assert len(z.categories) == len(set(z.categories)) == 25 and z.max_attempts == 20
    assert z.max_tokens == 1000
    assert set(z.categories) <= set(taxonomy.EMOTIONS)
    prompt = z.prompt("img000001.png")
    assert '"img000001.png"' in prompt and z.instructions in prompt
    assert json.dumps(z.options) in prompt and z.example_output in prompt
    assert z.prompt("a.png", retry=True) == z.prompt("a.png") + z.additional_prompt
    assert "exactly 25 key-value pairs" in z.additional_prompt


def test_multi_shot_protocol(mirror):
    m = protocols.multi_shot()
    assert sorted(m.emotions) == sorted(taxonomy.EMOTIONS) and m.max_nonzero == 5
    assert m.max_attempts == 1 and m.max_tokens == 2000
    assert list(m.extra_dimensions) == list(taxonomy.EXTRA_DIMENSIONS)
    assert "{taxonomy_list_string}" not in m.template and m.examples in m.template
    for name, desc in m.emotions.items():
        assert f"- **{name}**: {desc}" in m.template
    retry = m.prompt(retry=True)
    assert retry.index(m.additional_prompt) < retry.index("**MULTI-SHOT EXAMPLES")


def notebook(tmp_path, source: str):
    path = tmp_path / "protocol.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": source}]}))
    return path


def test_a_protocol_cell_that_is_not_the_pinned_one_is_refused(tmp_path):
    with pytest.raises(DataError, match="no code cell assigns PROMPT_TEXT"):
        protocols.zero_shot(notebook(tmp_path, "x = 1\n"))
    bad = (
        'PROMPT_TEXT = "{file_name}"\nINSTRUCTIONS = ""\nOPTIONS = {}\n'
        'EXAMPLE_OUTPUT = \'"Fam|Gladness": score\'\nADDITIONAL_PROMPT = ""\n'
    )
    with pytest.raises(DataError, match="EXAMPLE_OUTPUT: unknown emotion 'Gladness'"):
        protocols.zero_shot(notebook(tmp_path, bad))
    computed = 'PROMPT_TEXT = open("x").read()\n'
    with pytest.raises(DataError, match="PROMPT_TEXT is not a literal"):
        protocols.zero_shot(notebook(tmp_path, computed))

import json

import numpy as np
import pandas as pd

from emonet.data import loaders, taxonomy
from emonet.taxonomy import vocabulary


def tiny_guide():
    return pd.DataFrame(
        [
            ("Amusement", "x", 0, "joy"),
            ("Amusement", "x", 1, "Joy"),
            ("Amusement", "x", 2, "fun"),
            ("Elation", "x", 0, "joy"),
            ("Anger", "y", 0, "rage"),
            ("Anger", "y", 1, "fun"),
        ],
        columns=["emotion", "family", "position", "word"],
    )


def test_repeated_and_shared_on_a_hand_made_guide():
    g = tiny_guide()
    rep = vocabulary.repeated_within(g)
    assert rep.to_dict("records") == [
        {"emotion": "Amusement", "word": "joy", "spellings": "joy / Joy", "count": 2}
    ]
    shared = vocabulary.shared_words(g).set_index("word")
    assert shared.loc["joy", "categories"] == "Amusement; Elation"
    assert shared.loc["fun", "categories"] == "Amusement; Anger"
    assert set(shared.index) == {"joy", "fun"}
    m = vocabulary.sharing_matrix(g)
    assert m.loc["Amusement", "Elation"] == m.loc["Elation", "Amusement"] == 1
    assert m.loc["Amusement", "Anger"] == 1 and m.to_numpy().trace() == 0


def test_real_guide_shared_words(mirror):
    g = loaders.load_guide()
    shared = vocabulary.shared_words(g)
    for word in ("bliss", "loathing", "pessimism", "malicious envy", "self-consciousness"):
        assert word in set(shared["word"])
    counts = vocabulary.descriptor_counts(g)
    assert list(counts["emotion"]) == list(taxonomy.EMOTIONS)
    assert counts["n_listed"].sum() == len(g)
    matrix = vocabulary.sharing_matrix(g).to_numpy()
    assert (matrix == matrix.T).all()
    # each shared word adds one to every pair of categories it joins
    pairs = shared["n_categories"].map(lambda n: n * (n - 1) // 2).sum()
    assert matrix.sum() // 2 == pairs


def test_mapping_disagreements_match_the_raw_file(mirror):
    raw = json.loads((mirror / "basic_emotion_mappings.json").read_text())
    expected = sum(raw["ferd"][h] != raw["affectnet"][h] for h in raw["ferd"])
    table = vocabulary.mapping_table(loaders.load_basic_mappings())
    assert (~table["agree"]).sum() == expected
    sizes = vocabulary.mapping_sizes(loaders.load_basic_mappings())
    assert sizes["ferd"].sum() == sizes["affectnet"].sum() == 40
    assert np.array_equal(sizes["basic_emotion"], taxonomy.BASIC_EMOTIONS)

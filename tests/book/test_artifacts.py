"""The artifacts contract (:mod:`emonet.book.artifacts`): a table is written where the book looks
for it, readable like any file the user writes (the umask's permissions)."""

import stat

import pandas as pd

from emonet import io as emonet_io
from emonet.book.artifacts import Artifacts


def test_a_table_is_written_under_tables_with_the_umasks_permissions(tmp_path):
    table = Artifacts(tmp_path).table(pd.DataFrame({"a": [1]}), "t")
    assert table["a"].tolist() == [1]
    written = tmp_path / "tables" / "t.csv"
    assert pd.read_csv(written)["a"].tolist() == [1]
    assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~emonet_io._UMASK

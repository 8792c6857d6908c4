"""The record a sheet row becomes: a tuple behind a read-only mapping (one dict per row cost ~45 MB at 50k rows)."""

from datetime import datetime

import pytest

from sheetdesk.rules.records import Row


def test_row_shares_its_tables_index_and_reads_like_a_dict_of_filled_cells():
    index = {"id": 0, "customer": 1, "amount": 2}
    a = Row(3, index=index, cells=("202611-001", None, 2.0))
    b = Row(4, index=index, cells=(None, "王女士", None))
    assert a.get("id") == "202611-001" and a.get("customer") is None and a.get("missing") is None
    assert a.text("amount") == "2" and b.text("id") == "" and b.text("missing") == ""
    assert dict(a.values) == {"id": "202611-001", "amount": 2.0}  # empty cells are absent
    assert "customer" not in a.values and "customer" in b.values and len(b.values) == 1
    assert a.values.get("customer", "x") == "x"
    with pytest.raises(KeyError):
        a.values["customer"]
    assert a._index is b._index


def test_row_from_a_dict_equals_the_compact_form():
    when = datetime(2026, 11, 23, 9, 30)
    assert Row(2, {"id": "A", "time": when, "note": None}) == Row(2, index={"id": 0, "time": 1}, cells=("A", when))
    assert Row(2, {"id": "A"}) != Row(3, {"id": "A"})
    assert Row(2, {"time": when}).text("time") == "2026-11-23 09:30"

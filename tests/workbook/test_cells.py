"""sheetdesk's own cell helpers give what openpyxl's give, and a patch-engine run never imports openpyxl."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as OPENPYXL_ILLEGAL
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900
from openpyxl.utils.datetime import to_excel as openpyxl_to_excel

from sheetdesk.workbook import cells
from tests.helpers import NOW


@given(st.integers(min_value=1, max_value=18278))
def test_column_letters_and_indexes_match_openpyxl(index):
    assert cells.column_letter(index) == get_column_letter(index)
    assert cells.column_index(get_column_letter(index)) == column_index_from_string(get_column_letter(index))


@pytest.mark.parametrize("bad", [0, 18279])
def test_columns_outside_the_sheet_are_refused(bad):
    with pytest.raises(ValueError):
        cells.column_letter(bad)


@given(st.one_of(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31)),
                 st.dates(min_value=date(1900, 1, 1)), st.times()),
       st.booleans())
def test_serials_match_openpyxl(value, mac):
    epoch, ours = (CALENDAR_MAC_1904, cells.EPOCH_1904) if mac else (CALENDAR_WINDOWS_1900, cells.EPOCH_1900)
    if mac and not isinstance(value, time) and value < (date(1904, 1, 1) if type(value) is date else epoch):
        return  # before the 1904 system's day 0: not a date that system can store
    assert cells.to_excel(value, ours) == openpyxl_to_excel(value, epoch)


def test_illegal_characters_are_openpyxls():
    assert cells.ILLEGAL_CHARACTERS_RE.pattern == OPENPYXL_ILLEGAL.pattern
    assert cells.EPOCH_1900 == CALENDAR_WINDOWS_1900 and cells.EPOCH_1904 == CALENDAR_MAC_1904


def test_a_refresh_on_the_patch_engine_never_imports_openpyxl(make_desk):
    path = make_desk([{"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士",
                       "description": "机器无法开机"}])
    code = ("import sys; from datetime import datetime; from sheetdesk.app import desk; "
            f"r = desk.run(sys.argv[1], now=datetime.fromisoformat({NOW!r}), force=True); "
            "assert r.written; print('openpyxl' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

from datetime import date, datetime

import pytest

from sheetdesk.rules import dates


@pytest.mark.parametrize("text, expected", [
    ("2026-11-17 9:30", datetime(2026, 11, 17, 9, 30)),
    ("2026/11/17 09:30", datetime(2026, 11, 17, 9, 30)),
    ("2026年11月17日 9:30", datetime(2026, 11, 17, 9, 30)),
    ("2026年11月17日9时30分", datetime(2026, 11, 17, 9, 30)),
    ("2026.11.17", datetime(2026, 11, 17)),
    ("2026-1-7 08:05:09", datetime(2026, 1, 7, 8, 5, 9)),
    ("２０２６－１１－１７　９：３０", datetime(2026, 11, 17, 9, 30)),
    ("2026-11-17T09:30:00", datetime(2026, 11, 17, 9, 30)),
    ("20261117", datetime(2026, 11, 17)),
])
def test_text_forms_clerks_type(text, expected):
    assert dates.to_datetime(text) == (expected, True)


@pytest.mark.parametrize("text", ["上周三", "2026-02-30", "2026-11-17 25:00", "17/11/2026", "明天上午"])
def test_unreadable_text_is_reported_not_guessed(text):
    assert dates.to_datetime(text) == (None, False)


def test_blank_is_not_an_error():
    assert dates.to_datetime(None) == (None, True)
    assert dates.to_datetime("   ") == (None, True)


def test_excel_serials_in_both_date_systems():
    # 46343.395833 = 2026-11-17 09:30 in the 1900 system
    assert dates.to_datetime(46343.3958333333) == (datetime(2026, 11, 17, 9, 30), True)
    assert dates.to_datetime(46343.3958333333 - 1462, date1904=True) == (datetime(2026, 11, 17, 9, 30), True)
    assert dates.to_datetime(12) == (None, False)  # not a plausible date
    assert dates.to_datetime(True) == (None, False)


def test_date_cells_become_midnight():
    assert dates.to_datetime(date(2026, 11, 17)) == (datetime(2026, 11, 17), True)
    assert dates.to_date("2026/05/20") == (date(2026, 5, 20), True)

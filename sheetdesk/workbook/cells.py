"""Cell addresses, date serials and XML-safe text, without importing openpyxl.

Importing openpyxl costs about 0.15 s (it brings numpy along when installed), a third of a 1k-desk
refresh. The calamine reader and the patch engine need only these few definitions, so a command
that never loads a workbook through openpyxl does not pay for it. Each one gives what openpyxl's
own gives (the tests compare them).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import date, datetime, time

from sheetdesk.rules.limits import cap_text

#: day 0 of Excel's two date systems (openpyxl's CALENDAR_WINDOWS_1900 and CALENDAR_MAC_1904)
EPOCH_1900 = datetime(1899, 12, 30)
EPOCH_1904 = datetime(1904, 1, 1)

#: control characters XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE)
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

#: a cell's start tag, its address first (as every office suite writes it): column letters, row
CELL_REF = re.compile(rb'<c r="([A-Z]+)(\d+)"')

_MAX_COLUMN = 18278  # XFD


@functools.lru_cache(maxsize=4096)
def column_letter(index: int) -> str:
    """1 -> 'A', 28 -> 'AB'."""
    if not 1 <= index <= _MAX_COLUMN:
        raise ValueError(f"column {index} is outside A..XFD")
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@functools.lru_cache(maxsize=16384)
def column_index(letters: str) -> int:
    """'A' -> 1, 'AB' -> 28."""
    if not (1 <= len(letters) <= 3 and letters.isascii() and letters.isalpha()):
        raise ValueError(f"'{letters}' is not a column")
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


def to_excel(value: datetime | date | time, epoch: datetime = EPOCH_1900) -> float:
    """The serial Excel stores for a date, date-time or time of day."""
    if isinstance(value, time):
        return _day_fraction(value)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    days = (value - epoch).days
    if 0 < days <= 60 and epoch == EPOCH_1900:  # Excel counts a 29 Feb 1900 that never was
        days -= 1
    return days + _day_fraction(value)


def _day_fraction(value: datetime | time) -> float:
    return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 10**6) / 86400


#: xlsxwriter options for every workbook sheetdesk writes: what people typed stays text — ``=cmd|…``
#: never becomes a live formula, ``http://…`` never a link, ``0123`` never a number
XLSXWRITER_OPTIONS = {"remove_timezone": True, "strings_to_formulas": False, "strings_to_urls": False,
                      "strings_to_numbers": False}


def new_workbook(path, lang: str):
    """An xlsxwriter workbook with :data:`XLSXWRITER_OPTIONS` whose sheets cut every text to what an
    Excel cell holds, saying how much was left out (xlsxwriter would cut it silently)."""
    import xlsxwriter  # deferred: only the report, summary and template builders write with it

    def capped(ws, row, col, value, cell_format=None):
        return ws.write_string(row, col, cap_text(value, lang), cell_format)

    class Capped(xlsxwriter.Workbook):
        def add_worksheet(self, name=None, worksheet_class=None):
            ws = super().add_worksheet(name, worksheet_class)
            ws.add_write_handler(str, capped)
            return ws

    return Capped(str(path), XLSXWRITER_OPTIONS)


#: points per printed line of 11-point text (a wrapped cell's row is this times its lines)
LINE_HEIGHT = 15


def wrapped_lines(text: object, width: float) -> int:
    """How many lines ``text`` takes in a wrapped cell ``width`` characters wide: a Chinese character
    takes two, a line break starts a new line; a little is kept for the cell's padding."""
    if text in (None, ""):
        return 1
    usable = max(width - 1, 1)
    lines = 0
    for part in str(text).split("\n"):
        units = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in part)
        lines += max(1, math.ceil(units / usable))
    return lines

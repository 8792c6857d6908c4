"""Turning what clerks type into dates and times.

Cells arrive as real date cells, as Excel serial numbers (a date typed into a General cell, or a
column whose format was lost), or as text in the half dozen ways Chinese offices write a time.
Text that looks like a date stays text in every reader, so we parse it here.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

EPOCH_1900 = datetime(1899, 12, 30)
EPOCH_1904 = datetime(1904, 1, 1)

#: serials outside this range are not dates anyone types (1950 .. 2100)
_SERIAL_MIN, _SERIAL_MAX = 18264, 73051

_FULLWIDTH = str.maketrans("０１２３４５６７８９：－／．　", "0123456789:-/. ")

_DATE_TEXT = re.compile(
    r"""^\s*(?P<y>\d{4})\s*(?:[-/.年])\s*(?P<m>\d{1,2})\s*(?:[-/.月])\s*(?P<d>\d{1,2})\s*日?
        (?:\s*(?:T|\s)?\s*(?P<H>\d{1,2})\s*(?:[:：时點点])\s*(?P<M>\d{1,2})\s*分?
           (?:\s*[:：]?\s*(?P<S>\d{1,2})\s*秒?)?)?\s*$""",
    re.VERBOSE,
)
_COMPACT = re.compile(r"^\s*(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2}))?\s*$")


def from_serial(value: float, date1904: bool = False) -> datetime | None:
    """An Excel serial as a datetime (to the second), or None when it is not a plausible date."""
    serial = float(value)
    if date1904:
        serial += 1462
    if not (_SERIAL_MIN <= serial <= _SERIAL_MAX):
        return None
    moment = EPOCH_1900 + timedelta(days=serial)
    return moment.replace(microsecond=0) + timedelta(seconds=round(moment.microsecond / 1e6))


def parse_text(text: str) -> datetime | None:
    """Parse a typed date or date-time; None when the text is not one we recognise."""
    cleaned = text.translate(_FULLWIDTH).strip()
    if not cleaned:
        return None
    match = _DATE_TEXT.match(cleaned) or _COMPACT.match(cleaned)
    if not match:
        try:  # ISO forms such as 2026-11-17T09:30:00
            return datetime.fromisoformat(cleaned).replace(tzinfo=None)
        except ValueError:
            return None
    parts = match.groupdict()
    try:
        return datetime(
            int(parts["y"]), int(parts["m"]), int(parts["d"]),
            int(parts["H"] or 0), int(parts["M"] or 0), int(parts.get("S") or 0),
        )
    except ValueError:  # 2026-02-30, 25:00 ...
        return None


def to_datetime(value: object, date1904: bool = False) -> tuple[datetime | None, bool]:
    """(moment, ok). ``ok`` is False when the cell holds something that is not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    if isinstance(value, datetime):
        if value.microsecond or value.tzinfo is not None:
            value = value.replace(tzinfo=None, microsecond=0)
        return value, True
    if isinstance(value, date):
        return datetime.combine(value, time()), True
    if isinstance(value, bool):
        return None, False
    if isinstance(value, (int, float)):
        moment = from_serial(value, date1904)
        return moment, moment is not None
    if isinstance(value, str):
        moment = parse_text(value)
        return moment, moment is not None
    return None, False


def to_date(value: object, date1904: bool = False) -> tuple[date | None, bool]:
    moment, ok = to_datetime(value, date1904)
    return (moment.date() if moment else None), ok


def parse_now(text: str | None) -> datetime | None:
    """``--now "YYYY-MM-DD HH:MM"`` (any form :func:`parse_text` accepts)."""
    if text is None:
        return None
    return parse_text(text)


def fmt(moment: datetime | date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d")

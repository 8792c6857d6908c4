"""What a save writes, in terms both save engines share: cell writes in, changes out.

The rules produce :class:`CellWrite` and :class:`GeneratedSheet`; the patch engine and the openpyxl
engine each turn them into a file and report every :class:`Change` they made. The colours, number
formats and print layout here are what both engines write, so a desk looks the same whichever saved it.
Cells people typed are only ever written when blank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

#: fills sheetdesk owns (ARGB); any other fill on a cell is the user's and is left alone
FILL_COLOURS = {"red": "FFFFC7CE", "amber": "FFFFEB9C"}
#: the fills that mark a cell people typed which has a problem (light orange: an error, light
#: yellow: a warning); shades of no standard palette, so a colour a person picked is not taken for one
MARK_COLOURS = {"error": "FFFFD6AD", "warning": "FFFFF6C4"}
OWN_COLOURS = {**FILL_COLOURS, **MARK_COLOURS}

NUMBER_FORMATS = {"datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd", "text": "@"}
#: a value or fill left as it is
KEEP = object()
#: how sheetdesk's own sheets print (both engines): A4 (paper 9) landscape, fitted to one page wide
#: and as many long as needed, row 1 repeated on every page, page numbers in the footer
PRINT_PAPER, PRINT_TITLE_ROWS, PRINT_FOOTER = 9, "$1:$1", "&C&P / &N"


@dataclass(slots=True)  # a refresh of a big register makes hundreds of thousands: no __dict__ each
class CellWrite:
    sheet: str            # schema sheet key
    row: int
    column: str           # schema column key
    #: KEEP: only the fill is written (a person's cell sheetdesk marks but never edits)
    value: object
    #: "red" | "amber" | None (clear a fill sheetdesk set) | KEEP (do not touch the fill)
    fill: object = KEEP
    #: people's column: write only when the cell is blank
    only_if_blank: bool = False
    #: a header cell sheetdesk adds (patch engine: bold on grey, like its own columns' headers)
    header: bool = False
    #: the fill marks a problem on a cell people typed ("error" | "warning" | None to clear): only
    #: MARK_COLOURS count as sheetdesk's there; ``value`` is KEEP (the value is not written)
    mark: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    sheet: str
    row: int
    column: str
    old: object
    new: object


@dataclass
class GeneratedSheet:
    """A sheet sheetdesk owns entirely and rebuilds on every refresh (the tracker, follow-ups)."""
    sheet: str                    # schema sheet key
    header: list[str]
    #: rows below the header
    count: int
    #: the rows' (values, fills), made anew each time it is called: a big desk's tracker is produced
    #: while it is written, never held as lists
    make: Callable[[], Iterable[tuple[Sequence[object], Sequence[str | None]]]]
    widths: list[float]
    #: rows of the filtered table (the first block); later rows are a second block
    table_rows: int
    #: column indexes (0-based) holding date-times, dates
    datetime_cols: tuple[int, ...] = ()
    date_cols: tuple[int, ...] = ()
    #: column indexes whose header marks them as people's columns (blue, like the template)
    people_cols: tuple[int, ...] = ()


def same_value(old: object, new: object) -> bool:
    if old is None or old == "":
        return new is None or new == ""
    if isinstance(old, (datetime, date)) and isinstance(new, (datetime, date)):
        # calamine reads a midnight date-time as a date; 2 Jan 00:00 is the same moment either way
        as_dt = [v if isinstance(v, datetime) else datetime(v.year, v.month, v.day) for v in (old, new)]
        return abs((as_dt[0] - as_dt[1]).total_seconds()) < 0.002
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return float(old) == float(new)
    return str(old) == str(new)


def may_refill(current: str | None, wanted: object, mark: bool) -> bool:
    """Whether sheetdesk may put ``wanted`` on a cell whose fill is ``current`` (a key of OWN_COLOURS,
    "other" or None): only over no fill or one of its own — on a cell people type, only over a
    problem mark (an overdue colour there is a person's choice)."""
    if current == wanted:
        return False
    if mark:
        return current is None or current in MARK_COLOURS
    return current != "other"

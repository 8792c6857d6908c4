"""The post-condition of every save: each cell sheetdesk did not mean to write is still there.

Before writing, every value of every sheet (except sheetdesk's generated sheets and the cells it is
about to write) is fingerprinted; the temporary file is re-read and compared before it may replace
the original. "No typed value is lost" is checked on every run, not only in the tests.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from pathlib import Path

from sheetdesk.errors import WriteFailed
from sheetdesk.rules.records import Table
from sheetdesk.schema import COUNTER, FOLLOWUPS, TRACKER
from sheetdesk.workbook.cells import to_excel
from sheetdesk.workbook.reader import Book

Cells = dict[str, dict[tuple[int, int], object]]


class _Serial(float):
    """A date-time serial; equal within 2 ms because openpyxl rounds microseconds when it reads."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, float) and abs(float(self) - float(other)) < 2.5e-8

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(round(float(self), 4))


def _norm(value: object) -> object:
    """Compare what the file stores: an empty string is no value (openpyxl drops it on save), and a
    date/time is its serial number to the millisecond (openpyxl reads serial 0 back as a time)."""
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date, time)):
        try:
            return _Serial(to_excel(value))
        except (ValueError, OverflowError, TypeError):
            return str(value)
    if type(value).__name__ == "CellRichText" or isinstance(value, str):
        return str(value)
    return value


def _generated(book: Book) -> set[str]:
    """The sheets sheetdesk rebuilds (its own, by their mark: a person's sheet of the same name is checked)."""
    return {COUNTER.zh, COUNTER.en} | {book.generated_name(key) for key in (TRACKER.key, FOLLOWUPS.key)}


def fingerprint(book: Book, skip: set[tuple[str, int, str]]) -> Cells:
    skip_idx = set()
    for sheet_key, row, col_key in skip:
        table = book.tables[sheet_key]
        skip_idx.add((table.name, row, table.columns[col_key]))
    cells: Cells = {}
    for ws in book.wb.worksheets:
        if ws.title in _generated(book):
            continue
        sheet_cells = cells.setdefault(ws.title, {})
        for r_idx, values in enumerate(ws.iter_rows(values_only=True), 1):
            for c_idx, value in enumerate(values, 1):
                if _norm(value) is not None and (ws.title, r_idx, c_idx) not in skip_idx:
                    sheet_cells[(r_idx, c_idx)] = _norm(value)
    return cells


def assert_kept(tmp: Path, book: Book, protected: Cells) -> None:
    import openpyxl  # deferred: heavy; only the openpyxl engine's saves are checked with it

    wb = openpyxl.load_workbook(tmp, read_only=True, rich_text=True)
    try:
        missing = [name for name in protected if name not in wb.sheetnames]
        if missing:
            raise WriteFailed(f"校验失败：新文件缺少工作表 {'、'.join(missing)}，原文件未改动",
                              f"verification failed: sheets {', '.join(missing)} missing from the new file; original untouched")
        for name, cells in protected.items():
            ws = wb[name]
            ws.reset_dimensions()
            seen: dict[tuple[int, int], object] = {}
            for r_idx, values in enumerate(ws.iter_rows(values_only=True), 1):
                for c_idx, value in enumerate(values, 1):
                    if (r_idx, c_idx) in cells:
                        seen[(r_idx, c_idx)] = _norm(value)
            for pos, value in cells.items():
                if seen.get(pos) != value:
                    raise WriteFailed(
                        f"校验失败：工作表“{name}”第{pos[0]}行第{pos[1]}列的值在保存后不一致，原文件未改动",
                        f"verification failed: sheet '{name}' row {pos[0]} column {pos[1]} changed in the saved copy; "
                        "original untouched")
    finally:
        wb.close()


def typed_values(table: Table | None, keys: tuple[str, ...]) -> Counter:
    """What people typed into a sheet sheetdesk rebuilds (the follow-up calls), as a multiset."""
    if table is None:
        return Counter()
    return Counter(_norm(row.get(k)) for row in table.rows for k in keys
                   if table.has(k) and row.get(k) not in (None, ""))


def assert_typed_kept(tmp: Path, sheet: str, typed: Counter) -> None:
    """Rows of a rebuilt sheet may move; every value typed in it must still be somewhere in it."""
    if not typed:
        return
    import openpyxl  # deferred: heavy; only the openpyxl engine's saves are checked with it

    wb = openpyxl.load_workbook(tmp, read_only=True, rich_text=True)
    try:
        rows = []
        if sheet in wb.sheetnames:
            ws = wb[sheet]
            ws.reset_dimensions()
            rows = ws.iter_rows(values_only=True)
        assert_typed_in(rows, sheet, typed)
    finally:
        wb.close()


def assert_typed_read_back(tmp: Path, sheet: str, typed: Counter) -> None:
    """:func:`assert_typed_kept` reading the saved copy with calamine (a fraction of openpyxl's time)."""
    if not typed:
        return
    from python_calamine import CalamineWorkbook  # deferred: a native reader, loaded only to check a save

    wb = CalamineWorkbook.from_path(str(tmp))
    try:
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False) if sheet in wb.sheet_names else []
    finally:
        wb.close()
    assert_typed_in(rows, sheet, typed)


def assert_typed_in(rows, sheet: str, typed: Counter) -> None:
    """Every value typed in ``sheet`` is among ``rows`` (read back from the saved copy)."""
    if not typed:
        return
    seen: Counter = Counter()
    for values in rows:
        seen.update(_norm(v) for v in values if v not in (None, ""))
    missing = typed - seen
    if missing:
        value = next(iter(missing))
        raise WriteFailed(f"校验失败：工作表“{sheet}”中填写的“{value}”在保存后丢失，原文件未改动",
                          f"verification failed: '{value}' typed in sheet '{sheet}' is missing from the saved copy; "
                          "original untouched")

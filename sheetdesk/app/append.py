"""Rows ``add``, ``log`` and ``import`` append before a run: the request (:class:`Append`), where
the run put them (:class:`Appended`), and how each engine puts them there — below the last row that
holds anything of a person's, never into a row that still belongs to a ticket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime

from sheetdesk.errors import InputError
from sheetdesk.rules.problems import ERROR, Problem
from sheetdesk.schema import EXTERNAL_REF_HEADERS, SHEETS_BY_KEY, normalise_header, step_name
from sheetdesk.workbook.edits import NUMBER_FORMATS, CellWrite
from sheetdesk.workbook.reader import Book, read_table


@dataclass(frozen=True)
class Append:
    """Rows ``add``, ``log`` or ``import`` ask to append before the refresh (where they land is the
    run's answer: :class:`Appended`).

    With ``refuse`` levels, a problem of that level on an appended row stops the whole run (nothing
    written); with ``refuse=()`` the rows land and their problems are in the result, per row.
    """
    sheet_key: str                    # "register" | "progress"
    values: dict[str, object] | None = None
    #: problem levels that refuse the row (log also refuses warnings: a step after closing)
    refuse: tuple[str, ...] = (ERROR,)
    #: several rows at once (import); ``values`` is the single-row form
    rows: list[dict[str, object]] | None = None

    def all_rows(self) -> list[dict[str, object]]:
        return list(self.rows or []) + ([self.values] if self.values is not None else [])


@dataclass
class Appended:
    """Where a run put an :class:`Append`'s rows (``RunResult.appended``)."""
    sheet_key: str
    #: the first row the rows go to (a log entry's row), and each row's number, in order
    row: int
    row_numbers: list[int] = field(default_factory=list)
    #: the register's 外部编号 column that import's references go to (patch engine), and its header
    #: when the import adds the column
    ref_column: int = 0
    ref_header: str | None = None
    #: (patch engine) appended row -> its cells as the file holds them: a row that is not a record
    #: may still hold sheetdesk's own cells (a ticket whose people's cells were cleared)
    originals: dict[int, list[object]] = field(default_factory=dict)


def append_row(book: Book, append: Append) -> Appended:
    """Write the rows below the last used row of their sheet (people's columns only)."""
    sheet = SHEETS_BY_KEY[append.sheet_key]
    table = read_table(book, sheet, add_owned=False)
    ws = book.wb[table.name]
    referenced = referenced_rows(
        append, [c.value for c in ws[table.header_row]], table.header_row,
        lambda c: (v for (v,) in ws.iter_rows(min_row=table.header_row + 1, min_col=c, max_col=c, values_only=True)))
    first = max([table.header_row] + [r.row for r in table.rows] + referenced) + 1
    appended = Appended(append.sheet_key, first)
    ref_column = 0
    for offset, values in enumerate(append.all_rows()):
        row = first + offset
        appended.row_numbers.append(row)
        ref = values.get("external_ref")
        if ref is not None and ref != "":  # import's dedupe key: a people's column outside the contract
            ref_column = ref_column or external_ref_column(ws, table, book.lang)
            ws.cell(row, ref_column, str(ref)).number_format = "@"
        for key, value in append_values(table, sheet, values, book.lang):
            cell = ws.cell(row, table.columns[key], value)
            kind = sheet.column(key).kind
            if isinstance(value, datetime) and kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[kind]
    del book.tables[append.sheet_key]
    return appended


def append_to_grid(book: Book, append: Append, *, saving: bool) -> tuple[Appended, Callable[[], None]]:
    """Put the rows below the last used row of calamine's grid (people's columns only), so every
    reader sees them; returns where they went and the function that takes them out again once the
    sheets are read.
    Import's references go to the register's 外部编号 column, when it has one and the run saves."""
    sheet = SHEETS_BY_KEY[append.sheet_key]
    table = read_table(book, sheet, add_owned=False, last_only=True)  # where the records end is all it needs
    grid = book.wb[table.name]._rows
    ref_column, ref_header = 0, None
    length, saved = len(grid), {}
    # calamine reads a formula whose result is empty as an empty cell: the cell is still somebody's
    formulas = book.wb.formula_cells(table.name)
    if saving and any(row.get("external_ref") not in (None, "") for row in append.all_rows()):
        while len(grid) < table.header_row:
            grid.append([])
        header = grid[table.header_row - 1]
        ref_column = ref_column_in(header)
        if not ref_column:  # the first import: the column goes after the last one anything is in
            ref_column = max([last_filled(row) for row in grid] + [c for _, c in formulas]) + 1
            ref_header = EXTERNAL_REF_HEADERS[0 if book.lang == "zh" else 1]
            saved[table.header_row] = header  # in the grid while the sheets are read: owned columns go after it
            cells = list(header) + [""] * max(0, ref_column - len(header))
            cells[ref_column - 1] = ref_header
            grid[table.header_row - 1] = cells
    people = {i for key, i in table.columns.items() if not sheet.column(key).owned}
    # a row whose people's cells hold formulas is not blank, whatever they evaluate to
    referenced = referenced_rows(
        append, grid[table.header_row - 1] if len(grid) >= table.header_row else [], table.header_row,
        lambda c: (cells[c - 1] if len(cells) >= c else None for cells in grid[table.header_row:]))
    first = max([table.header_row] + [r.row for r in table.rows] + [r for r, c in formulas if c in people]
                + referenced) + 1
    appended = Appended(append.sheet_key, first, ref_column=ref_column, ref_header=ref_header)
    width = max(table.columns.values())
    for offset, values in enumerate(append.all_rows()):
        r = first + offset
        appended.row_numbers.append(r)
        while len(grid) < r:
            grid.append([])
        saved[r] = appended.originals[r] = grid[r - 1]
        cells = list(grid[r - 1]) + [""] * max(0, width - len(grid[r - 1]))
        for key, value in append_values(table, sheet, values, book.lang):
            cells[table.columns[key] - 1] = value
        grid[r - 1] = cells  # (the reference stays out: no rule reads it)
    del book.tables[append.sheet_key]

    def restore() -> None:
        for r, cells in saved.items():
            grid[r - 1] = cells
        del grid[length:]
    return appended, restore


def referenced_rows(append: Append, header: list[object], header_row: int,
                     column: Callable[[int], Iterable[object]]) -> list[int]:
    """Register rows whose 外部编号 holds a value (``column(c)``: the values below the header in column
    c): such a row belongs to an import's ticket even with its other cells cleared, so nothing is
    appended into it."""
    ref = ref_column_in(header) if append.sheet_key == "register" else 0
    return [r for r, value in enumerate(column(ref), header_row + 1) if value not in (None, "")] if ref else []


def last_filled(row: list[object]) -> int:
    n = len(row)
    while n and row[n - 1] in (None, ""):
        n -= 1
    return n


def ref_column_in(header: list[object]) -> int:
    names = {normalise_header(n) for n in EXTERNAL_REF_HEADERS}
    return next((c for c, v in enumerate(header, 1) if isinstance(v, str) and normalise_header(v) in names), 0)


def append_values(table, sheet, values: dict[str, object], lang: str):
    """(column key, value) of an appended row's filled cells, a step key in the desk's language."""
    for key, value in values.items():
        if value is None or value == "" or key == "external_ref":
            continue
        if key == "step":
            value = step_name(str(value), lang)
        if key not in table.columns:
            col = sheet.column(key)
            raise InputError(f"工作表“{table.name}”没有“{col.zh}”列，无法写入 {value}",
                             f"sheet '{table.name}' has no '{col.en}' column to hold {value}")
        yield key, value


def appended_writes(book: Book, append: Append, appended: Appended) -> list[CellWrite]:
    table = book.tables[append.sheet_key]
    sheet = SHEETS_BY_KEY[append.sheet_key]
    writes = [CellWrite(append.sheet_key, r, key, value)
              for r, values in zip(appended.row_numbers, append.all_rows())
              for key, value in append_values(table, sheet, values, book.lang)]
    if appended.ref_header:
        writes.append(CellWrite(append.sheet_key, table.header_row, "external_ref", appended.ref_header, header=True))
    if appended.ref_column:
        writes += [CellWrite(append.sheet_key, r, "external_ref", str(values["external_ref"]))
                   for r, values in zip(appended.row_numbers, append.all_rows())
                   if values.get("external_ref") not in (None, "")]
    return writes


def external_ref_column(ws, table, lang: str) -> int:
    """The register's 外部编号/External ref column; added after the last column anything is in when
    the desk has none (a colleague's unlabelled column is not taken over)."""
    found = ref_column_in([c.value for c in ws[table.header_row]])
    if found:
        return found
    last = max((last_filled(list(row)) for row in ws.iter_rows(values_only=True)), default=0)
    header = ws.cell(table.header_row, last + 1, EXTERNAL_REF_HEADERS[0 if lang == "zh" else 1])
    header._style = copy(ws.cell(table.header_row, table.columns["customer"])._style)
    ws.column_dimensions[header.column_letter].width = 18
    return header.column


def refuse_bad_append(append: Append, appended: Appended, problems: list[Problem]) -> None:
    rows = set(appended.row_numbers)
    bad = [p for p in problems if p.sheet == append.sheet_key and p.row in rows and p.level in append.refuse]
    if bad:
        raise InputError("未写入，因为" + "；".join(p.plain_text("zh") for p in bad),
                         "nothing written because " + "; ".join(p.plain_text("en") for p in bad))

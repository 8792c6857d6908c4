"""The openpyxl save engine: cell edits, fills and sheetdesk's own sheets on a loaded workbook.

It takes the same :class:`~sheetdesk.workbook.edits.CellWrite` and generated sheets as the patch
engine and reports the same changes; it is the engine for files the patch engine cannot splice and
for repairs. Cells people typed are only ever written when blank.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime

from sheetdesk.schema import COUNTER, SHEETS_BY_KEY
from sheetdesk.workbook import counter as counter_sheet
from sheetdesk.workbook.cells import ILLEGAL_CHARACTERS_RE
from sheetdesk.workbook.edits import (
    KEEP,
    MARK_COLOURS,
    NUMBER_FORMATS,
    OWN_COLOURS,
    PRINT_FOOTER,
    PRINT_PAPER,
    PRINT_TITLE_ROWS,
    CellWrite,
    Change,
    GeneratedSheet,
    may_refill,
    same_value,
)
from sheetdesk.workbook.marks import MARKS, mark_openpyxl, sheet_of_reference
from sheetdesk.workbook.reader import Book


@functools.cache
def _fills() -> dict:
    """The openpyxl fills (openpyxl is imported only by the engine that saves through it)."""
    from openpyxl.styles import PatternFill  # deferred: heavy; loaded only to save

    return {key: PatternFill("solid", fgColor=rgb) for key, rgb in OWN_COLOURS.items()}


def _clean(value: object) -> object:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _fill_key(cell) -> str | None:
    fill = cell.fill
    if fill is None or fill.fill_type != "solid":
        return None
    rgb = fill.fgColor.rgb if fill.fgColor is not None else None
    for key, own in OWN_COLOURS.items():
        if rgb == own:
            return key
    return "other"


def apply_writes(book: Book, writes: Iterable[CellWrite], marks: Iterable[str] = ()) -> list[Change]:
    """Apply the writes that change something; return those changes (values and fills). ``marks``:
    sheet keys whose problem marks the writes carry in full — a mark on any other cell is cleared."""
    from openpyxl.styles import PatternFill  # deferred: heavy; loaded only to save

    changes: list[Change] = []
    _add_missing_headers(book, changes)
    marks = tuple(marks)
    marked: dict[str, set[tuple[int, int]]] = {key: set() for key in marks}
    for w in writes:
        table = book.tables[w.sheet]
        ws = book.wb[table.name]
        col_idx = table.columns[w.column]
        cell = ws.cell(w.row, col_idx)
        old = cell.value
        if w.mark:
            marked.setdefault(w.sheet, set()).add((w.row, col_idx))
        if w.only_if_blank and not (old is None or (isinstance(old, str) and not old.strip())):
            continue
        new = old if w.value is KEEP else _clean(w.value)
        if not same_value(old, new):
            cell.value = new
            if isinstance(new, str) and new.startswith("="):
                cell.data_type = "s"  # text that merely looks like a formula stays text
            kind = SHEETS_BY_KEY[w.sheet].column(w.column).kind
            if new is not None and kind in NUMBER_FORMATS and cell.number_format == "General":
                cell.number_format = NUMBER_FORMATS[kind]
            changes.append(Change(w.sheet, w.row, w.column, old, new))
        if w.fill is not KEEP:
            current = _fill_key(cell)
            if may_refill(current, w.fill, w.mark):  # a person's own colour wins
                cell.fill = _fills()[w.fill] if w.fill else PatternFill(fill_type=None)
                changes.append(Change(w.sheet, w.row, w.column, f"fill:{current}", f"fill:{w.fill}"))
    for sheet_key in marks:
        _clear_marks(book, sheet_key, marked[sheet_key], changes)
    return changes


def _clear_marks(book: Book, sheet_key: str, keep: set[tuple[int, int]], changes: list[Change]) -> None:
    """No fill again on the cells of people's columns that still carry a problem mark no problem asks for."""
    from openpyxl.styles import PatternFill  # deferred: heavy; loaded only to save

    table = book.tables.get(sheet_key)
    if table is None:
        return
    schema = SHEETS_BY_KEY[sheet_key]
    keys = {col: key for key, col in table.columns.items()
            if key not in {c.key for c in schema.columns if c.owned}}
    wb = book.wb
    fill_ids = {i for i, f in enumerate(wb._fills) if getattr(f, "fill_type", None) == "solid"
                and f.fgColor is not None and f.fgColor.rgb in MARK_COLOURS.values()}
    if not fill_ids:
        return
    ws = wb[table.name]
    for (r, c), cell in list(ws._cells.items()):
        if (r > table.header_row and c in keys and (r, c) not in keep and cell.has_style
                and cell._style.fillId in fill_ids):
            current = _fill_key(cell)
            cell.fill = PatternFill(fill_type=None)
            changes.append(Change(sheet_key, r, keys[c], f"fill:{current}", "fill:None"))


def _add_missing_headers(book: Book, changes: list[Change]) -> None:
    from openpyxl.comments import Comment  # deferred: heavy; loaded only to save
    from openpyxl.styles import Font, PatternFill  # deferred: heavy; loaded only to save

    for sheet_key, col_key in book.added_columns:
        table = book.tables[sheet_key]
        ws = book.wb[table.name]
        column = SHEETS_BY_KEY[sheet_key].column(col_key)
        cell = ws.cell(table.header_row, table.columns[col_key])
        if cell.value is None:
            cell.value = column.name(book.lang)
            cell.font = Font(bold=True, italic=True, color="FF595959")
            cell.fill = PatternFill("solid", fgColor="FFD9D9D9")
            note = "由 sheetdesk 自动填写，请勿手工修改" if book.lang == "zh" else "Written by sheetdesk; do not type here"
            cell.comment = Comment(note, "sheetdesk")
            changes.append(Change(sheet_key, table.header_row, col_key, None, cell.value))
    book.added_columns.clear()


def write_counter(book: Book, counter: dict[str, int], filled: dict[str, str] | None = None) -> list[Change]:
    """Keep the hidden counter sheet in step; create it (hidden) when it is missing. ``filled``
    (ticket ID -> category sheetdesk filled) is remembered beside it; None: the memory is already so."""
    changes: list[Change] = []
    name = COUNTER.name(book.lang)
    if name not in book.wb.sheetnames:
        ws = book.wb.create_sheet(name)
        ws.sheet_state = "hidden"
        ws.append([c.name(book.lang) for c in COUNTER.columns])
        changes.append(Change("counter", 1, "month", None, "(sheet created)"))
    ws = book.wb[name]
    current = counter_sheet.stored(book)
    wanted = dict(sorted(counter.items()))
    if counter_sheet.differs(current, wanted) or filled is not None:
        memory = counter_sheet.filled_categories(book) if filled is None else filled
        if ws.max_row > 1:
            ws.delete_rows(2, ws.max_row)  # one call: row by row is quadratic on a long memory
        for r, (month, serial) in enumerate(wanted.items(), 2):
            ws.cell(r, 1, month)
            ws.cell(r, 2, serial)
        first, second = counter_sheet.FILLED_COLUMNS
        for c, text in zip((first, second), counter_sheet.FILLED_HEADERS[book.lang]):
            ws.cell(1, c).value = text if memory else None
        for r, (ticket, category) in enumerate(counter_sheet.filled_rows(memory), 2):
            ws.cell(r, first, ticket)
            ws.cell(r, second, category)
        if counter_sheet.differs(current, wanted):
            changes.append(Change("counter", 2, "last_serial", current, wanted))
        if filled is not None:
            changes.append(Change("counter", 2, "filled_category", None, f"{len(filled)} IDs"))
    return changes


def _existing(ws) -> tuple[list[list[object]], list[list[str | None]]]:
    values, fills = [], []
    for row in ws.iter_rows():
        values.append([c.value for c in row])
        fills.append([_fill_key(c) for c in row])
    return values, fills


def _cmp(value: object) -> object:
    """Values as a re-read file returns them: dates come back as midnight date-times, '' as nothing."""
    if value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if type(value).__name__ == "CellRichText":
        return str(value)
    return value


def _trim(rows: list[list[object]]) -> list[list[object]]:
    out = [[_cmp(v) for v in r] for r in rows]
    for r in out:
        while r and r[-1] is None:
            r.pop()
    while out and not out[-1]:
        out.pop()
    return out


def write_generated(book: Book, gen: GeneratedSheet) -> list[Change]:
    """Rebuild the sheet when its content or colours differ; keep its position among the tabs."""
    from openpyxl.styles import Alignment, Font, PatternFill  # deferred: heavy; loaded only to save
    from openpyxl.utils import get_column_letter  # deferred: heavy; loaded only to save

    name = book.generated_name(gen.sheet)  # by its mark: a person's sheet of the same name is never taken
    mark = book.wb.defined_names.get(MARKS[gen.sheet])
    changes = []
    if mark is None or sheet_of_reference(mark.attr_text or "") != name:
        mark_openpyxl(book.wb, gen.sheet, name)
        changes.append(Change(gen.sheet, 0, "(mark)", None, name))
    made = list(gen.make())  # this engine holds the whole workbook anyway: the rows are made once
    wanted_values = [gen.header, *(values for values, _ in made)]
    wanted_fills = [[None] * len(gen.header), *(fills for _, fills in made)]
    if name in book.wb.sheetnames:
        values, fills = _existing(book.wb[name])
        same_values = _trim(values) == _trim(wanted_values)
        same_fills = _trim([[f if f in OWN_COLOURS else None for f in r] for r in fills]) == _trim(wanted_fills)
        if same_values and same_fills and _printed_as_ours(book.wb[name]):
            return changes
        index = book.wb.sheetnames.index(name)
        book.wb.remove(book.wb[name])
    else:
        index = len(book.wb.sheetnames)
    ws = book.wb.create_sheet(name, index)
    header_fill = PatternFill("solid", fgColor="FFD9D9D9")
    people_fill = PatternFill("solid", fgColor="FFDDEBF7")
    for c, text in enumerate(gen.header, 1):
        cell = ws.cell(1, c, text)
        cell.font = Font(bold=True)
        cell.fill = people_fill if c - 1 in gen.people_cols else header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r, (row, fill_row) in enumerate(made, 2):
        for c, (value, fill) in enumerate(zip(row, fill_row), 1):
            if value == "":
                value = None
            if value is None and fill is None:
                continue
            cell = ws.cell(r, c, _clean(value))
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
            if c - 1 in gen.datetime_cols and value is not None:
                cell.number_format = NUMBER_FORMATS["datetime"]
            elif c - 1 in gen.date_cols and value is not None:
                cell.number_format = NUMBER_FORMATS["date"]
            if fill:
                cell.fill = _fills()[fill]
    for c, width in enumerate(gen.widths, 1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "B2"
    last = get_column_letter(len(gen.header))
    ws.auto_filter.ref = f"A1:{last}{gen.table_rows + 1}"
    print_setup(ws)
    return changes + [Change(gen.sheet, 1, "(sheet)", None, f"{gen.count} rows")]


def print_setup(ws) -> None:
    """The print layout of a generated sheet (the patch engine writes the same in XML)."""
    from openpyxl.worksheet.properties import PageSetupProperties  # deferred: heavy; loaded only to save

    ws.page_setup.paperSize = PRINT_PAPER
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = PRINT_TITLE_ROWS.replace("$", "")
    ws.oddFooter.center.text = PRINT_FOOTER[2:]


def _printed_as_ours(ws) -> bool:
    """The sheet still prints as sheetdesk sets it up (a desk written before it did is rebuilt once)."""
    setup, props = ws.page_setup, ws.sheet_properties.pageSetUpPr
    return (setup.orientation == "landscape" and props is not None and bool(props.fitToPage)
            and (1 if setup.fitToWidth is None else int(setup.fitToWidth)) == 1
            and setup.fitToHeight is not None and int(setup.fitToHeight) == 0
            and ws.print_title_rows == PRINT_TITLE_ROWS and ws.freeze_panes == "B2")

"""Reading a desk workbook into records: find each sheet and its header row, map columns by name.

People put title rows above the header, reorder columns, add their own, and type headers in
Chinese or English with stray spaces and ``*``; all of that is tolerated here. Only a missing
sheet or a missing required header is structural (and stops the command before anything is written).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sheetdesk.errors import BookNotFound, BookUnreadable, StructureError
from sheetdesk.rules.records import Row, Table
from sheetdesk.schema import SHEETS_BY_KEY, TRACKER, Sheet, column_lookup, desk_language, find_sheet, normalise_header
from sheetdesk.workbook.cells import EPOCH_1904
from sheetdesk.workbook.fastread import FastReadUnsupported, FastWorkbook
from sheetdesk.workbook.marks import generated_sheets
from sheetdesk.workbook.zipguard import check_package

if TYPE_CHECKING:  # openpyxl is imported only when a workbook is loaded through it
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

#: how far down a header row may sit under title rows
HEADER_SEARCH_ROWS = 30


@dataclass
class Book:
    """An opened desk: the openpyxl workbook plus what the reader learnt about it."""
    path: Path
    wb: Workbook
    date1904: bool
    lang: str
    tables: dict[str, Table] = field(default_factory=dict)
    #: (sheet key, column key) of sheetdesk's own columns that were missing and get added
    added_columns: list[tuple[str, str]] = field(default_factory=list)
    #: generated sheet key -> the sheet that is sheetdesk's own (by its mark; see marks.py); None: none yet
    generated: dict[str, str | None] = field(default_factory=dict)

    def generated_name(self, key: str) -> str:
        """The sheet a generated sheet is written to: its own, or a new one under a free name (a
        person's sheet that merely has the name is never taken over)."""
        found = self.generated.get(key)
        if found:
            return found
        base = SHEETS_BY_KEY[key].name(self.lang)
        taken = {n.casefold() for n in self.wb.sheetnames}
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base} (sheetdesk{'' if n == 2 else f' {n - 1}'})"
        return name

    def worksheet(self, sheet_key: str) -> Worksheet:
        return self.wb[self.tables[sheet_key].name]

    def release(self) -> None:
        """Drop the records and calamine's grids once the rules are done with them; the tables keep
        their names, header rows and columns (what saving needs), and a grid read again later comes
        from the file."""
        for table in self.tables.values():
            table.rows = []
        forget = getattr(self.wb, "forget", None)
        if forget is not None:
            forget()


def open_book(path: Path, *, fast: bool = False, formulas_of: frozenset[str] = frozenset()) -> Book:
    """The desk as an openpyxl workbook, or — ``fast``, for read-only commands — read by calamine."""
    if not path.exists():
        raise BookNotFound.at(path)
    if not zipfile.is_zipfile(path):
        raise BookUnreadable(
            f"{path.name} 不是有效的 xlsx 文件（可能已损坏、被截断，或是旧版 .xls/加密文件）",
            f"{path.name} is not a valid xlsx file (damaged, truncated, an old .xls or encrypted)")
    check_package(path)
    _refuse_strict(path)
    if fast:
        fwb = FastWorkbook(path, formulas_of=formulas_of)
        try:
            # the tracker is only read to compare it, when another program has saved it since sheetdesk did
            fwb.load_all(lazy={TRACKER.zh, TRACKER.en})
        except FastReadUnsupported:
            fwb.close()
            raise
        lang = desk_language(fwb.sheetnames)
        return Book(path, fwb, fwb.epoch == EPOCH_1904, lang,  # type: ignore[arg-type]
                    generated=generated_sheets(path, fwb.sheetnames))
    import openpyxl  # deferred: heavy; read-only commands never load it

    try:
        wb = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", rich_text=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged packages
        raise BookUnreadable(f"无法读取 {path.name}：{exc}", f"cannot read {path.name}: {exc}") from exc
    lang = desk_language(wb.sheetnames)
    return Book(path, wb, wb.epoch == EPOCH_1904, lang, generated=generated_sheets(path, wb.sheetnames))


def _refuse_strict(path: Path) -> None:
    """Strict Open XML (Excel's "Strict Open XML Spreadsheet") uses other namespaces openpyxl cannot read."""
    try:
        with zipfile.ZipFile(path) as z:
            head = z.read("xl/workbook.xml")[:2000]
    except KeyError:
        return  # an unusual part name; openpyxl will say what it makes of it
    except (zipfile.BadZipFile, OSError) as exc:
        raise BookUnreadable(f"{path.name} 已损坏或被截断（{exc}）；可用 sheetdesk restore 恢复备份",
                             f"{path.name} is damaged or truncated ({exc}); sheetdesk restore can bring back a backup") from exc
    if b"purl.oclc.org/ooxml" in head:
        raise BookUnreadable(
            f"{path.name} 是“Strict Open XML 电子表格”格式，sheetdesk 读不了；请在 Excel 中“另存为”→“Excel 工作簿 (*.xlsx)”后再试",
            f"{path.name} is a Strict Open XML spreadsheet, which sheetdesk cannot read; in Excel use Save As → "
            "'Excel Workbook (*.xlsx)' and retry")


def _cell_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if type(value).__name__ == "CellRichText":
        text = str(value)
        return text if text.strip() else None
    if isinstance(value, datetime) and value < _SERIAL_ONE:
        # a serial below 1 in a date cell: openpyxl gives a datetime on 30 Dec 1899 for some and a bare
        # time for others, and turns one into the other on save; read both as the time they are
        return value.time()
    return value


_SERIAL_ONE = datetime(1899, 12, 31)


def _last_record_at(grid: list[list[object]], header_row: int, columns: dict[str, int], people: list[str]) -> int:
    """The 0-based grid index of the last row that is a record (some people's cell filled), found
    from the bottom; ``header_row`` when there is none."""
    positions = [columns[k] - 1 for k in people]
    for r_idx in range(len(grid) - 1, header_row - 1, -1):
        raw = grid[r_idx]
        for i in positions:
            v = raw[i] if i < len(raw) else None
            if v is not None and not (v.__class__ is str and (not v or v.isspace())):
                return r_idx
    return header_row


def _fast_rows(grid: list[list[object]], header_row: int, columns: dict[str, int], people: list[str],
               start: int | None = None) -> list[Row]:
    """Records straight from calamine's grid: the same values as :func:`_cell_value` gives, without a
    call per cell (a 50k-row register has over a million of them). From grid index ``start`` on
    (all rows below the header by default)."""
    keys = list(columns)
    index = {k: i for i, k in enumerate(keys)}  # shared by every row of the table
    positions = [columns[k] - 1 for k in keys]
    width = max(positions) + 1 if positions else 0
    people_at = [keys.index(k) for k in people]
    one = _SERIAL_ONE
    out = []
    for r_idx in range(header_row if start is None else start, len(grid)):
        raw = grid[r_idx]
        if len(raw) < width:
            raw = raw + [""] * (width - len(raw))
        values = tuple([None if (c := v.__class__) is str and (not v or v.isspace()) or v is None
                  else v.time() if c is datetime and v < one else v
                  for v in [raw[i] for i in positions]])
        for i in people_at:
            if values[i] is not None:
                out.append(Row(r_idx + 1, index=index, cells=values))
                break
    return out


def locate_header(ws: Worksheet, sheet: Sheet) -> tuple[int, dict[str, int]]:
    """(header row, column key -> column index) of the best-matching row near the top."""
    lookup = column_lookup(sheet)
    best_row, best_map = 0, {}
    for r_idx, values in enumerate(ws.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, values_only=True), 1):
        found: dict[str, int] = {}
        for c_idx, value in enumerate(values, 1):
            key = lookup.get(normalise_header(_cell_value(value)))
            if key and key not in found:
                found[key] = c_idx
        if len(found) > len(best_map):
            best_row, best_map = r_idx, found
    return best_row, best_map


def merged_ranges(book: Book, table: Table) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a table's sheet below its header, as (first row, first column, last row,
    last column)."""
    ws = book.wb[table.name]
    merged = getattr(ws, "merged", None)
    if merged is None:  # openpyxl
        merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
    return [m for m in merged if m[2] > table.header_row]


def read_table(book: Book, sheet: Sheet, *, required: bool = True, add_owned: bool = True,
               last_only: bool = False) -> Table | None:
    """The sheet as records, or None when the sheet is absent and not required. ``last_only``: only
    the last record, when just its row is wanted (read from calamine's grid; all of them otherwise)."""
    name = book.generated.get(sheet.key) if sheet.key in book.generated else find_sheet(book.wb.sheetnames, sheet)
    if name is None:
        if required:
            raise StructureError(
                f"缺少工作表“{sheet.zh}”（或英文名 {sheet.en}），无法继续；未写入任何内容。可用 sheetdesk init 新建模板对照",
                f"sheet '{sheet.en}' ({sheet.zh}) is missing; nothing was written. Compare with a new desk from sheetdesk init")
        return None
    ws = book.wb[name]
    header_row, columns = locate_header(ws, sheet)
    missing = [c for c in sheet.columns if c.required and c.key not in columns]
    if missing:
        where = f"第{header_row}行" if header_row else "前30行"
        raise StructureError(
            f"工作表“{name}”{where}缺少必需的列：{'、'.join(c.zh for c in missing)}；未写入任何内容",
            f"sheet '{name}' is missing required column(s): {', '.join(c.en for c in missing)}; nothing was written")
    if not header_row:
        header_row = 1
    if add_owned:
        last = max([ws.max_column, *columns.values()]) if columns else 0
        for col in sheet.columns:
            if col.owned and col.key not in columns:
                last += 1
                columns[col.key] = last
                book.added_columns.append((sheet.key, col.key))
    table = Table(sheet, name, header_row, columns)
    people = [k for k in columns if not sheet.column(k).owned]
    width = max(columns.values()) if columns else 0
    if hasattr(ws, "_rows"):
        start = _last_record_at(ws._rows, header_row, columns, people) if last_only else None
        table.rows = _fast_rows(ws._rows, header_row, columns, people, start)
    else:
        for r_idx, values in enumerate(
            ws.iter_rows(min_row=header_row + 1, max_col=width, values_only=True), header_row + 1
        ):
            record = {key: _cell_value(values[idx - 1]) if idx - 1 < len(values) else None
                      for key, idx in columns.items()}
            if all(record[k] is None for k in people):
                continue  # blank or formatted-but-empty row
            table.rows.append(Row(r_idx, record))
    book.tables[sheet.key] = table
    return table

"""Finding rows in a sheet's XML and splicing edited cells into them.

A refresh edits a few thousand rows of a register that may have fifty thousand: the rows are found
by jumping to ``<row r="N"`` (every office suite stores them in order, ``r`` first), and the
stretches between them are kept as views into the original bytes, never copied. A sheet spelled
any other way is walked row by row; one that cannot be patched raises :class:`PatchUnsupported`.
"""

from __future__ import annotations

import re
import zipfile
from array import array

from sheetdesk.workbook.cells import CELL_REF
from sheetdesk.workbook.cells import column_index as column_index_from_string
from sheetdesk.workbook.cells import column_letter as get_column_letter
from sheetdesk.workbook.edits import Change
from sheetdesk.workbook.engines.patch.cells import (
    ATTR_R,
    CELL_ATTRS,
    CellBodies,
    Edit,
    cell_end,
    column_of,
    edited_cell,
    letters_of,
)
from sheetdesk.workbook.engines.patch.styles import Styles
from sheetdesk.workbook.engines.patch.unsupported import PatchUnsupported
from sheetdesk.workbook.fastread import sheet_data_blocks
from sheetdesk.workbook.opc import attr

_ROW = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)


def styles_at(body: bytes, columns: set[int], rows: int, span: tuple[int, int] = (0, 2**62)) -> dict[int, array]:
    """column -> style index of its cell in each row (up to ``rows``; 0 where none): one regex
    pass, no row parsing, four bytes a row."""
    out = {c: array("I", bytes(4 * (rows + 1))) for c in columns}
    _styles_into(body, out, rows, span)
    return out


def _styles_into(body: bytes, out: dict[int, array], rows: int, span: tuple[int, int] = (0, 2**62)) -> None:
    if not out:
        return
    letters = b"|".join(get_column_letter(c).encode() for c in sorted(out))
    index = {get_column_letter(c).encode(): out[c] for c in out}
    pattern = rb'<c r="(' + letters + rb')(\d+)"[^>]*?\bs="(\d+)"'
    if NOT_R_FIRST.search(body, *span):  # some cell has attributes before its r
        pattern = rb'<c\b(?=[^>]*?\br="(' + letters + rb')(\d+)")(?=[^>]*?\bs="(\d+)")'
    for m in re.compile(pattern).finditer(body, *span):
        r = int(m.group(2))
        if r <= rows:
            index[m.group(1)][r] = int(m.group(3))


def styles_streamed(z: zipfile.ZipFile, part: str, columns: set[int], rows: int) -> dict[int, array]:
    """:func:`styles_at` over a part read block by block: the register's XML (tens of megabytes)
    is not held while the rules' objects are."""
    out = {c: array("I", bytes(4 * (rows + 1))) for c in columns}
    for body in sheet_data_blocks(z, part):
        _styles_into(body, out, rows)
    return out


NOT_R_FIRST = re.compile(rb"<c (?!r=)")


def sheet_body(xml: bytes) -> tuple[int, int]:
    """(start, end) of the content of ``<sheetData>``."""
    start = xml.find(b"<sheetData")
    if start < 0:
        raise PatchUnsupported("no sheetData")
    open_end = xml.index(b">", start) + 1
    if xml[open_end - 2:open_end] == b"/>":
        raise PatchUnsupported("empty sheetData")
    return open_end, xml.index(b"</sheetData>", open_end)


def patched_sequence(xml: bytes, edits: dict[int, dict[int, Edit]], styles: Styles, date1904: bool
                     ) -> tuple[list, list[Change]]:
    """The new sheet as [what precedes sheetData's rows, the rows before the first edited one,
    edited row, rows up to the next one, ..., last edited row, the rows after it, the rest] — the
    unedited stretches are views into ``xml``, never copied; the whole is deflated as it streams —
    and the changes it makes."""
    open_end, end = sheet_body(xml)
    view = memoryview(xml)
    spliced = _patch_rows_in_order(xml, (open_end, end), edits, styles, date1904)
    if spliced is None:  # rows not in order, or written with their r later in the tag: walk every row
        spliced = _patch_rows_by_regex(xml[open_end:end], edits, styles, date1904)
    out, changes = spliced
    last_column = max(c for row in edits.values() for c in row)
    return [grown_dimension(xml[:open_end], max(edits), last_column), *out, view[end:]], changes


DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"\s*/>')


class NotStreamable(Exception):
    """The sheet's rows are not all spelled ``<row r="N"`` in ascending order: splice it whole."""


def grown_dimension(prefix: bytes, last_row: int, last_column: int) -> bytes:
    """The sheet's used-range hint, grown to cover rows appended below it and columns added."""
    m = DIMENSION.search(prefix)
    if m is None:
        return prefix
    end_letters, end_row = (m.group(3), m.group(4)) if m.group(3) else (m.group(1), m.group(2))  # "A1": one cell
    rows, columns = int(end_row), column_index_from_string(end_letters.decode())
    if rows >= last_row and columns >= last_column:
        return prefix
    letters = get_column_letter(max(columns, last_column)).encode()
    return (prefix[:m.start()] + b'<dimension ref="%s%s:%s%d"/>' % (m.group(1), m.group(2), letters, max(rows, last_row))
            + prefix[m.end():])


def locate_rows(xml: bytes, span: tuple[int, int], rows, *, missing_ok: bool = False
                 ) -> list[tuple[int, int, int, bytes]] | None:
    """(r, start, end, open tag) of each of ``rows`` (ascending), found by jumping straight to
    ``<row r="N"`` — rows are stored in order, ``r`` first, by every office suite. None when one is
    not found that way; with ``missing_ok`` a row that does not exist is (r, at, at, b"") where it
    belongs (before the first row below it)."""
    out = []
    pos, stop = span
    checked = False
    for r in rows:
        start = xml.find(b'<row r="%d"' % r, pos, stop)
        if start < 0:
            if not missing_ok:
                return None
            if not checked:  # where a row belongs can only be told when every row is spelled and ordered so
                if ascending_rows(xml, span) is None:
                    return None
                checked = True
            at = _row_after(xml, pos, stop, r)
            if at is None:
                return None
            out.append((r, at, at, b""))
            pos = at
            continue
        head_end = xml.index(b">", start) + 1
        head = xml[start:head_end]
        end = head_end if head.endswith(b"/>") else xml.index(b"</row>", head_end) + len(b"</row>")
        out.append((r, start, end, head))
        pos = end
    return out


ROW_HEAD = re.compile(rb'<row r="(\d+)"')


def ascending_rows(xml: bytes, span: tuple[int, int], after: int = 0) -> int | None:
    """The number of the last row in ``span`` (``after`` when there is none) when every row there
    is spelled ``<row r="N"`` and the numbers ascend from above ``after``; None otherwise (one pass)."""
    last, seen = after, 0
    for m in ROW_HEAD.finditer(xml, *span):
        n = int(m.group(1))
        if n <= last:
            return None
        last, seen = n, seen + 1
    return last if xml.count(b"<row", *span) == seen else None


def _row_after(xml: bytes, pos: int, stop: int, r: int) -> int | None:
    """Where the first row below row ``r`` starts (``stop`` when none), in a sheet whose rows
    :func:`ascending_rows` has checked; None when row ``r`` exists after all."""
    for m in ROW_HEAD.finditer(xml, pos, stop):
        n = int(m.group(1))
        if n >= r:
            return m.start() if n > r else None
    return stop


def _patch_rows_in_order(xml: bytes, span: tuple[int, int], edits: dict[int, dict[int, Edit]], styles: Styles,
                         date1904: bool) -> tuple[list, list[Change]] | None:
    """Splice each edited row in place: a daily refresh edits a few thousand rows of a register
    that has fifty thousand. None when the rows cannot be located so."""
    located = locate_rows(xml, span, sorted(edits), missing_ok=True)
    if located is None:
        return None
    view = memoryview(xml)
    out: list = []
    pos, stop = span
    changes: list[Change] = []
    bodies = CellBodies(date1904)
    for r, start, end, head in located:
        out.append(view[pos:start])
        out.append(patch_row(xml[start:end], head, r, edits[r], styles, date1904, changes, bodies))
        pos = end
    out.append(view[pos:stop])
    return out, changes


def _patch_rows_by_regex(body: bytes, edits: dict[int, dict[int, Edit]], styles: Styles, date1904: bool
                         ) -> tuple[list, list[Change]]:
    out: list = []
    changes: list[Change] = []
    pos = 0
    pending = set(edits)
    for m in _ROW.finditer(body):
        row_xml = m.group(0)
        head = row_xml[: row_xml.index(b">") + 1]
        r_attr = attr(head, b"r")
        if r_attr is None:
            raise PatchUnsupported("row without r")
        r = int(r_attr)
        if r not in edits:
            continue
        pending.discard(r)
        out.append(body[pos:m.start()])
        out.append(patch_row(row_xml, head, r, edits[r], styles, date1904, changes))
        pos = m.end()
    if pending:
        raise PatchUnsupported(f"rows {sorted(pending)[:3]} do not exist")
    out.append(body[pos:])
    return out, changes


def patch_row(row_xml: bytes, head: bytes, r: int, row_edits: dict[int, Edit], styles: Styles, date1904: bool,
               changes: list[Change], bodies: CellBodies | None = None) -> bytes:
    """Row ``r`` (its XML, empty for a new row) with ``row_edits`` spliced in. The changes are
    appended to ``changes``, one list for the whole sheet: a first refresh edits every row of a
    large register, and a list per row or cell would add up."""
    row_style = int(attr(head, b"s") or 0) if attr(head, b"customFormat") in (b"1", b"true") else 0
    spans = _cells_in_place(row_xml, len(head), r, row_edits) if row_xml else None
    if spans is not None:  # every edited cell exists: replace just those, the rest of the row is kept as is
        pieces, pos = [], 0
        for col, (start, end) in spans:
            cell = row_xml[start:end]
            new = edited_cell(cell, cell[2:cell.index(b">")], col, r, row_edits[col], row_style, styles, date1904,
                               changes, bodies)
            if new is not None:
                pieces += [row_xml[pos:start], new]
                pos = end
        return b"".join(pieces + [row_xml[pos:]]) if pieces else row_xml
    if row_xml.endswith(b"</row>") and _all_after_last_cell(row_xml, len(head), r, min(row_edits)):
        # sheetdesk's columns come after the people's: its new cells go at the end, nothing to re-order
        new_cells = [cell for cell in (edited_cell(None, b"", col, r, e, row_style, styles, date1904, changes, bodies)
                                       for col, e in sorted(row_edits.items())) if cell is not None]
        if not new_cells:
            return row_xml
        return SPANS.sub(b"", head) + row_xml[len(head):-len(b"</row>")] + b"".join(new_cells) + b"</row>"
    cells: dict[int, bytes] = {}
    attrs: dict[int, bytes] = {}
    if not row_xml:  # a new row (appended by add or log)
        open_tag = b'<row r="%d">' % r
    elif row_xml.endswith(b"/>") and row_xml.startswith(head) and head.endswith(b"/>"):
        open_tag = head[:-2] + b">"
    else:
        open_tag = head
        for m in CELL_ATTRS.finditer(row_xml, len(head)):
            ref = ATTR_R.search(m.group(1))
            if not ref or not ref.group(1):
                raise PatchUnsupported("cell without r")
            col = column_of(ref.group(1))
            cells[col] = m.group(0)
            attrs[col] = m.group(1)
    for col, e in sorted(row_edits.items()):
        new = edited_cell(cells.get(col), attrs.get(col, b""), col, r, e, row_style, styles, date1904, changes, bodies)
        if new is not None:
            cells[col] = new
    open_tag = SPANS.sub(b"", open_tag)  # cells may have been added: the optional hint would be stale
    return open_tag + b"".join(cells[c] for c in sorted(cells)) + b"</row>"


def _all_after_last_cell(row_xml: bytes, after: int, r: int, first_edited: int) -> bool:
    """The row's cells (in order, each spelled ``<c r=``) all lie left of ``first_edited``."""
    last = row_xml.rfind(b"<c ", after)
    if last < 0:
        return True
    m = CELL_REF.match(row_xml, last)
    return m is not None and int(m.group(2)) == r and column_of(m.group(1)) < first_edited


def _cells_in_place(row_xml: bytes, after: int, r: int, row_edits: dict[int, Edit]
                    ) -> list[tuple[int, tuple[int, int]]] | None:
    """(column, (start, end)) of each edited cell, in row order, found by its ``r``; None when one
    is missing (it must be inserted in column order: the caller parses the row)."""
    out = []
    for col in row_edits:
        start = row_xml.find(b'<c r="%s%d"' % (letters_of(col), r), after)
        if start < 0:
            return None
        out.append((col, (start, cell_end(row_xml, start))))
    out.sort(key=lambda item: item[1][0])
    return out


SPANS = re.compile(rb'\s+spans="[^"]*"')

"""The package-patching save engine: rewrite only the cells sheetdesk owns, copy every other part.

openpyxl rebuilds the whole file — slow on a big register, and it drops what it does not model
(charts, pictures, x14 extensions). This engine streams the XML of the sheets sheetdesk edits, splices
new ``<c>`` elements into the rows that change, adds the few cell formats it needs to styles.xml,
regenerates its own sheets, and copies every other part of the zip byte for byte — so images,
charts, pivot tables, macros and unknown extensions survive by construction.

It handles the files sheetdesk itself and the office suites write. Anything unexpected (a row or
cell without its ``r`` address, a generated sheet that does not exist yet, edits in rows that do
not exist) raises :class:`PatchUnsupported` and the caller falls back to the openpyxl engine.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import zipfile
import xml.parsers.expat
import zlib
from array import array
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from xml.sax.saxutils import escape

from sheetdesk.errors import WriteFailed
from sheetdesk.schema import COUNTER, SHEETS_BY_KEY
from sheetdesk.workbook import counter as counter_sheet
from sheetdesk.workbook.cells import CELL_REF, EPOCH_1900, EPOCH_1904, ILLEGAL_CHARACTERS_RE, to_excel
from sheetdesk.workbook.cells import column_index as column_index_from_string
from sheetdesk.workbook.cells import column_letter as get_column_letter
from sheetdesk.workbook.fastread import FastReadUnsupported, FastWorkbook, sheet_data_blocks, sheet_xml_blocks
from sheetdesk.workbook.marks import marked_sheets, with_marks
from sheetdesk.workbook.opc import (NS_REL, UnexpectedPackage, add_worksheet, attr, comment_drawing, set_attr,
                                    sheet_parts, unescape_attr)
from sheetdesk.workbook.reader import Book
from sheetdesk.workbook.edits import (FILL_COLOURS, KEEP, MARK_COLOURS, NUMBER_FORMATS, OWN_COLOURS, PRINT_FOOTER,
                                     PRINT_PAPER, PRINT_TITLE_ROWS, CellWrite, Change, GeneratedSheet, may_refill,
                                     same_value)
from sheetdesk.workbook.zipcopy import Packed, pack, same_raw, write_package

HEADER_GREY, HEADER_BLUE = "FFD9D9D9", "FFDDEBF7"

_ROW = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)
_ATTR_R = re.compile(rb'\br="([A-Z]+)?(\d+)"')
_ATTR_S = re.compile(rb'\bs="(\d+)"')
_CELL_ATTRS = re.compile(rb"<c\b([^>]*?)(?:/>|>.*?</c>)", re.S)  # a cell, and its attributes


@functools.lru_cache(maxsize=16384)
def _column_index(letters: bytes) -> int:
    return column_index_from_string(letters.decode())


class PatchUnsupported(Exception):
    """This package needs the openpyxl engine (the caller falls back)."""


# --- styles ---------------------------------------------------------------------------------

class Styles:
    """cellXfs, fills, fonts and number formats of styles.xml, extended only by what is missing."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        self.fills = self._items(b"fills", b"fill")
        self.fonts = self._items(b"fonts", b"font")
        self.xfs = self._items(b"cellXfs", b"xf")
        self.numfmts = {int(m.group(1)): m.group(2).decode("utf-8")
                        for m in re.finditer(rb'<numFmt\b[^>]*numFmtId="(\d+)"[^>]*formatCode="([^"]*)"', xml)}
        self.changed = False
        self._xf_cache: dict[tuple, int] = {}
        self._numfmt_cache: dict[int, int] = {}
        self._fill_cache: dict[int, str | None] = {}

    def _items(self, container: bytes, item: bytes) -> list[bytes]:
        m = re.search(rb"<" + container + rb"\b[^>]*?(?:/>|>(.*?)</" + container + rb">)", self.xml, re.S)
        if not m or m.group(1) is None:
            return []
        pattern = re.compile(rb"<" + item + rb"\b[^>]*?(?:/>|>.*?</" + item + rb">)", re.S)
        return pattern.findall(m.group(1))

    def fill_key(self, xf_index: int) -> str | None:
        if xf_index >= len(self.xfs):
            return None
        if xf_index not in self._fill_cache:
            self._fill_cache[xf_index] = self._fill_key(xf_index)
        return self._fill_cache[xf_index]

    def _fill_key(self, xf_index: int) -> str | None:
        fill_id = int(attr(self.xfs[xf_index], b"fillId") or 0)
        if fill_id >= len(self.fills):
            return None
        fill = self.fills[fill_id]
        if b'patternType="solid"' not in fill:
            return None
        rgb = re.search(rb'<fgColor\b[^>]*rgb="([0-9A-Fa-f]{8})"', fill)
        colour = rgb.group(1).decode().upper() if rgb else None
        for key, own in OWN_COLOURS.items():
            if colour == own:
                return key
        return "other"

    def mark_styles(self) -> dict[int, str]:
        """xf index -> "error" | "warning" for the cell formats whose fill is a problem mark."""
        return {i: key for i in range(len(self.xfs)) if (key := self.fill_key(i)) in MARK_COLOURS}

    def _index(self, items: list[bytes], new: bytes) -> int:
        if new in items:
            return items.index(new)
        items.append(new)
        self.changed = True
        return len(items) - 1

    def fill_id(self, rgb: str | None) -> int:
        if rgb is None:
            return 0
        return self._index(self.fills, (f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/>'
                                        f'<bgColor indexed="64"/></patternFill></fill>').encode())

    def numfmt_id(self, code: str) -> int:
        builtin = {"General": 0, "@": 49}  # 14 is locale-dependent, so dates get their own format
        if code in builtin:
            return builtin[code]
        for fid, existing in self.numfmts.items():
            if existing == code:
                return fid
        fid = max([163, *self.numfmts]) + 1
        self.numfmts[fid] = code
        self.changed = True
        return fid

    def bold_font(self, italic: bool = False) -> int:
        base = self.fonts[0] if self.fonts else b"<font/>"
        inner = b"<b/>" + (b"<i/>" if italic else b"")
        new = re.sub(rb"<font\b([^>]*)/>", rb"<font\1>" + inner + rb"</font>", base, count=1) if base.endswith(b"/>") \
            else re.sub(rb"<font\b([^>]*)>", rb"<font\1>" + inner, base, count=1)
        return self._index(self.fonts, new)

    def xf(self, base: int, *, fill: object = KEEP, numfmt: str | None = None, font: int | None = None) -> int:
        """The index of ``base`` with a different fill / number format / font (added when new)."""
        key = (base, fill if fill is KEEP or fill is None or isinstance(fill, str) else id(fill), numfmt, font)
        known = self._xf_cache.get(key)
        if known is None:
            known = self._xf_cache[key] = self._xf(base, fill=fill, numfmt=numfmt, font=font)
        return known

    def _xf(self, base: int, *, fill: object = KEEP, numfmt: str | None = None, font: int | None = None) -> int:
        tag = self.xfs[base] if base < len(self.xfs) else b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        if fill is not KEEP:  # None clears; "red", "error"... are sheetdesk's; anything else is an ARGB colour
            fid = self.fill_id(OWN_COLOURS.get(fill, fill) if isinstance(fill, str) else None)
            tag = set_attr(tag, b"fillId", str(fid).encode())
            tag = set_attr(tag, b"applyFill", b"1")
        if numfmt is not None:
            tag = set_attr(tag, b"numFmtId", str(self.numfmt_id(numfmt)).encode())
            tag = set_attr(tag, b"applyNumberFormat", b"1")
        if font is not None:
            tag = set_attr(tag, b"fontId", str(font).encode())
            tag = set_attr(tag, b"applyFont", b"1")
        return self._index(self.xfs, tag)

    def numfmt_of(self, xf_index: int) -> int:
        if xf_index >= len(self.xfs):
            return 0
        known = self._numfmt_cache.get(xf_index)
        if known is None:  # xfs are only ever appended, so an index keeps its format
            known = self._numfmt_cache[xf_index] = int(attr(self.xfs[xf_index], b"numFmtId") or 0)
        return known

    def is_general(self, xf_index: int) -> bool:
        """The cell format shows numbers as they are: built-in 0, or a custom format whose code is
        "General" (LibreOffice saves its default cell format that way, as numFmtId 164)."""
        fid = self.numfmt_of(xf_index)
        return fid == 0 or self.numfmts.get(fid, "").lower() == "general"

    def to_xml(self) -> bytes:
        xml = self.xml
        for container, items in ((b"fills", self.fills), (b"fonts", self.fonts), (b"cellXfs", self.xfs)):
            body = b"".join(items)
            new = b"<" + container + b' count="' + str(len(items)).encode() + b'">' + body + b"</" + container + b">"
            xml = re.sub(rb"<" + container + rb"\b[^>]*?(?:/>|>.*?</" + container + rb">)", lambda m: new, xml,
                         count=1, flags=re.S)
        fmts = b"".join(f'<numFmt numFmtId="{i}" formatCode="{escape(c, {chr(34): "&quot;"})}"/>'.encode()
                        for i, c in sorted(self.numfmts.items()))
        block = b'<numFmts count="' + str(len(self.numfmts)).encode() + b'">' + fmts + b"</numFmts>"
        if re.search(rb"<numFmts\b", xml):
            xml = re.sub(rb"<numFmts\b[^>]*?(?:/>|>.*?</numFmts>)", lambda m: block, xml, count=1, flags=re.S)
        elif self.numfmts:
            xml = re.sub(rb"(<styleSheet\b[^>]*>)", lambda m: m.group(1) + block, xml, count=1)
        return xml


# --- cells ----------------------------------------------------------------------------------

def _cell_xml(ref: str, value: object, style: int, date1904: bool) -> bytes:
    s = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{ref}"{s}/>'.encode()
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'.encode()
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'.encode()
    if isinstance(value, (datetime, date, time)):
        serial = to_excel(value, EPOCH_1904 if date1904 else EPOCH_1900)
        return f'<c r="{ref}"{s}><v>{serial!r}</v></c>'.encode()
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    text = escape(text, {"\r": "&#13;"})  # a bare CR would be read back as LF
    return (f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>').encode("utf-8")


@dataclass(slots=True)
class _Edit:
    col: int
    value: object
    fill: object
    numfmt: str | None
    only_if_blank: bool
    change_sheet: str
    change_col: str
    old: object
    header_font: bool = False
    mark: bool = False  # the fill marks a problem (see CellWrite.mark)


def _styles_at(body: bytes, columns: set[int], rows: int, span: tuple[int, int] = (0, 2**62)) -> dict[int, array]:
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
    if _NOT_R_FIRST.search(body, *span):  # some cell has attributes before its r
        pattern = rb'<c\b(?=[^>]*?\br="(' + letters + rb')(\d+)")(?=[^>]*?\bs="(\d+)")'
    for m in re.compile(pattern).finditer(body, *span):
        r = int(m.group(2))
        if r <= rows:
            index[m.group(1)][r] = int(m.group(3))


def _styles_streamed(z: zipfile.ZipFile, part: str, columns: set[int], rows: int) -> dict[int, array]:
    """:func:`_styles_at` over a part read block by block: the register's XML (tens of megabytes)
    is not held while the rules' objects are."""
    out = {c: array("I", bytes(4 * (rows + 1))) for c in columns}
    for body in sheet_data_blocks(z, part):
        _styles_into(body, out, rows)
    return out


_NOT_R_FIRST = re.compile(rb"<c (?!r=)")


def _sheet_body(xml: bytes) -> tuple[int, int]:
    """(start, end) of the content of ``<sheetData>``."""
    start = xml.find(b"<sheetData")
    if start < 0:
        raise PatchUnsupported("no sheetData")
    open_end = xml.index(b">", start) + 1
    if xml[open_end - 2:open_end] == b"/>":
        raise PatchUnsupported("empty sheetData")
    return open_end, xml.index(b"</sheetData>", open_end)


def _patched_sequence(xml: bytes, edits: dict[int, dict[int, _Edit]], styles: Styles, date1904: bool,
                      changes: list[Change]) -> list:
    """The new sheet as [what precedes sheetData's rows, the rows before the first edited one,
    edited row, rows up to the next one, ..., last edited row, the rows after it, the rest] — the
    unedited stretches are views into ``xml``, never copied; the whole is deflated as it streams."""
    open_end, end = _sheet_body(xml)
    view = memoryview(xml)
    out = _patch_rows_in_order(xml, (open_end, end), edits, styles, date1904, changes)
    if out is None:  # rows not in order, or written with their r later in the tag: walk every row
        out = _patch_rows_by_regex(xml[open_end:end], edits, styles, date1904, changes)
    last_column = max(c for row in edits.values() for c in row)
    return [_grown_dimension(xml[:open_end], max(edits), last_column), *out, view[end:]]


_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"\s*/>')


class _NotStreamable(Exception):
    """The sheet's rows are not all spelled ``<row r="N"`` in ascending order: splice it whole."""


def _streamed_sequence(z: zipfile.ZipFile, part: str, edits: dict[int, dict[int, _Edit]], styles: Styles,
                       date1904: bool, changes: list[Change], verdict: list) -> Iterator[bytes | memoryview]:
    """The new sheet as :func:`_patched_sequence` would give it, made while the old one is inflated
    a block of whole rows at a time (:func:`~sheetdesk.workbook.fastread.sheet_xml_blocks`): the
    register's XML is never held whole. Each block's spliced rows are checked against the block they
    came from as they are made (:func:`_spliced_only`); ``verdict[0]`` gets the first problem found,
    or None when a block's rows could not be located that way. Raises _NotStreamable, before any
    edit is decided, when the rows are not in order."""
    rows = sorted(edits)
    last, at, ended = 0, 0, False
    for kind, data in sheet_xml_blocks(z, part):
        if kind == "head":
            if b"<sheetData" not in data:
                raise PatchUnsupported("no sheetData")
            if data.endswith(b"/>"):
                raise PatchUnsupported("empty sheetData")
            grown = _grown_dimension(data, rows[-1], max(c for row in edits.values() for c in row))
            if _DIMENSION.sub(b"", data) != _DIMENSION.sub(b"", grown):
                verdict[0] = ("的表头部分在保存后不一致", "changed before its first row")
            yield grown
        elif kind == "rows":
            last = _ascending_rows(data, (0, len(data)), after=last)
            if last is None:
                raise _NotStreamable(part)
            stop = bisect.bisect_right(rows, last, at)
            if stop > at:
                yield from _spliced_block(data, {r: edits[r] for r in rows[at:stop]}, styles, date1904, changes,
                                          verdict)
                at = stop
            else:
                yield data
        else:  # the tail; rows below the last one (appended by add or log) go just before it
            if at < len(rows):
                yield from _spliced_block(b"", {r: edits[r] for r in rows[at:]}, styles, date1904, changes, verdict)
                at = len(rows)
            ended = True
            yield data
    if not ended:
        raise PatchUnsupported("no </sheetData>")


def _spliced_block(body: bytes, edits: dict[int, dict[int, _Edit]], styles: Styles, date1904: bool,
                   changes: list[Change], verdict: list) -> list:
    """One block of whole rows with its edits spliced in, checked against the block itself."""
    xml = b"<sheetData>" + body + b"</sheetData>"
    found: list[Change] = []
    sequence = _patched_sequence(xml, edits, styles, date1904, found)
    columns = {(r, e.change_col): e.col for r, row in edits.items() for e in row.values()}
    written = {(c.row, columns[(c.row, c.column)]) for c in found if (c.row, c.column) in columns}
    problem = _spliced_only(xml, sequence, sorted(edits), written)
    if verdict[0] == () and problem != ():
        verdict[0] = problem
    changes += found
    return sequence[1:-1]


def _grown_dimension(prefix: bytes, last_row: int, last_column: int) -> bytes:
    """The sheet's used-range hint, grown to cover rows appended below it and columns added."""
    m = _DIMENSION.search(prefix)
    if m is None:
        return prefix
    end_letters, end_row = (m.group(3), m.group(4)) if m.group(3) else (m.group(1), m.group(2))  # "A1": one cell
    rows, columns = int(end_row), column_index_from_string(end_letters.decode())
    if rows >= last_row and columns >= last_column:
        return prefix
    letters = get_column_letter(max(columns, last_column)).encode()
    return (prefix[:m.start()] + b'<dimension ref="%s%s:%s%d"/>' % (m.group(1), m.group(2), letters, max(rows, last_row))
            + prefix[m.end():])


def _locate_rows(xml: bytes, span: tuple[int, int], rows, *, missing_ok: bool = False
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
                if _ascending_rows(xml, span) is None:
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


_ROW_HEAD = re.compile(rb'<row r="(\d+)"')


def _ascending_rows(xml: bytes, span: tuple[int, int], after: int = 0) -> int | None:
    """The number of the last row in ``span`` (``after`` when there is none) when every row there
    is spelled ``<row r="N"`` and the numbers ascend from above ``after``; None otherwise (one pass)."""
    last, seen = after, 0
    for m in _ROW_HEAD.finditer(xml, *span):
        n = int(m.group(1))
        if n <= last:
            return None
        last, seen = n, seen + 1
    return last if xml.count(b"<row", *span) == seen else None


def _row_after(xml: bytes, pos: int, stop: int, r: int) -> int | None:
    """Where the first row below row ``r`` starts (``stop`` when none), in a sheet whose rows
    :func:`_ascending_rows` has checked; None when row ``r`` exists after all."""
    for m in _ROW_HEAD.finditer(xml, pos, stop):
        n = int(m.group(1))
        if n >= r:
            return m.start() if n > r else None
    return stop


def _patch_rows_in_order(xml: bytes, span: tuple[int, int], edits: dict[int, dict[int, _Edit]], styles: Styles,
                         date1904: bool, changes: list[Change]) -> list | None:
    """Splice each edited row in place: a daily refresh edits a few thousand rows of a register
    that has fifty thousand."""
    located = _locate_rows(xml, span, sorted(edits), missing_ok=True)
    if located is None:
        return None
    view = memoryview(xml)
    out: list = []
    pos, stop = span
    found: list[Change] = []
    bodies = _CellBodies(date1904)
    for r, start, end, head in located:
        out.append(view[pos:start])
        out.append(_patch_row(xml[start:end], head, r, edits[r], styles, date1904, found, bodies))
        pos = end
    out.append(view[pos:stop])
    changes.extend(found)
    return out


def _patch_rows_by_regex(body: bytes, edits: dict[int, dict[int, _Edit]], styles: Styles, date1904: bool,
                         changes: list[Change]) -> list[bytes]:
    out: list[bytes] = []
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
        out.append(_patch_row(row_xml, head, r, edits[r], styles, date1904, changes))
        pos = m.end()
    if pending:
        raise PatchUnsupported(f"rows {sorted(pending)[:3]} do not exist")
    out.append(body[pos:])
    return out


def _patch_row(row_xml: bytes, head: bytes, r: int, row_edits: dict[int, _Edit], styles: Styles, date1904: bool,
               changes: list[Change], bodies: _CellBodies | None = None) -> bytes:
    row_style = int(attr(head, b"s") or 0) if attr(head, b"customFormat") in (b"1", b"true") else 0
    spans = _cells_in_place(row_xml, len(head), r, row_edits) if row_xml else None
    if spans is not None:  # every edited cell exists: replace just those, the rest of the row is kept as is
        pieces, pos = [], 0
        for col, (start, end) in spans:
            cell = row_xml[start:end]
            new = _edited_cell(cell, cell[2:cell.index(b">")], col, r, row_edits[col], row_style, styles, date1904,
                               changes, bodies)
            if new is not None:
                pieces += [row_xml[pos:start], new]
                pos = end
        return b"".join(pieces + [row_xml[pos:]]) if pieces else row_xml
    if row_xml.endswith(b"</row>") and _all_after_last_cell(row_xml, len(head), r, min(row_edits)):
        # sheetdesk's columns come after the people's: its new cells go at the end, nothing to re-order
        new_cells = [cell for cell in (_edited_cell(None, b"", col, r, e, row_style, styles, date1904, changes, bodies)
                                       for col, e in sorted(row_edits.items())) if cell is not None]
        if not new_cells:
            return row_xml
        return _SPANS.sub(b"", head) + row_xml[len(head):-len(b"</row>")] + b"".join(new_cells) + b"</row>"
    cells: dict[int, bytes] = {}
    attrs: dict[int, bytes] = {}
    if not row_xml:  # a new row (appended by add or log)
        open_tag = b'<row r="%d">' % r
    elif row_xml.endswith(b"/>") and row_xml.startswith(head) and head.endswith(b"/>"):
        open_tag = head[:-2] + b">"
    else:
        open_tag = head
        for m in _CELL_ATTRS.finditer(row_xml, len(head)):
            ref = _ATTR_R.search(m.group(1))
            if not ref or not ref.group(1):
                raise PatchUnsupported("cell without r")
            col = _column_index(ref.group(1))
            cells[col] = m.group(0)
            attrs[col] = m.group(1)
    for col, e in sorted(row_edits.items()):
        new = _edited_cell(cells.get(col), attrs.get(col, b""), col, r, e, row_style, styles, date1904, changes, bodies)
        if new is not None:
            cells[col] = new
    open_tag = _SPANS.sub(b"", open_tag)  # cells may have been added: the optional hint would be stale
    return open_tag + b"".join(cells[c] for c in sorted(cells)) + b"</row>"


def _all_after_last_cell(row_xml: bytes, after: int, r: int, first_edited: int) -> bool:
    """The row's cells (in order, each spelled ``<c r=``) all lie left of ``first_edited``."""
    last = row_xml.rfind(b"<c ", after)
    if last < 0:
        return True
    m = CELL_REF.match(row_xml, last)
    return m is not None and int(m.group(2)) == r and _column_index(m.group(1)) < first_edited


def _cells_in_place(row_xml: bytes, after: int, r: int, row_edits: dict[int, _Edit]
                    ) -> list[tuple[int, tuple[int, int]]] | None:
    """(column, (start, end)) of each edited cell, in row order, found by its ``r``; None when one
    is missing (it must be inserted in column order: the caller parses the row)."""
    out = []
    for col in row_edits:
        start = row_xml.find(b'<c r="%s%d"' % (_letters(col), r), after)
        if start < 0:
            return None
        out.append((col, (start, _cell_end(row_xml, start))))
    out.sort(key=lambda item: item[1][0])
    return out


def _cell_end(row_xml: bytes, start: int) -> int:
    """Where the cell starting at ``start`` ends (``<c .../>`` or ``<c ...>...</c>``)."""
    tag_end = row_xml.index(b">", start)
    return tag_end + 1 if row_xml[tag_end - 1] == 47 else row_xml.index(b"</c>", tag_end) + 4  # 47: "/"


def _edited_cell(existing: bytes | None, attrs: bytes, col: int, r: int, e: _Edit, row_style: int, styles: Styles,
                 date1904: bool, changes: list[Change], bodies: _CellBodies | None) -> bytes | None:
    """The cell's new XML, or None when it stays as it is."""
    own = _ATTR_S.search(attrs) if existing is not None else None
    base = int(own.group(1)) if own else row_style
    old = e.old
    if e.only_if_blank and not (old is None or (isinstance(old, str) and not old.strip())):
        return None
    if e.only_if_blank and existing is not None and (b"<f" in existing or b't="e"' in existing):
        return None  # a formula or an error value is something a person put there
    new = ILLEGAL_CHARACTERS_RE.sub("", e.value) if isinstance(e.value, str) else e.value
    value_changed = new is not KEEP and not same_value(old, new)
    style = base
    if value_changed and new is not None and e.numfmt and styles.is_general(base):
        style = styles.xf(style, numfmt=e.numfmt)
    if e.header_font:
        style = styles.xf(style, fill=HEADER_GREY, font=styles.bold_font(italic=True))
    fill_changed = False
    if e.fill is not KEEP:
        current = styles.fill_key(base)
        if may_refill(current, e.fill, e.mark):
            style = styles.xf(style, fill=e.fill)
            fill_changed = True
            changes.append(Change(e.change_sheet, r, e.change_col, f"fill:{current}", f"fill:{e.fill}"))
    if value_changed:
        changes.append(Change(e.change_sheet, r, e.change_col, old, new))
    if not (value_changed or fill_changed or style != base):
        return None
    if existing is not None and not value_changed:  # only the style changes: keep the cell's own value XML
        return _restyle(existing, style)
    ref = f"{get_column_letter(col)}{r}"
    value = new if value_changed else old
    if value is None or value == "" or bodies is None:
        return _cell_xml(ref, value, style, date1904)
    return (f'<c r="{ref}"' + (f' s="{style}"' if style else "") + bodies(value)).encode("utf-8")


def _restyle(cell: bytes, style: int) -> bytes:
    end = cell.index(b">") + 1
    head = cell[:end]
    closing = head.endswith(b"/>")
    tag = head[:-2] if closing else head[:-1]
    tag = set_attr(tag, b"s", str(style).encode())
    return tag + (b"/>" if closing else b">") + cell[end:]


# --- generated sheets -----------------------------------------------------------------------

#: rows per piece of a generated sheet handed to the compressor
CHUNK_ROWS = 2000


def _generated_chunks(gen: GeneratedSheet, styles: Styles, date1904: bool,
                      legacy_drawing: str | None = None) -> Iterator[bytes]:
    """The sheet's XML in pieces (head first): it is deflated as it is produced, never held whole.
    ``legacy_drawing``: the relationship id of the sheet's comment drawing (its header notes), which
    the sheet must name for the notes to stay hidden until pointed at."""
    bold = styles.bold_font()
    grey = styles.xf(0, fill=HEADER_GREY, font=bold)
    blue = styles.xf(0, fill=HEADER_BLUE, font=bold)
    dt = styles.xf(0, numfmt=NUMBER_FORMATS["datetime"])
    day = styles.xf(0, numfmt=NUMBER_FORMATS["date"])
    bases = {"": 0, "datetime": dt, "date": day}
    fills = {(key, kind): styles.xf(base, fill=key) for key in FILL_COLOURS for kind, base in bases.items()}
    last = get_column_letter(max(len(gen.header), 1))
    cols = b"".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'.encode() for i, w in enumerate(gen.widths, 1))
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="' + NS_REL.encode() + b'">'
            + b'<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            + f'<dimension ref="A1:{last}{gen.count + 1}"/>'.encode()
            + b'<sheetViews><sheetView workbookViewId="0"><pane xSplit="1" ySplit="1" topLeftCell="B2" '
              b'activePane="bottomRight" state="frozen"/><selection pane="bottomRight"/></sheetView></sheetViews>'
            + b'<sheetFormatPr defaultRowHeight="15"/>' + (b"<cols>" + cols + b"</cols>" if cols else b"")
            + b"<sheetData>")
    yield head + f'<row r="1">'.encode() + b"".join(
        _cell_xml(f"{get_column_letter(c)}1", h, blue if c - 1 in gen.people_cols else grey, date1904)
        for c, h in enumerate(gen.header, 1)) + b"</row>"
    width = len(gen.header)  # no row is wider than the header
    letters = [get_column_letter(c) for c in range(1, width + 1)]
    kinds = ["datetime" if c in gen.datetime_cols else "date" if c in gen.date_cols else "" for c in range(width)]
    plain = [f' s="{s}"' if s else "" for s in ({"datetime": dt, "date": day}.get(k, 0) for k in kinds)]
    filled = _Filled({(fill, k): f' s="{fills[(fill, k)]}"' for fill in FILL_COLOURS for k in bases})
    filled.make = lambda fill, kind: f' s="{styles.xf(bases[kind], fill=fill)}"'  # a problem mark: added when used
    body = _CellBodies(date1904)
    known = body.cache  # texts repeat (names, states, stage words): looked up here, escaped once
    out: list[bytes] = []
    for r, (values, fill_row) in enumerate(gen.make(), 2):
        at = f'{r}"'
        cells = []
        for letter, value, fill, kind, style in zip(letters, values, fill_row, kinds, plain):
            if value is None or value.__class__ is str and not value:
                if fill is not None:
                    cells.append(f'<c r="{letter}{at}{filled[(fill, "")]}/>')
                continue
            if fill:
                style = filled[(fill, kind)]
            text = known.get(value) if value.__class__ is str else None
            cells.append(f'<c r="{letter}{at}{style}{text or body(value)}')
        if cells:
            out.append(f'<row r="{r}">{"".join(cells)}</row>'.encode("utf-8"))
            if len(out) == CHUNK_ROWS:
                yield b"".join(out)
                out = []
    tail = (b"</sheetData>" + f'<autoFilter ref="A1:{last}{gen.table_rows + 1}"/>'.encode()
            + b'<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>' + _PRINT_SETUP
            + (f'<legacyDrawing r:id="{escape(legacy_drawing)}"/>'.encode() if legacy_drawing else b"")
            + b"</worksheet>")
    yield b"".join(out) + tail


#: a generated sheet's print layout, as the openpyxl engine writes it (writer.print_setup)
_PRINT_SETUP = (f'<pageSetup paperSize="{PRINT_PAPER}" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
                f"<headerFooter><oddFooter>{escape(PRINT_FOOTER)}</oddFooter></headerFooter>").encode()
_PRINT_TITLES = re.compile(rb'<definedName\b[^>]*\bname="_xlnm\.Print_Titles"[^>]*>')


def _with_print_titles(workbook_xml: bytes, names: list[str]) -> bytes:
    """workbook.xml with row 1 of each of ``names`` (sheetdesk's own sheets) as its print titles
    (the defined name ``_xlnm.Print_Titles``, scoped to the sheet by its position among the tabs).
    A sheet that has print titles keeps them."""
    positions = []
    for m in re.finditer(rb"<sheet\b[^>]*/>", workbook_xml):
        name = attr(m.group(0), b"name")
        positions.append(None if name is None else unescape_attr(name.decode("utf-8")))
    have = {attr(m.group(0), b"localSheetId") for m in _PRINT_TITLES.finditer(workbook_xml)}
    added = b""
    for name in names:
        if name not in positions or str(positions.index(name)).encode() in have:
            continue
        quoted = "'" + name.replace("'", "''") + "'"
        added += (f'<definedName name="_xlnm.Print_Titles" localSheetId="{positions.index(name)}">'
                  f"{escape(quoted)}!{PRINT_TITLE_ROWS}</definedName>").encode("utf-8")
    if not added:
        return workbook_xml
    if b"</definedNames>" in workbook_xml:
        return workbook_xml.replace(b"</definedNames>", added + b"</definedNames>", 1)
    if b"<definedNames/>" in workbook_xml:
        return workbook_xml.replace(b"<definedNames/>", b"<definedNames>" + added + b"</definedNames>", 1)
    # definedNames follow sheets, functionGroups and externalReferences (CT_Workbook's order)
    for after in (b"</externalReferences>", b"</functionGroups>", b"<functionGroups/>", b"</sheets>"):
        at = workbook_xml.find(after)
        if at >= 0:
            at += len(after)
            return workbook_xml[:at] + b"<definedNames>" + added + b"</definedNames>" + workbook_xml[at:]
    raise PatchUnsupported("no </sheets> in workbook.xml")


class _Filled(dict):
    """(fill, kind) -> a cell's style attribute; made on first use for fills that are rarely there."""
    make = None

    def __missing__(self, key):
        value = self[key] = self.make(*key)
        return value


_LEAP_BUG_END = datetime(1900, 3, 1)  # before it, Excel's serials count a 29 Feb 1900 that never was


class _CellBodies:
    """What follows ``<c r=".." s=".."`` for a value, as :func:`_cell_xml` writes it; repeated
    texts are escaped once."""

    def __init__(self, date1904: bool) -> None:
        self.date1904 = date1904
        self.epoch = EPOCH_1904 if date1904 else EPOCH_1900
        self.cache: dict[object, str] = {}

    def __call__(self, value: object) -> str:
        if value.__class__ is str:
            known = self.cache.get(value)
            if known is not None:
                return known
        elif value.__class__ is datetime and value >= _LEAP_BUG_END:  # due and done times: most of the cells
            days = (value - self.epoch).days
            serial = days + (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 10**6) / 86400
            return f"><v>{serial!r}</v></c>"  # openpyxl's to_excel, without its generality
        text = _cell_xml("", value, 0, self.date1904).decode("utf-8")[len('<c r=""'):]
        # states, stage words, owners and categories repeat and appear in the first rows; IDs and
        # customers do not repeat, and a 50k tracker's worth of them would hold ~15 MB: capped
        if value.__class__ is str and len(self.cache) < 10_000:
            self.cache[value] = text
        return text


def _same_values(ws, gen: GeneratedSheet) -> bool:
    """The sheet (as calamine read it) already holds exactly these values.

    Rows are put in calamine's own spelling ('' for empty, floats, midnight as a date) and compared
    as whole lists, which is exact for what sheetdesk writes; only a row that differs is compared
    cell by cell with the tolerant comparison (a serial that lost a millisecond is still the same).
    """
    have = ws._rows
    want = [gen.header, *(values for values, _ in gen.make())]
    if _rstrip_rows(have) != _rstrip_rows(want):
        return False
    for a, b in zip(have, want):
        b = [_as_calamine(v) for v in b]
        if a == b:
            continue
        a, b = _rstrip(list(a)), _rstrip(b)
        if len(a) != len(b) or not all(same_value(x, y) for x, y in zip(a, b)):
            return False
    return True


def _as_calamine(value: object) -> object:
    if value is None:
        return ""
    cls = value.__class__
    if cls is datetime and not (value.hour or value.minute or value.second or value.microsecond):
        return value.date()
    if cls is int:
        return float(value)
    return value


def _rstrip(row: list[object]) -> list[object]:
    while row and (row[-1] is None or row[-1] == ""):
        row.pop()
    return row


def _rstrip_rows(rows) -> int:
    """How many rows, not counting empty ones at the end."""
    n = len(rows)
    while n and all(v is None or v == "" for v in rows[n - 1]):
        n -= 1
    return n


def _same_values_or_unreadable(book: Book, name: str, gen: GeneratedSheet) -> bool:
    try:
        return _same_values(book.wb[name], gen)
    except FastReadUnsupported:  # read lazily; a sheet calamine cannot read is simply rebuilt
        return False


def _written_by_us(xml: bytes) -> bool:
    """Our generated sheets carry the frozen pane, filter and print layout we write; anything else
    (a sheet another program saved without them, or sheetdesk before it set the print layout) is
    rebuilt once."""
    return (b'topLeftCell="B2"' in xml and b"<autoFilter " in xml and b'orientation="landscape"' in xml
            and b'fitToPage="1"' in xml)


def _counter_xml(book: Book, counter: dict[str, int], filled: dict[str, str] | None = None) -> bytes:
    """Months and their last serials in A:B; the categories sheetdesk filled, by ticket ID, in D:E."""
    first, second = (get_column_letter(c) for c in counter_sheet.FILLED_COLUMNS)
    months = sorted(counter.items())
    memory = counter_sheet.filled_rows(filled or {})
    head = b"".join(_cell_xml(f"{get_column_letter(c)}1", col.name(book.lang), 0, False)
                    for c, col in enumerate(COUNTER.columns, 1))
    if memory:
        head += b"".join(_cell_xml(f"{letter}1", name, 0, False)
                         for letter, name in zip((first, second), counter_sheet.FILLED_HEADERS[book.lang]))
    rows = [b'<row r="1">' + head + b"</row>"]
    for r in range(2, max(len(months), len(memory)) + 2):
        cells = b""
        if r - 2 < len(months):
            month, serial = months[r - 2]
            cells += _cell_xml(f"A{r}", month, 0, False) + _cell_xml(f"B{r}", serial, 0, False)
        if r - 2 < len(memory):
            ticket, category = memory[r - 2]
            cells += _cell_xml(f"{first}{r}", ticket, 0, False) + _cell_xml(f"{second}{r}", category, 0, False)
        rows.append(f'<row r="{r}">'.encode() + cells + b"</row>")
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="'
            + NS_REL.encode() + b'"><sheetData>' + b"".join(rows) + b"</sheetData></worksheet>")


def _frame(xml: bytes) -> bytes:
    """What a generated sheet's XML holds before its rows, without the row count (``dimension``)."""
    end = xml.find(b"<sheetData")
    return re.sub(rb"<dimension\b[^>]*/>", b"", xml[:end]) if end >= 0 else xml


def _still_ours(z: zipfile.ZipFile, part: str, xml: bytes) -> bool:
    """The part starts exactly as sheetdesk writes it now (``xml``: at least that beginning). Every
    office suite that saves the file rewrites a sheet in its own spelling, so these bytes mean
    nobody else has saved it since."""
    head_length = xml.find(b"<sheetData") + 1
    with z.open(part) as fh:
        head = fh.read(head_length + 64)  # the stored dimension may be a few digits longer
    return _frame(head) == _frame(xml) and head.find(b"<sheetData") >= 0


# --- the package ------------------------------------------------------------------------------

@dataclass
class Patch:
    """Everything one refresh writes. Planned in two steps: :func:`plan_patch` decides the edits
    and builds sheetdesk's own sheets while the rules' objects exist; :meth:`splice` then reads the
    edited sheets' XML and splices the edits in — after the caller has let the rules' objects go,
    so the register's XML and the per-ticket picture are never in memory together."""
    source: Path
    parts: dict[str, bytes | Packed]   # part name -> new content (everything else is copied)
    changes: list[Change]
    #: part name -> the rows spliced into it (every other byte of the part is as it was)
    rows: dict[str, set[int]] = field(default_factory=dict)
    #: part name -> its bytes before (for verification, so the large register is not inflated again)
    originals: dict[str, bytes] = field(default_factory=dict)
    #: part name -> the spliced sheet as :func:`_patched_sequence` gives it
    sequences: dict[str, list] = field(default_factory=dict)
    styles: Styles | None = None
    date1904: bool = False
    #: part name -> row -> column -> edit, until :meth:`splice`
    pending: dict[str, dict[int, dict[int, _Edit]]] | None = None
    #: parts spliced as they streamed (their XML was never held whole) -> what checking them found,
    #: block by block as they were spliced: () when only sheetdesk's cells changed, (zh, en) saying
    #: where something else did, None when rows could not be located (compare by re-reading)
    streamed: dict[str, tuple[str, str] | tuple[()] | None] = field(default_factory=dict)

    def splice(self, *, pack_parts: bool = True) -> None:
        """Splice the planned edits into their sheets (the changes are known after this); with
        ``pack_parts`` the new sheets are deflated, ready to save. Raises PatchUnsupported when a
        sheet's rows cannot be spliced."""
        if self.pending is None:
            return
        spliced: list[Change] = []
        with zipfile.ZipFile(self.source) as z:
            for part, edits in self.pending.items():
                self.rows[part] = set(edits)
                found: list[Change] = []
                verdict: list = [()]
                stream = _streamed_sequence(z, part, edits, self.styles, self.date1904, found, verdict)
                try:
                    if pack_parts:  # inflated, spliced, checked and deflated a block at a time
                        self.parts[part] = pack(stream)
                    else:
                        for _ in stream:
                            pass
                    self.streamed[part] = verdict[0]
                except _NotStreamable:  # rows not spelled or stored in order: splice the whole sheet
                    found = []
                    self.originals[part] = xml = z.read(part)
                    self.sequences[part] = _patched_sequence(xml, edits, self.styles, self.date1904, found)
                    if pack_parts:  # never joined: a register's XML is tens of megabytes
                        self.parts[part] = pack(self.sequences[part])
                spliced += found
        self.changes[:0] = spliced
        if self.styles is not None and self.styles.changed and self.parts:
            self.parts["xl/styles.xml"] = self.styles.to_xml()
        self.pending = None

    def save(self, target: Path) -> None:
        self.splice()
        write_package(self.source, target, self.parts)  # other parts: their compressed bytes, as they are


class _SheetEdits:
    """Decides write by write which cells change a value or a fill. A steady-state refresh touches
    few cells; deciding as the writes arrive, before any other object is built, keeps a 50k-row
    register cheap, and the writes themselves are never held as a list."""

    def __init__(self, sheet_key: str, table, styles: Styles, scan, edits: dict[int, dict[int, _Edit]],
                 appended: dict[int, list[object]] | None = None) -> None:
        # a cell's current value comes from the table's records (the grid calamine read is let go
        # once they are made); a row that is not a record holds nothing in the columns sheetdesk
        # writes, and a row being appended holds what the file has there (``appended``: its cells)
        self.sheet_key, self.columns, self.records = sheet_key, table.columns, table.rows  # in row order
        self.numbers = array("l", (r.row for r in table.rows))  # found by bisection: no dict of 100k rows
        self.appended = appended or {}
        self.rows = max(table.header_row, self.numbers[-1] if self.numbers else 0)
        self.styles, self.scan, self.edits = styles, scan, edits
        schema = SHEETS_BY_KEY[sheet_key]
        self.formats = {c.key: NUMBER_FORMATS[c.kind] for c in schema.columns if c.kind in ("datetime", "date")}
        self.owned = {table.columns[c.key] for c in schema.columns if c.owned and c.key in table.columns}
        self.fill_keys: dict[int, str | None] = {}
        self.styles_at: dict[int, array] = {}  # scanned on the first fill to compare
        self.scanned: set[int] = set()
        #: cell (see _COL_BITS) -> "error" | "warning": the problem marks asked for (see finish_marks)
        self.marks: dict[int, str] = {}
        self.header_row = table.header_row
        self.people = {col: key for key, col in table.columns.items() if col not in self.owned}

    def _old(self, r: int, key: str, col: int) -> object:
        cells = self.appended.get(r)
        if cells is not None:
            old = cells[col - 1] if col <= len(cells) else None
            return None if old == "" else old
        i = bisect.bisect_left(self.numbers, r)
        return self.records[i].get(key) if i < len(self.numbers) and self.numbers[i] == r else None

    def add(self, w: CellWrite) -> None:
        col = self.columns[w.column]
        r = w.row
        if w.mark:
            if w.fill:
                self.marks[r << _COL_BITS | col] = w.fill
            return
        old = self._old(r, w.column, col)
        new = w.value
        if w.only_if_blank and old is not None and not (old.__class__ is str and not old.strip()):
            return
        if new is KEEP or old == new or same_value(old, new):
            if w.fill is KEEP:
                return
            if col not in self.scanned:
                self.scanned |= self.owned | {col}
                self.styles_at = self.scan(self.scanned, self.rows)
            styles = self.styles_at[col]
            style = styles[r] if r < len(styles) else 0
            current = self.fill_keys.get(style, KEEP)
            if current is KEEP:
                current = self.fill_keys[style] = self.styles.fill_key(style)
            if current == "other" or current == w.fill:
                return
        self.edits.setdefault(r, {})[col] = _Edit(col, new, w.fill, self.formats.get(w.column), w.only_if_blank,
                                                  self.sheet_key, w.column, old, header_font=w.header)

    def finish_marks(self, z: zipfile.ZipFile, part: str) -> None:
        """The problem marks: each asked-for mark a cell lacks, and no fill again where a mark is no
        longer asked for. One streamed pass over the sheet finds the cells that carry a mark now and
        the fills of the cells to be marked; nothing is read when the desk has no marks at all."""
        marked_styles = self.styles.mark_styles()
        if not marked_styles and not self.marks:
            return
        to_mark, to_clear = _marks_in(z, part, self.styles, marked_styles, self.marks)
        for key in to_mark:
            self._mark(key >> _COL_BITS, key & _COL_MASK, self.marks[key])
        for key in to_clear:
            r, col = key >> _COL_BITS, key & _COL_MASK
            if r > self.header_row and col in self.people:
                self._mark(r, col, None)

    def _mark(self, r: int, col: int, level: str | None) -> None:
        row = self.edits.setdefault(r, {})
        edit = row.get(col)
        if edit is not None:  # a value sheetdesk fills into the same cell (an appended row's, say)
            if edit.fill is KEEP:
                edit.fill, edit.mark = level, True
            return
        key = self.people[col]
        old = self._old(r, key, col)
        row[col] = _Edit(col, old, level, None, False, self.sheet_key, key, old, mark=True)


#: a cell as one int (row << 14 | column: a sheet has at most 16384 columns), lean for 50k-row sheets
_COL_BITS, _COL_MASK = 14, (1 << 14) - 1


def _marks_in(z: zipfile.ZipFile, part: str, styles: Styles, marked_styles: dict[int, str],
              wanted: dict[int, str]) -> tuple[list[int], list[int]]:
    """(the ``wanted`` cells whose mark must be set — decided when spliced where the cell could
    not be found for sure —, the cells that carry a mark nobody wants any more), read a block of
    whole rows at a time: a search for the few mark formats, and the wanted rows located."""
    to_mark: list[int] = []
    to_clear: list[int] = []
    rows = sorted({key >> _COL_BITS for key in wanted})
    columns: dict[int, list[int]] = {}
    for key in wanted:
        columns.setdefault(key >> _COL_BITS, []).append(key & _COL_MASK)
    handled: set[int] = set()
    pattern = re.compile(rb'\bs="(' + b"|".join(str(i).encode() for i in sorted(marked_styles)) + rb')"') \
        if marked_styles else None
    for block in sheet_data_blocks(z, part):
        settled: set[int] = set()  # wanted cells marked so already (a block holds whole rows)
        if pattern is not None:
            for m in pattern.finditer(block):
                start = block.rfind(b"<", 0, m.start())
                if block.startswith(b"<c ", start):  # (a row's own format, or text, is not a cell's)
                    ref = _ATTR_R.search(block, start, block.index(b">", m.end()))
                    if ref and ref.group(1):
                        key = int(ref.group(2)) << _COL_BITS | _column_index(ref.group(1))
                        level = marked_styles[int(m.group(1))]
                        if wanted.get(key) == level:
                            settled.add(key)
                        elif key not in wanted:
                            to_clear.append(key)
        head = _ROW_HEAD.search(block)
        tail = block.rfind(b'<row r="')
        if head is None or tail < 0 or not rows:
            continue
        first, last = int(head.group(1)), int(_ROW_HEAD.match(block, tail).group(1))
        inside = rows[bisect.bisect_left(rows, first):bisect.bisect_right(rows, last)]
        if not inside or _NOT_R_FIRST.search(block):  # cells spelled otherwise: decided when spliced
            continue
        for r, at, end, row_head in _locate_rows(block, (0, len(block)), inside, missing_ok=True) or ():
            handled.add(r)
            row_style = int(attr(row_head, b"s") or 0) if attr(row_head, b"customFormat") in (b"1", b"true") else 0
            for col in columns[r]:
                key = r << _COL_BITS | col
                if key in settled:
                    continue
                cell = block.find(b'<c r="%s%d"' % (_letters(col), r), at, end) if row_head else -1
                if cell >= 0:
                    own = _ATTR_S.search(block, cell, block.index(b">", cell))
                    current = styles.fill_key(int(own.group(1)) if own else 0)
                else:
                    current = styles.fill_key(row_style) if row_style else None
                if may_refill(current, wanted[key], True):  # not marked so yet, and not a person's colour
                    to_mark.append(key)
    for r in rows:  # not found for sure (or below the last row): decided when spliced
        if r not in handled:
            to_mark += [r << _COL_BITS | col for col in columns[r]]
    return to_mark, to_clear


def plan_patch(book: Book, writes: Iterable[CellWrite], counter: dict[str, int], generated: list[GeneratedSheet],
               appended: dict[str, dict[int, list[object]]] | None = None, *,
               filled: dict[str, str] | None = None, marks: Iterable[str] = ()) -> Patch:
    """The edits for ``writes`` (values and fills), the counter and sheetdesk's own sheets (built and
    deflated here); the edited sheets are spliced by :meth:`Patch.splice`. ``appended``: sheet key ->
    the rows add/log/import put below the others (read with the records) -> the cells the file holds there.
    ``filled``: the categories sheetdesk filled, to remember beside the counter (None: they are already).
    ``marks``: sheet keys whose problem marks ``writes`` carries in full (any other mark is cleared)."""
    appended = appended or {}
    with zipfile.ZipFile(book.path) as z:
        parts = sheet_parts(z)
        names = set(z.namelist())
        styles = Styles(z.read("xl/styles.xml")) if "xl/styles.xml" in names else None
        if styles is None:
            raise PatchUnsupported("no styles part")
        changes: list[Change] = []
        new_parts: dict[str, bytes | Packed] = {}
        pending: dict[str, dict[int, dict[int, _Edit]]] = {}
        by_sheet: dict[str, dict[int, dict[int, _Edit]]] = {}
        for sheet_key, col_key in book.added_columns:
            table = book.tables[sheet_key]
            col = table.columns[col_key]
            column = SHEETS_BY_KEY[sheet_key].column(col_key)
            by_sheet.setdefault(table.name, {}).setdefault(table.header_row, {})[col] = _Edit(
                col, column.name(book.lang), KEEP, None, True, sheet_key, col_key, None, header_font=True)
        planners: dict[str, _SheetEdits] = {}

        def planner_of(sheet_key: str) -> _SheetEdits:
            planner = planners.get(sheet_key)
            if planner is None:
                table = book.tables[sheet_key]
                part = parts.get(table.name)
                if part is None or part not in names:
                    raise PatchUnsupported(f"no part for {table.name}")
                scan = functools.partial(_styles_streamed, z, part)  # only when fills must be compared
                planner = planners[sheet_key] = _SheetEdits(sheet_key, table, styles, scan,
                                                            by_sheet.setdefault(table.name, {}),
                                                            appended.get(sheet_key))
            return planner

        for w in writes:
            (planners.get(w.sheet) or planner_of(w.sheet)).add(w)
        for sheet_key in marks:
            if sheet_key in book.tables:
                planner_of(sheet_key).finish_marks(z, parts[book.tables[sheet_key].name])
        for sheet_name, edits in by_sheet.items():
            part = parts.get(sheet_name)
            if part is None or part not in names:
                raise PatchUnsupported(f"no part for {sheet_name}")
            if edits:
                pending[part] = edits
        counter_name = COUNTER.name(book.lang)
        if counter_name not in parts:
            raise PatchUnsupported("no counter sheet")
        current = counter_sheet.stored(book)
        wanted = dict(sorted(counter.items()))
        crcs = {i.filename: i.CRC for i in z.infolist()}
        sizes = {i.filename: i.file_size for i in z.infolist()}
        printed: list[str] = []
        workbook_xml = original_workbook = z.read("xl/workbook.xml")
        package_edits: dict[str, bytes] = {}
        marks: dict[str, str] = {}
        had_marks = marked_sheets(workbook_xml)
        for gen in generated:
            name = book.generated_name(gen.sheet)  # by its mark: never a person's sheet
            if had_marks.get(gen.sheet) != name:
                marks[gen.sheet] = name
                changes.append(Change(gen.sheet, 0, "(mark)", None, name))
            part = parts.get(name)
            added = part is None
            if added:  # the desk has none (deleted, or only a person's sheet of that name): one is added
                try:
                    workbook_xml, part = add_worksheet(z, workbook_xml, name, package_edits)
                except UnexpectedPackage as exc:
                    raise PatchUnsupported(str(exc)) from exc
            chunks = _generated_chunks(gen, styles, book.date1904, None if added else comment_drawing(z, part))
            head = next(chunks)
            packed = pack(itertools.chain([head], chunks))  # deflated as it is made: never held whole
            if not added:
                if packed.crc == crcs.get(part) and packed.size == sizes.get(part):
                    continue  # exactly what is there: not read, not rewritten
                if not _still_ours(z, part, head):  # another program saved the file: compare what it holds
                    if _written_by_us(z.read(part)) and _same_values_or_unreadable(book, name, gen):
                        continue  # its colours follow from its values (states, 逾期 notes): nothing to rebuild
            new_parts[part] = packed
            changes.append(Change(gen.sheet, 1, "(sheet)", None, f"{gen.count} rows"))
            printed.append(name)
        # the rebuilt sheets' header row prints on every page; each generated sheet carries its mark
        workbook_xml = _with_print_titles(workbook_xml, printed)
        if marks:
            workbook_xml = with_marks(workbook_xml, marks)
        if workbook_xml != original_workbook:
            new_parts["xl/workbook.xml"] = workbook_xml
        new_parts.update(package_edits)
        if counter_sheet.differs(current, wanted) or filled is not None:
            memory = counter_sheet.filled_categories(book) if filled is None else filled
            new_parts[parts[counter_name]] = _counter_xml(book, counter, memory)
            if counter_sheet.differs(current, wanted):
                changes.append(Change("counter", 2, "last_serial", current, wanted))
            if filled is not None:
                changes.append(Change("counter", 2, "filled_category", None, f"{len(filled)} IDs"))
    # relationships of patched sheets are untouched: comments, drawings and tables stay linked
    return Patch(book.path, new_parts, changes, styles=styles, date1904=book.date1904, pending=pending)


def verify_patch(tmp: Path, book: Book, written: set[tuple[str, int, int]], generated: set[str],
                 patch: Patch) -> None:
    """Check the new package before it replaces the desk.

    Parts the patch did not touch must be stored exactly as before (same CRC, same compressed
    bytes). Every part it wrote must inflate whole to the CRC of what was planned (checked in
    worker threads while the rest runs). In the sheets it patched, every byte outside the spliced
    rows must be as it was, and in those rows every cell sheetdesk did not write — and the row's
    own attributes — byte for byte as well; the spliced rows must parse as XML. That is stricter
    than comparing values and costs a fraction of re-reading the sheet. A sheet whose rows cannot
    be found that way (not stored in order) is re-read with calamine and compared cell by cell.
    """
    def failed(zh: str, en: str) -> WriteFailed:
        return WriteFailed(f"校验失败：{zh}，原文件未改动", f"verification failed: {en}; original untouched")

    patched = patch.parts
    reread = []
    written_in: dict[str, set[tuple[int, int]]] = {}
    for name, r, c in written:
        written_in.setdefault(name, set()).add((r, c))
    with zipfile.ZipFile(book.path) as old_zip, zipfile.ZipFile(tmp) as new_zip, \
            ThreadPoolExecutor(max_workers=2) as inflating:
        whole = {part: inflating.submit(_inflates_whole, tmp, part) for part in patched}
        parts = sheet_parts(old_zip)
        new_names = set(sheet_parts(new_zip))
        new_infos = {i.filename: i for i in new_zip.infolist()}

        def holds_planned(part: str) -> bool:  # the saved member's CRC is that of what was planned
            planned = patched[part]
            crc = planned.crc if isinstance(planned, Packed) else zlib.crc32(planned)
            return part in new_infos and new_infos[part].CRC == crc
        with open(book.path, "rb") as old_fh, open(tmp, "rb") as new_fh:
            for item in old_zip.infolist():
                if item.filename in patched:
                    continue
                # copied as stored: the compressed bytes themselves must be the original's
                new = new_infos.get(item.filename)
                if new is None or new.CRC != item.CRC or not same_raw(old_fh, item, new_fh, new):
                    raise failed(f"部件 {item.filename} 本应原样保留却不一致",
                                 f"part {item.filename} was not kept byte for byte")
        for part in patched:  # what sheetdesk wrote: whole, and exactly what was planned
            if part not in patch.sequences and part not in patch.streamed and not holds_planned(part):
                raise failed(f"部件 {part} 与计划写入的内容不一致", f"part {part} is not what was written")
        for name in book.wb.sheetnames:
            if name in generated:
                continue
            if name not in new_names:
                raise failed(f"新文件缺少工作表“{name}”", f"sheet '{name}' missing from the new file")
            part = parts.get(name)
            if part not in patched:
                continue  # byte-identical, checked above
            rows = patch.rows.get(part)
            if part in patch.streamed and holds_planned(part):  # checked block by block as it was spliced
                problem = patch.streamed[part]
            else:  # spliced whole (rows out of order), or the file does not hold the plan: compare with the original
                old = patch.originals.get(part) or old_zip.read(part)
                if part in patch.sequences and holds_planned(part):
                    saved = patch.sequences[part]  # the file holds exactly what was planned (as for the parts above)
                else:  # look at what it holds: a failure, found precisely
                    saved = _as_sequence(new_zip.read(part), sorted(rows or ()))
                problem = None if rows is None or saved is None else _spliced_only(
                    old, saved, sorted(rows), written_in.get(name, set()))
                if problem == () and part in patch.streamed:
                    problem = ("与计划写入的内容不一致", "is not what was written")
            if problem is None:
                reread.append(name)
            elif problem:
                raise failed(f"工作表“{name}”{problem[0]}", f"sheet '{name}' {problem[1]}")
        for part, done in whole.items():
            if not done.result():
                raise failed(f"部件 {part} 写入后已损坏", f"part {part} is damaged in the saved copy")
    if reread:
        _compare_reread(tmp, book, reread, written, failed)


def _inflates_whole(path: Path, part: str) -> bool:
    """The member decompresses to the end and matches its CRC (read through, nothing kept)."""
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as fh:
            while fh.read(1 << 16):
                pass
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError):
        return False
    return True


def _as_sequence(new: bytes, rows: list[int]) -> list | None:
    """A saved sheet cut as :func:`_patched_sequence` builds one, or None when its rows cannot be
    located in order."""
    try:
        open_end, end = _sheet_body(new)
        located = _locate_rows(new, (open_end, end), rows)
    except (PatchUnsupported, ValueError):
        return None
    if located is None:
        return None
    view, out, pos = memoryview(new), [new[:open_end]], open_end
    for _, start, stop, _ in located:
        out += [view[pos:start], view[start:stop]]
        pos = stop
    return out + [view[pos:end], view[end:]]


def _spliced_only(old: bytes, new: list, rows: list[int], written: set[tuple[int, int]]
                  ) -> tuple[str, str] | tuple[()] | None:
    """() when the new sheet (a sequence as :func:`_patched_sequence` gives it) differs from ``old``
    only in the written cells of ``rows``; (zh, en) saying where it differs otherwise; None when
    the old rows cannot be located in order."""
    try:
        open_end, end = _sheet_body(old)
        old_rows = _locate_rows(old, (open_end, end), rows, missing_ok=True)  # appended rows did not exist
    except (PatchUnsupported, ValueError):
        return None
    if old_rows is None:
        return None
    if len(new) != 2 * len(rows) + 3:
        return ("改写后的行数与计划不符", "the rewritten rows are not the ones planned")
    if _DIMENSION.sub(b"", old[:open_end]) != _DIMENSION.sub(b"", bytes(new[0])):
        return ("的表头部分在保存后不一致", "changed before its first row")
    if memoryview(old)[end:] != new[-1]:
        return ("的表尾部分在保存后不一致", "changed after its last row")
    lists: dict[int, list[bytes]] = {}
    for r, c in written:
        lists.setdefault(r, []).append(_letters(c))
    written_letters = {r: tuple(sorted(letters)) for r, letters in lists.items()}
    old_view, pos = memoryview(old), open_end
    for i, (r, o_start, o_end, o_head) in enumerate(old_rows + [(0, end, 0, b"")]):
        gap = new[1 + 2 * i]
        if old_view[pos:o_start] != gap:
            where = _row_before(bytes(gap), _first_difference(old[pos:o_start], bytes(gap)))
            return (f"第{where}行在保存后不一致（该行本不应改动）", f"row {where} changed although it was not edited")
        if not r:
            break
        new_row = bytes(new[2 + 2 * i])
        if not new_row.startswith(b'<row r="%d"' % r):
            return (f"第{r}行没有按计划改写", f"row {r} was not rewritten as planned")
        n_head = new_row[:new_row.index(b">") + 1]
        if o_head and _SPANS.sub(b"", o_head).replace(b"/>", b">") != _SPANS.sub(b"", n_head):
            return (f"第{r}行的行属性在保存后不一致", f"row {r}'s attributes changed")
        old_row = old[o_start:o_end]
        letters = written_letters.get(r, ())
        if not o_head:  # a row appended: every cell in it was written by sheetdesk
            unwritten = [c for c in _cells_by_column(new_row, len(n_head)) if (r, c) not in written]
            if unwritten:
                return (f"第{r}行第{unwritten[0]}列多出了值", f"row {r} column {unwritten[0]} holds a value nobody wrote")
        elif _without_cells(old_row, letters, r) != _without_cells(new_row, letters, r):
            before, after = _cells_by_column(old_row, len(o_head)), _cells_by_column(new_row, len(n_head))
            for c in sorted(set(before) | set(after)):
                if (r, c) not in written and before.get(c) != after.get(c):
                    return (f"第{r}行第{c}列的值在保存后不一致", f"row {r} column {c} changed in the saved copy")
        pos = o_end
    parser = xml.parsers.expat.ParserCreate()
    try:  # the spliced rows are well-formed XML (everything else is the old bytes); fed row by row
        parser.Parse(b"<rows>", False)
        for row in new[2:-2:2]:
            parser.Parse(bytes(row), False)
        parser.Parse(b"</rows>", True)
    except xml.parsers.expat.ExpatError as exc:
        return (f"改写的行不是合法的 XML（{exc}）", f"rewritten rows are not well-formed XML ({exc})")
    return ()


_SPANS = re.compile(rb'\s+spans="[^"]*"')


def _first_difference(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # bisect on prefix equality: C comparisons, no Python loop over the bytes
        mid = (lo + hi) // 2
        if a[lo:mid + 1] == b[lo:mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _row_before(xml: bytes, offset: int) -> str:
    start = xml.rfind(b"<row ", 0, offset + 1)
    m = _ATTR_R.search(xml, start, xml.find(b">", start)) if start >= 0 else None
    return m.group(2).decode() if m else "?"


@functools.lru_cache(maxsize=1024)
def _letters(column: int) -> bytes:
    return get_column_letter(column).encode()


def _without_cells(row_xml: bytes, letters: tuple[bytes, ...], r: int) -> bytes:
    """The row's cells without those in columns ``letters`` (the row tag too: compared on its own)."""
    cells = row_xml[row_xml.index(b">") + 1:]
    return _cells_in_columns(letters).sub(b"", cells) if letters else cells


@functools.lru_cache(maxsize=256)
def _cells_in_columns(letters: tuple[bytes, ...]) -> re.Pattern:
    return re.compile(rb'<c r="(?:' + b"|".join(letters) + rb')\d+"[^>]*?(?:/>|>.*?</c>)', re.S)


def _cells_by_column(row_xml: bytes, head_length: int) -> dict[int, bytes]:
    out = {}
    for m in _CELL_ATTRS.finditer(row_xml, head_length):
        ref = _ATTR_R.search(m.group(1))
        out[_column_index(ref.group(1)) if ref and ref.group(1) else -m.start()] = m.group(0)
    return out


def _compare_reread(tmp: Path, book: Book, names: list[str], written: set[tuple[str, int, int]], failed) -> None:
    """Re-read ``names`` from the new file with calamine: every cell not written holds what it held."""
    new = FastWorkbook(tmp)
    try:
        for name in names:
            before = book.wb[name]._rows
            after = new[name]._rows
            for r, row in enumerate(before, 1):
                other = after[r - 1] if r - 1 < len(after) else ()
                if row == other:
                    continue
                for c, value in enumerate(row, 1):
                    if (name, r, c) in written:
                        continue
                    theirs = other[c - 1] if c - 1 < len(other) else ""
                    if value != theirs and not (value in (None, "") and theirs in (None, "")):
                        raise failed(f"工作表“{name}”第{r}行第{c}列的值在保存后不一致",
                                     f"sheet '{name}' row {r} column {c} changed in the saved copy")
            for r in range(len(before) + 1, len(after) + 1):  # rows below the old end: only written cells
                for c, value in enumerate(after[r - 1], 1):
                    if value not in (None, "") and (name, r, c) not in written:
                        raise failed(f"工作表“{name}”第{r}行第{c}列多出了值", f"sheet '{name}' row {r} column {c} "
                                     "holds a value nobody wrote")
    finally:
        new.close()

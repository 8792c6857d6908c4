"""sheetdesk's own sheets as XML: the tracker and follow-ups (streamed as they are made), the
hidden counter sheet, and their print titles in workbook.xml.

A generated sheet is rewritten only when what it would hold differs from what is there; a sheet
another program has saved since is compared by its values.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from xml.sax.saxutils import escape

from sheetdesk.schema import COUNTER
from sheetdesk.workbook import counter as counter_sheet
from sheetdesk.workbook.cells import column_letter as get_column_letter
from sheetdesk.workbook.edits import (
    FILL_COLOURS,
    NUMBER_FORMATS,
    PRINT_FOOTER,
    PRINT_PAPER,
    PRINT_TITLE_ROWS,
    GeneratedSheet,
    same_value,
)
from sheetdesk.workbook.engines.patch.cells import CellBodies, cell_xml
from sheetdesk.workbook.engines.patch.styles import HEADER_BLUE, HEADER_GREY, Styles
from sheetdesk.workbook.engines.patch.unsupported import PatchUnsupported
from sheetdesk.workbook.fastread import FastReadUnsupported
from sheetdesk.workbook.opc import NS_REL, attr, unescape_attr
from sheetdesk.workbook.reader import Book

#: rows per piece of a generated sheet handed to the compressor
CHUNK_ROWS = 2000


def generated_chunks(gen: GeneratedSheet, styles: Styles, date1904: bool,
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
    yield head + b'<row r="1">' + b"".join(
        cell_xml(f"{get_column_letter(c)}1", h, blue if c - 1 in gen.people_cols else grey, date1904)
        for c, h in enumerate(gen.header, 1)) + b"</row>"
    width = len(gen.header)  # no row is wider than the header
    letters = [get_column_letter(c) for c in range(1, width + 1)]
    kinds = ["datetime" if c in gen.datetime_cols else "date" if c in gen.date_cols else "" for c in range(width)]
    plain = [f' s="{s}"' if s else "" for s in ({"datetime": dt, "date": day}.get(k, 0) for k in kinds)]
    filled = _Filled({(fill, k): f' s="{fills[(fill, k)]}"' for fill in FILL_COLOURS for k in bases})
    filled.make = lambda fill, kind: f' s="{styles.xf(bases[kind], fill=fill)}"'  # a problem mark: added when used
    body = CellBodies(date1904)
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


#: a generated sheet's print layout, as the openpyxl engine writes it (engines.openpyxl.print_setup)
_PRINT_SETUP = (f'<pageSetup paperSize="{PRINT_PAPER}" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
                f"<headerFooter><oddFooter>{escape(PRINT_FOOTER)}</oddFooter></headerFooter>").encode()
_PRINT_TITLES = re.compile(rb'<definedName\b[^>]*\bname="_xlnm\.Print_Titles"[^>]*>')


def with_print_titles(workbook_xml: bytes, names: list[str]) -> bytes:
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


def same_values(ws, gen: GeneratedSheet) -> bool:
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


def same_values_or_unreadable(book: Book, name: str, gen: GeneratedSheet) -> bool:
    try:
        return same_values(book.wb[name], gen)
    except FastReadUnsupported:  # read lazily; a sheet calamine cannot read is simply rebuilt
        return False


def written_by_us(xml: bytes) -> bool:
    """Our generated sheets carry the frozen pane, filter and print layout we write; anything else
    (a sheet another program saved without them, or sheetdesk before it set the print layout) is
    rebuilt once."""
    return (b'topLeftCell="B2"' in xml and b"<autoFilter " in xml and b'orientation="landscape"' in xml
            and b'fitToPage="1"' in xml)


def counter_xml(book: Book, counter: dict[str, int], filled: dict[str, str] | None = None) -> bytes:
    """Months and their last serials in A:B; the categories sheetdesk filled, by ticket ID, in D:E."""
    first, second = (get_column_letter(c) for c in counter_sheet.FILLED_COLUMNS)
    months = sorted(counter.items())
    memory = counter_sheet.filled_rows(filled or {})
    head = b"".join(cell_xml(f"{get_column_letter(c)}1", col.name(book.lang), 0, False)
                    for c, col in enumerate(COUNTER.columns, 1))
    if memory:
        head += b"".join(cell_xml(f"{letter}1", name, 0, False)
                         for letter, name in zip((first, second), counter_sheet.FILLED_HEADERS[book.lang]))
    rows = [b'<row r="1">' + head + b"</row>"]
    for r in range(2, max(len(months), len(memory)) + 2):
        cells = b""
        if r - 2 < len(months):
            month, serial = months[r - 2]
            cells += cell_xml(f"A{r}", month, 0, False) + cell_xml(f"B{r}", serial, 0, False)
        if r - 2 < len(memory):
            ticket, category = memory[r - 2]
            cells += cell_xml(f"{first}{r}", ticket, 0, False) + cell_xml(f"{second}{r}", category, 0, False)
        rows.append(f'<row r="{r}">'.encode() + cells + b"</row>")
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="'
            + NS_REL.encode() + b'"><sheetData>' + b"".join(rows) + b"</sheetData></worksheet>")


def _frame(xml: bytes) -> bytes:
    """What a generated sheet's XML holds before its rows, without the row count (``dimension``)."""
    end = xml.find(b"<sheetData")
    return re.sub(rb"<dimension\b[^>]*/>", b"", xml[:end]) if end >= 0 else xml


def still_ours(z: zipfile.ZipFile, part: str, xml: bytes) -> bool:
    """The part starts exactly as sheetdesk writes it now (``xml``: at least that beginning). Every
    office suite that saves the file rewrites a sheet in its own spelling, so these bytes mean
    nobody else has saved it since."""
    head_length = xml.find(b"<sheetData") + 1
    with z.open(part) as fh:
        head = fh.read(head_length + 64)  # the stored dimension may be a few digits longer
    return _frame(head) == _frame(xml) and head.find(b"<sheetData") >= 0

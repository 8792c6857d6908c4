"""One cell's XML: how a value is spelled in a ``<c>`` element, and what an edit makes of a cell.

Cells are written with inline strings (no shared-strings table to keep in step) and keep the
format they had, changed only where sheetdesk sets a fill or a date format.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from xml.sax.saxutils import escape

from sheetdesk.workbook.cells import EPOCH_1900, EPOCH_1904, ILLEGAL_CHARACTERS_RE, to_excel
from sheetdesk.workbook.cells import column_index as column_index_from_string
from sheetdesk.workbook.cells import column_letter as get_column_letter
from sheetdesk.workbook.edits import KEEP, Change, may_refill, same_value
from sheetdesk.workbook.engines.patch.styles import HEADER_GREY, Styles
from sheetdesk.workbook.opc import set_attr

ATTR_R = re.compile(rb'\br="([A-Z]+)?(\d+)"')
ATTR_S = re.compile(rb'\bs="(\d+)"')
CELL_ATTRS = re.compile(rb"<c\b([^>]*?)(?:/>|>.*?</c>)", re.S)  # a cell, and its attributes


@functools.lru_cache(maxsize=16384)
def column_of(letters: bytes) -> int:
    return column_index_from_string(letters.decode())


def cell_xml(ref: str, value: object, style: int, date1904: bool) -> bytes:
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
class Edit:
    """One cell sheetdesk may write, decided while planning and spliced in later."""
    col: int                   # column index, 1-based
    value: object              # what to write, or KEEP
    fill: object               # a key of OWN_COLOURS, None to clear sheetdesk's fill, or KEEP
    numfmt: str | None         # the number format a value written into a General cell gets
    only_if_blank: bool        # a people's column: written only when blank
    change_sheet: str          # schema sheet key, for the Change reported
    change_col: str            # schema column key, for the Change reported
    old: object                # what the cell holds now
    header_font: bool = False  # a header sheetdesk adds: bold italic on grey
    mark: bool = False         # the fill marks a problem (see CellWrite.mark)


def cell_end(row_xml: bytes, start: int) -> int:
    """Where the cell starting at ``start`` ends (``<c .../>`` or ``<c ...>...</c>``)."""
    tag_end = row_xml.index(b">", start)
    return tag_end + 1 if row_xml[tag_end - 1] == 47 else row_xml.index(b"</c>", tag_end) + 4  # 47: "/"


def edited_cell(existing: bytes | None, attrs: bytes, col: int, r: int, e: Edit, row_style: int, styles: Styles,
                 date1904: bool, changes: list[Change], bodies: CellBodies | None) -> bytes | None:
    """The cell's new XML, or None when it stays as it is; the changes go into the row's ``changes``
    (see :func:`~sheetdesk.workbook.engines.patch.splice.patch_row`)."""
    own = ATTR_S.search(attrs) if existing is not None else None
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
        return cell_xml(ref, value, style, date1904)
    return (f'<c r="{ref}"' + (f' s="{style}"' if style else "") + bodies(value)).encode("utf-8")


def _restyle(cell: bytes, style: int) -> bytes:
    end = cell.index(b">") + 1
    head = cell[:end]
    closing = head.endswith(b"/>")
    tag = head[:-2] if closing else head[:-1]
    tag = set_attr(tag, b"s", str(style).encode())
    return tag + (b"/>" if closing else b">") + cell[end:]


_LEAP_BUG_END = datetime(1900, 3, 1)  # before it, Excel's serials count a 29 Feb 1900 that never was


class CellBodies:
    """What follows ``<c r=".." s=".."`` for a value, as :func:`cell_xml` writes it; repeated
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
        text = cell_xml("", value, 0, self.date1904).decode("utf-8")[len('<c r=""'):]
        # states, stage words, owners and categories repeat and appear in the first rows; IDs and
        # customers do not repeat, and a 50k tracker's worth of them would hold ~15 MB: capped
        if value.__class__ is str and len(self.cache) < 10_000:
            self.cache[value] = text
        return text


@functools.lru_cache(maxsize=1024)
def letters_of(column: int) -> bytes:
    return get_column_letter(column).encode()

"""styles.xml: the cell formats, fills, fonts and number formats the patched cells point at.

Only what is missing is added (at the end, so every existing index keeps its meaning); the rest of
the part is kept as it is.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from sheetdesk.workbook.edits import KEEP, MARK_COLOURS, OWN_COLOURS
from sheetdesk.workbook.opc import attr, set_attr

HEADER_GREY, HEADER_BLUE = "FFD9D9D9", "FFDDEBF7"


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
            xml = re.sub(rb"<" + container + rb"\b[^>]*?(?:/>|>.*?</" + container + rb">)", lambda m, new=new: new, xml,
                         count=1, flags=re.S)
        fmts = b"".join(f'<numFmt numFmtId="{i}" formatCode="{escape(c, {chr(34): "&quot;"})}"/>'.encode()
                        for i, c in sorted(self.numfmts.items()))
        block = b'<numFmts count="' + str(len(self.numfmts)).encode() + b'">' + fmts + b"</numFmts>"
        if re.search(rb"<numFmts\b", xml):
            xml = re.sub(rb"<numFmts\b[^>]*?(?:/>|>.*?</numFmts>)", lambda m: block, xml, count=1, flags=re.S)
        elif self.numfmts:
            xml = re.sub(rb"(<styleSheet\b[^>]*>)", lambda m: m.group(1) + block, xml, count=1)
        return xml

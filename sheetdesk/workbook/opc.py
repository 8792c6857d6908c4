"""The xlsx package: which part holds which sheet, and the relationships and content types that
register a part — read and written as bytes, without an XML parser.

The save engine, the fast reader and the generated-sheet marks all need these; here they are the
same code, and none of those modules has to import another for them.
"""

from __future__ import annotations

import re
import zipfile
from xml.sax.saxutils import escape, unescape

#: the relationships namespace (``r:id`` attributes point through it)
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


class UnexpectedPackage(Exception):
    """The package is not laid out the way a new part can be registered in it."""


def attr(tag: bytes, name: bytes) -> bytes | None:
    """The value of attribute ``name`` in ``tag`` (as stored: still escaped), or None."""
    m = re.search(rb"\b" + name + rb'="([^"]*)"', tag)
    return m.group(1) if m else None


def set_attr(tag: bytes, name: bytes, value: bytes) -> bytes:
    """``tag`` (an opening tag without its closing ``>``) with attribute ``name`` set to ``value``."""
    if re.search(rb"\b" + name + rb'="', tag):
        return re.sub(rb"\b" + name + rb'="[^"]*"', name + b'="' + value + b'"', tag, count=1)
    return re.sub(rb"^<(\w+)", lambda m: b"<" + m.group(1) + b" " + name + b'="' + value + b'"', tag, count=1)


def unescape_attr(text: str) -> str:
    """An attribute's text as it reads (quotes and apostrophes too)."""
    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """sheet name -> part name inside the zip."""
    wb = z.read("xl/workbook.xml")
    rels = z.read("xl/_rels/workbook.xml.rels")
    targets = {m.group(1).decode(): m.group(2).decode() for m in
               re.finditer(rb'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    targets.update({m.group(2).decode(): m.group(1).decode() for m in
                    re.finditer(rb'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for m in re.finditer(rb"<sheet\b[^>]*/>", wb):
        tag = m.group(0)
        name = attr(tag, b"name")
        rid = re.search(rb'\br:id="([^"]+)"', tag) or re.search(rb'\bid="([^"]+)"', tag)
        if name is None or rid is None:
            continue
        target = targets.get(rid.group(1).decode(), "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        out[unescape_attr(name.decode("utf-8"))] = part
    return out


def comment_drawing(z: zipfile.ZipFile, part: str) -> str | None:
    """The id of the sheet's relationship to its comments' VML drawing, if it has one."""
    folder, _, name = part.rpartition("/")
    try:
        rels = z.read(f"{folder}/_rels/{name}.rels")
    except KeyError:
        return None
    for rel in re.findall(rb"<Relationship\b[^>]*>", rels):
        if rel.split(b'Type="', 1)[-1].split(b'"', 1)[0].endswith(b"/vmlDrawing"):
            rid = re.search(rb'\bId="([^"]+)"', rel)
            return rid.group(1).decode() if rid else None
    return None


def add_worksheet(z: zipfile.ZipFile, workbook_xml: bytes, name: str, edits: dict[str, bytes]) -> tuple[bytes, str]:
    """Register a new worksheet ``name`` (last among the tabs): its part, its relationship and its
    content type. Returns the new workbook.xml and the part's name; the relationships and content
    types go into ``edits`` (part name -> new content, read from there when already edited).
    Raises :class:`UnexpectedPackage` when the package's parts are not where they are looked for."""
    rels = edits.get("xl/_rels/workbook.xml.rels") or z.read("xl/_rels/workbook.xml.rels")
    names = set(z.namelist()) | {t.decode().lstrip("/") for t in re.findall(rb'Target="([^"]+)"', rels)}
    numbers = [int(m.group(1)) for n in names for m in [re.fullmatch(r"(?:xl/)?worksheets/sheet(\d+)\.xml", n)] if m]
    part = f"xl/worksheets/sheet{max(numbers, default=0) + 1}.xml"
    taken = set(re.findall(rb'\bId="([^"]+)"', rels))
    n = 1
    while f"rIdSd{n}".encode() in taken:
        n += 1
    rid = f"rIdSd{n}"
    rel = (f'<Relationship Id="{rid}" Type="{NS_REL}/worksheet" Target="/{part}"/>').encode()
    if b"</Relationships>" not in rels:
        raise UnexpectedPackage("workbook relationships without </Relationships>")
    edits["xl/_rels/workbook.xml.rels"] = rels.replace(b"</Relationships>", rel + b"</Relationships>", 1)
    types = edits.get("[Content_Types].xml") or z.read("[Content_Types].xml")
    override = f'<Override PartName="/{part}" ContentType="{WORKSHEET_TYPE}"/>'.encode()
    if b"</Types>" not in types:
        raise UnexpectedPackage("content types without </Types>")
    edits["[Content_Types].xml"] = types.replace(b"</Types>", override + b"</Types>", 1)
    ids = [int(x) for x in re.findall(rb'<sheet\b[^>]*\bsheetId="(\d+)"', workbook_xml)]
    tag = (f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{max(ids, default=0) + 1}" '
           f'r:id="{rid}"/>').encode("utf-8")
    if b"</sheets>" not in workbook_xml:
        raise UnexpectedPackage("no </sheets> in workbook.xml")
    workbook_xml = workbook_xml.replace(b"</sheets>", tag + b"</sheets>", 1)
    if b'xmlns:r="' not in workbook_xml[:workbook_xml.find(b"<sheets")]:
        raise UnexpectedPackage("workbook.xml without the relationships namespace")
    return workbook_xml, part

"""Which sheets are sheetdesk's own: recognised by a mark, never by a title alone.

sheetdesk regenerates 跟踪看板 / Tracker and 回访计划 / Follow-ups on every refresh. A colleague's own
sheet that happens to be called "Tracker" in a Chinese desk must never be taken for it. So each
generated sheet carries a mark: a hidden defined name (``_sheetdesk_tracker``, ``_sheetdesk_followups``)
pointing at its cell A1. Excel, WPS and LibreOffice keep defined names and follow the sheet when it
is renamed, so the mark stays with the sheet.

Desks made before the mark existed are recognised once by content: a sheet with one of the
generated sheet's names whose first row is that sheet's header (in either language), or the
template's placeholder line. Saving adds the mark. A sheet with the name but other content is a
person's sheet: the generated sheet is then added beside it under a free name.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, unescape

from sheetdesk.rules.followups import header as followups_header
from sheetdesk.rules.tracker import headers as tracker_headers
from sheetdesk.schema import FOLLOWUPS, TRACKER, Sheet, normalise_header
from sheetdesk.workbook.opc import sheet_parts

#: generated sheet key -> the defined name that marks it
MARKS = {TRACKER.key: "_sheetdesk_tracker", FOLLOWUPS.key: "_sheetdesk_followups"}
#: how many leading header cells must match for a sheet without a mark to be taken as ours
_HEADER_CELLS = {TRACKER.key: 6, FOLLOWUPS.key: 4}
#: the first line of the template's tracker before its first refresh
PLACEHOLDERS = ("此表由 sheetdesk refresh 每次重新生成，请勿在此输入",
                "sheetdesk refresh regenerates this sheet every time; do not type here")

_DEFINED = re.compile(rb'<definedName\b([^>]*)>([^<]*)</definedName>')
_NAME_ATTR = re.compile(rb'\bname="([^"]*)"')


def marked_sheets(workbook_xml: bytes) -> dict[str, str]:
    """Generated sheet key -> the sheet its mark points at."""
    by_mark = {mark: key for key, mark in MARKS.items()}
    found = {}
    for m in _DEFINED.finditer(workbook_xml):
        name = _NAME_ATTR.search(m.group(1))
        if name is None or b"localSheetId" in m.group(1):
            continue
        key = by_mark.get(name.group(1).decode("utf-8", "replace"))
        if key is not None:
            sheet = sheet_of_reference(unescape(m.group(2).decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"}))
            if sheet:
                found[key] = sheet
    return found


def sheet_of_reference(ref: str) -> str | None:
    """``'跟踪看板'!$A$1`` -> 跟踪看板 (None for a reference to no sheet, e.g. #REF!)."""
    if "!" not in ref:
        return None
    sheet = ref.rsplit("!", 1)[0]
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet or None


def reference(sheet_name: str) -> str:
    return "'" + sheet_name.replace("'", "''") + "'!$A$1"


def with_marks(workbook_xml: bytes, marks: dict[str, str]) -> bytes:
    """workbook.xml with each generated sheet key's mark pointing at ``marks[key]`` (added or moved)."""
    for key, sheet_name in marks.items():
        mark = MARKS[key]
        tag = (f'<definedName name="{mark}" hidden="1">{escape(reference(sheet_name))}</definedName>').encode("utf-8")
        pattern = re.compile(rb'<definedName\b[^>]*\bname="' + re.escape(mark.encode()) + rb'"[^>]*>[^<]*</definedName>')
        if pattern.search(workbook_xml):
            workbook_xml = pattern.sub(lambda _, tag=tag: tag, workbook_xml, count=1)
        elif b"</definedNames>" in workbook_xml:
            workbook_xml = workbook_xml.replace(b"</definedNames>", tag + b"</definedNames>", 1)
        elif b"<definedNames/>" in workbook_xml:
            workbook_xml = workbook_xml.replace(b"<definedNames/>", b"<definedNames>" + tag + b"</definedNames>", 1)
        else:  # definedNames follow sheets, functionGroups and externalReferences (CT_Workbook's order)
            for after in (b"</externalReferences>", b"</functionGroups>", b"<functionGroups/>", b"</sheets>"):
                at = workbook_xml.find(after)
                if at >= 0:
                    at += len(after)
                    workbook_xml = workbook_xml[:at] + b"<definedNames>" + tag + b"</definedNames>" + workbook_xml[at:]
                    break
    return workbook_xml


def looks_generated(sheet: Sheet, first_row: list[object]) -> bool:
    """A sheet without a mark is ours when its first row is our header (either language) or the
    template's placeholder, or it is empty."""
    cells = [str(v).strip() if v is not None else "" for v in first_row]
    while cells and not cells[-1]:
        cells.pop()
    if not cells or cells[0] in PLACEHOLDERS:
        return True
    n = _HEADER_CELLS[sheet.key]
    make = tracker_headers if sheet.key == TRACKER.key else followups_header
    return any(cells[:n] == make(lang)[:n] for lang in ("zh", "en"))


def generated_sheets(path: Path, sheetnames: list[str]) -> dict[str, str | None]:
    """Generated sheet key -> the workbook's sheet for it (None: the desk has none yet)."""
    with zipfile.ZipFile(path) as z:
        try:
            workbook_xml = z.read("xl/workbook.xml")
        except KeyError:
            return dict.fromkeys(MARKS)
        marked = marked_sheets(workbook_xml)
        out: dict[str, str | None] = {}
        for key in MARKS:
            if marked.get(key) in sheetnames:
                out[key] = marked[key]
                continue
            sheet = TRACKER if key == TRACKER.key else FOLLOWUPS
            wanted = {normalise_header(sheet.zh), normalise_header(sheet.en)}
            taken = set(v for v in marked.values() if v)
            out[key] = next((n for n in sheetnames if normalise_header(n) in wanted and n not in taken
                             and looks_generated(sheet, first_row(z, n))), None)
    return out


def first_row(z: zipfile.ZipFile, sheet_name: str) -> list[object]:
    """Row 1 of a sheet, read from the head of its XML (shared strings looked up as far as needed)."""

    part = sheet_parts(z).get(sheet_name)
    if part is None or part not in z.namelist():
        return []
    head = b""
    with z.open(part) as fh:
        while b"</row>" not in head and b"</sheetData>" not in head and b"<sheetData/>" not in head:
            chunk = fh.read(65536)
            if not chunk:
                break
            head += chunk
    m = re.search(rb'<row\b[^>]*\br="1"[^>]*>(.*?)</row>', head, re.S)
    if m is None:
        return []
    cells: list[object] = []
    wanted: dict[int, int] = {}
    for c in re.finditer(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", m.group(1), re.S):
        attrs, body = c.group(1), c.group(2) or b""
        kind = re.search(rb'\bt="([^"]+)"', attrs)
        kind = kind.group(1) if kind else b"n"
        if kind == b"inlineStr":
            cells.append(unescape("".join(t.decode("utf-8") for t in re.findall(rb"<t[^>]*>([^<]*)</t>", body))))
        elif kind == b"s":
            v = re.search(rb"<v>(\d+)</v>", body)
            if v:
                wanted[len(cells)] = int(v.group(1))
            cells.append(None)
        else:
            v = re.search(rb"<v>([^<]*)</v>", body)
            cells.append(unescape(v.group(1).decode("utf-8")) if v else None)
    if wanted:
        texts = _shared_strings(z, max(wanted.values()))
        for i, idx in wanted.items():
            cells[i] = texts[idx] if idx < len(texts) else None
    return cells


def _shared_strings(z: zipfile.ZipFile, last: int) -> list[str]:
    """The shared strings up to index ``last``, streamed (a big desk's table is never read whole)."""
    names = [n for n in z.namelist() if n.lower() == "xl/sharedstrings.xml"]
    if not names:
        return []
    out: list[str] = []
    buf = b""
    with z.open(names[0]) as fh:
        while len(out) <= last:
            chunk = fh.read(65536)
            if not chunk and not buf:
                break
            buf += chunk
            end = 0
            for m in re.finditer(rb"<si>(.*?)</si>", buf, re.S):
                out.append(unescape("".join(t.decode("utf-8") for t in re.findall(rb"<t[^>]*>([^<]*)</t>", m.group(1)))))
                end = m.end()
            buf = buf[end:]
            if not chunk:
                break
    return out


def mark_openpyxl(wb, key: str, sheet_name: str) -> None:
    """Put the mark of generated sheet ``key`` on ``sheet_name`` in an openpyxl workbook."""
    from openpyxl.workbook.defined_name import DefinedName  # deferred: heavy; loaded only to save

    mark = MARKS[key]
    if mark in wb.defined_names:
        del wb.defined_names[mark]
    wb.defined_names[mark] = DefinedName(mark, attr_text=reference(sheet_name), hidden=True)

"""The openpyxl engine refuses any package part it is not known to keep (an allow-list): Excel 365
threaded comments, Power Query, custom XML, slicers, timelines, add-ins, the data model, sensitivity
labels and types nobody has met yet. The patch engine keeps them byte for byte."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from sheetdesk.workbook import package

NOW = "2026-11-23 09:00"
ROW = {"received": "2026-11-20 10:00", "channel": "电话", "customer": "王女士", "description": "无法开机"}

MS = "http://schemas.microsoft.com/office"
OD = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#: (what a person would read, rels part, relationship type, target, part name, content)
PARTS = [
    ("对话式批注", "xl/worksheets/_rels/sheet1.xml.rels", f"{MS}/2017/10/relationships/threadedComment",
     "../threadedComments/threadedComment1.xml", "xl/threadedComments/threadedComment1.xml",
     b'<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"/>'),
    ("对话式批注的作者", "xl/_rels/workbook.xml.rels", f"{MS}/2017/10/relationships/person", "persons/person.xml",
     "xl/persons/person.xml", b'<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"/>'),
    ("数据连接", "xl/_rels/workbook.xml.rels", f"{OD}/connections", "connections.xml", "xl/connections.xml",
     b'<connections xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><connection id="1" name="Query - x" type="5"/></connections>'),
    ("自定义 XML", "xl/_rels/workbook.xml.rels", f"{OD}/customXml", "../customXml/item1.xml", "customXml/item1.xml",
     b"<b:Sources xmlns:b='http://schemas.openxmlformats.org/officeDocument/2006/bibliography'/>"),
    ("切片器", "xl/_rels/workbook.xml.rels", f"{MS}/2007/relationships/slicerCache", "slicerCaches/slicerCache1.xml",
     "xl/slicerCaches/slicerCache1.xml", b'<slicerCacheDefinition xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"/>'),
    ("日程表", "xl/_rels/workbook.xml.rels", f"{MS}/2011/relationships/timelineCache", "timelineCaches/timelineCache1.xml",
     "xl/timelineCaches/timelineCache1.xml", b'<timelineCacheDefinition xmlns="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"/>'),
    ("Office 加载项", "_rels/.rels", f"{MS}/2011/relationships/webextensiontaskpanes", "xl/webextensions/taskpanes.xml",
     "xl/webextensions/taskpanes.xml", b'<wetp:taskpanes xmlns:wetp="http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11"/>'),
    ("数据模型", "xl/_rels/workbook.xml.rels", f"{MS}/2006/relationships/model", "model/item.data", "xl/model/item.data",
     b"\x00\x01binary-model"),
    ("敏感度标签", "_rels/.rels", f"{MS}/2020/02/relationships/classificationlabels", "docMetadata/LabelInfo.xml",
     "docMetadata/LabelInfo.xml", b'<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata"/>'),
    ("未知类型", "xl/_rels/workbook.xml.rels", "http://example.com/relationships/futureThing", "future/thing.xml",
     "xl/future/thing.xml", b"<thing/>"),
]


def inject(path: Path, rels_part: str, rel_type: str, target: str, part: str, content: bytes) -> None:
    """Add ``part`` to the package with a relationship to it, as Excel would have saved it."""
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i.filename) for i in z.infolist()}
    rel = f'<Relationship Id="rIdX9" Type="{rel_type}" Target="{target}"/>'.encode()
    if rels_part in members:
        members[rels_part] = members[rels_part].replace(b"</Relationships>", rel + b"</Relationships>")
    else:
        members[rels_part] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                              b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' + rel
                              + b"</Relationships>")
    members[part] = content
    path.unlink()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def register_part(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(r'<sheet [^>]*name="登记表"[^>]*r:id="([^"]+)"', wb).group(1)
    target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"', rels)
    return "xl/" + (target.group(1) or target.group(2)).lstrip("/").removeprefix("xl/")


@pytest.fixture(params=PARTS, ids=[p[0] for p in PARTS])
def desk_with_part(request, make_desk):
    what, rels_part, rel_type, target, part, content = request.param
    path = make_desk([ROW])
    if rels_part.startswith("xl/worksheets/_rels/"):
        sheet = register_part(path)
        rels_part = sheet.replace("xl/worksheets/", "xl/worksheets/_rels/") + ".rels"
    inject(path, rels_part, rel_type, target, part, content)
    return path, what, part, content


def test_the_openpyxl_engine_refuses_and_writes_nothing(desk_with_part, cli):
    path, what, part, _ = desk_with_part
    (path.parent / "sheetdesk.toml").write_text('[desk]\nengine = "openpyxl"\n', encoding="utf-8")
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and what in result.output and "Traceback" not in result.output, result.output
    assert path.read_bytes() == before


def test_doctor_fix_refuses_and_writes_nothing(desk_with_part, cli):
    path, what, part, _ = desk_with_part
    with zipfile.ZipFile(path) as z:  # make something to fix: the hidden counter sheet shown
        members = {i.filename: z.read(i.filename) for i in z.infolist()}
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(b' state="hidden"', b"")
    path.unlink()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    before = path.read_bytes()
    result = cli("doctor", path, "--fix", "--now", NOW)
    assert result.exit_code != 0 and what in result.output and "Traceback" not in result.output, result.output
    assert path.read_bytes() == before


def test_the_patch_engine_keeps_the_part_byte_for_byte(desk_with_part, cli):
    path, what, part, content = desk_with_part
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as z:
        assert z.read(part) == content
        assert "202611-001" in z.read(register_part(path)).decode() or "202611-001" in z.read("xl/sharedStrings.xml").decode()


def test_a_plain_desk_and_harmless_parts_pass(make_desk, tmp_path):
    path = make_desk([ROW])
    inject(path, "_rels/.rels", f"{OD}/metadata/thumbnail", "docProps/thumbnail.jpeg", "docProps/thumbnail.jpeg", b"\xff\xd8")
    inject(path, "xl/_rels/workbook.xml.rels", f"{OD}/calcChain", "calcChain.xml", "xl/calcChain.xml",
           b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>')
    assert package.scan(path) == []

"""Workbooks saved by Microsoft Excel (tests/fixtures/excel/, see its README): a file that is no desk is
refused with one line and left byte for byte; a desk holding one of their sheets, with its chart, picture,
comments, table or data validation, keeps every part of that sheet byte for byte through a patch-engine refresh."""

from __future__ import annotations

import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from tests.helpers import NOW, register_rows

EXCEL = Path(__file__).resolve().parents[1] / "fixtures" / "excel"
FIXTURES = sorted(EXCEL.glob("*.xlsx"))
#: the package-wide parts of an Excel file; everything else belongs to its one sheet
PACKAGE = {"[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels", "xl/workbook.xml", "xl/styles.xml",
           "xl/theme/theme1.xml", "xl/sharedStrings.xml", "docProps/core.xml", "docProps/app.xml"}
TICKETS = [{"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士", "description": "机器无法开机"},
           {"received": datetime(2026, 11, 3, 9), "channel": "邮件", "customer": "李先生", "description": "配件缺失"}]


def test_the_corpus_is_there_and_was_saved_by_excel():
    assert len(FIXTURES) >= 3
    for path in FIXTURES:
        with zipfile.ZipFile(path) as z:
            assert b"<Application>Microsoft Excel</Application>" in z.read("docProps/app.xml"), path.name


@pytest.mark.parametrize("command", ["validate", "refresh"])
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_a_workbook_that_is_no_desk_gets_one_line_and_is_left_as_it_was(cli, tmp_path, fixture, command):
    path = tmp_path / fixture.name
    shutil.copyfile(fixture, path)

    result = cli(command, path, "--now", NOW)

    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "登记表" in lines[0] and "Traceback" not in result.output, result.output
    assert path.read_bytes() == fixture.read_bytes()


def with_excel_sheet(desk: Path, excel: Path) -> dict[str, bytes]:
    """Splice the one sheet of ``excel`` and every part it refers to into ``desk`` as a sheet named "Excel",
    members copied as Excel wrote them; returns the carried members by their name in the desk."""
    with zipfile.ZipFile(desk) as z:
        ours = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(excel) as z:
        theirs = {n: z.read(n) for n in z.namelist()}
    sheets = [n for n in ours if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
    sheet = f"xl/worksheets/sheet{len(sheets) + 1}.xml"
    renamed = {"xl/worksheets/sheet1.xml": sheet,
               "xl/worksheets/_rels/sheet1.xml.rels": sheet.replace("worksheets/", "worksheets/_rels/") + ".rels"}
    carried = {renamed.get(n, n): data for n, data in theirs.items() if n not in PACKAGE}
    assert not set(carried) & set(ours), "the desk already has a part of that name"
    if "xl/sharedStrings.xml" in theirs:  # the sheet's text cells index Excel's string table
        assert "xl/sharedStrings.xml" not in ours
        ours["xl/sharedStrings.xml"] = theirs["xl/sharedStrings.xml"]
        carried_rels = ['<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                        'relationships/sharedStrings" Target="sharedStrings.xml"/>']
    else:
        carried_rels = []

    types = ours["[Content_Types].xml"].decode()
    their_types = theirs["[Content_Types].xml"].decode()
    added = []
    for ext, content_type in re.findall(r'<Default Extension="([^"]+)" ContentType="([^"]+)"', their_types):
        if f'Extension="{ext}"' not in types:
            added.append(f'<Default Extension="{ext}" ContentType="{content_type}"/>')
    for name, content_type in re.findall(r'<Override PartName="/([^"]+)" ContentType="([^"]+)"', their_types):
        if name not in PACKAGE or name == "xl/sharedStrings.xml" and carried_rels:
            added.append(f'<Override PartName="/{renamed.get(name, name)}" ContentType="{content_type}"/>')
    ours["[Content_Types].xml"] = types.replace("</Types>", "".join(added) + "</Types>").encode()

    book = ours["xl/workbook.xml"].decode()
    sheet_id = max(int(i) for i in re.findall(r'sheetId="(\d+)"', book)) + 1
    ours["xl/workbook.xml"] = book.replace(
        "</sheets>", f'<sheet name="Excel" sheetId="{sheet_id}" state="visible" r:id="rIdExcel"/></sheets>').encode()
    rels = ours["xl/_rels/workbook.xml.rels"].decode()
    carried_rels.append('<Relationship Id="rIdExcel" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                        f'relationships/worksheet" Target="/{sheet}"/>')
    ours["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>",
                                                      "".join(carried_rels) + "</Relationships>").encode()

    with zipfile.ZipFile(desk, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in {**ours, **carried}.items():
            z.writestr(name, data)
    return carried


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_the_patch_engine_keeps_an_excel_sheets_parts_byte_for_byte(make_desk, cli, tmp_path, fixture):
    path = make_desk(TICKETS)
    carried = with_excel_sheet(path, fixture)
    openpyxl.load_workbook(path)  # the spliced desk is a workbook before sheetdesk touches it
    (tmp_path / "sheetdesk.toml").write_text('[desk]\nengine = "patch"\n', encoding="utf-8")

    result = cli("refresh", path, "--now", NOW)

    assert result.exit_code == 0, result.output
    rows = register_rows(path)
    assert [rows[r]["id"] for r in (2, 3)] == ["202611-001", "202611-002"]  # the desk was refreshed
    with zipfile.ZipFile(path) as z:
        after = {n: z.read(n) for n in z.namelist()}
    changed = sorted(n for n, data in carried.items() if after.get(n) != data)
    assert not changed, f"{fixture.name}: parts Excel wrote were changed or dropped: {changed}"
    assert "Excel" in openpyxl.load_workbook(path).sheetnames
    assert cli("refresh", path, "--now", NOW).output.count("无需修改") == 1

"""sheetdesk's own sheets are recognised by its mark (a hidden defined name), never by a title: a
person's sheet called "Tracker" in a Chinese desk is never rewritten, and a missing generated sheet
is added by the patch engine itself (no openpyxl fallback that could drop parts)."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest

NOW = "2026-11-23 09:00"
ROWS = [{"received": "2026-11-20 10:00", "channel": "电话", "customer": "王女士", "description": "机器无法开机"}]


def own_sheet(wb):
    """The zh desk lost its 跟踪看板 (and its 回访计划); a colleague keeps a sheet of their own called Tracker."""
    wb.remove(wb["跟踪看板"])
    wb.remove(wb["回访计划"])
    ws = wb.create_sheet("Tracker")
    ws["A1"], ws["B1"] = "我的统计", "数量"
    ws["A2"], ws["B2"] = "本周来电", 42


def defined(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/workbook.xml").decode()
    return {m.group(1): m.group(2) for m in re.finditer(r'<definedName name="(_sheetdesk_\w+)"[^>]*>([^<]*)<', xml)}


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_a_persons_sheet_named_tracker_is_never_rewritten(make_desk, cli, tmp_path, engine):
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    desk = make_desk(ROWS, edit=own_sheet)
    result = cli("refresh", desk, "--now", NOW)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(desk)
    assert [list(r) for r in wb["Tracker"].iter_rows(values_only=True)] == [["我的统计", "数量"], ["本周来电", 42]]
    assert wb["跟踪看板"]["A2"].value == "202611-001"  # the tracker, added under its own name
    assert wb["跟踪看板"]["C1"].value == "问题分类" and wb["回访计划"]["C1"].value == "回访类型"  # two sheets, two parts
    assert defined(desk)["_sheetdesk_tracker"] == "'跟踪看板'!$A$1"
    again = cli("refresh", desk, "--now", NOW)
    assert again.exit_code == 0 and "无需修改" in again.output


def test_the_patch_engine_adds_a_missing_generated_sheet_and_keeps_every_other_part(make_desk, cli, tmp_path):
    desk = make_desk(ROWS, edit=lambda wb: wb.remove(wb["回访计划"]))
    with zipfile.ZipFile(desk) as z:  # a part openpyxl would drop: the run must not fall back to it
        members = {i.filename: z.read(i.filename) for i in z.infolist()}
    members["customXml/item1.xml"] = b"<b:Sources xmlns:b='urn:x'/>"
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdC1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/customXml" Target="../customXml/item1.xml"/></Relationships>')
    desk.unlink()
    with zipfile.ZipFile(desk, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    result = cli("refresh", desk, "--now", NOW)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(desk) as z:
        assert z.read("customXml/item1.xml") == b"<b:Sources xmlns:b='urn:x'/>"
    wb = openpyxl.load_workbook(desk)
    assert wb.sheetnames[-1] == "回访计划" and wb["回访计划"]["A1"].value == "反馈编号"
    assert defined(desk)["_sheetdesk_followups"] == "'回访计划'!$A$1"
    assert cli("refresh", desk, "--now", NOW).output.count("无需修改") == 1


def test_a_renamed_tracker_keeps_its_mark_and_an_old_desk_gets_one(make_desk, cli, tmp_path):
    desk = make_desk(ROWS)
    with zipfile.ZipFile(desk) as z:  # a desk from before the marks: none in workbook.xml
        members = {i.filename: z.read(i.filename) for i in z.infolist()}
    members["xl/workbook.xml"] = re.sub(rb'<definedName name="_sheetdesk_\w+"[^>]*>[^<]*</definedName>', b"",
                                        members["xl/workbook.xml"])
    desk.unlink()
    with zipfile.ZipFile(desk, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    assert defined(desk) == {}
    assert cli("refresh", desk, "--now", NOW).exit_code == 0
    assert defined(desk) == {"_sheetdesk_tracker": "'跟踪看板'!$A$1", "_sheetdesk_followups": "'回访计划'!$A$1"}
    wb = openpyxl.load_workbook(desk)
    wb["跟踪看板"].title = "看板"  # Excel moves the defined name with the sheet; openpyxl does not: do it
    wb.defined_names["_sheetdesk_tracker"].attr_text = "'看板'!$A$1"
    wb.save(desk)
    assert cli("refresh", desk, "--now", "2026-11-24 09:00").exit_code == 0
    wb = openpyxl.load_workbook(desk)
    assert "跟踪看板" not in wb.sheetnames and wb["看板"]["A2"].value == "202611-001"


def test_a_rebuilt_follow_up_plan_keeps_its_header_notes_hidden(make_desk, cli):
    """The template's header notes live in a comment drawing: the rebuilt sheet must name it
    (<legacyDrawing>), or LibreOffice prints every note as an open box over the header row."""
    desk = make_desk(ROWS)
    assert cli("refresh", desk, "--now", NOW).exit_code == 0
    from sheetdesk.workbook.opc import sheet_parts

    with zipfile.ZipFile(desk) as z:
        part = sheet_parts(z)["回访计划"]
        folder, _, name = part.rpartition("/")
        rels = z.read(f"{folder}/_rels/{name}.rels").decode()
        rid = re.search(r'Id="([^"]+)"[^>]*vmlDrawing"|vmlDrawing"[^>]*Id="([^"]+)"', rels)
        xml = z.read(part).decode()
    assert f'<legacyDrawing r:id="{rid.group(1) or rid.group(2)}"/>' in xml

"""The package-patching engine: only sheetdesk's cells change, every other part survives byte for byte."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from tests.app.test_import import calls_setup
from tests.helpers import NOW, col_of, register_rows, sheet_rows


def desk_with_extras(path: Path, image: Path) -> None:
    """A desk after a colleague added a chart, a picture and a cross-sheet dropdown, written by
    xlsxwriter from a real template's sheets."""
    from sheetdesk.workbook.template import build_template

    template = build_template("zh")
    wb = xlsxwriter.Workbook(str(path))
    sheets = {}
    for ws_src in template.worksheets:
        ws = wb.add_worksheet(ws_src.title)
        sheets[ws_src.title] = ws
        if ws_src.sheet_state == "hidden":
            ws.hide()
        for r, row in enumerate(ws_src.iter_rows(values_only=True)):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
    reg = sheets["登记表"]
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for r, (day, customer) in enumerate([(2, "王女士"), (3, "李先生"), (5, "赵女士")], 1):
        reg.write_datetime(r, 1, datetime(2026, 11, day, 10), when)
        reg.write(r, 2, "电话")
        reg.write(r, 3, customer)
        reg.write(r, 9, "机器无法开机")
    reg.write(3, 24, 42)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "='登记表'!$Y$4:$Y$4"})
    reg.insert_chart("AA2", chart)
    reg.insert_image("AA20", str(image))
    reg.data_validation("C2:C100", {"validate": "list", "source": "='选项'!$A$2:$A$13", "ignore_blank": True})
    wb.close()


def tiny_png(path: Path) -> Path:
    import base64

    path.write_bytes(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="))
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def assert_extras_kept(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    """The chart, the picture and the cross-sheet dropdown of :func:`desk_with_extras` are intact."""
    kept = [n for n in before if n.startswith(("xl/charts/", "xl/media/", "xl/drawings/"))]
    assert kept and all(after[n] == before[n] for n in kept)
    assert b"<dataValidation " in after["xl/worksheets/sheet1.xml"]


def test_chart_picture_and_dropdown_survive(tmp_path, cli):
    path = tmp_path / "desk.xlsx"
    desk_with_extras(path, tiny_png(tmp_path / "logo.png"))
    (tmp_path / "sheetdesk.toml").write_text('[desk]\nengine = "patch"\n', encoding="utf-8")
    before = parts(path)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert_extras_kept(before, parts(path))
    rows = register_rows(path)
    assert [rows[r]["id"] for r in (2, 3, 4)] == ["202611-001", "202611-002", "202611-003"]
    assert rows[2]["department"] == "维修部" and rows[2]["response_due"] == datetime(2026, 11, 4, 10)
    ws = openpyxl.load_workbook(path)["登记表"]
    header = {c.value: c.column for c in ws[1]}
    assert ws.cell(2, header["响应时限"]).fill.fgColor.rgb == "FFFFC7CE"  # late: red
    assert ws.cell(2, header["响应时限"]).number_format == "yyyy-mm-dd hh:mm"
    assert ws["Y4"].value == 42
    # the openpyxl engine would have refused this workbook; the patch engine changed only its cells
    again = cli("refresh", path, "--now", NOW)
    assert again.exit_code == 0 and "无需修改" in again.output


def test_add_and_log_append_through_the_patch_engine(tmp_path, cli):
    """add and log splice their rows into the package: the chart, picture and cross-sheet dropdown
    the openpyxl engine cannot keep survive, and only the edited sheets change."""
    path = tmp_path / "desk.xlsx"
    desk_with_extras(path, tiny_png(tmp_path / "logo.png"))
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    before = parts(path)
    result = cli("add", path, "--customer", "新客户", "--channel", "电话", "--description", "扫地机异响",
                 "--received", "2026-11-20 10:00", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "202611-004"  # stderr: its late registration
    result = cli("log", path, "202611-004", "首次响应", "已电话联系", "--by", "李工", "--at", "2026-11-20 11:00",
                 "--now", NOW)
    assert result.exit_code == 0, result.output
    assert_extras_kept(before, parts(path))
    rows = register_rows(path)
    assert (rows[5]["id"], rows[5]["customer"], rows[5]["category"]) == ("202611-004", "新客户", "产品质量类")
    assert rows[5]["status"] == "首次响应" and rows[4]["customer"] == "赵女士"
    ws = openpyxl.load_workbook(path)["登记表"]
    header = {c.value: c.column for c in ws[1]}
    assert ws.cell(5, header["反馈时间*"]).number_format == "yyyy-mm-dd hh:mm"
    assert ws["Y4"].value == 42
    _, _, log = sheet_rows(path, "进度跟踪")
    assert [(r["反馈编号"], r["节点"], r["处理人"]) for r in log if r["反馈编号"]] == [("202611-004", "首次响应", "李工")]
    assert cli("refresh", path, "--now", NOW).output.count("无需修改") == 1  # nothing left half-done


def test_import_appends_through_the_patch_engine_and_adds_its_reference_column(tmp_path, cli):
    path = tmp_path / "desk.xlsx"
    desk_with_extras(path, tiny_png(tmp_path / "logo.png"))
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    before = parts(path)
    src, mapping = calls_setup(tmp_path)
    result = cli("import", path, src, "--map", mapping, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "已导入 3 条" in result.output
    assert_extras_kept(before, parts(path))
    ws = openpyxl.load_workbook(path)["登记表"]
    header = [c.value for c in ws[1]]
    ref = header.index("外部编号") + 1
    assert ref == 26  # after the last column anything is in: Y holds a colleague's numbers under no header
    assert ws.cell(1, ref).font.b and [ws.cell(r, ref).value for r in (5, 6, 7)] == ["A001", "A002", "A003"]
    assert [ws.cell(r, 1).value for r in (5, 6, 7)] == ["202611-004", "202611-005", "202611-006"]
    assert ws["Y4"].value == 42
    again = cli("import", path, src, "--map", mapping, "--now", NOW)
    assert again.exit_code == 0 and "跳过 3 条已导入过的" in again.output


def test_an_added_row_takes_the_formatting_people_prepared(tmp_path, cli, make_desk):
    """Teams pre-format empty rows (borders, a fill, a date format): add writes into them and keeps it."""
    from openpyxl.styles import Border, PatternFill, Side

    def preformat(wb):
        ws = wb["登记表"]
        line = Side(style="thin")
        for r in range(3, 12):
            for c in range(1, 13):
                ws.cell(r, c).border = Border(top=line, bottom=line)
                ws.cell(r, c).fill = PatternFill("solid", fgColor="FFEEEEEE")
            ws.cell(r, 2).number_format = "yyyy/m/d h:mm"

    path = make_desk([{"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士",
                       "description": "机器无法开机"}], edit=preformat)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    result = cli("add", path, "--customer", "新客户", "--channel", "电话", "--description", "扫地机异响",
                 "--received", "2026-11-20 10:00", "--now", NOW)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(path)["登记表"]
    assert (ws.cell(3, 1).value, ws.cell(3, 4).value, ws.cell(3, 2).value) == ("202611-002", "新客户",
                                                                                datetime(2026, 11, 20, 10))
    assert ws.cell(3, 2).number_format == "yyyy/m/d h:mm" and ws.cell(3, 4).border.top.style == "thin"
    assert ws.cell(3, 4).fill.fgColor.rgb == "FFEEEEEE"
    assert ws.cell(4, 4).value is None and ws.cell(4, 4).border.top.style == "thin"  # the rows below wait


def test_an_added_row_goes_below_rows_whose_people_cells_hold_formulas(tmp_path, cli, make_desk):
    """A filled-down formula that evaluates to "" (calamine reads it as empty) still makes its row
    somebody's: add goes below it, as on the openpyxl engine, and the formulas stay."""
    def prepared(wb):
        ws = wb["登记表"]
        for r in (3, 4, 5):
            ws.cell(r, 7, f'=IF(F{r}="","",F{r})')  # 产品型号 computed from 联系方式, empty for now

    path = make_desk([{"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士",
                       "description": "机器无法开机"}], edit=prepared)
    cached = path.with_suffix(".tmp")  # as Excel saves them: an empty cached result
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(cached, "w", zipfile.ZIP_DEFLATED) as out:
        for item in z.infolist():
            data = z.read(item)
            out.writestr(item, data.replace(b"<v />", b"<v></v>") if item.filename == "xl/worksheets/sheet1.xml"
                         else data)
    cached.replace(path)
    result = cli("add", path, "--customer", "新客户", "--channel", "电话", "--description", "扫地机异响",
                 "--product", "K2", "--received", "2026-11-20 10:00", "--now", NOW)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(path)["登记表"]
    assert [ws.cell(r, 7).value for r in (3, 4, 5)] == ['=IF(F3="","",F3)', '=IF(F4="","",F4)', '=IF(F5="","",F5)']
    assert (ws.cell(6, 4).value, ws.cell(6, 7).value) == ("新客户", "K2")


def test_a_refused_add_writes_nothing_on_the_patch_engine(tmp_path, cli):
    path = tmp_path / "desk.xlsx"
    desk_with_extras(path, tiny_png(tmp_path / "logo.png"))
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    before = path.read_bytes()
    result = cli("add", path, "--customer", "新客户", "--channel", "传真", "--description", "扫地机异响",
                 "--received", "2026-11-20 10:00", "--now", NOW)
    assert result.exit_code != 0 and "传真" in result.output
    assert path.read_bytes() == before


def test_patch_engine_keeps_macros_and_everything_else(tmp_path, cli, make_desk):
    path = make_desk([{"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士",
                       "description": "机器无法开机"}])
    (tmp_path / "sheetdesk.toml").write_text('[desk]\nengine = "patch"\n', encoding="utf-8")
    before = parts(path)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    after = parts(path)
    changed = {n for n in before if after.get(n) != before[n]}
    # only the register, the rule sheets' check cells, sheetdesk's own sheets and styles may change
    assert changed <= {"xl/styles.xml"} | {n for n in before if n.startswith("xl/worksheets/sheet")}
    assert set(after) == set(before)
    assert register_rows(path)[2]["id"] == "202611-001"


X14 = (b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
       b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
       b'<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
       b'<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1"><x14:formula1>'
       b'<xm:f>\xe9\x80\x89\xe9\xa1\xb9!$C$2:$C$5</xm:f></x14:formula1><xm:sqref>L2:L100</xm:sqref>'
       b'</x14:dataValidation></x14:dataValidations></ext></extLst>')


def test_x14_dropdown_that_openpyxl_would_drop_survives(tmp_path, cli):
    src = tmp_path / "src.xlsx"
    desk_with_extras(src, tiny_png(tmp_path / "logo.png"))
    path = tmp_path / "desk.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", X14 + b"</worksheet>")
            zout.writestr(item, data)
    (tmp_path / "sheetdesk.toml").write_text('[desk]\nengine = "openpyxl"\n', encoding="utf-8")
    refused = cli("refresh", path, "--now", NOW)
    assert refused.exit_code != 0 and "x14" in refused.output  # the openpyxl engine would lose it
    (tmp_path / "sheetdesk.toml").write_text('[desk]\nengine = "patch"\n', encoding="utf-8")
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    assert X14 in parts(path)["xl/worksheets/sheet1.xml"]
    assert register_rows(path)[2]["id"] == "202611-001"


def _corrupting_save(monkeypatch, corrupt):
    """Make the patch engine's save damage its own output, as a bug in it would."""
    from sheetdesk.workbook.engines.patch import Patch

    real = Patch.save

    def save(self, target):
        real(self, target)
        with zipfile.ZipFile(target) as z:
            data = {i.filename: z.read(i.filename) for i in z.infolist()}
        corrupt(data, self.parts)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for name, content in data.items():
                z.writestr(name, content)

    monkeypatch.setattr(Patch, "save", save)


def _refused_refresh(tmp_path, cli) -> str:
    """Refresh a desk with extras while something is made to go wrong: it must fail and leave the
    desk as it was. Returns what the user saw."""
    path = tmp_path / "desk.xlsx"
    desk_with_extras(path, tiny_png(tmp_path / "logo.png"))
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "校验失败" in result.output
    assert path.read_bytes() == before
    return result.output


def _refresh_with_damage(tmp_path, cli, monkeypatch, corrupt) -> str:
    """Refresh a desk whose save is damaged by ``corrupt``."""
    _corrupting_save(monkeypatch, corrupt)
    return _refused_refresh(tmp_path, cli)


def test_verification_catches_a_changed_part_it_did_not_patch(tmp_path, cli, monkeypatch):
    def corrupt(data, patched):
        chart = next(n for n in data if n.startswith("xl/charts/"))
        data[chart] = data[chart].replace(b"<c:chart>", b"<c:chart> ", 1)

    output = _refresh_with_damage(tmp_path, cli, monkeypatch, corrupt)
    assert "校验失败" in output and "xl/charts/" in output


@pytest.mark.parametrize("old, new, message", [
    (b'<c r="Y4"><v>42</v></c>', b'<c r="Y4"><v>43</v></c>', "第4行第25列"),  # a number a colleague typed
    (b'<row r="3"', b'<row r="3" hidden="1"', "第3行的行属性"),  # a row attribute changed
])
def test_verification_catches_a_change_in_a_spliced_row(tmp_path, cli, monkeypatch, old, new, message):
    def corrupt(data, patched):
        sheet = "xl/worksheets/sheet1.xml"
        assert sheet in patched and old in data[sheet]
        data[sheet] = data[sheet].replace(old, new, 1)

    output = _refresh_with_damage(tmp_path, cli, monkeypatch, corrupt)
    assert "校验失败" in output and message in output


def test_verification_catches_a_changed_row_the_patch_did_not_edit(tmp_path, cli, monkeypatch):
    def corrupt(data, patched):
        sheet = "xl/worksheets/sheet1.xml"
        m = re.search(rb'<c r="D1" t="s"><v>(\d+)</v>', data[sheet])  # the header 客户, a shared string
        data[sheet] = data[sheet].replace(m.group(0), b'<c r="D1" t="s"><v>%d</v>' % (int(m.group(1)) + 1), 1)

    output = _refresh_with_damage(tmp_path, cli, monkeypatch, corrupt)
    assert "校验失败" in output and "第1行在保存后不一致" in output


def test_verification_catches_malformed_xml_in_a_rewritten_row(tmp_path, cli, monkeypatch):
    def corrupt(data, patched):
        sheet = "xl/worksheets/sheet1.xml"
        start = data[sheet].index(b'<row r="2"')
        broken = data[sheet][start:].replace(b"</t></is>", b"</t></iz>", 1)  # in a cell sheetdesk wrote
        data[sheet] = data[sheet][:start] + broken

    output = _refresh_with_damage(tmp_path, cli, monkeypatch, corrupt)
    assert "校验失败" in output and "不是合法的 XML" in output


def test_verification_catches_a_member_damaged_while_copied(tmp_path, cli, monkeypatch):
    """Copied members carry their original CRC in the new directory: their bytes themselves are compared."""
    from sheetdesk.workbook import zipcopy

    real = zipcopy.raw_chunks

    def flipped(source, info, *args):
        for data in real(source, info, *args):  # same length, one byte changed
            yield data[:-1] + bytes([data[-1] ^ 1]) if info.filename.startswith("xl/charts/") else data

    monkeypatch.setattr(zipcopy, "raw_chunks", flipped)  # the copier's, not the verifier's
    assert "xl/charts/" in _refused_refresh(tmp_path, cli)


def test_verification_inflates_what_it_wrote(tmp_path, cli, monkeypatch):
    """A written part whose stored bytes are broken (its directory entry still claims the right CRC)."""
    from sheetdesk.workbook import zipcopy

    real = zipcopy.write_raw

    def truncating(target, info, raw, crc, size, compress_type, compress_size=None):
        if size > 0 and compress_type == zipfile.ZIP_DEFLATED and info.filename.endswith("sheet5.xml"):
            raw = b"".join(raw)
            raw, compress_size = raw[: len(raw) // 2], None
        real(target, info, raw, crc, size, compress_type, compress_size)

    monkeypatch.setattr(zipcopy, "write_raw", truncating)
    path = tmp_path / "desk.xlsx"
    desk_with_extras(path, tiny_png(tmp_path / "logo.png"))
    with zipfile.ZipFile(path) as z:
        from sheetdesk.workbook.opc import sheet_parts

        assert sheet_parts(z)["跟踪看板"].endswith("sheet5.xml")  # the tracker, rebuilt on the first refresh
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "写入后已损坏" in result.output
    assert path.read_bytes() == before


def test_a_failure_while_deflating_a_generated_sheet_writes_nothing(tmp_path, cli, monkeypatch):
    import zlib

    from sheetdesk.workbook import zipcopy

    real = zlib.compressobj

    class FailsOnTheTracker:
        def __init__(self, *args):
            self.packer = real(*args)

        def compress(self, data):
            if b'topLeftCell="B2"' in bytes(data):
                raise MemoryError("simulated")
            return self.packer.compress(data)

        def flush(self):
            return self.packer.flush()

    monkeypatch.setattr(zipcopy.zlib, "compressobj", FailsOnTheTracker)
    path = tmp_path / "desk.xlsx"
    desk_with_extras(path, tiny_png(tmp_path / "logo.png"))
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert path.read_bytes() == before


def test_a_row_spelled_another_way_among_ordinary_rows_is_patched_not_duplicated(cli, make_desk):
    rows = [{"received": datetime(2026, 11, d, 10), "channel": "电话", "customer": c, "description": "无法开机"}
            for d, c in ((2, "甲"), (3, "乙"), (4, "丙"))]
    path = make_desk(rows)
    damaged = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as out:
        for item in z.infolist():
            data = z.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":  # as some producers write it: r after spans
                data = data.replace(b'<row r="3"', b'<row spans="1:20" r="3"', 1)
            out.writestr(item, data)
    damaged.replace(path)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as z:
        heads = re.findall(rb'<row\b[^>]*\br="(\d+)"', z.read("xl/worksheets/sheet1.xml"))
    assert heads.count(b"3") == 1 and heads[:4] == [b"1", b"2", b"3", b"4"]
    assert [register_rows(path)[r]["id"] for r in (2, 3, 4)] == ["202611-001", "202611-002", "202611-003"]


def test_verification_rereads_a_sheet_whose_rows_it_cannot_locate(tmp_path, cli, monkeypatch):
    from sheetdesk.workbook.engines.patch import verify

    monkeypatch.setattr(verify, "spliced_only", lambda *args: None)  # as for rows stored out of order

    def corrupt(data, patched):
        sheet = "xl/worksheets/sheet1.xml"
        data[sheet] = data[sheet].replace(b'<c r="Y4"><v>42</v></c>', b'<c r="Y4"><v>43</v></c>', 1)

    output = _refresh_with_damage(tmp_path, cli, monkeypatch, corrupt)
    assert "校验失败" in output and "第4行第25列" in output


def _tracker_values(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)["跟踪看板"]
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


def test_the_tracker_sheetdesk_wrote_is_never_read_back(tmp_path, cli, make_desk, monkeypatch):
    from sheetdesk.workbook.engines.patch import generated
    from sheetdesk.workbook.opc import sheet_parts

    path = make_desk([{"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士",
                       "description": "机器无法开机"},
                      {"received": datetime(2026, 11, 20, 10), "channel": "电话", "customer": "李先生",
                       "description": "底部漏水"}])
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    counter = openpyxl.load_workbook(path)["_sheetdesk"]
    assert [counter.cell(2, c).value for c in (1, 2)] == ["202611", 2]

    def must_not_compare(ws, gen):
        raise AssertionError(f"{gen.sheet} was read although sheetdesk wrote it and nobody saved it since")

    monkeypatch.setattr(generated, "same_values", must_not_compare)
    # the next morning: the overdue texts change; the tracker is rebuilt without reading it
    before = _tracker_values(path)
    result = cli("refresh", path, "--now", "2026-11-24 09:00")
    assert result.exit_code == 0, result.output
    assert _tracker_values(path) != before
    with zipfile.ZipFile(path) as z:
        name = sheet_parts(z)["跟踪看板"]
    tracker_part = parts(path)[name]
    again = cli("refresh", path, "--now", "2026-11-24 09:00")
    assert again.exit_code == 0 and "无需修改" in again.output
    assert parts(path)[name] == tracker_part


def test_a_tracker_someone_typed_into_is_restored(tmp_path, cli, make_desk):
    path = make_desk([{"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士",
                       "description": "机器无法开机"}])
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    expected = _tracker_values(path)
    wb = openpyxl.load_workbook(path)  # a colleague types into the tracker and saves: the part is rewritten
    wb["跟踪看板"]["B2"] = "乱写的"
    wb.save(path)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert _tracker_values(path) == expected


def spliced(xml: bytes, edits, styles, date1904: bool, changes: list) -> bytes:
    """The sheet XML the patch engine writes for ``edits`` (it streams the pieces; joined here)."""
    from sheetdesk.workbook.engines.patch.splice import patched_sequence

    sequence, found = patched_sequence(xml, edits, styles, date1904)
    changes += found
    return b"".join(sequence)


def test_rows_are_found_whether_or_not_r_comes_first():
    """Office suites write ``<row r=..`` first and in order (the fast path); any other spelling is
    still patched, by walking every row."""
    from sheetdesk.workbook.edits import KEEP
    from sheetdesk.workbook.engines.patch import PatchUnsupported
    from sheetdesk.workbook.engines.patch.cells import Edit
    from sheetdesk.workbook.engines.patch.styles import Styles

    styles = Styles(b'<styleSheet><fills count="1"><fill/></fills><fonts count="1"><font/></fonts>'
                            b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
                            b'</cellXfs></styleSheet>')

    def sheet(rows: bytes) -> bytes:
        return b"<worksheet><sheetData>" + rows + b"</sheetData></worksheet>"

    def edit(value):
        return {2: {2: Edit(2, value, KEEP, None, False, "register", "status", None)},
                10: {1: Edit(1, "x", KEEP, None, False, "register", "status", None)}}

    plain = sheet(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
                  b'<row r="10"/>')
    odd = sheet(b'<row spans="1:2" r="1"><c r="A1"><v>1</v></c></row><row spans="1:2" r="2"><c r="A2"><v>2</v>'
                b'</c></row><row spans="1:2" r="10"/>')
    for xml in (plain, odd):
        changes = []
        out = spliced(xml, edit("已结案"), styles, False, changes)
        assert b'<c r="A1"><v>1</v></c>' in out
        assert b'<c r="A2"><v>2</v></c><c r="B2" t="inlineStr"><is><t xml:space="preserve">' + "已结案".encode() in out
        assert b'<c r="A10" t="inlineStr">' in out
        assert len(changes) == 2
    # rows that do not exist yet (add and log append them) are inserted where they belong
    gaps = sheet(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="5"><c r="A5"><v>5</v></c></row>')
    out = spliced(gaps, edit("x"), styles, False, [])
    assert re.findall(rb'<row r="(\d+)"', out) == [b"1", b"2", b"5", b"10"]
    assert b'<row r="2"><c r="B2" t="inlineStr">' in out and b'<c r="A5"><v>5</v></c></row><row r="10">' in out
    odd_gaps = sheet(b'<row spans="1:2" r="1"><c r="A1"><v>1</v></c></row>')
    try:  # where a new row belongs cannot be told from rows spelled another way: openpyxl saves it
        spliced(odd_gaps, edit("x"), styles, False, [])
    except PatchUnsupported:
        pass
    else:
        raise AssertionError("a new row among rows spelled another way must send the save to openpyxl")


def test_a_date_written_over_libreoffices_custom_general_format_gets_a_date_format():
    """LibreOffice saves its default cell format as numFmtId 164 "General"; a date written into a
    cell with that format must still get a date format (or Excel shows a bare serial)."""
    from sheetdesk.workbook.edits import KEEP
    from sheetdesk.workbook.engines.patch.cells import Edit
    from sheetdesk.workbook.engines.patch.styles import Styles

    styles = Styles(b'<styleSheet><numFmts count="1"><numFmt numFmtId="164" formatCode="General"/></numFmts>'
                            b'<cellXfs count="1"><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0"/>'
                            b'</cellXfs></styleSheet>')
    xml = b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>'
    edits = {2: {2: Edit(2, datetime(2026, 11, 20, 10), KEEP, "yyyy-mm-dd hh:mm", False, "register",
                                  "received", None)}}
    out = spliced(xml, edits, styles, False, [])
    style = int(re.search(rb'<c r="B2" s="(\d+)"', out).group(1))
    assert styles.numfmts[styles.numfmt_of(style)] == "yyyy-mm-dd hh:mm"


def test_new_cells_keep_column_order_whether_or_not_the_row_has_cells_beyond_them():
    from sheetdesk.workbook.edits import KEEP
    from sheetdesk.workbook.engines.patch.cells import Edit
    from sheetdesk.workbook.engines.patch.styles import Styles

    styles = Styles(b'<styleSheet><cellXfs count="1"><xf numFmtId="0"/></cellXfs></styleSheet>')
    edits = {2: {4: Edit(4, "新", KEEP, None, False, "register", "status", None)}}
    for row, expected in [
        (b'<row r="2" spans="1:2"><c r="A2"><v>1</v></c><c r="B2"><v>2</v></c></row>', [b"A2", b"B2", b"D2"]),
        (b'<row r="2"><c r="A2"><v>1</v></c><c r="F2"><v>6</v></c></row>', [b"A2", b"D2", b"F2"]),  # a colleague's F
        (b'<row r="2"><c s="0" r="A2"><v>1</v></c><c s="0" r="F2"><v>6</v></c></row>', [b"A2", b"D2", b"F2"]),
    ]:
        out = spliced(b"<worksheet><sheetData>" + row + b"</sheetData></worksheet>", edits, styles,
                                  False, [])
        assert re.findall(rb'<c [^>]*?r="([A-Z]+2)"', out) == expected, out
        assert b"spans=" not in out  # the hint would be stale


def test_cell_styles_are_found_whichever_attribute_comes_first():
    """A fill sheetdesk set must be found (to clear it later) on cells spelled <c s=".." r="..">, too."""
    from sheetdesk.workbook.engines.patch.splice import styles_at

    body = (b'<sheetData><row r="2"><c r="D2" s="4"><v>1</v></c><c r="E2"/></row>'
            b'<row r="3"><c s="5" r="D3"><v>1</v></c><c t="s" r="E3" s="9"><v>0</v></c></row>'
            b'<row r="4"><c cm="1" s="6" r="D4"><v>1</v></c><c r="DD4" s="8"/></row></sheetData>')
    found = styles_at(body, {4, 5}, 4)
    assert list(found[4]) == [0, 0, 4, 5, 6] and list(found[5]) == [0, 0, 0, 9, 0]


def test_cell_styles_found_block_by_block_match_the_whole_scan(tmp_path, monkeypatch):
    """The register's cell styles are scanned while it is inflated block by block (its XML is not
    held while the rules' objects are): tags cut by a block boundary must still be found."""
    from sheetdesk.workbook import fastread
    from sheetdesk.workbook.engines.patch.splice import styles_at, styles_streamed

    rows = b"".join(b'<row r="%d"><c r="A%d" s="%d"><v>1</v></c><c s="%d" r="C%d"/></row>' % (r, r, r % 7, r % 5, r)
                    for r in range(2, 400))
    xml = b"<worksheet><sheetData>" + rows + b"</sheetData></worksheet>"
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sheet.xml", xml)
    whole = styles_at(xml, {1, 3}, 400)
    for block in (7, 64, 1000, 1 << 22):
        monkeypatch.setattr(fastread, "BLOCK", block)
        with zipfile.ZipFile(path) as z:
            streamed = styles_streamed(z, "sheet.xml", {1, 3}, 400)
        assert streamed == whole and streamed[1][9] == 2 and streamed[3][9] == 4


def test_a_lean_run_lets_the_tickets_go_before_saving_and_keeps_what_the_commands_print(make_desk):
    from sheetdesk.app import desk

    path = make_desk([{"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士",
                       "description": "热水器漏水", "priority": "P2"}])
    now = datetime(2026, 11, 23, 9)
    result = desk.run(path, now=now, lean=True, append=desk.Append("register", {
        "received": datetime(2026, 11, 20, 9), "channel": "电话", "customer": "李先生", "description": "无法开机",
        "priority": "P1"}))
    assert result.written and result.new_id == "202611-002" and result.register_rows == 2
    assert result.statuses == [] and result.plan.tickets == []  # released before the save
    assert register_rows(path)[3]["id"] == "202611-002"
    kept = desk.run(path, now=now, write=False)
    assert len(kept.statuses) == 2 and kept.register_rows == 2


def test_an_appended_row_grows_the_sheet_dimension():
    from sheetdesk.workbook.edits import KEEP
    from sheetdesk.workbook.engines.patch.cells import Edit
    from sheetdesk.workbook.engines.patch.styles import Styles

    styles = Styles(b'<styleSheet><cellXfs count="1"><xf numFmtId="0"/></cellXfs></styleSheet>')
    xml = (b'<worksheet><dimension ref="A1:C3"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
           b'<row r="3"><c r="A3"><v>3</v></c></row></sheetData></worksheet>')
    edits = {4: {2: Edit(2, "新", KEEP, None, False, "register", "customer", None)}}
    out = spliced(xml, edits, styles, False, [])
    assert b'<dimension ref="A1:C4"/>' in out and out.endswith(b"</row></sheetData></worksheet>")


def test_a_run_pauses_the_cyclic_collector_and_restores_it(make_desk, monkeypatch):
    import gc

    from sheetdesk.app import desk

    path = make_desk([{"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士",
                       "description": "机器无法开机"}])
    seen = []
    real = desk._run

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(desk, "_run", spy)
    try:
        assert gc.isenabled()
        desk.run(path, now=datetime(2026, 11, 23, 9), write=False)
        assert seen == [False] and gc.isenabled()
        gc.disable()  # a caller that turned it off keeps it off
        desk.run(path, now=datetime(2026, 11, 23, 9), write=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("block", [64, 997])
def test_splicing_block_by_block_writes_what_splicing_the_whole_sheet_does(tmp_path, monkeypatch, block):
    """The register is inflated, spliced and checked a block at a time (its XML is never held whole):
    whatever the block size, the saved desk is byte for byte the one the one-block splice gives —
    on the first refresh (every row edited), the next morning, and with a ticket added below."""
    from sheetdesk.app import desk
    from sheetdesk.app.templates import create_demo
    from sheetdesk.workbook import fastread

    def run_all(directory, size):
        monkeypatch.setattr(fastread, "BLOCK", size)
        path = create_demo(directory, lang="zh", today=datetime(2026, 11, 23).date())
        out = []
        for now, append in ((datetime(2026, 11, 23, 9), None), (datetime(2026, 11, 24, 9), None),
                            (datetime(2026, 11, 24, 10), desk.Append("register", {
                                "received": datetime(2026, 11, 24, 9, 30), "channel": "电话", "customer": "新客户",
                                "description": "扫地机异响"}))):
            result = desk.run(path, now=now, force=True, lean=True, append=append)
            assert result.written
            out.append((parts(path), [(c.sheet, c.row, c.column, c.new) for c in result.changes]))
        return out

    small = run_all(tmp_path / "small", block)
    whole = run_all(tmp_path / "whole", 1 << 30)
    for (a, changes_a), (b, changes_b) in zip(small, whole):
        assert changes_a == changes_b
        assert set(a) == set(b) and all(a[n] == b[n] for n in a if not n.startswith("docProps/"))


def test_a_splicing_bug_is_caught_before_the_desk_is_replaced(tmp_path, cli, monkeypatch):
    """Each block's spliced rows are checked against the rows they came from as they are made: a
    splice that changed a colleague's cell is refused and the desk is left as it was."""
    from sheetdesk.workbook.engines.patch import splice

    real = splice.patch_row

    def careless(row_xml, head, r, *args, **kwargs):
        out = real(row_xml, head, r, *args, **kwargs)
        return out.replace(b"<v>42</v>", b"<v>43</v>")  # Y4, a number a colleague typed

    monkeypatch.setattr(splice, "patch_row", careless)
    assert "第4行第25列" in _refused_refresh(tmp_path, cli)


def test_a_ticket_added_over_a_row_with_only_sheetdesks_cells_left_clears_them(make_desk):
    """A ticket whose people's cells were cleared is no record, but its 升级原因/超时/校验 may remain;
    add puts the new ticket in that row, and none of the old ticket's notes may stay on it."""
    from sheetdesk.app import desk
    from sheetdesk.schema import REGISTER

    def leftovers(wb):
        ws = wb[REGISTER.name("zh")]
        ws.cell(3, col_of(ws, "register", "escalation_reason")).value = "旧原因"
        ws.cell(3, col_of(ws, "register", "check")).value = "旧校验信息"
        ws.cell(3, col_of(ws, "register", "overdue")).value = "超时 3 天"

    path = make_desk([{"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士",
                       "description": "热水器漏水", "priority": "P2"}], edit=leftovers)
    result = desk.run(path, now=datetime(2026, 11, 23, 9), lean=True, append=desk.Append("register", {
        "received": datetime(2026, 11, 23, 8), "channel": "电话", "customer": "李先生", "description": "无法开机",
        "priority": "P2"}))
    assert result.written and result.appended.row == 3
    row = register_rows(path)[3]
    assert row["customer"] == "李先生" and row["escalation_reason"] is None and row["overdue"] is None
    assert row["check"] != "旧校验信息"

"""sheetdesk report: every field round-trips, the archive never loses a version, the external copy hides contacts."""

from __future__ import annotations

import zipfile
from datetime import datetime

import openpyxl
import pytest

from tests.helpers import NOW, soffice

TICKET = {"id": "202611-001", "received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王小明",
          "contact": "13812345678", "product": "扫地机 X3", "description": "机器无法开机，客户电话13812345678",
          "expectation": "上门维修"}
LOG = [{"id": "202611-001", "time": datetime(2026, 11, 2, 11), "by": "李工", "step": "首次响应",
        "note": "已联系王小明，电话 138-1234-5678，邮箱 wang.xm@example.com"},
       {"id": "202611-001", "time": datetime(2026, 11, 4, 15), "by": "李工", "step": "问题关闭", "note": "更换主板"}]
RESULT = {"id": "202611-001", "result": "已更换主板，测试正常", "satisfaction": "满意", "comment": "王小明表示感谢",
          "rated_at": datetime(2026, 11, 5, 10), "prepared_by": "李工", "prepared_on": datetime(2026, 11, 5),
          "reviewer": "赵主管", "reviewed_on": datetime(2026, 11, 6), "remarks": "无"}


def fields(path):
    ws = openpyxl.load_workbook(path).active
    return {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r[0]}


def all_text(path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8", errors="replace") for n in z.namelist())


def test_report_round_trips_every_field_and_archive_is_append_only(make_desk, cli, tmp_path):
    path = make_desk([TICKET, {**TICKET, "id": "202611-002", "customer": "李四"}], progress=LOG, results=[RESULT])
    result = cli("report", path, "202611-001", "--now", NOW)
    assert result.exit_code == 0, result.output
    report = tmp_path / "archive" / "2026" / "11" / "202611-001.xlsx"
    assert str(report) in result.output.replace("\n", "")
    f = fields(report)
    assert f["反馈编号"] == "202611-001" and f["客户名称/单位"] == "王小明" and f["联系方式"] == "13812345678"
    assert f["反馈日期"] == datetime(2026, 11, 2, 10) and f["反馈来源"] == "电话"
    assert f["问题分类"] == "产品质量类" and f["优先级"] == "P1" and f["处理责任人"] == "李工"
    assert f["处理时限"] == datetime(2026, 11, 11, 10)
    assert f["处理结果"] == "已更换主板，测试正常" and f["客户满意度"] == "满意" and f["客户评价"] == "王小明表示感谢"
    assert f["报告编制人"] == "李工" and f["编制日期"] == datetime(2026, 11, 5)
    assert f["审核人"] == "赵主管" and f["审核日期"] == datetime(2026, 11, 6) and f["备注"] == "无"
    assert f[datetime(2026, 11, 2, 11)] == "首次响应"  # the dated process steps
    assert f["首次响应"] == datetime(2026, 11, 4, 10)  # stage table: due, done, met
    ws = openpyxl.load_workbook(report).active
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"
    # one page wide (1 is the default width, so it may be omitted), as many pages tall as needed
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
    assert int(ws.page_setup.fitToHeight) == 0
    assert "202611-001" in ws.oddHeader.left.text and ws.print_title_rows

    # nothing changed → nothing written
    before = report.read_bytes()
    again = cli("report", path, "202611-001", "--now", NOW)
    assert again.exit_code == 0 and "未变" in again.output
    assert report.read_bytes() == before and not (report.parent / "202611-001.v2.xlsx").exists()

    # the supervisor edits the result → a second version beside the first
    wb = openpyxl.load_workbook(path)
    wb["处理结果"]["B2"] = "已更换主板并延长保修"
    wb.save(path)
    assert cli("report", path, "202611-001", "--now", NOW).exit_code == 0
    v2 = report.parent / "202611-001.v2.xlsx"
    assert v2.exists() and report.read_bytes() == before
    assert fields(v2)["处理结果"] == "已更换主板并延长保修"

    index = openpyxl.load_workbook(tmp_path / "archive" / "index.xlsx").active
    rows = list(index.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in rows] == [("202611-001", 1), ("202611-001", 2)]
    assert all(len(r[3]) == 64 for r in rows)


def test_external_copy_has_no_unmasked_contact_anywhere(make_desk, cli, tmp_path):
    path = make_desk([TICKET], progress=LOG, results=[RESULT])
    assert cli("report", path, "202611-001", "--external", "--now", NOW).exit_code == 0
    ext = tmp_path / "archive" / "2026" / "11" / "202611-001.external.xlsx"
    text = all_text(ext)
    for secret in ("13812345678", "138-1234-5678", "1234-5678", "wang.xm@", "王小明"):
        assert secret not in text, secret
    f = fields(ext)
    assert f["客户名称/单位"] == "王**" and f["联系方式"] == "138****5678"
    assert "138****5678" in f["问题描述"]
    internal = fields(tmp_path / "archive" / "2026" / "11" / "202611-001.xlsx")
    assert internal["联系方式"] == "13812345678"


def test_all_and_bad_arguments(make_desk, cli, tmp_path):
    second = {**RESULT, "id": "202611-002"}
    unreviewed = {**RESULT, "id": "202611-003", "reviewer": None}
    path = make_desk([TICKET, {**TICKET, "id": "202611-002"}, {**TICKET, "id": "202611-003"}],
                     results=[RESULT, second, unreviewed])
    result = cli("report", path, "--all", "--now", NOW)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "archive" / "2026" / "11"
    assert sorted(p.name for p in folder.iterdir()) == ["202611-001.xlsx", "202611-002.xlsx"]
    again = cli("report", path, "--all", "--now", NOW).output
    assert "已审核的 2 个工单都已归档，没有新的报告要写" in again and "没有需要出报告" not in again
    empty = make_desk([TICKET], results=[{**RESULT, "reviewer": None}], name="empty.xlsx")
    assert "还没有已审核的处理结果" in cli("report", empty, "--all", "--now", NOW).output
    for args in (["202611-003"], ["202611-009"], [], ["202611-001", "--all"]):
        bad = cli("report", path, *args, "--now", NOW)
        assert bad.exit_code == 2 and "Traceback" not in bad.output, args


@pytest.mark.libreoffice
@pytest.mark.slow
def test_pdf_with_chinese_text(make_desk, cli, tmp_path):
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    path = make_desk([TICKET], progress=LOG, results=[RESULT])
    result = cli("report", path, "202611-001", "--pdf", "--now", NOW)
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "archive" / "2026" / "11" / "202611-001.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_pdf_without_libreoffice_says_how_to_install(make_desk, cli, monkeypatch):
    path = make_desk([TICKET], progress=LOG, results=[RESULT])
    monkeypatch.setattr("shutil.which", lambda name: None)
    result = cli("report", path, "202611-001", "--pdf", "--now", NOW)
    assert result.exit_code == 1 and "libreoffice-calc" in result.output
    assert not (path.parent / "archive").exists()


def test_long_notes_get_the_row_height_they_need(make_desk, cli, tmp_path):
    """A wrapped note must not print over the next row (LibreOffice keeps the file's row heights)."""
    long_note = "已加客户微信沟通退款进度，张先生情绪激动，要求今天之内给出明确答复并由主管回电说明原因"
    log = [*LOG[:1], {**LOG[1], "note": long_note}, *LOG[2:]]
    path = make_desk([TICKET], progress=log, results=[{**RESULT, "result": "已更换主板。" * 20}])
    assert cli("report", path, "202611-001", "--now", NOW).exit_code == 0
    ws = openpyxl.load_workbook(tmp_path / "archive" / "2026" / "11" / "202611-001.xlsx").active
    rows = {c.value: c.row for col in ws.iter_cols(min_col=2, max_col=4) for c in col if isinstance(c.value, str)}
    assert ws.row_dimensions[rows[long_note]].height >= 45      # 44 characters in a 32-wide column: 3 lines
    assert ws.row_dimensions[rows["已更换主板。" * 20]].height >= 45   # 120 characters merged over B–D
    assert ws.row_dimensions[rows[LOG[0]["note"]]].height == 30   # 58 half-width units in 31: 2 lines
    assert ws.row_dimensions[rows["无"]].height is None             # a short field keeps the default

"""The result report says why a ticket was late; its external copy keeps the team's internals out."""

from __future__ import annotations

import zipfile
from datetime import datetime

import openpyxl
import pytest

from tests.helpers import NOW

# four-stage SLA: 充电时冒烟 escalates to 一级 (30 min / 1 h / 4 h / 24 h). Responded in time, closed
# three days later; nobody logged 技术介入 or 方案提供
TICKET = {"id": "202611-001", "received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王小明",
          "contact": "13812345678", "product": "扫地机 X3", "description": "充电时冒烟", "expectation": "退货"}
LOG = [{"id": "202611-001", "time": datetime(2026, 11, 2, 10, 20), "by": "李工", "step": "首次响应",
        "note": "已电话联系客户"},
       {"id": "202611-001", "time": datetime(2026, 11, 5, 15), "by": "李工", "step": "问题关闭", "note": "已换新机"}]
RESULT = {"id": "202611-001", "result": "已换新机", "satisfaction": "满意", "rated_at": datetime(2026, 11, 6, 10),
          "prepared_by": "李工", "prepared_on": datetime(2026, 11, 6), "reviewer": "赵主管",
          "reviewed_on": datetime(2026, 11, 6), "overdue_reason": "备件缺货，等待厂家发货",
          # 一级 is a major problem: the manager's second review comes before the report
          "second_reviewer": "钱经理", "second_reviewed_on": datetime(2026, 11, 7)}
SECRET = "客户难缠，勿让其知悉"


def with_internal_note(wb):
    ws = wb["登记表"]
    col = ws.max_column + 1
    ws.cell(1, col, "内部备注")
    ws.cell(2, col, SECRET)


def rows(path) -> list[tuple]:
    ws = openpyxl.load_workbook(path).active
    return [tuple(v for v in r) for r in ws.iter_rows(values_only=True)]


def text_of(path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8", errors="replace") for n in z.namelist())


def assert_one_page_wide_portrait(path) -> None:
    ws = openpyxl.load_workbook(path).active
    assert ws.page_setup.orientation == "portrait" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
    assert int(ws.page_setup.fitToHeight) == 0 and ws.print_title_rows


def test_the_report_says_why_and_where_it_was_late_and_the_external_copy_does_not(make_desk, cli, tmp_path):
    path = make_desk([TICKET], preset="four-stage", progress=LOG, results=[RESULT], edit=with_internal_note)
    result = cli("report", path, "202611-001", "--external", "--now", NOW)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "archive" / "2026" / "11"
    internal, external = folder / "202611-001.xlsx", folder / "202611-001.external.xlsx"

    got = rows(internal)
    fields = {r[0]: r[1] for r in got if r[0]}
    assert "冒烟" in fields["升级原因"]
    assert fields["超时环节"] == "技术介入、方案提供、问题关闭"
    assert fields["超时原因"] == "备件缺货，等待厂家发货"
    stages = {r[0]: r[1:4] for r in got if r[0] in ("首次响应", "技术介入", "方案提供", "问题关闭")}
    assert stages["首次响应"] == (datetime(2026, 11, 2, 10, 30), datetime(2026, 11, 2, 10, 20), "达标")
    # nobody logged them: not "done at the close time", but closed without the step
    assert stages["技术介入"] == (datetime(2026, 11, 2, 11), "随关闭（未单独记录）", "未达标")
    assert stages["方案提供"][1] == "随关闭（未单独记录）"
    assert stages["问题关闭"] == (datetime(2026, 11, 3, 10), datetime(2026, 11, 5, 15), "未达标")
    assert SECRET not in text_of(internal)  # the register's internal note is in no report

    ext = rows(external)
    ext_fields = {r[0]: r[1] for r in ext if r[0]}
    # what the customer should see
    assert ext_fields["反馈编号"] == "202611-001" and ext_fields["反馈日期"] == datetime(2026, 11, 2, 10)
    assert ext_fields["处理结果"] == "已换新机" and ext_fields["客户名称/单位"] == "王**"
    steps = [(r[0], r[1], r[3]) for r in ext if isinstance(r[0], datetime)]
    assert steps == [(datetime(2026, 11, 2, 10, 20), "首次响应", "已电话联系客户"),
                     (datetime(2026, 11, 5, 15), "问题关闭", "已换新机")]
    # what stays inside: escalation keys, lateness, attainment, the internal note
    for label in ("升级原因", "超时环节", "超时原因", "时效"):
        assert label not in ext_fields, label
    everything = text_of(external)
    for secret in ("冒烟 →", "备件缺货", "达标", "随关闭", SECRET, fields["升级原因"]):
        assert secret not in everything, secret

    for report in (internal, external):
        assert_one_page_wide_portrait(report)


def test_a_late_ticket_without_a_reason_says_so_in_english(make_desk, cli, tmp_path):
    ticket = {**TICKET, "description": "smoke while charging", "channel": "Phone", "customer": "Wang"}
    log = [{**e, "step": {"首次响应": "First response", "问题关闭": "Closed"}[e["step"]]} for e in LOG]
    result_row = {**RESULT, "satisfaction": "Satisfied", "overdue_reason": None}
    path = make_desk([ticket], lang="en", preset="four-stage", progress=log, results=[result_row])
    result = cli("report", path, "202611-001", "--now", NOW, "--lang", "en")
    assert result.exit_code == 0, result.output
    got = rows(tmp_path / "archive" / "2026" / "11" / "202611-001.xlsx")
    fields = {r[0]: r[1] for r in got if r[0]}
    assert fields["Late stages"] == "Tech engaged, Solution, Closed"
    assert fields["Overdue reason"] == "(not given)"
    assert {r[0]: r[2] for r in got}["Tech engaged"] == "closed without this step"


@pytest.mark.parametrize("late", [False, True])
def test_an_on_time_report_has_no_lateness_rows(make_desk, cli, tmp_path, late):
    log = [LOG[0], {**LOG[1], "time": datetime(2026, 11, 2, 11, 30) if not late else LOG[1]["time"]}]
    path = make_desk([{**TICKET, "description": "无法开机"}], preset="four-stage", progress=log,
                     results=[{**RESULT, "overdue_reason": None}])
    assert cli("report", path, "202611-001", "--now", NOW).exit_code == 0
    fields = {r[0] for r in rows(tmp_path / "archive" / "2026" / "11" / "202611-001.xlsx")}
    assert ("超时原因" in fields) is late and ("超时环节" in fields) is late

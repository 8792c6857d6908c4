"""The seeds' reports and summaries (issue 17 items 13, 15–18), through the real CLI on real workbooks:
不满意TOP3, quarterly and yearly summaries, the manager's second review of major tickets, the
100-point scale and the four-stage preset's priorities."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest

from sheetdesk.schema import LISTS, SHEETS_BY_KEY
from tests.helpers import NOW, col_of, register_rows


def ticket(id_, received, category, description, **extra):
    return {"id": id_, "received": received, "channel": "电话", "customer": "客户" + id_[-3:],
            "contact": "13812345678", "category": category, "description": description, **extra}


def kpi_values(path):
    ws = openpyxl.load_workbook(path)["指标"]
    return {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)}


# --- 13: TOP3 among the unhappy -----------------------------------------------------------------

NOVEMBER = [
    ticket("202611-001", datetime(2026, 11, 2, 10), "物流类", "发货延迟三天还没到"),
    ticket("202611-002", datetime(2026, 11, 3, 10), "物流类", "发货延迟，催了好几次"),
    ticket("202611-003", datetime(2026, 11, 4, 10), "物流类", "包裹丢件了"),
    ticket("202611-004", datetime(2026, 11, 5, 10), "产品质量类", "外观破损，有裂纹"),
    ticket("202611-005", datetime(2026, 11, 6, 10), "服务体验类", "客服态度差"),
    ticket("202611-006", datetime(2026, 11, 9, 10), "产品质量类", "无法开机"),
    ticket("202611-007", datetime(2026, 11, 10, 10), "产品质量类", "无法开机"),
    ticket("202611-008", datetime(2026, 11, 11, 10), "产品质量类", "异响"),
]
UNHAPPY = ["202611-001", "202611-002", "202611-003", "202611-004", "202611-005"]
RATINGS = ([{"id": i, "satisfaction": "不满意", "rated_at": datetime(2026, 11, 16, 10)} for i in UNHAPPY]
           + [{"id": i, "satisfaction": "满意", "rated_at": datetime(2026, 11, 16, 10)}
              for i in ("202611-006", "202611-007", "202611-008")])


def test_month_summary_names_the_top_three_among_the_unhappy(make_desk, cli, tmp_path):
    path = make_desk(NOVEMBER, results=RATINGS)
    result = cli("summary", path, "--month", "2026-11", "--now", NOW)
    assert result.exit_code == 0, result.output
    out = tmp_path / "summaries" / "2026-11.xlsx"
    k = kpi_values(out)
    assert k["前三问题分类"] == "产品质量类、物流类、服务体验类"  # all tickets: 4, 3, 1
    # among the five 不满意: 物流类 3 (60 %), then the ties of one in name order
    assert k["不满意前三问题分类"] == "物流类 60%、产品质量类 20%、服务体验类 20%"
    assert k["不满意前三子类"] == "物流类/发货延迟 40%、产品质量类/外观破损 20%、服务体验类/服务态度 20%"  # 态度 → 服务态度
    ws = openpyxl.load_workbook(out)["不满意TOP3"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("问题分类", "不满意数", "占比")
    assert rows[1] == ("物流类", 3, pytest.approx(0.6))
    assert rows[5] == ("子类", "不满意数", "占比")
    assert rows[6] == ("物流类/发货延迟", 2, pytest.approx(0.4))


# --- 15: quarterly and yearly -------------------------------------------------------------------

QUARTER = [
    # received on the eve of 国庆: 7 working days skip Oct 1–7 and count the make-up Saturday Oct 10
    ticket("202609-001", datetime(2026, 9, 30, 16), "产品质量类", "无法开机"),
    # received the day before the make-up Saturday: due Mon 19 Oct (Oct 10 is a working day)
    ticket("202610-001", datetime(2026, 10, 9, 10), "产品质量类", "无法开机"),
    ticket("202611-001", datetime(2026, 11, 2, 10), "物流类", "发货延迟"),
    ticket("202612-001", datetime(2026, 12, 1, 10), "物流类", "发货延迟"),
]
QUARTER_LOG = [
    {"id": "202609-001", "time": datetime(2026, 9, 30, 17), "by": "李工", "step": "首次响应"},
    {"id": "202609-001", "time": datetime(2026, 10, 15, 15), "by": "李工", "step": "问题关闭"},
    {"id": "202610-001", "time": datetime(2026, 10, 9, 11), "by": "李工", "step": "首次响应"},
    {"id": "202610-001", "time": datetime(2026, 10, 19, 9), "by": "李工", "step": "问题关闭"},
    {"id": "202611-001", "time": datetime(2026, 11, 2, 11), "by": "孙工", "step": "首次响应"},
    {"id": "202611-001", "time": datetime(2026, 11, 25, 11), "by": "孙工", "step": "问题关闭"},
]


def test_quarter_and_year_summaries_cover_the_period(make_desk, cli, tmp_path):
    path = make_desk(QUARTER, progress=QUARTER_LOG)
    now = "2026-12-04 09:00"
    refreshed = cli("refresh", path, "--now", now)
    assert refreshed.exit_code == 0, refreshed.output
    due = {r["id"]: r["resolution_due"] for r in register_rows(path).values()}
    assert due["202609-001"] == datetime(2026, 10, 15, 16)   # Sep 30 + 7 wd over the holiday
    assert due["202610-001"] == datetime(2026, 10, 19, 10)   # the make-up Saturday counts

    result = cli("summary", path, "--quarter", "2026-Q4", "--now", now)
    assert result.exit_code == 0, result.output
    out = tmp_path / "summaries" / "2026-Q4.xlsx"
    assert "期末未结" in result.output
    k = kpi_values(out)
    assert k["统计期间"] == "2026-Q4"
    assert k["受理量"] == 3 and k["结案量"] == 3 and k["期末未结"] == 1
    # 202610-001 closed on time (09:00 < 10:00), 202611-001 (P2) closed late (15 wd from 2 Nov: 23 Nov)
    assert k["解决达标率"] == pytest.approx(1 / 2)
    wb = openpyxl.load_workbook(out)
    assert {"指标", "分类", "优先级", "部门", "责任人", "满意度", "不满意TOP3", "超时原因", "趋势"} <= set(wb.sheetnames)
    assert "时效监控" not in wb.sheetnames
    trend = wb["趋势"]
    assert trend["A13"].value == "2026-12" and trend["A2"].value == "2026-01"  # the 12 months up to the quarter's end
    assert "季度汇总 2026-Q4" in wb["指标"].oddHeader.left.text
    assert wb.properties.title == "售后反馈季度汇总 2026-Q4"

    assert cli("summary", path, "--quarter", "2026q4", "-o", tmp_path / "q.xlsx", "--now", now).exit_code == 0

    result = cli("summary", path, "--year", "2026", "--now", now)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "summaries" / "2026.xlsx")
    assert wb.properties.title == "售后反馈年度汇总 2026"
    k = kpi_values(tmp_path / "summaries" / "2026.xlsx")
    assert k["受理量"] == 4 and k["期末未结"] == 1

    for args, word in ((("--quarter", "2026-Q5"), "--quarter"), (("--year", "26x"), "--year"),
                       (("--quarter", "2026-Q4", "--month", "2026-11"), "之一")):
        bad = cli("summary", path, *args, "--now", now)
        assert bad.exit_code != 0 and word in bad.output and "Traceback" not in bad.output


def test_quarter_mail_names_the_quarter():
    from sheetdesk.app.mailer import subject
    from sheetdesk.rules import kpis
    q = kpis.quarter(2026, 4)
    assert subject(q.label, kpis.period_name(q, "zh"), "zh") == "售后反馈季度汇总 2026-Q4"
    assert subject(q.label, kpis.period_name(q, "en"), "en") == "After-sales quarterly summary 2026-Q4"


# --- 17: the 100-point scale --------------------------------------------------------------------

RATED = [ticket("202611-001", datetime(2026, 11, 2, 10), "产品质量类", "无法开机"),
         ticket("202611-002", datetime(2026, 11, 2, 11), "产品质量类", "无法开机")]
RATED_LOG = [{"id": i, "time": datetime(2026, 11, 4, 15), "by": "李工", "step": "问题关闭"}
             for i in ("202611-001", "202611-002")]
SCORES = [{"id": "202611-001", "satisfaction": 10, "rated_at": datetime(2026, 11, 5, 10)},
          {"id": "202611-002", "satisfaction": 95, "rated_at": datetime(2026, 11, 5, 10)}]


def with_scale(value):
    def edit(wb):
        ws = wb[LISTS.name("zh")]
        ws.cell(2, col_of(ws, "lists", "scale"), value)
    return edit


def satisfaction_kpis(cli, path):
    result = cli("summary", path, "--month", "2026-11", "--now", NOW)
    assert result.exit_code == 0, result.output
    return kpi_values(path.parent / "summaries" / "2026-11.xlsx")


def test_without_a_scale_a_10_is_satisfied(make_desk, cli):
    path = make_desk(RATED, progress=RATED_LOG, results=SCORES)
    assert satisfaction_kpis(cli, path)["满意率"] == 1.0


@pytest.mark.parametrize("how", ["sheet", "toml"])
def test_on_the_100_point_scale_a_10_is_unsatisfied_and_reopens(make_desk, cli, how):
    path = make_desk(RATED, progress=RATED_LOG, results=SCORES, edit=with_scale("百分制") if how == "sheet" else None)
    if how == "toml":
        (path.parent / "sheetdesk.toml").write_text("[results]\nscale = 100\n", encoding="utf-8")
    assert satisfaction_kpis(cli, path)["满意率"] == 0.5
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    status = {r["id"]: r["status"] for r in register_rows(path).values()}
    assert status["202611-002"] == "问题关闭" and status["202611-001"] != "问题关闭"  # the 10 reopened it


def test_the_sheet_wins_over_the_toml_and_a_bad_scale_is_one_line(make_desk, cli):
    path = make_desk(RATED, progress=RATED_LOG, results=SCORES, edit=with_scale(100))
    (path.parent / "sheetdesk.toml").write_text("[results]\nscale = 10\n", encoding="utf-8")
    result = cli("validate", path, "--now", NOW)
    assert "评分制 100 与 sheetdesk.toml 的 [results] scale = 10 不一致" in result.output
    assert satisfaction_kpis(cli, path)["满意率"] == 0.5
    (path.parent / "sheetdesk.toml").write_text("[results]\nscale = 50\n", encoding="utf-8")
    bad = cli("validate", path, "--now", NOW)
    assert bad.exit_code != 0 and "[results] scale 应为10 或 100" in bad.output and "Traceback" not in bad.output
    (path.parent / "sheetdesk.toml").unlink()
    path = make_desk(RATED, progress=RATED_LOG, results=SCORES, edit=with_scale("五分制"), name="bad.xlsx")
    bad = cli("validate", path, "--now", NOW)
    assert "无法识别评分制“五分制”，应为 10 或 100" in bad.output


# --- 18: the four-stage preset's priorities -----------------------------------------------------

def test_four_stage_priorities_follow_seed_002(make_desk, cli):
    rows = [
        ticket("202610-001", datetime(2026, 10, 9, 10), "物流类", "快递没收到"),
        ticket("202610-002", datetime(2026, 10, 9, 10), "功能使用类", "怎么设置定时"),
        ticket("202610-003", datetime(2026, 10, 9, 10), "服务体验类", "客服态度差"),
        ticket("202610-004", datetime(2026, 10, 9, 10), "产品质量类", "无法开机", priority="高"),
        ticket("202610-005", datetime(2026, 10, 9, 10), "产品质量类", "无法开机", priority="紧急"),
        # 三级: 5 working days from the eve of 国庆 — Oct 8, 9, the make-up Saturday Oct 10, 12, 13
        ticket("202609-001", datetime(2026, 9, 30, 10), "其他类", "开发票", priority="低"),
    ]
    path = make_desk(rows, preset="four-stage")
    result = cli("refresh", path, "--now", "2026-10-14 09:00")
    assert result.exit_code == 0, result.output
    got = {r["id"]: r for r in register_rows(path).values()}
    assert {i: got[i]["effective_priority"] for i in got} == {
        "202610-001": "二级", "202610-002": "二级", "202610-003": "二级", "202610-004": "二级",
        "202610-005": "一级", "202609-001": "三级"}
    assert got["202610-004"]["response_due"] == datetime(2026, 10, 9, 12)   # 二级: 2 hours
    assert got["202609-001"]["resolution_due"] == datetime(2026, 10, 13, 10)
    matrix = openpyxl.load_workbook(path)[SHEETS_BY_KEY["matrix"].name("zh")]
    assert [matrix.cell(r, col_of(matrix, "matrix", "priority")).value for r in range(2, 8)] == \
        ["二级", "二级", "二级", "二级", "二级", "三级"]

    # the new template says nothing; a desk made before the rule (高 beside 紧急 on the top level) is told
    sla = openpyxl.load_workbook(path)[SHEETS_BY_KEY["sla"].name("zh")]
    assert not any(sla.cell(r, col_of(sla, "sla", "check")).value for r in range(2, 5))


def test_an_old_desk_with_high_on_the_top_level_is_told_to_move_it(make_desk, cli):
    def old_aliases(wb):
        ws = wb[SHEETS_BY_KEY["sla"].name("zh")]
        ws.cell(2, col_of(ws, "sla", "aliases"), "紧急,一级,高")
        ws.cell(3, col_of(ws, "sla", "aliases"), "重要,二级,中")
    path = make_desk([ticket("202610-001", datetime(2026, 10, 9, 10), "产品质量类", "无法开机", priority="高")],
                     edit=old_aliases)
    result = cli("refresh", path, "--now", "2026-10-14 09:00")
    assert result.exit_code == 0, result.output
    sla = openpyxl.load_workbook(path)[SHEETS_BY_KEY["sla"].name("zh")]
    assert sla.cell(2, col_of(sla, "sla", "check")).value == (
        "注意：别名：“高”与“紧急”同为最高级别 P0 的别名：按售后流程，高 是第二级，请把“高”移到 P1 的别名中")
    assert "请把“高”移到 P1 的别名中" in result.output
    assert register_rows(path)[2]["effective_priority"] == "P0"  # the managers' sheet decides until they move it


# --- 16: the manager's second review of major problems ------------------------------------------

def report_fields(path):
    ws = openpyxl.load_workbook(path).active
    return {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r[0]}


def reviewed(id_, **extra):
    return {"id": id_, "result": "已处理", "satisfaction": "满意", "rated_at": datetime(2026, 11, 20, 10),
            "prepared_by": "李工", "prepared_on": datetime(2026, 11, 20), "reviewer": "赵主管",
            "reviewed_on": datetime(2026, 11, 20), **extra}


MAJOR = [
    ticket("202611-001", datetime(2026, 11, 2, 10), "产品质量类", "充电时起火冒烟"),       # keyword → P0
    ticket("202611-002", datetime(2026, 11, 2, 11), "产品质量类", "无法开机"),            # P1: no second review
] + [ticket(f"202611-0{n}", datetime(2026, 11, 3, 9 + n - 10), "产品质量类", "无法开机", product="X3")
     for n in range(10, 15)]                                                        # five X3 in a week: 批量问题
MAJOR_LOG = [{"id": t["id"], "time": datetime(2026, 11, 18, 15), "by": "李工", "step": "问题关闭"} for t in MAJOR]


def test_a_major_ticket_is_archived_only_after_the_second_review(make_desk, cli, tmp_path):
    second = {"second_reviewer": "钱经理", "second_reviewed_on": datetime(2026, 11, 21)}
    results = [reviewed("202611-001"), reviewed("202611-002"), reviewed("202611-010"),
               reviewed("202611-011", **second)]
    path = make_desk(MAJOR, progress=MAJOR_LOG, results=results)
    refused = cli("report", path, "202611-001", "--now", NOW)
    assert refused.exit_code != 0 and "Traceback" not in refused.output
    assert "重大问题需售后服务经理复核后才能归档" in refused.output and "202611-001（最高级别 P0）" in refused.output
    assert not (tmp_path / "archive" / "2026" / "11" / "202611-001.xlsx").exists()
    en = cli("report", path, "202611-010", "--now", NOW, "--lang", "en")
    assert en.exit_code != 0 and "202611-010 (batch problem)" in en.output

    everything = cli("report", path, "--all", "--now", NOW)
    assert everything.exit_code == 0, everything.output
    out = everything.output.replace("\n", "")
    assert "等待经理复核" in out and "202611-001（最高级别 P0）" in out and "202611-010（批量问题）" in out
    folder = tmp_path / "archive" / "2026" / "11"
    assert sorted(p.name for p in folder.glob("*.xlsx")) == ["202611-002.xlsx", "202611-011.xlsx"]
    f = report_fields(folder / "202611-011.xlsx")   # a batch ticket with both reviews
    assert f["审核人"] == "赵主管" and f["审核日期"] == datetime(2026, 11, 20)
    assert f["复核人"] == "钱经理" and f["复核日期"] == datetime(2026, 11, 21)
    assert "复核人" not in report_fields(folder / "202611-002.xlsx")  # not major: one review

    def add_second_review(wb):
        ws = wb[SHEETS_BY_KEY["results"].name("zh")]
        ws.cell(2, col_of(ws, "results", "second_reviewer"), "钱经理")
        ws.cell(2, col_of(ws, "results", "second_reviewed_on"), datetime(2026, 11, 21))
    path = make_desk(MAJOR, progress=MAJOR_LOG, results=results, edit=add_second_review)
    allowed = cli("report", path, "202611-001", "--now", NOW)
    assert allowed.exit_code == 0, allowed.output
    f = report_fields(folder / "202611-001.xlsx")
    assert f["优先级"] == "P0" and f["复核人"] == "钱经理" and f["复核日期"] == datetime(2026, 11, 21)

"""回访规则 (seed 004): call windows on the official calendar, call hours, and the follow-up figures
of the summaries — through the real commands on real workbooks.

2026 calendar: 1–7 Oct are National Day holidays, Saturday 10 Oct is a make-up working day (调休).
"""

from __future__ import annotations

import json
from datetime import datetime

import openpyxl
import pytest

from tests.helpers import col_of, sheet_rows

RED = "FFFFC7CE"


def t(received, id_, **extra):
    return {"id": id_, "channel": "电话", "customer": "客户" + id_[-3:], "contact": "13812345678",
            "description": "机器无法开机", "received": received, **extra}


def closed(id_, day):
    """A first response at 10:00 and a close at 15:00 of ``day`` (a working day)."""
    return [{"id": id_, "time": day.replace(hour=10), "by": "李工", "step": "首次响应"},
            {"id": id_, "time": day.replace(hour=15), "by": "李工", "step": "问题关闭"}]


@pytest.fixture(params=["patch", "openpyxl"])
def engine(request, tmp_path):
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{request.param}"\n', encoding="utf-8")
    return request.param


def refresh(cli, path, now):
    result = cli("refresh", path, "--now", now)
    assert result.exit_code == 0, result.output
    return result


def call_of(path, type_):
    ws, header, rows = sheet_rows(path, "回访计划")
    n, row = next((n, r) for n, r in enumerate(rows, 2) if r["回访类型"] == type_)
    return ws, header, n, row


def fill(cell):
    return cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None


def test_a_window_on_the_official_calendar(make_desk, cli, engine):
    # bought 25 Sep: day 7 is 2 Oct (a holiday) → due Thursday 8 Oct; day 15 is the make-up Saturday 10 Oct
    path = make_desk([t(datetime(2026, 9, 28, 10), "202609-001", purchase_date=datetime(2026, 9, 25))])
    refresh(cli, path, "2026-10-05 09:00")  # day 10: inside the window, not overdue
    ws, header, n, call = call_of(path, "购买后7-15天回访")
    assert (call["应回访日期"], call["最晚回访"]) == (datetime(2026, 10, 8), datetime(2026, 10, 10))
    assert not call["校验"] and fill(ws.cell(n, header.index("最晚回访") + 1)) is None
    refresh(cli, path, "2026-10-10 17:00")  # day 15, a working Saturday: still on time
    assert not call_of(path, "购买后7-15天回访")[3]["校验"]
    refresh(cli, path, "2026-10-12 09:00")  # Sunday 11 Oct is no working day: one working day late
    ws, header, n, call = call_of(path, "购买后7-15天回访")
    assert call["校验"] == "注意：回访已逾期 1 个工作日"
    assert fill(ws.cell(n, header.index("最晚回访") + 1)) == RED
    refresh(cli, path, "2026-10-14 09:00")
    assert call_of(path, "购买后7-15天回访")[3]["校验"] == "注意：回访已逾期 3 个工作日"
    # the 30-day call: 25 Oct is a Sunday → due Monday 26 Oct; its window ends 1 Nov (Sunday) → 2 Nov
    thirty = call_of(path, "购买后30天回访")[3]
    assert (thirty["应回访日期"], thirty["最晚回访"]) == (datetime(2026, 10, 26), datetime(2026, 11, 2))


def test_post_close_call_in_working_days_from_the_close(make_desk, cli):
    # closed Wednesday 30 Sep: working days 1–3 after it are 8 Oct, 9 Oct and the make-up Saturday 10 Oct
    path = make_desk([t(datetime(2026, 9, 30, 9), "202609-001")], progress=closed("202609-001", datetime(2026, 9, 30)))
    refresh(cli, path, "2026-10-09 09:00")
    _, _, _, call = call_of(path, "结案回访")
    assert (call["应回访日期"], call["最晚回访"]) == (datetime(2026, 10, 8), datetime(2026, 10, 10))
    assert not call["校验"]
    # no 购买日期: the periodic calls count from the close (30 Sep + 7 = 7 Oct, a holiday → 8 Oct)
    _, _, _, periodic = call_of(path, "购买后7-15天回访")
    assert (periodic["应回访日期"], periodic["最晚回访"]) == (datetime(2026, 10, 8), datetime(2026, 10, 15))


def test_a_call_outside_the_call_hours_is_warned(make_desk, cli, engine):
    path = make_desk([t(datetime(2026, 11, 2, 9), "202611-001"), t(datetime(2026, 11, 2, 9), "202611-002")],
                     progress=[{"id": i, "time": datetime(2026, 11, 2, h), "step": s}
                               for i in ("202611-001", "202611-002") for h, s in ((10, "首次响应"), (15, "问题关闭"))])
    refresh(cli, path, "2026-11-03 09:00")
    wb = openpyxl.load_workbook(path)
    ws = wb["回访计划"]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, header.index("回访类型") + 1).value == "结案回访":
            late = ws.cell(r, 1).value == "202611-001"
            ws.cell(r, header.index("回访时间") + 1, datetime(2026, 11, 3, 20 if late else 10, 30))
            ws.cell(r, header.index("回访评分") + 1, 10)
    wb.save(path)
    result = refresh(cli, path, "2026-11-04 09:00")
    _, _, rows = sheet_rows(path, "回访计划")
    made = {r["反馈编号"]: r for r in rows if r["回访类型"] == "结案回访"}
    assert made["202611-001"]["校验"] == "注意：回访时间 20:30 不在回访时段（09:00-12:00、14:00-18:00）内"
    assert made["202611-002"]["校验"] is None
    # the console's problems list it too, at the plan's row, and so does --json
    row = 2 + [(r["反馈编号"], r["回访类型"]) for r in rows].index(("202611-001", "结案回访"))
    assert "回访时间 20:30 不在回访时段" in result.output
    problems = json.loads(cli("validate", path, "--now", "2026-11-04 09:00", "--json").output)["problems"]
    hours = [p for p in problems if "不在回访时段" in p["message"]]
    assert [(p["sheet"], p["row"], p["level"]) for p in hours] == [("回访计划", row, "warning")], hours


def test_the_rules_sheet_is_edited_and_checked(make_desk, cli):
    def edit(wb):
        ws = wb["回访规则"]
        ws.cell(3, col_of(ws, "followup_rules", "end"), 20)          # the 7–15 window becomes 7–20
        ws.cell(4, col_of(ws, "followup_rules", "end"), "十五")      # unreadable: the 30-day call is not planned
        ws.cell(5, col_of(ws, "followup_rules", "enabled"), "否")    # the 90-day call switched off
        ws.cell(2, col_of(ws, "followup_rules", "hours"), "")        # post-close: no call hours
    path = make_desk([t(datetime(2026, 9, 28, 10), "202609-001", purchase_date=datetime(2026, 9, 25))], edit=edit)
    refresh(cli, path, "2026-10-05 09:00")
    _, _, rows = sheet_rows(path, "回访计划")
    assert [(r["回访类型"], r["最晚回访"]) for r in rows if r["反馈编号"]] == [("购买后7-15天回访", datetime(2026, 10, 15))]
    _, _, rules = sheet_rows(path, "回访规则")
    assert "窗口结束：“十五”应为 0–3650 的整数天数" in rules[2]["校验"]
    assert rules[0]["校验"] is None and rules[3]["校验"] is None


CALLS_LOG = [step for i, day in (("202610-001", 12), ("202610-002", 12), ("202610-003", 12), ("202610-004", 20),
                                 ("202610-005", 29)) for step in closed(i, datetime(2026, 10, day))]
#: (ID, called at, score): on time and 10; late and 9; not called; outside the call hours, on time, 5 (low)
TYPED = {"202610-001": (datetime(2026, 10, 14, 10), 10), "202610-002": (datetime(2026, 10, 19, 10), 9),
         "202610-004": (datetime(2026, 10, 21, 20), 5)}


def desk_with_calls(make_desk, cli):
    """Five tickets closed in October (post-close calls only); three calls typed in the plan."""
    def only_post_close(wb):
        ws = wb["回访规则"]
        for r in range(3, 6):
            ws.cell(r, col_of(ws, "followup_rules", "enabled"), "否")
    path = make_desk([t(datetime(2026, 10, 9, 9), f"202610-00{n}") for n in range(1, 6)], progress=CALLS_LOG,
                     edit=only_post_close)
    refresh(cli, path, "2026-10-30 16:00")
    wb = openpyxl.load_workbook(path)
    ws = wb["回访计划"]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        typed = TYPED.get(ws.cell(r, 1).value)
        if typed:
            ws.cell(r, header.index("回访人") + 1, "小周")
            ws.cell(r, header.index("回访时间") + 1, typed[0])
            ws.cell(r, header.index("回访评分") + 1, typed[1])
    wb.save(path)
    return path


def test_summary_reports_the_follow_up_figures(make_desk, cli, tmp_path):
    path = desk_with_calls(make_desk, cli)
    result = cli("summary", path, "--month", "2026-10", "--now", "2026-11-02 09:00")
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "summaries" / "2026-10.xlsx")
    k = {r[0]: r[1] for r in wb["指标"].iter_rows(min_row=2, values_only=True)}
    # due in October: the four calls whose window (1–3 working days after the close) ended in it; the
    # fifth (closed 29 Oct) may be made until 3 Nov
    assert (k["应回访数"], k["已回访数"], k["按时回访数"]) == (4, 3, 2)
    assert k["回访覆盖率"] == pytest.approx(0.75)
    assert k["平均回访评分"] == pytest.approx(8.0)
    assert k["9分及以上占比"] == pytest.approx(2 / 3)
    assert k["目标(≥9分占比)"] == pytest.approx(0.9)
    assert k["低分转主管数"] == 1
    calls = wb["回访"]
    assert [c.value for c in calls[1]][:4] == ["回访类型", "应回访数", "已回访数", "按时回访数"]
    assert [c.value for c in calls[2]][:4] == ["结案回访", 4, 3, 2]
    assert calls["A4"].value == "低分回访（转主管跟进）" and calls["A5"].value == "反馈编号"
    low = [r for r in calls.iter_rows(min_row=6, values_only=True) if r[0]]
    assert low == [("202610-004", tmp_path.name, "客户004", "结案回访", datetime(2026, 10, 21, 20), "小周", 5, None)]


def test_week_summary_reports_the_follow_up_figures(make_desk, cli, tmp_path):
    path = desk_with_calls(make_desk, cli)
    out = tmp_path / "w42.xlsx"
    result = cli("summary", path, "--week", "2026-W42", "-o", out, "--now", "2026-11-02 09:00")
    assert result.exit_code == 0, result.output
    k = {r[0]: r[1] for r in openpyxl.load_workbook(out)["指标"].iter_rows(min_row=2, values_only=True)}
    # 12–18 Oct: the three calls due by 15 Oct; two made (one on 19 Oct, late); the scores are those
    # two calls' (10 and 9): the mean is over the calls 已回访 counts
    assert (k["应回访数"], k["已回访数"], k["按时回访数"], k["低分转主管数"]) == (3, 2, 1, 0)
    assert k["平均回访评分"] == 9.5 and k["9分及以上占比"] == 1
    # the week the late call was made in does not count it again
    out43 = tmp_path / "w43.xlsx"
    assert cli("summary", path, "--week", "2026-W43", "-o", out43, "--now", "2026-11-02 09:00").exit_code == 0
    k43 = {r[0]: r[1] for r in openpyxl.load_workbook(out43)["指标"].iter_rows(min_row=2, values_only=True)}
    assert (k43["应回访数"], k43["已回访数"], k43["平均回访评分"], k43["低分转主管数"]) == (1, 1, 5, 1)


def test_one_purchase_owes_one_call_however_many_tickets(make_desk, cli):
    # the same customer (by phone, however written) about the same purchase, twice; another customer
    bought = datetime(2026, 9, 25)
    path = make_desk([t(datetime(2026, 9, 28, 10), "202609-001", purchase_date=bought),
                      t(datetime(2026, 9, 29, 10), "202609-002", purchase_date=bought, contact="138-1234-5678"),
                      t(datetime(2026, 9, 29, 11), "202609-003", purchase_date=bought, contact="13912345678")])
    refresh(cli, path, "2026-10-05 09:00")
    _, _, rows = sheet_rows(path, "回访计划")
    owed = sorted(r["反馈编号"] for r in rows if r["回访类型"] == "购买后7-15天回访")
    assert owed == ["202609-001", "202609-003"]


def test_history_before_the_desk_planned_by_its_rules_is_not_calls_due_today(make_desk, cli):
    """A desk adopting 回访规则 with tickets closed long ago: their periodic calls whose windows ended
    before the first refresh are not planned (the post-close call still is); the day is remembered,
    so a later refresh plans from the same day and changes nothing."""
    path = make_desk([t(datetime(2026, 3, 2, 9), "202603-001"), t(datetime(2026, 11, 2, 9), "202611-001")],
                     progress=closed("202603-001", datetime(2026, 3, 2)) + closed("202611-001", datetime(2026, 11, 2)))
    refresh(cli, path, "2026-11-04 09:00")
    _, _, rows = sheet_rows(path, "回访计划")
    planned = sorted((r["反馈编号"], r["回访类型"]) for r in rows if r["反馈编号"])
    assert planned == [("202603-001", "结案回访"), ("202611-001", "结案回访"), ("202611-001", "购买后30天回访"),
                       ("202611-001", "购买后7-15天回访"), ("202611-001", "购买后90天回访")]
    before = path.read_bytes()
    refresh(cli, path, "2026-11-04 09:00")
    assert path.read_bytes() == before
    # weeks later the open windows are still planned (now late), the old ones still not
    refresh(cli, path, "2026-12-28 09:00")
    _, _, rows = sheet_rows(path, "回访计划")
    assert sorted((r["反馈编号"], r["回访类型"]) for r in rows if r["反馈编号"]) == planned

"""Whole ticket lifecycles through the CLI (issue 4): log roll-up, escalation, reopen, pause, follow-ups,
add/log — checked in the written workbook."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl

from tests.helpers import NOW, register_rows, sheet_rows

RED, AMBER = "FFFFC7CE", "FFFFEB9C"


def t(received, description="机器无法开机，指示灯不亮", **extra):
    # one phone per ticket: the same phone twice would be a repeat complaint (重复投诉) and raise the level
    phone = "13" + extra["id"].replace("-", "") if "id" in extra else "13812345678"  # 202611-001 → 13202611001
    return {"channel": "电话", "customer": extra.pop("customer", "王女士"), "contact": phone,
            "product": extra.pop("product", "XR-200"), "description": description, "received": received, **extra}


def by_id(rows, ticket_id):
    return next(r for r in rows if r.get("反馈编号") == ticket_id)


def fill(cell):
    return cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None


LIFE = [
    # row 2: answered in time, closed, then rated 不满意 → reopened from the rating
    t(datetime(2026, 11, 16, 10), id="202611-001", customer="甲公司"),
    # row 3: P1 (48h) and never answered → response late since 20 Nov 09:00
    t(datetime(2026, 11, 18, 9), id="202611-002", customer="乙公司"),
    # row 4: injury keyword → P0 whatever the matrix says
    t(datetime(2026, 11, 20, 15), "充电时机身发烫，孩子手被烫伤了", id="202611-003", customer="丙先生",
      category="产品质量类"),
    # rows 5-9: five of one product + category inside 7 days → batch, at least P1; row 10 is outside
    *[t(datetime(2026, 11, 9 + i, 11), "客服态度差，没人理", id=f"202611-0{10 + i}", product="A7",
        category="服务体验类", customer=f"客户{i}") for i in range(5)],
    t(datetime(2026, 10, 20, 11), "客服态度差，没人理", id="202610-001", product="A7", category="服务体验类",
      customer="早先客户"),
    # row 11: closed on 13 Nov → its follow-up call was due 18 Nov and is late
    t(datetime(2026, 11, 12, 10), id="202611-004", customer="丁女士"),
    # row 12: waiting on the customer for one working day (paused when configured)
    t(datetime(2026, 11, 16, 9), "怎么设置定时清扫", id="202611-005", customer="戊先生", category="功能使用类"),
]
LOG = [
    {"id": "202611-001", "time": datetime(2026, 11, 17, 9), "by": "李工", "step": "首次响应"},
    {"id": "202611-001", "time": datetime(2026, 11, 18, 16), "by": "李工", "step": "问题关闭"},
    {"id": "202611-004", "time": datetime(2026, 11, 12, 11), "by": "李工", "step": "首次响应"},
    {"id": "202611-004", "time": datetime(2026, 11, 13, 17), "by": "李工", "step": "问题关闭"},
    {"id": "202611-005", "time": datetime(2026, 11, 16, 10), "by": "王工", "step": "首次响应"},
    {"id": "202611-005", "time": datetime(2026, 11, 16, 14), "by": "王工", "step": "等待客户"},
    {"id": "202611-005", "time": datetime(2026, 11, 17, 14), "by": "王工", "step": "进展更新"},
]
RESULTS = [{"id": "202611-001", "result": "已更换主板", "satisfaction": "不满意", "rated_at": datetime(2026, 11, 19, 10)},
           {"id": "202611-004", "result": "已修复", "satisfaction": 9, "rated_at": datetime(2026, 11, 14, 10)}]


def test_lifecycle_through_refresh(make_desk, cli, tmp_path):
    path = make_desk(LIFE, progress=LOG, results=RESULTS)
    (tmp_path / "sheetdesk.toml").write_text('[sla]\npause_steps = ["等待客户"]\n', encoding="utf-8")
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = register_rows(path)

    # reopened by the 不满意 rating: status, and the closing stage due again from 19 Nov 10:00 (7 working days)
    assert rows[2]["status"] == "重新打开"
    assert rows[2]["resolution_due"] == datetime(2026, 11, 30, 10)
    assert "重新打开" in result.output  # the stand-up lists reopened tickets

    # late first response: red, and how late in the SLA's own clock — 48小时 is wall-clock, so the
    # weekend counts (20 Nov 09:00 → 23 Nov 09:00 = 3 days); working-day SLAs say it in business time
    assert rows[3]["response_due"] == datetime(2026, 11, 20, 9)
    assert rows[3]["overdue"] == "响应超时 3天；方案超时 3天"  # P1's 方案提供 is 48小时 too
    ws = openpyxl.load_workbook(path)["登记表"]
    header = {c.value: c.column for c in ws[1]}
    assert fill(ws.cell(3, header["响应时限"])) == RED
    assert fill(ws.cell(11, header["响应时限"])) is None  # closed in time
    # the reopening starts a second round of the resolution stages only: the first response keeps
    # the first round's deadline (48h from 16 Nov 10:00) and was met
    assert rows[2]["response_due"] == datetime(2026, 11, 18, 10)
    # only the second round's own stages can be late: its 方案提供 (48小时 from the 19 Nov 10:00 rating)
    assert rows[2]["overdue"] == "第2轮方案超时 47小时"

    # keyword escalation: typed priority untouched, effective P0, reason names the keyword
    assert rows[4]["priority"] == "P1" and rows[4]["effective_priority"] == "P0"
    assert "烫伤" in rows[4]["escalation_reason"]
    assert rows[4]["response_due"] == datetime(2026, 11, 21, 15)  # P0: 24 hours, wall clock

    # the batch: five inside 7 days marked and raised from P2 to P1; the sixth (October) is not
    for r in range(5, 10):
        assert rows[r]["priority"] == "P2" and rows[r]["effective_priority"] == "P1", r
        assert "批量问题" in rows[r]["escalation_reason"]
    keys = {rows[r]["escalation_reason"].split("批量问题 ")[1].split("（")[0] for r in range(5, 10)}
    assert len(keys) == 1
    assert rows[10]["effective_priority"] == "P2" and rows[10]["escalation_reason"] is None

    # closed and rated 9/10: status closed, stages on time
    assert rows[11]["status"] == "问题关闭" and rows[11]["overdue"] is None

    # paused: the tracker shows one working day of pause
    _, _, tracker = sheet_rows(path, "跟踪看板")
    assert by_id(tracker, "202611-005")["暂停计时"] == "1个工作日"
    assert by_id(tracker, "202611-002")["首次响应状态"] == "已超时"
    ids = [r["反馈编号"] for r in tracker if r.get("反馈编号")]
    assert ids.index("202611-002") < ids.index("202611-005")  # late first

    # follow-ups: the post-close call for 202611-004, due 1–3 working days after 13 Nov, late (red); the
    # template's periodic calls count from the close, as the register has no 购买日期
    ws_f, header_f, calls = sheet_rows(path, "回访计划")
    assert [(c["反馈编号"], c["回访类型"]) for c in calls if c["反馈编号"]] == [
        ("202611-004", "结案回访"), ("202611-004", "购买后7-15天回访"), ("202611-004", "购买后30天回访"),
        ("202611-004", "购买后90天回访")]
    assert (calls[0]["应回访日期"], calls[0]["最晚回访"]) == (datetime(2026, 11, 16), datetime(2026, 11, 18))
    assert fill(ws_f.cell(2, header_f.index("最晚回访") + 1)) == RED
    assert "逾期" in calls[0]["校验"]

    # a second refresh changes nothing
    before = path.read_bytes()
    again = cli("refresh", path, "--now", NOW)
    assert again.exit_code == 0 and path.read_bytes() == before


def desk_with_a_typed_call(make_desk, cli, note: str, **more) -> Path:
    """A refreshed desk whose first follow-up call a colleague filled in (in Excel: openpyxl here)."""
    path = make_desk(LIFE[-2:], progress=LOG[2:4])
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    wb = openpyxl.load_workbook(path)
    ws = wb["回访计划"]
    header = [c.value for c in ws[1]]
    for name, value in {"回访人": "小周", **more, "回访记录": note}.items():
        ws.cell(2, header.index(name) + 1, value)
    wb.save(path)
    return path


def test_typed_calls_survive_regeneration(make_desk, cli):
    path = desk_with_a_typed_call(make_desk, cli, "仍偶有异响", 回访时间=datetime(2026, 11, 20, 10, 30), 回访评分=5)
    result = cli("refresh", path, "--now", "2026-11-24 09:00")
    assert result.exit_code == 0, result.output
    ws_f, header_f, calls = sheet_rows(path, "回访计划")
    assert len([c for c in calls if c["回访类型"] == "结案回访"]) == 1
    n, call = next((n, c) for n, c in enumerate(calls, 2) if c["回访类型"] == "结案回访")
    assert n == 5  # a call made goes below the pending ones
    assert (call["回访人"], call["回访评分"], call["回访记录"]) == ("小周", 5, "仍偶有异响")
    assert "主管" in call["校验"]  # score ≤ 6 flagged for the supervisor
    assert fill(ws_f.cell(n, header_f.index("回访评分") + 1)) == AMBER
    assert fill(ws_f.cell(n, header_f.index("最晚回访") + 1)) is None  # called: no longer late


def test_add_and_log(make_desk, cli):
    path = make_desk([t(datetime(2026, 11, 2, 10), id="202611-001")])
    result = cli("add", path, "--customer", "新客户", "--channel", "电话", "--description", "扫地机异响",
                 "--contact", "13900001111", "--received", "2026-11-20 10:00", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "202611-002"
    assert "登记不及时" in result.stderr  # typed in three days after the call
    rows = register_rows(path)
    assert rows[3]["customer"] == "新客户" and rows[3]["id"] == "202611-002"
    assert rows[3]["category"] == "产品质量类"  # routed like any typed row

    result = cli("log", path, "202611-002", "首次响应", "已电话联系", "--by", "李工", "--at", "2026-11-20 11:00",
                 "--now", NOW)
    assert result.exit_code == 0, result.output
    _, _, log = sheet_rows(path, "进度跟踪")
    assert [(r["反馈编号"], r["节点"], r["处理人"], r["说明"]) for r in log if r["反馈编号"]] == \
        [("202611-002", "首次响应", "李工", "已电话联系")]
    assert register_rows(path)[3]["status"] == "首次响应"


def test_add_and_log_refuse_bad_input_and_write_nothing(make_desk, cli):
    path = make_desk([t(datetime(2026, 11, 2, 10), id="202611-001")])
    before = path.read_bytes()
    cases = [
        ("add", path, "--customer", "x", "--channel", "传真", "--description", "d", "--now", NOW),
        ("add", path, "--customer", "x", "--channel", "电话", "--description", "d", "--contact", "1381234",
         "--now", NOW),
        ("add", path, "--customer", "x", "--channel", "电话", "--description", "d", "--received", "上周三",
         "--now", NOW),
        ("log", path, "202611-999", "首次响应", "--by", "李工", "--now", NOW),
        ("log", path, "202611-001", "吃饭", "--by", "李工", "--now", NOW),
        ("log", path, "202611-001", "首次响应", "--by", "李工", "--at", "2026-12-01 10:00", "--now", NOW),
        ("log", path, "202611-001", "首次响应", "--by", "李工", "--at", "2026-11-01 10:00", "--now", NOW),
    ]
    for args in cases:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert path.read_bytes() == before, args
    early = cli("log", path, "202611-001", "首次响应", "--by", "李工", "--at", "2026-11-01 10:00", "--now", NOW)
    # one sentence: the refusal, then the column and what is wrong, without a second level word
    assert "未写入，因为时间：时间 2026-11-01 10:00 早于该反馈的反馈时间 2026-11-02 10:00" in early.output
    assert "注意" not in early.output


def test_log_after_close_is_refused(make_desk, cli):
    path = make_desk([t(datetime(2026, 11, 2, 10), id="202611-001")],
                     progress=[{"id": "202611-001", "time": datetime(2026, 11, 3, 10), "by": "李工", "step": "问题关闭"}])
    result = cli("log", path, "202611-001", "进展更新", "--by", "李工", "--now", NOW)
    assert result.exit_code == 2 and "重新打开" in result.output
    result = cli("log", path, "202611-001", "重新打开", "客户反映复发", "--by", "李工", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert register_rows(path)[2]["status"] == "重新打开"


def test_working_day_sla_is_late_in_business_time(make_desk, cli):
    path = make_desk([t(datetime(2026, 11, 2, 9), "快递一直没收到", id="202611-001")])  # 物流类 → P2: 7个工作日
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    row = register_rows(path)[2]
    assert row["response_due"] == datetime(2026, 11, 10, 18)
    # 11–20 Nov: eight working days, the weekends do not count; the closing stage fell due on Friday 20 Nov
    # at 18:00 and no business time has passed since
    assert row["overdue"] == "响应超时 8个工作日；解决超时 <1分钟"


def test_periodic_calls_after_purchase_when_configured(make_desk, cli, tmp_path):
    """A desk without the 回访规则 sheet (made before it) keeps ``[followups] periodic``."""
    rows = [t(datetime(2026, 11, 2, 10), id="202611-001", purchase_date=datetime(2026, 10, 20))]
    path = make_desk(rows, edit=lambda wb: wb.remove(wb["回访规则"]))
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    _, _, calls = sheet_rows(path, "回访计划")
    assert [c for c in calls if c["反馈编号"]] == []  # off by default
    (tmp_path / "sheetdesk.toml").write_text("[followups]\nperiodic = [7, 30, 90]\n", encoding="utf-8")
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    _, _, calls = sheet_rows(path, "回访计划")
    planned = [(c["回访类型"], c["应回访日期"]) for c in calls if c["反馈编号"]]
    # the 7-day call fell before the ticket arrived; 30 and 90 days after 20 Oct remain (the first is late)
    assert planned == [("购买后30天回访", datetime(2026, 11, 19)), ("购买后90天回访", datetime(2027, 1, 18))]
    (tmp_path / "sheetdesk.toml").write_text("[followups]\nperiodic = [\"weekly\"]\n", encoding="utf-8")
    bad = cli("refresh", path, "--now", NOW)
    assert bad.exit_code != 0 and "periodic" in bad.output and "Traceback" not in bad.output


def test_a_typed_call_note_that_would_change_stops_the_save(make_desk, cli):
    """The follow-up plan is rebuilt on every refresh; a value typed in it that would not come back
    as typed (here a control character, stored by Excel as _x0001_) stops the save instead."""
    path = desk_with_a_typed_call(make_desk, cli, "A_x0001_B")
    before = path.read_bytes()
    result = cli("refresh", path, "--now", "2026-11-24 09:00")
    assert result.exit_code != 0 and "校验失败" in result.output and "回访计划" in result.output
    assert path.read_bytes() == before

"""Idle tickets (停滞) through the real CLI on real workbooks: an open ticket with no progress row for
longer than its level's 进展更新 cadence gets a warning in 校验, a warning fill on its 责任人 cell and a
line in the stand-up; a recent row, a closed ticket or a blank cadence keep it quiet; the count runs
on the official calendar (2026: Oct 1–7 National Day holidays, Saturday Oct 10 a make-up working day)."""

from __future__ import annotations

import json
from datetime import datetime

import openpyxl
import pytest

from tests.helpers import col_of, register_rows

WARNING_FILL = "FFFFF6C4"
ENGINES = ("patch", "openpyxl")


def t(received, ticket_id, customer, priority="P1", **extra):
    return {"id": ticket_id, "channel": "电话", "customer": customer, "contact": "13812345678", "product": "XR-200",
            "description": "机器无法开机，指示灯不亮", "received": received, "owner": "李工", "priority": priority,
            **extra}


def use_engine(path, engine: str) -> None:
    (path.parent / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")


def owner_fill(path, row: int, sheet="登记表", lang="zh"):
    ws = openpyxl.load_workbook(path)[sheet]
    cell = ws.cell(row, col_of(ws, "register", "owner", lang))
    return cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fill_type == "solid" else None


def standup(cli, path, now: str, lang: str = "zh") -> dict:
    result = cli("refresh", path, "--now", now, "--json", "--dry-run", "--lang", lang)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["standup"]


# rows 2–4: P1 (every 2 working days), received on the Monday before the stand-up of Fri 20 Nov 10:00
TICKETS = [
    t(datetime(2026, 11, 16, 10), "202611-001", "甲公司"),          # nothing logged since: idle
    t(datetime(2026, 11, 16, 10), "202611-002", "乙先生"),          # a progress row yesterday: fine
    t(datetime(2026, 11, 16, 10), "202611-003", "丙女士"),          # closed: never idle
]
LOG = [
    {"id": "202611-001", "time": datetime(2026, 11, 16, 11), "by": "李工", "step": "首次响应"},
    {"id": "202611-002", "time": datetime(2026, 11, 16, 11), "by": "李工", "step": "首次响应"},
    {"id": "202611-002", "time": datetime(2026, 11, 19, 15), "by": "李工", "step": "进展更新", "note": "备件已发出"},
    {"id": "202611-003", "time": datetime(2026, 11, 17, 11), "by": "李工", "step": "问题关闭"},
]
NOW = "2026-11-20 10:00"


@pytest.mark.parametrize("engine", ENGINES)
def test_an_idle_ticket_is_flagged_coloured_and_listed(make_desk, cli, engine):
    path = make_desk(TICKETS, progress=LOG)
    use_engine(path, engine)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "停滞（无进展更新）（1）" in result.output
    line = next(line for line in result.output.splitlines() if "202611-001" in line and "每 2个工作日" in line)
    assert "甲公司" in line and "首次响应" in line and "2026-11-16 11:00" in line and "3.9个工作日" in line

    rows = register_rows(path)
    assert "已 3.9个工作日 无进展记录（上次 2026-11-16 11:00），P1 要求每 2个工作日 向客户更新一次进展" in rows[2]["check"]
    assert owner_fill(path, 2) == WARNING_FILL
    for row in (3, 4):  # a recent row, a closed ticket
        assert "无进展记录" not in (rows[row]["check"] or "") and owner_fill(path, row) is None

    # the next refresh, after an update is logged, clears the warning and its fill
    wb = openpyxl.load_workbook(path)
    ws = wb["进度跟踪"]
    ws.append(["202611-001", datetime(2026, 11, 20, 9, 30), "李工", "进展更新", "已约上门"])
    wb.save(path)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "停滞" not in result.output
    assert "无进展记录" not in (register_rows(path)[2]["check"] or "") and owner_fill(path, 2) is None


def test_validate_and_json_name_the_idle_ticket(make_desk, cli):
    path = make_desk(TICKETS, progress=LOG)
    result = cli("validate", path, "--now", NOW)
    assert "无进展记录" in result.output
    [item] = standup(cli, path, NOW)["idle"]
    assert item["id"] == "202611-001" and item["update_every"] == "2个工作日" and item["status"] == "first_response"
    assert item["since"] == "2026-11-16 11:00" and item["update_due"] == "2026-11-18 11:00"


def _blank_cadence(wb):
    ws = wb["时效标准"]
    ws.cell(3, col_of(ws, "sla", "update_every")).value = None  # P1


def test_a_blank_cadence_is_not_checked(make_desk, cli):
    path = make_desk(TICKETS, progress=LOG, edit=_blank_cadence)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "停滞" not in result.output and "无进展记录" not in (register_rows(path)[2]["check"] or "")
    assert owner_fill(path, 2) is None


def test_the_most_urgent_level_is_checked_daily(make_desk, cli):
    path = make_desk([t(datetime(2026, 11, 18, 10), "202611-001", "甲公司", priority="P0")],
                     progress=[{"id": "202611-001", "time": datetime(2026, 11, 18, 11), "by": "李工", "step": "技术介入"}])
    assert standup(cli, path, "2026-11-19 10:30")["idle"] == []          # 1 working day is 11:00
    [item] = standup(cli, path, "2026-11-19 11:30")["idle"]
    assert item["update_every"] == "1个工作日" and item["status"] == "tech_engaged"


# the official calendar: Wed 30 Sep's row is due for an update on Fri 9 Oct (Oct 1–7 are holidays);
# Fri 9 Oct's row on Mon 12 Oct, as Saturday 10 Oct is a make-up working day
CALENDAR = [
    t(datetime(2026, 9, 30, 9), "202609-001", "甲公司"),
    t(datetime(2026, 10, 9, 9), "202610-001", "乙先生"),
]
CALENDAR_LOG = [
    {"id": "202609-001", "time": datetime(2026, 9, 30, 10), "by": "李工", "step": "首次响应"},
    {"id": "202610-001", "time": datetime(2026, 10, 9, 10), "by": "李工", "step": "首次响应"},
]


def test_the_count_skips_national_day_and_counts_the_make_up_saturday(make_desk, cli):
    path = make_desk(CALENDAR, progress=CALENDAR_LOG)
    assert standup(cli, path, "2026-10-08 17:00")["idle"] == []   # eight calendar days, one working day
    [item] = standup(cli, path, "2026-10-09 11:00")["idle"]
    assert item["id"] == "202609-001" and item["update_due"] == "2026-10-09 10:00"
    # Monday 12 Oct 11:00: Fri 9 Oct 10:00 + Sat 10 Oct (worked) → due Mon 10:00
    idle = standup(cli, path, "2026-10-12 11:00")["idle"]
    assert [i["id"] for i in idle] == ["202609-001", "202610-001"]
    assert idle[1]["update_due"] == "2026-10-12 10:00"


def test_english_desk(make_desk, cli):
    rows = [{"id": "202611-001", "channel": "Phone", "customer": "Acme", "contact": "13812345678",
             "description": "won't turn on", "received": datetime(2026, 11, 16, 10), "owner": "Li", "priority": "P1"}]
    path = make_desk(rows, lang="en", progress=[{"id": "202611-001", "time": datetime(2026, 11, 16, 10),
                                                 "by": "Li", "step": "First response"}])
    result = cli("refresh", path, "--now", NOW, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Idle (no progress update) (1)" in result.output and "every 2wd" in result.output
    check = register_rows(path, lang="en")[2]["check"]
    assert "no progress logged for 4 working days (last 2026-11-16 10:00); P1 asks for an update every 2wd" in check
    assert owner_fill(path, 2, "Register", "en") == WARNING_FILL


def test_a_ticket_nobody_has_touched_is_late_not_idle(make_desk, cli):
    path = make_desk([t(datetime(2026, 11, 16, 10), "202611-001", "甲公司")])
    out = standup(cli, path, NOW)
    assert out["idle"] == [] and [i["id"] for i in out["late"]] == ["202611-001"]


def test_the_group_message_lists_the_idle_ticket(make_desk, cli, tmp_path, monkeypatch):
    path = make_desk(TICKETS, progress=LOG)
    monkeypatch.setenv("SD_TEST_WECOM", "http://127.0.0.1:9/cgi-bin/webhook/send?key=k")
    (tmp_path / "sheetdesk.toml").write_text('[[notify.targets]]\ntype = "wecom"\nurl_env = "SD_TEST_WECOM"\n',
                                             encoding="utf-8")
    result = cli("notify", path, "--now", NOW, "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.replace("\\n", "\n").splitlines()  # the payload is JSON: its newlines are escaped
    line = next(line for line in lines if "202611-001" in line and "无进展更新" in line)
    assert "3.9个工作日" in line
    assert not any("202611-002" in ln and "无进展" in ln for ln in lines)

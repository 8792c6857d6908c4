"""The stand-up summary `refresh` prints, through the real CLI on real workbooks: rows that cannot be
timed are listed (escalated first) and coloured, untriaged tickets are timed at the default level,
one line per ticket in one comparable unit, escalated tickets marked, cut lists say how many more."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

import openpyxl
import pytest
from openpyxl.styles import PatternFill

from tests.helpers import NOW, col_of, register_rows

ORANGE, PERSON_YELLOW = "FFFFD6AD", "FFFFFF00"  # the error mark on the cell to complete
ENGINES = ("patch", "openpyxl")


_phones = itertools.count(1)


def t(received, description="机器无法开机，指示灯不亮", **extra):
    """A ticket with a number of its own (a shared one would make each later ticket a repeat complaint)."""
    phone = f"1380000{next(_phones):04d}"
    return {"channel": "电话", "customer": extra.pop("customer", "王女士"), "contact": phone,
            "product": extra.pop("product", "XR-200"), "description": description, "received": received, **extra}


def use_engine(path, engine: str) -> None:
    (path.parent / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")


def refresh_json(cli, path, *more) -> dict:
    result = cli("refresh", path, "--now", NOW, "--json", *more)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def received_fill(path, row: int):
    ws = openpyxl.load_workbook(path)["登记表"]
    cell = ws.cell(row, col_of(ws, "register", "received"))
    return cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fill_type == "solid" else None


TITLES = ("待补全", "已超时", "下次晨会前到期", "升级工单", "重新打开", "新登记", "未分派", "待回访", "按责任人",
          "Needs completing", "Late", "Due before", "Escalated", "Reopened", "New since", "Unassigned",
          "Follow-up calls", "By owner", "停滞", "Idle")


def section(output: str, title: str) -> str:
    """The console text of one stand-up list: its title line up to the next list's title line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip().startswith(TITLES)), len(lines))
    return "\n".join(lines[start:end])


# --- rows that cannot be numbered or timed --------------------------------------------------------

INCOMPLETE = [
    t(datetime(2026, 11, 20, 10), customer="甲公司"),                                   # row 2: fine
    t("上周三", customer="乙先生"),                                                     # row 3: unreadable
    t("昨天下午", "充电时机身发烫，孩子手被烫伤了", customer="丙女士"),                  # row 4: escalated
    t(None, customer="丁先生"),                                                         # row 5: missing
]


def _person_fill_on_row_5(wb):
    ws = wb["登记表"]
    ws.cell(5, col_of(ws, "register", "received")).fill = PatternFill("solid", fgColor=PERSON_YELLOW)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_safety_complaint_without_a_readable_time_is_listed_first_and_coloured(make_desk, cli, engine):
    path = make_desk(INCOMPLETE, edit=_person_fill_on_row_5)
    use_engine(path, engine)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    part = section(result.output, "待补全（3）")
    # escalated first, then by row; row, customer and what is missing on each line
    assert part.index("第4行") < part.index("第3行") < part.index("第5行")
    line4 = next(line for line in part.splitlines() if "第4行" in line)
    assert "丙女士" in line4 and "反馈时间“昨天下午”无法识别" in line4 and "P0（升级）" in line4
    assert "反馈时间为空" in next(line for line in part.splitlines() if "第5行" in line)

    out = refresh_json(cli, path)
    rows = [i["row"] for i in out["standup"]["incomplete"]]
    assert rows == [4, 3, 5]
    first = out["standup"]["incomplete"][0]
    assert first["escalated"] and first["priority"] == "P0" and first["customer"] == "丙女士"
    assert "烫伤" in first["escalation_reason"]

    # the cell to complete is sheetdesk's light orange; a person's own fill stays as it was
    assert [received_fill(path, r) for r in (2, 3, 4)] == [None, ORANGE, ORANGE]
    assert received_fill(path, 5) == PERSON_YELLOW
    assert register_rows(path)[3]["received"] == "上周三"  # the typed text is never rewritten

    # completed: numbered, timed, the colour cleared, listed with the open escalated tickets
    wb = openpyxl.load_workbook(path)
    ws = wb["登记表"]
    ws.cell(4, col_of(ws, "register", "received")).value = datetime(2026, 11, 22, 15)
    wb.save(path)
    out = refresh_json(cli, path)
    assert [i["row"] for i in out["standup"]["incomplete"]] == [3, 5]
    assert received_fill(path, 4) is None and received_fill(path, 3) == ORANGE
    row4 = register_rows(path)[4]
    assert row4["id"] and row4["effective_priority"] == "P0" and row4["response_due"] is not None
    assert row4["id"] in [i["id"] for i in out["standup"]["escalated"]]
    assert cli("refresh", path, "--now", NOW).output.count("无需修改") == 1  # a second refresh changes nothing


def test_needs_completing_in_english(make_desk, cli):
    path = make_desk(INCOMPLETE)
    result = cli("refresh", path, "--now", NOW, "--lang", "en")
    assert result.exit_code == 0, result.output
    part = section(result.output, "Needs completing (3)")
    assert "row 4" in part and "received time '昨天下午' cannot be read" in part and "P0 (escalated)" in part


def test_no_escalated_row_is_ever_absent_from_the_standup(make_desk, cli):
    burn = "使用时被烫伤，手背起泡"
    rows = [
        t(datetime(2026, 11, 18, 10), burn, id="202611-001", customer="A", owner="李工"),  # late
        t(datetime(2026, 11, 23, 8), burn, id="202611-002", customer="B", owner="李工"),   # due later
        t(datetime(2026, 11, 16, 10), burn, id="202611-003", customer="C", owner="李工"),  # closed
        t("前天", burn, customer="D"),                                                    # cannot be timed
        t(datetime(2026, 11, 19, 10), burn, id="202611-002", customer="E"),               # duplicate ID
        t(datetime(2026, 11, 20, 10), burn, customer="F"),                                # unassigned
        t(datetime(2026, 11, 20, 11), burn, customer="G", owner="王工", priority="P2"),   # typed P2
        *[t(datetime(2026, 11, 16 + i, 9), "客服态度差", customer=f"批{i}", product="A7",
            category="服务体验类", owner="赵主管") for i in range(5)],                     # a batch
    ]
    log = [{"id": "202611-003", "time": datetime(2026, 11, 16, 11), "by": "李工", "step": "首次响应"},
           {"id": "202611-003", "time": datetime(2026, 11, 17, 11), "by": "李工", "step": "问题关闭"}]
    path = make_desk(rows, progress=log)
    out = refresh_json(cli, path)
    standup = out["standup"]
    listed = {i["row"] for i in standup["escalated"]} | {i["row"] for i in standup["incomplete"]}
    register = register_rows(path)
    escalated = {r for r, v in register.items() if v["escalation_reason"]}
    assert len(escalated) == len(rows)  # every row here is escalated
    open_escalated = {r for r, v in register.items() if v["escalation_reason"] and v["status"] != "问题关闭"}
    assert open_escalated == escalated - {4} and open_escalated <= listed
    assert 4 not in listed  # closed: done, not on the stand-up
    assert [i["row"] for i in standup["incomplete"]] == [5]


# --- untriaged tickets are timed at the default level ---------------------------------------------

UNTRIAGED = [
    t(datetime(2026, 11, 20, 10), "客户来电咨询"),                       # row 2: no category, no keyword
    t(datetime(2026, 11, 20, 10), "客户来电咨询", priority="P2"),        # row 3: the same, typed P2
    t(datetime(2026, 11, 20, 10), "客户来电咨询", priority="P0"),        # row 4: typed P0
    t(datetime(2026, 11, 20, 10), "客户来电咨询", priority="超急"),      # row 5: a level the desk lacks
]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_unclassified_ticket_is_timed_at_the_least_urgent_level(make_desk, cli, engine):
    path = make_desk(UNTRIAGED)
    use_engine(path, engine)
    out = refresh_json(cli, path)
    rows = register_rows(path)
    two, three = rows[2], rows[3]
    assert two["priority"] is None and two["category"] is None     # nothing typed into the people's cells
    assert two["effective_priority"] == "P2"
    assert (two["response_due"], two["resolution_due"]) == (three["response_due"], three["resolution_due"])
    assert two["response_due"] is not None and two["resolution_due"] is not None
    assert "提示：优先级：未分类，按默认等级 P2 计时" in two["check"]
    assert "默认等级" not in (three["check"] or "") and "默认等级" not in (rows[4]["check"] or "")
    assert rows[5]["effective_priority"] == "P2" and rows[5]["response_due"] == three["response_due"]
    assert "未知优先级“超急”" in rows[5]["check"] and "暂按默认等级 P2 计时" in rows[5]["check"]
    unassigned = {i["id"]: i for i in out["standup"]["unassigned"]}
    assert unassigned[two["id"]]["missing"] == ["owner", "category", "priority"]
    assert unassigned[three["id"]]["missing"] == ["owner", "category"]
    tracker = openpyxl.load_workbook(path)["跟踪看板"]
    assert any(r[0] == two["id"] and r[3] == "P2" for r in tracker.iter_rows(min_row=2, values_only=True))

    text = cli("refresh", path, "--now", NOW).output
    line = next(line for line in section(text, "未分派").splitlines() if two["id"] in line)
    assert "责任人、分类、优先级" in line


@pytest.mark.parametrize("engine", ENGINES)
def test_an_untriaged_ticket_raised_by_escalation_says_the_level_it_is_timed_at(make_desk, cli, engine):
    # no category, no matching category keyword, but a burn: timed at P0, not at the default P2
    path = make_desk([t(datetime(2026, 11, 20, 10), "客户说孩子被烫伤了"),
                      t(datetime(2026, 11, 20, 10), "客户说孩子被烫伤了", priority="超急")])
    use_engine(path, engine)
    refresh_json(cli, path)
    burn, unknown = register_rows(path)[2], register_rows(path)[3]
    assert burn["effective_priority"] == "P0" and burn["priority"] is None
    assert "按默认等级 P2 计时" not in burn["check"]
    assert "提示：优先级：未分类，按升级后的等级 P0 计时（默认等级 P2）" in burn["check"]
    assert "暂按升级后的等级 P0 计时（默认等级 P2）" in unknown["check"]
    en = json.loads(cli("validate", path, "--now", NOW, "--lang", "en", "--json").output)
    notes = [p["message"] for p in en["problems"] if p["row"] == 2 and p["level"] == "info"]
    assert "unclassified; timed at the escalated level P0 (default level P2)" in notes


def test_the_default_level_comes_from_sheetdesk_toml(make_desk, cli, tmp_path):
    path = make_desk(UNTRIAGED, lang="en")
    (tmp_path / "sheetdesk.toml").write_text('[sla]\ndefault_level = "important"\n', encoding="utf-8")  # P1's alias
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    row = register_rows(path, "en")[2]
    assert row["effective_priority"] == "P1" and row["priority"] is None
    assert "Note: Priority: unclassified; timed at the default level P1" in row["check"]


def test_a_default_level_the_sla_sheet_lacks_stops_with_a_clear_line(make_desk, cli, tmp_path):
    path = make_desk(UNTRIAGED)
    (tmp_path / "sheetdesk.toml").write_text('[sla]\ndefault_level = "P9"\n', encoding="utf-8")
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "default_level “P9”不在时效标准表中，应为：P0、P1、P2" in result.output
    assert path.read_bytes() == before


# --- one line per ticket, in one unit, sorted by it ------------------------------------------------

ORDER = [
    # P0 (技术介入 2小时, wall clock): due Thu 19 Nov 12:00 → 1 working day 6 hours late by Monday 09:00
    # (sorted by that), shown on the clock as the register's 超时 column says it: 3.9天
    # (its response, solution and resolution, 24/24/48小时, are late too)
    t(datetime(2026, 11, 19, 10), id="202611-001", customer="A", owner="李工", priority="P0"),
    # P2 (7个工作日): response due Thu 19 Nov 09:00 → 2 working days late
    t(datetime(2026, 11, 10, 9), id="202611-002", customer="B", owner="李工", priority="P2"),
    # a burn on Friday afternoon: P0 by escalation, its 2-hour start due at 17:00 → 1 working hour late
    # (sorted by that), 2.7天 on the clock
    t(datetime(2026, 11, 20, 15), "孩子手被烫伤了", id="202611-003", customer="C", owner="李工"),
    # due before tomorrow's stand-up: at 10:00 today (1 working hour) and at 18:00 (a working day)
    t(datetime(2026, 11, 21, 10), id="202611-004", customer="D", owner="李工", priority="P1"),
    t(datetime(2026, 11, 13, 9), id="202611-005", customer="E", owner="李工", priority="P2"),
]


def test_one_line_per_late_ticket_sorted_in_working_time(make_desk, cli):
    path = make_desk(ORDER)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    late = section(result.output, "已超时（3）")
    lines = [line for line in late.splitlines() if "202611-" in line]
    assert [line.split()[1] for line in lines] == ["202611-002", "202611-001", "202611-003"]
    assert "2个工作日" in lines[0] and "3.9天" in lines[1] and "2.7天" in lines[2]
    assert "技术介入" in lines[1] and "问题关闭" in lines[1]  # A's other late stages: in the other stages column
    assert late.count("202611-001") == 1   # one line per ticket
    assert "P0（升级）" in lines[2] and "P0（升级）" not in lines[1]

    soon = section(result.output, "下次晨会前到期（2）")
    lines = [line for line in soon.splitlines() if "202611-" in line]
    assert [line.split()[1] for line in lines] == ["202611-004", "202611-005"]
    assert "1小时" in lines[0] and "1个工作日" in lines[1]

    out = refresh_json(cli, path)["standup"]
    assert [i["id"] for i in out["late"]] == ["202611-002", "202611-001", "202611-003"]
    working = [i["working_hours"] for i in out["late"]]  # the one measure the list is sorted by
    assert working == sorted(working, reverse=True) and working[:2] == [18.0, 15.0]
    assert [(i["hours"], i["clock"], i["amount"]) for i in out["late"]] == [
        (18.0, "business", "2个工作日"), (93.0, "wall", "3.9天"), (64.0, "wall", "2.7天")]
    assert out["late"][1]["other_stages"] == [{"stage": "first_response", "late": True, "due": "2026-11-20 10:00"},
                                              {"stage": "solution", "late": True, "due": "2026-11-20 10:00"},
                                              {"stage": "closed", "late": True, "due": "2026-11-21 10:00"}]
    assert out["late"][2]["escalated"] and not out["late"][0]["escalated"]


@pytest.mark.parametrize("lang, more", [("zh", "… 另有 3 条"), ("en", "… and 3 more")])
def test_a_cut_list_says_how_many_more_and_json_keeps_them_all(make_desk, cli, monkeypatch, lang, more):
    import sheetdesk.cli.console

    monkeypatch.setattr(sheetdesk.cli.console, "STANDUP_ROWS", 2)
    path = make_desk([t(datetime(2026, 11, 2, 9 + i), customer=f"客户{i}", priority="P2", owner="李工")
                      for i in range(5)])
    result = cli("refresh", path, "--now", NOW, "--lang", lang)
    assert result.exit_code == 0, result.output
    assert more in result.output
    assert len(refresh_json(cli, path)["standup"]["late"]) == 5

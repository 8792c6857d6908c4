"""校验 says only what needs a person, and the wrong cell is coloured where the clerk types.

Through the real CLI on real workbooks, for both save engines, read back with openpyxl.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import openpyxl
import pytest
from openpyxl.styles import PatternFill

from tests.helpers import NOW, col_of, libreoffice_convert, register_rows, soffice

GOOD = dict(channel="电话", customer="王女士", contact="13812345678", product="XR-200",
            description="机器无法开机，指示灯不亮", expectation="上门维修")
ORANGE, YELLOW = "FFFFD6AD", "FFFFF6C4"


def ticket(received, **extra):
    return {**GOOD, "received": received, **extra}


@pytest.fixture(params=["patch", "openpyxl"])
def engine(request, tmp_path):
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{request.param}"\n', encoding="utf-8")
    return request.param


def refresh(cli, path):
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    return result


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edit(path, change):
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)


def fill(cell) -> str | None:
    return cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fill_type == "solid" else None


def note(check) -> bool:
    return "建议，请核对" in (check or "")


# --- 5: the keyword suggestion only where sheetdesk filled the category -------------------------

def test_the_suggestion_note_stays_only_while_sheetdesk_s_category_is_unchanged(make_desk, cli, engine):
    path = make_desk([
        ticket(datetime(2026, 11, 2, 10)),                          # blank: sheetdesk fills 产品质量类
        ticket(datetime(2026, 11, 2, 11), category="产品质量类"),    # typed, the same as the keyword says
        ticket(datetime(2026, 11, 2, 12), category="服务体验类"),    # typed, something else
    ])
    refresh(cli, path)
    rows = register_rows(path)
    assert rows[2]["category"] == "产品质量类" and note(rows[2]["check"])
    assert not note(rows[3]["check"]) and rows[3]["check"] is None  # a typed category needs nobody
    assert rows[4]["check"] is None

    before = digest(path)
    again = refresh(cli, path)  # still sheetdesk's: the note stays, nothing changes
    assert "无需修改" in again.output and digest(path) == before
    assert note(register_rows(path)[2]["check"])

    ws_name = "登记表"
    edit(path, lambda wb: wb[ws_name].cell(2, col_of(wb[ws_name], "register", "category"), "服务体验类"))
    refresh(cli, path)  # a person changed it: theirs now, no note, and the memory lets it go
    rows = register_rows(path)
    assert rows[2]["category"] == "服务体验类" and rows[2]["check"] is None
    memory = openpyxl.load_workbook(path)["_sheetdesk"]
    assert rows[2]["id"] not in [c.value for c in memory["D"]]

    edit(path, lambda wb: wb[ws_name].cell(2, col_of(wb[ws_name], "register", "category"), "产品质量类"))
    refresh(cli, path)  # typed back to the suggestion by a person: still theirs
    assert register_rows(path)[2]["check"] is None
    before = digest(path)
    assert "无需修改" in refresh(cli, path).output and digest(path) == before


def test_the_memory_is_kept_beside_the_counter_without_disturbing_it(make_desk, cli, engine):
    path = make_desk([ticket(datetime(2026, 11, 2, 10)), ticket(datetime(2026, 11, 3, 10))])
    refresh(cli, path)
    ws = openpyxl.load_workbook(path)["_sheetdesk"]
    assert ws.sheet_state == "hidden"
    assert [ws.cell(1, c).value for c in (1, 2)] == ["月份", "已用流水号"]
    assert (ws.cell(2, 1).value, ws.cell(2, 2).value) == ("202611", 2)
    assert [(ws.cell(r, 4).value, ws.cell(r, 5).value) for r in (2, 3)] == \
        [("202611-001", "产品质量类"), ("202611-002", "产品质量类")]
    # a new ticket: the counter and the memory grow together, the earlier notes stay
    edit(path, lambda wb: [wb["登记表"].cell(4, col_of(wb["登记表"], "register", k), v)
                           for k, v in ticket(datetime(2026, 11, 4, 10)).items()])
    refresh(cli, path)
    rows = register_rows(path)
    assert all(note(rows[r]["check"]) for r in (2, 3, 4))
    ws = openpyxl.load_workbook(path)["_sheetdesk"]
    assert ws.cell(2, 2).value == 3 and ws.cell(4, 4).value == "202611-003"


def test_a_row_without_an_id_keeps_its_note_until_it_is_numbered_and_after(make_desk, cli, engine):
    path = make_desk([ticket("昨天下午")])  # unreadable time: no ID yet, the category is still filled
    refresh(cli, path)
    assert note(register_rows(path)[2]["check"])
    before = digest(path)
    assert "无需修改" in refresh(cli, path).output and digest(path) == before
    edit(path, lambda wb: wb["登记表"].cell(2, col_of(wb["登记表"], "register", "received"), datetime(2026, 11, 2, 10)))
    refresh(cli, path)
    row = register_rows(path)[2]
    assert row["id"] == "202611-001" and note(row["check"])
    memory = openpyxl.load_workbook(path)["_sheetdesk"]
    assert [(c.value, memory.cell(c.row, 5).value) for c in memory["D"][1:]
            if not c.value.startswith(("entered:", "followups:"))] == [("202611-001", "产品质量类")]
    # (besides its first-seen 登记时间 and the day the desk first planned its follow-up calls)


# --- 6: the offending cell is coloured where the clerk types ------------------------------------

def test_a_bad_cell_is_marked_and_the_mark_goes_when_it_is_fixed(make_desk, cli, engine):
    path = make_desk([
        ticket(datetime(2026, 11, 2, 10), channel="传真", contact="1381234"),     # errors: orange
        ticket(datetime(2026, 11, 2, 11), id="202610-005"),                      # warning (month): yellow
        ticket(datetime(2026, 11, 2, 12)),                                       # clean
    ])
    refresh(cli, path)
    ws = openpyxl.load_workbook(path)["登记表"]
    col = lambda key: col_of(ws, "register", key)  # noqa: E731
    assert fill(ws.cell(2, col("channel"))) == ORANGE and fill(ws.cell(2, col("contact"))) == ORANGE
    assert fill(ws.cell(3, col("id"))) == YELLOW
    assert fill(ws.cell(2, col("customer"))) is None and fill(ws.cell(4, col("channel"))) is None
    assert ws.cell(2, col("contact")).number_format == "@"  # the template's text format is kept
    assert fill(ws.cell(2, col("check"))) is None  # 校验 itself is sheetdesk's column, not marked

    before = digest(path)
    assert "无需修改" in refresh(cli, path).output and digest(path) == before

    edit(path, lambda wb: wb["登记表"].cell(2, col("channel"), "电话"))
    refresh(cli, path)
    ws = openpyxl.load_workbook(path)["登记表"]
    assert fill(ws.cell(2, col("channel"))) is None and ws.cell(2, col("channel")).fill.fill_type is None
    assert fill(ws.cell(2, col("contact"))) == ORANGE  # still wrong
    before = digest(path)
    assert "无需修改" in refresh(cli, path).output and digest(path) == before


def test_a_colour_a_person_set_on_a_bad_cell_is_left_alone(make_desk, cli, engine):
    green = PatternFill("solid", fgColor="FF00B050")

    def colour(wb):
        wb["登记表"]["C2"].fill = green  # 反馈渠道 of the bad row
        wb["登记表"]["C3"].fill = PatternFill("solid", fgColor="FFFFC7CE")  # an overdue red, typed by a person

    path = make_desk([ticket(datetime(2026, 11, 2, 10), channel="传真"),
                      ticket(datetime(2026, 11, 2, 11), channel="快手")], edit=colour)
    assert openpyxl.load_workbook(path)["登记表"]["C1"].value.startswith("反馈渠道")
    refresh(cli, path)
    ws = openpyxl.load_workbook(path)["登记表"]
    assert fill(ws["C2"]) == "FF00B050" and fill(ws["C3"]) == "FFFFC7CE"
    assert "未知渠道" in ws.cell(2, col_of(ws, "register", "check")).value
    before = digest(path)
    assert "无需修改" in refresh(cli, path).output and digest(path) == before
    edit(path, lambda wb: wb["登记表"].__setitem__("C2", "电话"))
    refresh(cli, path)
    assert fill(openpyxl.load_workbook(path)["登记表"]["C2"]) == "FF00B050"  # fixed: the person's colour stays


def test_marks_on_the_log_and_the_rule_sheets(make_desk, cli, engine):
    def bad_sla(wb):
        ws = wb["时效标准"]
        ws.cell(2, col_of(ws, "sla", "first_response"), "很快")

    path = make_desk([ticket(datetime(2026, 11, 2, 10))],
                     progress=[{"id": "202611-001", "time": "刚才", "step": "首次响应"}], edit=bad_sla)
    refresh(cli, path)
    wb = openpyxl.load_workbook(path)
    log, sla = wb["进度跟踪"], wb["时效标准"]
    assert fill(log.cell(2, col_of(log, "progress", "time"))) == ORANGE
    assert fill(log.cell(2, col_of(log, "progress", "step"))) is None
    assert fill(sla.cell(2, col_of(sla, "sla", "first_response"))) == ORANGE
    before = digest(path)
    assert "无需修改" in refresh(cli, path).output and digest(path) == before


def test_an_unreadable_call_time_or_score_is_marked_on_the_follow_up_plan(make_desk, cli, engine):
    path = make_desk([ticket(datetime(2026, 11, 16, 10), id="202611-001")],
                     progress=[{"id": "202611-001", "time": datetime(2026, 11, 16, 11), "step": "首次响应"},
                               {"id": "202611-001", "time": datetime(2026, 11, 17, 11), "step": "问题关闭"}])
    refresh(cli, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["回访计划"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("回访时间") + 1, "昨天")
    ws.cell(2, header.index("回访评分") + 1, "很好")
    wb.save(path)
    refresh(cli, path)
    ws = openpyxl.load_workbook(path)["回访计划"]
    # the typed call goes below the template's periodic calls still pending
    n = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, header.index("回访时间") + 1).value == "昨天")
    assert fill(ws.cell(n, header.index("回访时间") + 1)) == ORANGE
    assert fill(ws.cell(n, header.index("回访评分") + 1)) == ORANGE
    before = digest(path)
    assert "无需修改" in refresh(cli, path).output and digest(path) == before


@pytest.mark.libreoffice
@pytest.mark.slow
def test_marks_survive_a_libreoffice_save_and_still_clear(tmp_path, make_desk, cli):
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    path = make_desk([ticket(datetime(2026, 11, 2, 10), channel="传真", contact="1381234"),
                      ticket(datetime(2026, 11, 2, 11))])
    refresh(cli, path)
    converted = libreoffice_convert(path, tmp_path / "lo")
    ws = openpyxl.load_workbook(converted)["登记表"]
    channel, contact = col_of(ws, "register", "channel"), col_of(ws, "register", "contact")
    assert fill(ws.cell(2, channel)) == ORANGE  # LibreOffice keeps the colour as it is
    # its spelling of the marks is recognised: nothing to change in the register (LibreOffice's copy
    # of the generated sheets is rebuilt once, as always)
    planned = json.loads(cli("refresh", converted, "--now", NOW, "--dry-run", "--json").output)["changes"]
    assert planned and not [c for c in planned if c["sheet"] == "登记表"], planned
    edit(converted, lambda wb: wb["登记表"].cell(2, channel, "电话"))
    refresh(cli, converted)
    ws = openpyxl.load_workbook(converted)["登记表"]
    assert fill(ws.cell(2, channel)) is None and fill(ws.cell(2, contact)) == ORANGE
    before = digest(converted)
    assert "无需修改" in refresh(cli, converted).output and digest(converted) == before


def test_add_marks_a_warning_and_remembers_the_category_it_filled(make_desk, cli, engine):
    path = make_desk([ticket(datetime(2026, 11, 2, 10), category="产品质量类")])
    refresh(cli, path)
    result = cli("add", path, "--customer", "新客户", "--channel", "电话", "--description", "机器无法开机",
                 "--received", "2026-11-20 10:00", "--purchase-date", "2026-11-25", "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = register_rows(path)
    assert rows[2]["check"] is None  # typed
    assert rows[3]["category"] == "产品质量类" and note(rows[3]["check"]) and "购买日期" in rows[3]["check"]
    ws = openpyxl.load_workbook(path)["登记表"]
    assert fill(ws.cell(3, col_of(ws, "register", "purchase_date"))) == YELLOW
    before = digest(path)
    assert "无需修改" in refresh(cli, path).output and digest(path) == before


def test_rows_sharing_an_id_keep_their_own_notes(make_desk, cli, engine):
    path = make_desk([ticket(datetime(2026, 11, 2, 10), id="202611-004"),
                      ticket(datetime(2026, 11, 2, 11), id="202611-004", category="产品质量类")])
    refresh(cli, path)
    rows = register_rows(path)
    assert note(rows[2]["check"]) and not note(rows[3]["check"])  # filled / typed
    before = digest(path)
    assert "无需修改" in refresh(cli, path).output and digest(path) == before

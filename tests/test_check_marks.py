"""校验 says only what needs a person, and the wrong cell is coloured where the clerk types.

Through the real CLI on real workbooks, for both save engines, read back with openpyxl.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import openpyxl
import pytest
from openpyxl.styles import PatternFill

from conftest import NOW, col_of, register_rows

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
    assert [(c.value, memory.cell(c.row, 5).value) for c in memory["D"][1:]] == [("202611-001", "产品质量类")]

"""Merged cells over columns sheetdesk fills are reported in 校验 and left alone, on both engines."""

from __future__ import annotations

import openpyxl
import pytest

from tests.helpers import col_of

NOW = "2026-11-23 09:00"
ROWS = [{"received": "2026-11-20 10:00", "channel": "电话", "customer": "王女士", "description": "机器无法开机",
         "category": "产品质量类"},
        {"received": "2026-11-20 11:00", "channel": "电话", "customer": "李先生", "description": "机器无法开机",
         "category": "产品质量类"}]


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_merged_owner_and_collaborators_are_reported_and_left_alone(make_desk, cli, tmp_path, engine):
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")

    def merge(wb):
        ws = wb["登记表"]
        ws.insert_rows(1)  # a merged title row above the header is nobody's business
        ws.cell(1, 1, "售后反馈登记表")
        ws.merge_cells("A1:F1")
        ws.merge_cells(start_row=3, start_column=col_of(ws, "register", "owner", header_row=2),
                       end_row=3, end_column=col_of(ws, "register", "collaborators", header_row=2))

    desk = make_desk(ROWS, edit=merge)
    result = cli("refresh", desk, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "合并单元格" in result.output and "Traceback" not in result.output
    ws = openpyxl.load_workbook(desk)["登记表"]
    owner, collab = col_of(ws, "register", "owner", header_row=2), col_of(ws, "register", "collaborators", header_row=2)
    check = col_of(ws, "register", "check", header_row=2)
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert len(merged) == 2  # both merges kept
    assert ws.cell(3, owner).value is None and ws.cell(3, collab).value is None
    assert "合并单元格" in ws.cell(3, check).value and "请取消合并" in ws.cell(3, check).value
    # the row below is routed as usual, and the rest of the merged row too
    assert ws.cell(4, owner).value and not (ws.cell(4, check).value or "").count("合并")
    assert ws.cell(3, col_of(ws, "register", "id", header_row=2)).value == "202611-001"
    assert cli("refresh", desk, "--now", NOW).exit_code == 0  # and again: nothing breaks, nothing moves

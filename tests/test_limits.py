"""Nothing sheetdesk writes exceeds what an Excel cell holds (32,767 characters): Excel would refuse the file."""

from __future__ import annotations

import openpyxl
import pytest

from sheetdesk.limits import CELL_CHARS, cap_text, join_capped
from sheetdesk.problems import Problem, join_cell

from conftest import col_of  # noqa: E402

NOW = "2026-11-23 09:00"


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_a_huge_row_gets_a_check_cell_excel_can_open(make_desk, cli, tmp_path, engine):
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    desk = make_desk([{"received": "上周三" + "某" * 20_000, "channel": "抖音" + "音" * 20_000,
                       "customer": "王" + "女" * 40_000, "contact": "1" * 20_000, "description": "无法开机"},
                      {"received": "2026-11-20 10:00", "channel": "电话", "customer": "李" + "先" * 40_000,
                       "description": "漏水"}])
    result = cli("refresh", desk, "--now", NOW)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(desk)
    ws = wb["登记表"]
    check = ws.cell(2, col_of(ws, "register", "check")).value
    assert len(check) <= CELL_CHARS and ("另有" in check)
    tracker = wb["跟踪看板"]
    for row in tracker.iter_rows(values_only=True):
        for value in row:
            assert not isinstance(value, str) or len(value) <= CELL_CHARS


def test_join_capped_counts_what_is_left_out():
    parts = ["x" * 10_000] * 5
    text = join_capped(parts, "；", "zh")
    assert len(text) <= CELL_CHARS and text.endswith("…（另有 2 条）")
    assert join_capped(["a", "b"], "; ", "en") == "a; b"
    one = join_capped(["y" * 50_000], "; ", "en")
    assert len(one) <= CELL_CHARS and one.endswith("more characters)")
    assert cap_text("short") == "short"


def test_join_cell_stays_within_a_cell():
    problems = [Problem("register", 2, "description", "很长" * 5_000, "long" * 5_000) for _ in range(6)]
    assert len(join_cell(problems, "zh")) <= CELL_CHARS and len(join_cell(problems, "en")) <= CELL_CHARS

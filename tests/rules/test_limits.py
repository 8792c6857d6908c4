"""Nothing sheetdesk writes exceeds what an Excel cell holds (32,767 characters): Excel would refuse the file."""

from __future__ import annotations

import openpyxl
import pytest

from sheetdesk.rules.limits import CELL_CHARS, cap_text, join_capped
from sheetdesk.rules.problems import Problem, join_cell
from tests.helpers import col_of

NOW = "2026-11-23 09:00"


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_a_huge_row_gets_a_check_cell_excel_can_open(make_desk, cli, tmp_path, engine):
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    desk = make_desk([{"received": "上周三" + "某" * 20_000, "channel": "传真" + "真" * 20_000,
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


def test_reports_and_summaries_cut_long_text_with_a_marker(make_desk, cli, tmp_path):
    from datetime import datetime

    long_note = "客户反复说明情况。" * 4_000  # 36,000 characters
    desk = make_desk([{"id": "202611-001", "received": datetime(2026, 11, 2, 10), "channel": "电话",
                       "customer": "王女士", "description": "机器无法开机"}],
                     progress=[{"id": "202611-001", "time": datetime(2026, 11, 2, 11), "by": "李工", "step": "首次响应",
                                "note": long_note},
                               {"id": "202611-001", "time": datetime(2026, 11, 20, 15), "by": "李工", "step": "问题关闭"}],
                     results=[{"id": "202611-001", "result": "已修复", "satisfaction": "满意",
                               "rated_at": datetime(2026, 11, 21, 10), "reviewer": "赵主管",
                               "reviewed_on": datetime(2026, 11, 21), "overdue_reason": long_note}])
    _lengthen(desk, long_note[:CELL_CHARS], long_note)  # openpyxl cut it on save; a crafted file need not
    assert cli("report", desk, "--all", "--now", NOW).exit_code == 0
    assert cli("summary", desk, "--month", "2026-11", "--now", NOW).exit_code == 0
    written = list((tmp_path / "archive").rglob("202611-001*.xlsx")) + list((tmp_path / "summaries").glob("*.xlsx"))
    assert len(written) == 2
    cut = 0
    for path in written:
        for ws in openpyxl.load_workbook(path).worksheets:
            for row in ws.iter_rows(values_only=True):
                for value in row:
                    if isinstance(value, str):
                        assert len(value) <= CELL_CHARS
                        cut += value.endswith("字）")
    assert cut >= 2  # the log note in the report, the overdue reason in the summary


def _lengthen(path, short: str, long: str) -> None:
    """Put the over-long text back into the desk's XML, as a crafted or foreign-written file holds it."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i.filename) for i in z.infolist()}
    members = {n: d.replace(short.encode(), long.encode()) if n.endswith(".xml") else d for n, d in members.items()}
    path.unlink()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)

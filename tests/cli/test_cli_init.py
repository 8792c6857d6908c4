"""init and demo through the CLI."""

from __future__ import annotations

import openpyxl
import pytest

from tests.helpers import NOW, register_rows


def test_init_creates_a_desk_and_refuses_to_overwrite(tmp_path, cli):
    result = cli("init", tmp_path / "team")
    assert result.exit_code == 0, result.output
    path = tmp_path / "team" / "desk.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "登记表"
    assert [c.value for c in wb["时效标准"]["A"][1:4]] == ["P0", "P1", "P2"]
    assert wb["登记表"].freeze_panes == "A2"
    path.write_bytes(path.read_bytes())
    stamp = path.stat().st_mtime_ns
    again = cli("init", tmp_path / "team")
    assert again.exit_code != 0 and "已存在" in again.output
    assert path.stat().st_mtime_ns == stamp


def test_init_english_four_stage(tmp_path, cli):
    assert cli("init", tmp_path, "--lang", "en", "--preset", "four-stage").exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "desk.xlsx")
    assert wb.sheetnames[0] == "Register"
    sla = wb["SLA"]
    stages = [[c.value for c in row] for row in sla.iter_rows(min_row=2, max_row=4, max_col=6)]
    assert len(stages) == 3 and all(len([v for v in row[2:] if v]) == 4 for row in stages)


def test_a_new_desk_refreshes_cleanly(tmp_path, cli):
    cli("init", tmp_path)
    result = cli("refresh", tmp_path / "desk.xlsx", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "错误 0" in result.output


@pytest.mark.slow
def test_demo_is_refreshed_and_idempotent(tmp_path, cli):
    result = cli("demo", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    path = tmp_path / "demo" / "desk.xlsx"
    assert "已保存" in result.output and "示例台账已生成" in result.output
    rows = register_rows(path)
    assert len(rows) >= 40
    numbered = [r["id"] for r in rows.values() if r["id"]]
    assert len(numbered) >= len(rows) - 3
    assert any(r["check"] and "传真" in r["check"] for r in rows.values())
    assert any(r["check"] and "登记不及时" in r["check"] for r in rows.values())
    assert all(r["entered"] for r in rows.values() if r["id"])  # add, typed or first seen: every ticket has one
    before = path.read_bytes()
    again = cli("refresh", path, "--now", "2026-11-23 09:00")
    assert "无需修改" in again.output and path.read_bytes() == before
    # running demo again replaces the demo desk rather than failing
    assert cli("demo", tmp_path / "demo").exit_code == 0


@pytest.mark.slow
@pytest.mark.parametrize("lang, hint, cut", [("zh", "幂等", "："), ("en", "idempotent", ": nothing")])
def test_the_demo_guides_refresh_command_changes_nothing(tmp_path, cli, lang, hint, cut):
    """The demo is built as of its own date; the command it prints to show idempotence must be run as
    of that date too, or the real clock moves the deadlines on and the user sees changes."""
    import shlex

    result = cli("demo", tmp_path / "demo", "--lang", lang)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if hint in line)
    command = line.split("sheetdesk ", 1)[1].split(cut, 1)[0]
    path = tmp_path / "demo" / "desk.xlsx"
    before = path.read_bytes()
    again = cli(*shlex.split(command))
    assert again.exit_code == 0, again.output
    assert path.read_bytes() == before, again.output

"""Backups reach back to this morning: the last N saves plus the first version of each of the last D
days (desk clock), and ``restore`` says what made each one. The real clock is moved with the test
hook ``SHEETDESK_TEST_NOW_UTC`` (UTC; the desk is Asia/Shanghai, UTC+8)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta

import pytest

from sheetdesk.settings import TEST_NOW_ENV, load_settings
from sheetdesk.workbook.safesave import list_backups
from tests.helpers import register_rows

TICKETS = [{"received": datetime(2026, 11, 27, 9), "channel": "电话", "customer": f"客户{i}",
            "contact": "13812345678", "description": "机器无法开机"} for i in range(2)]


def at(monkeypatch, desk_time: str) -> None:
    """Set the real clock to ``desk_time`` on the desk's clock (UTC+8)."""
    utc = datetime.fromisoformat(desk_time) - timedelta(hours=8)
    monkeypatch.setenv(TEST_NOW_ENV, utc.isoformat(sep=" "))


def listing(output: str) -> list[list[str]]:
    return [re.split(r"\s*│\s*", line.strip("│ ")) for line in output.splitlines() if line.startswith("│")]


def a_day(cli, monkeypatch, path, day: str, logs: int) -> None:
    """The first save of the day is an ``add`` at 08:00, then ``logs`` log entries, one an hour."""
    at(monkeypatch, f"{day} 08:00")
    result = cli("add", path, "--customer", f"客户{day}", "--channel", "电话", "--description", "漏水")
    assert result.exit_code == 0, result.output
    new_id = result.output.strip()
    for hour in range(9, 9 + logs):
        at(monkeypatch, f"{day} {hour:02d}:00")
        result = cli("log", path, new_id, "进展更新", f"第{hour}点", "--by", "李工")
        assert result.exit_code == 0, result.output


def test_the_mornings_version_survives_a_busy_day(make_desk, cli, tmp_path, monkeypatch):
    path = make_desk(TICKETS)
    (tmp_path / "sheetdesk.toml").write_text("[desk]\nbackups = 3\nbackup_days = 2\n", encoding="utf-8")
    at(monkeypatch, "2026-11-29 17:00")
    assert cli("refresh", path).exit_code == 0
    a_day(cli, monkeypatch, path, "2026-11-30", logs=4)
    a_day(cli, monkeypatch, path, "2026-12-01", logs=5)

    result = cli("restore", path)
    assert result.exit_code == 0, result.output
    rows = listing(result.output)
    # the last 3 saves, then the first backup of 1 December and of 30 November; 29 November is gone
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        ("1", "2026-12-01 13:00:00", "log", "4"),
        ("2", "2026-12-01 12:00:00", "log", "4"),
        ("3", "2026-12-01 11:00:00", "log", "4"),
        ("4", "2026-12-01 08:00:00", "add", "3"),   # the version the day started with
        ("5", "2026-11-30 08:00:00", "add", "2"),   # and yesterday's
    ]
    backups = list_backups(path)
    assert [b.name for b in backups] == [r[6] for r in rows]
    assert [r[4] for r in rows] == [f"{b.stat().st_size:,}" for b in backups]
    assert all(b.name.startswith(("desk.20261201-", "desk.20261130-08")) for b in backups)
    assert not [p for p in backups[0].parent.iterdir() if p.name.endswith(".tmp")]

    # putting the morning's version back: the desk holds the three tickets it started the day with
    at(monkeypatch, "2026-12-01 14:00")
    result = cli("restore", path, "--pick", "4")
    assert result.exit_code == 0, result.output
    assert len(register_rows(path)) == 3
    rows = listing(cli("restore", path).output)
    assert (rows[0][1], rows[0][2], rows[0][5]) == ("2026-12-01 14:00:00", "restore", "4")

    # a day later the 30th falls out of the two days; the first of 1 December stays
    at(monkeypatch, "2026-12-02 08:00")
    assert cli("refresh", path).exit_code == 0
    rows = listing(cli("restore", path).output)
    assert [(r[1], r[2]) for r in rows] == [("2026-12-02 08:00:00", "refresh"), ("2026-12-01 14:00:00", "restore"),
                                            ("2026-12-01 13:00:00", "log"), ("2026-12-01 08:00:00", "add")]


def test_a_backup_without_its_label_still_lists_and_restores(make_desk, cli, tmp_path, monkeypatch):
    path = make_desk(TICKETS)
    at(monkeypatch, "2026-12-01 08:00")
    assert cli("refresh", path).exit_code == 0
    made = list_backups(path)[0]
    sidecar = made.with_name(made.name + ".json")
    assert json.loads(sidecar.read_text(encoding="utf-8"))["command"] == "refresh"
    sidecar.write_text("{damaged", encoding="utf-8")
    shutil.copy2(made, made.parent / "desk.20261130-070000-000000.xlsx")  # an earlier version's, no sidecar
    result = cli("restore", path)
    assert result.exit_code == 0, result.output
    rows = listing(result.output)
    assert [(r[1], r[2], r[5]) for r in rows] == [("2026-12-01 08:00:00", "—", "—"), ("2026-11-30 07:00:00", "—", "—")]
    assert cli("restore", path, "--pick", "2").exit_code == 0


def test_backup_settings(tmp_path):
    assert (load_settings(tmp_path / "desk.xlsx").backups, load_settings(tmp_path / "desk.xlsx").backup_days) == (10, 7)
    (tmp_path / "sheetdesk.toml").write_text("[desk]\nbackups = 4\nbackup_days = 0\n", encoding="utf-8")
    settings = load_settings(tmp_path / "desk.xlsx")
    assert (settings.backups, settings.backup_days) == (4, 0)


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_default_policy_keeps_ten_saves_and_the_morning(make_desk, cli, tmp_path, monkeypatch, engine):
    path = make_desk(TICKETS)
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    a_day(cli, monkeypatch, path, "2026-12-01", logs=12)
    rows = listing(cli("restore", path).output)
    assert len(rows) == 11
    assert (rows[-1][1], rows[-1][2], rows[-1][5]) == ("2026-12-01 08:00:00", "add", "2")
    assert [r[2] for r in rows[:10]] == ["log"] * 10

"""sheetdesk.toml is checked against its schema: unknown sections and keys, wrong types and a misspelt
time zone stop the command with one line naming the file, key, value and what is expected."""

from __future__ import annotations

import pytest

NOW = "2026-11-23 09:00"
ROW = {"received": "2026-11-20 10:00", "channel": "电话", "customer": "王女士", "description": "无法开机"}


@pytest.mark.parametrize("toml, words", [
    ('[desk]\ntimezone = "Asia/Shangai"\n', ["timezone", "Asia/Shangai", "Asia/Shanghai"]),
    ("desk = 5\n", ["desk", "5", "[desk]"]),
    ('[desk]\nbackup = 3\n', ["unknown key backup", "[desk]", "backups"]),
    ('[calender]\nholidays = []\n', ["unknown section [calender]", "[calendar]"]),
    ('[calendar.years.2027]\ncomplete = "yes"\n', ["[calendar.years.2027]", "complete", "true or false", "'yes'"]),
    ('[calendar.years.2027]\ncompleted = true\n', ["unknown key completed", "[calendar.years.2027]"]),
    ('[desk]\nbackups = "ten"\n', ["backups", "positive integer", "'ten'"]),
    ('[desk]\nstale_lock_hours = true\n', ["stale_lock_hours", "positive number"]),
    ('[mail]\nport = "587"\n', ["[mail] port", "positive integer"]),
])
def test_a_bad_setting_is_one_line_and_nothing_is_written(make_desk, cli, tmp_path, toml, words):
    desk = make_desk([ROW])
    (tmp_path / "sheetdesk.toml").write_text(toml, encoding="utf-8")
    before = desk.read_bytes()
    for command in ("refresh", "validate"):
        result = cli(command, desk, "--now", NOW, "--lang", "en")
        assert result.exit_code != 0 and "Traceback" not in result.output, result.output
        line = result.output.strip()
        assert len(line.splitlines()) == 1 and "sheetdesk.toml" in line, line
        for word in words:
            assert word in line, (word, line)
    assert desk.read_bytes() == before


def test_every_documented_setting_loads(make_desk, cli, tmp_path):
    desk = make_desk([ROW])
    (tmp_path / "sheetdesk.toml").write_text('''
[desk]
timezone = "Asia/Shanghai"
backups = 5
stale_lock_hours = 12
engine = "patch"

[calendar]
business_hours = ["09:00-12:00", "13:30-18:00"]
holidays = ["2026-12-31"]
workdays = []

[calendar.years.2027]
complete = true
holidays = ["2027-01-01"]
workdays = []

[sla]
pause_steps = ["等待客户"]
default_level = "P2"

[followups]
periodic = [7, 30, 90]

[mail]
host = "smtp.example.com"
port = 465
ssl = true
from = "desk@example.com"
password_env = "SHEETDESK_SMTP_PASSWORD"

[database]
url = "sqlite:///desk.db"
branch = "上海"
''', encoding="utf-8")
    result = cli("refresh", desk, "--now", NOW)
    assert result.exit_code == 0, result.output

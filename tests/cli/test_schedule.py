"""Scheduled runs through the real CLI on real workbooks: ``--if-workday`` skips the days off of the
desk's calendar (国庆 2026-10-01, a weekend, the team's own day) and runs on a 调休 Saturday
(2026-10-10); ``summary --if-first-workday`` runs on the first working day of the month / week only;
``sheetdesk schedule`` prints cron lines and schtasks commands that parse back to the right command."""

from __future__ import annotations

import re
import shlex
from datetime import date, datetime

import chinese_calendar
import openpyxl
import pytest

from sheetdesk.app.schedule import program
from tests.helpers import register_rows

GOOD = dict(channel="电话", customer="王女士", contact="13812345678", product="XR-200",
            description="机器无法开机，指示灯不亮", expectation="上门维修")
HOLIDAY, SATURDAY, MAKEUP_SATURDAY = "2026-10-01 08:45", "2026-10-17 08:45", "2026-10-10 08:45"


def ticket(received, **extra):
    return {**GOOD, "received": received, **extra}


@pytest.fixture
def desk(make_desk):
    """A desk a refresh changes: its one ticket has no ID yet."""
    return make_desk([ticket(datetime(2026, 9, 28, 10, 0))])


def test_the_dates_are_what_the_official_calendar_says():
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 1)) == (True, "National Day")
    assert date(2026, 10, 10).weekday() == 5 and chinese_calendar.is_workday(date(2026, 10, 10))  # 调休
    assert date(2026, 10, 17).weekday() == 5 and not chinese_calendar.is_workday(date(2026, 10, 17))
    assert chinese_calendar.get_workdays(date(2026, 10, 1), date(2026, 10, 9)) == [date(2026, 10, 8), date(2026, 10, 9)]


@pytest.mark.parametrize("now, reason", [(HOLIDAY, "国庆节"), (SATURDAY, "周六")])
def test_refresh_if_workday_does_nothing_on_a_day_off(desk, cli, now, reason):
    before = desk.read_bytes()
    result = cli("refresh", desk, "--now", now, "--if-workday")
    assert result.exit_code == 0, result.output
    assert desk.read_bytes() == before
    assert result.stdout == ""
    assert result.stderr.strip() == f"今天（{now[:10]}）不是工作日（{reason}），未执行"


def test_refresh_if_workday_runs_on_a_make_up_saturday(desk, cli):
    result = cli("refresh", desk, "--now", MAKEUP_SATURDAY, "--if-workday")
    assert result.exit_code == 0, result.output
    assert "不是工作日" not in result.output
    assert register_rows(desk)[2]["id"] == "202609-001"


def test_without_the_option_a_holiday_refresh_runs(desk, cli):
    assert cli("refresh", desk, "--now", HOLIDAY).exit_code == 0
    assert register_rows(desk)[2]["id"] == "202609-001"


def test_the_message_is_english_with_lang_en(desk, cli):
    result = cli("refresh", desk, "--now", HOLIDAY, "--if-workday", "--lang", "en")
    assert result.exit_code == 0
    assert result.stderr.strip() == "today (2026-10-01) is not a working day (National Day); nothing done"


def test_the_teams_own_days_from_sheetdesk_toml_count(desk, cli):
    (desk.parent / "sheetdesk.toml").write_text(
        '[calendar]\nholidays = ["2026-11-20"]\nworkdays = ["2026-11-21"]\n', encoding="utf-8")
    before = desk.read_bytes()
    off = cli("refresh", desk, "--now", "2026-11-20 08:45", "--if-workday")      # a Friday the team is off
    assert off.exit_code == 0 and desk.read_bytes() == before
    assert "团队休息日" in off.stderr
    on = cli("refresh", desk, "--now", "2026-11-21 08:45", "--if-workday")       # a Saturday the team works
    assert on.exit_code == 0, on.output
    assert register_rows(desk)[2]["id"] == "202609-001"


def test_a_broken_calendar_setting_is_one_line_not_a_skip(desk, cli):
    (desk.parent / "sheetdesk.toml").write_text('[calendar]\nholidays = ["someday"]\n', encoding="utf-8")
    result = cli("refresh", desk, "--now", HOLIDAY, "--if-workday")
    assert result.exit_code != 0
    assert "[calendar]" in result.stderr and "Traceback" not in result.output


def test_report_and_summary_if_workday_skip_a_holiday(desk, cli):
    report = cli("report", desk, "--all", "--now", HOLIDAY, "--if-workday")
    assert report.exit_code == 0 and "国庆节" in report.stderr
    assert not (desk.parent / "archive").exists()
    summary = cli("summary", desk, "--month", "previous", "--now", HOLIDAY, "--if-workday")
    assert summary.exit_code == 0 and "国庆节" in summary.stderr
    assert not (desk.parent / "summaries").exists()
    notify = cli("notify", desk, "--now", HOLIDAY, "--if-workday")  # no targets: it would fail if it ran
    assert notify.exit_code == 0 and "国庆节" in notify.stderr
    assert cli("notify", desk, "--now", MAKEUP_SATURDAY, "--if-workday").exit_code != 0


# --- the first working day ----------------------------------------------------------------------

@pytest.mark.parametrize("now, runs", [("2026-10-08 09:00", True), ("2026-10-09 09:00", False),
                                       ("2026-10-01 09:00", False), ("2026-11-02 09:00", True)])
def test_summary_if_first_workday_of_the_month(desk, cli, now, runs):
    result = cli("summary", desk, "--month", "previous", "--if-first-workday", "--now", now)
    assert result.exit_code == 0, result.output
    previous = "2026-09" if now.startswith("2026-10") else "2026-10"
    target = desk.parent / "summaries" / f"{previous}.xlsx"
    assert target.exists() == runs
    if runs:
        assert "已写入" in result.stdout
        assert openpyxl.load_workbook(target).sheetnames
    else:
        first = "2026-10-08" if now.startswith("2026-10") else "2026-11-02"
        assert result.stderr.strip() == f"今天（{now[:10]}）不是本月第一个工作日（{first}），未执行"


def test_summary_if_first_workday_of_the_week(desk, cli):
    # ISO week 41 of 2026 (Oct 5-11): 国庆 until the 7th, so Thursday the 8th is its first working day
    skip = cli("summary", desk, "--week", "previous", "--if-first-workday", "--now", "2026-10-10 09:00")
    assert skip.exit_code == 0 and "本周第一个工作日（2026-10-08）" in skip.stderr
    run = cli("summary", desk, "--week", "previous", "--if-first-workday", "--now", "2026-10-08 09:00")
    assert run.exit_code == 0, run.output
    assert (desk.parent / "summaries" / "2026-W40.xlsx").exists()


def test_month_previous_is_the_month_before_the_desks_today(desk, cli):
    result = cli("summary", desk, "--month", "previous", "--now", "2026-01-05 09:00")
    assert result.exit_code == 0, result.output
    assert (desk.parent / "summaries" / "2025-12.xlsx").exists()
    bad = cli("summary", desk, "--month", "last", "--now", "2026-01-05 09:00")
    assert bad.exit_code != 0 and "previous" in bad.stderr and "Traceback" not in bad.output


# --- sheetdesk schedule ---------------------------------------------------------------------------

def windows_argv(line: str) -> list[str]:
    """Split a command line the way the Microsoft C runtime does (quotes; backslashes before quotes)."""
    out, cur, quoted, i, have = [], [], False, 0, False
    while i < len(line):
        c = line[i]
        if c == "\\":
            n = 0
            while i < len(line) and line[i] == "\\":
                n, i = n + 1, i + 1
            if i < len(line) and line[i] == '"':
                cur.append("\\" * (n // 2))
                if n % 2:
                    cur.append('"')
                    i += 1
                have = True
            else:
                cur.append("\\" * n)
                have = True
            continue
        if c == '"':
            quoted, have = not quoted, True
        elif c in " \t" and not quoted:
            if have:
                out.append("".join(cur))
            cur, have = [], False
        else:
            cur.append(c)
            have = True
        i += 1
    if have:
        out.append("".join(cur))
    return out


def schedule_lines(cli, book, *more):
    result = cli("schedule", book, "--now", "2026-11-23 08:00", *more)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_schedule_prints_cron_lines_in_the_desks_zone(tmp_path, cli):
    book = tmp_path / "售后 台账" / "desk.xlsx"
    book.parent.mkdir()
    lines = schedule_lines(cli, book, "--machine-tz", "Asia/Shanghai", "--mail-to", "boss@example.cn")
    assert "CRON_TZ=Asia/Shanghai" in lines
    jobs = [line for line in lines if re.match(r"^\d", line)]
    assert len(jobs) == 2
    fields = [line.split(None, 5) for line in jobs]
    assert [f[:5] for f in fields] == [["45", "8", "*", "*", "*"], ["0", "9", "*", "*", "*"]]
    standup, summary = (shlex.split(f[5]) for f in fields)
    assert standup[-4:] == ["refresh", str(book.resolve()), "--notify", "--if-workday"]
    assert summary[summary.index("summary"):] == ["summary", str(book.resolve()), "--month", "previous",
                                                  "--if-first-workday", "--mail-to", "boss@example.cn"]
    assert not any(line.startswith("# 45") for line in lines)  # same zone: no converted copy


def test_schedule_converts_for_a_computer_in_another_zone(tmp_path, cli):
    book = tmp_path / "desk.xlsx"
    lines = schedule_lines(cli, book, "--machine-tz", "Europe/Berlin", "--standup", "07:30", "--summary-at", "10:15")
    assert "CRON_TZ=Asia/Shanghai" in lines
    assert any(line.startswith("30 7 * * * ") for line in lines)
    # 2026-11-23: Berlin is UTC+1, seven hours behind Shanghai
    assert any(line.startswith("# 30 0 * * * ") for line in lines)
    assert any(line.startswith("# 15 3 * * * ") for line in lines)
    tasks = [windows_argv(line) for line in lines if line.startswith("schtasks ")]
    assert [t[t.index("/ST") + 1] for t in tasks] == ["00:30", "03:15"]
    assert any("schtasks" in line and "07:30 → 00:30" in line for line in lines)


def test_schtasks_arguments_survive_paths_with_spaces(tmp_path, cli):
    book = tmp_path / "售后 台账" / "desk.xlsx"
    book.parent.mkdir()
    lines = schedule_lines(cli, book, "--machine-tz", "Asia/Shanghai")
    tasks = [windows_argv(line) for line in lines if line.startswith("schtasks ")]
    assert len(tasks) == 2
    for argv in tasks:
        assert argv[:3] == ["schtasks", "/Create", "/F"]
        assert argv[argv.index("/SC") + 1] == "DAILY"
        assert argv[argv.index("/TN") + 1].startswith("sheetdesk-")
        command = windows_argv(argv[argv.index("/TR") + 1])   # what the task runs, split again
        assert str(book.resolve()) in command
    first = windows_argv(tasks[0][tasks[0].index("/TR") + 1])
    assert first[first.index("refresh") + 1] == str(book.resolve()) and first[-1] == "--if-workday"
    assert tasks[0][tasks[0].index("/ST") + 1] == "08:45"


def test_schedule_refuses_bad_times_and_zones_in_one_line(tmp_path, cli):
    bad = cli("schedule", tmp_path / "desk.xlsx", "--standup", "8点45")
    assert bad.exit_code != 0 and "HH:MM" in bad.stderr and "Traceback" not in bad.output
    zone = cli("schedule", tmp_path / "desk.xlsx", "--machine-tz", "Mars/Base")
    assert zone.exit_code != 0 and "Mars/Base" in zone.stderr and "Traceback" not in zone.output


def test_schedule_uses_the_desks_time_zone(tmp_path, cli):
    (tmp_path / "sheetdesk.toml").write_text('[desk]\ntimezone = "Asia/Tokyo"\n', encoding="utf-8")
    lines = schedule_lines(cli, tmp_path / "desk.xlsx", "--machine-tz", "Asia/Shanghai", "--lang", "en")
    assert "CRON_TZ=Asia/Tokyo" in lines
    assert any(line.startswith("# 45 7 * * * ") for line in lines)   # Shanghai is an hour behind Tokyo


def test_the_timer_starts_the_sheetdesk_that_printed_it(tmp_path):
    """A venv's sheetdesk, run by its full path with another one first on PATH, names itself."""
    script = tmp_path / "venv" / "bin" / "sheetdesk"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    assert program(str(script)) == [str(script)]
    # started as ``python -m sheetdesk``: the same Python again
    main = tmp_path / "sheetdesk" / "__main__.py"
    main.parent.mkdir()
    main.write_text("", encoding="utf-8")
    assert program(str(main))[1:] == ["-m", "sheetdesk"]

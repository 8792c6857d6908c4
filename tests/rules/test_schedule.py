"""The schedule rules on plain values: why a day is off, the first working day of a month or week,
previous periods, time conversion across zones, and quoting for sh, cron and cmd."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from sheetdesk.rules import schedule as s
from sheetdesk.rules.workdays import WorkCalendar

CAL = WorkCalendar()


def test_day_off_reasons():
    assert s.day_off_reason(CAL, date(2026, 10, 8)) is None
    assert s.day_off_reason(CAL, date(2026, 10, 10)) is None                      # 调休 Saturday
    assert s.day_off_reason(CAL, date(2026, 10, 1)) == ("国庆节", "National Day")
    assert s.day_off_reason(CAL, date(2026, 10, 4)) == ("国庆节", "National Day")  # a Sunday inside the holiday
    assert s.day_off_reason(CAL, date(2026, 10, 18)) == ("周日", "Sunday")
    team = WorkCalendar(extra_holidays=[date(2026, 11, 20)])
    assert s.day_off_reason(team, date(2026, 11, 20)) == ("团队休息日", "the team's day off")


def test_first_workday_of_month_and_week():
    assert s.first_workday(CAL, date(2026, 10, 20), "month") == date(2026, 10, 8)
    assert s.first_workday(CAL, date(2026, 11, 30), "month") == date(2026, 11, 2)
    assert s.first_workday(CAL, date(2026, 10, 10), "week") == date(2026, 10, 8)
    assert s.first_workday(CAL, date(2026, 10, 3), "week") == date(2026, 9, 28)
    closed = WorkCalendar(extra_holidays=[date(2026, 11, 16 + i) for i in range(5)])   # a week off
    assert s.first_workday(closed, date(2026, 11, 18), "week") is None


def test_previous_periods():
    assert s.previous_month(date(2026, 1, 5)) == (2025, 12)
    assert s.previous_month(date(2026, 10, 31)) == (2026, 9)
    assert s.previous_week(date(2026, 1, 1)) == (2025, 52)
    assert s.previous_week(date(2026, 10, 8)) == (2026, 40)


def test_machine_time_follows_daylight_saving():
    sh, berlin = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
    assert s.machine_time(time(8, 45), sh, berlin, date(2026, 7, 1)) == time(2, 45)
    assert s.machine_time(time(8, 45), sh, berlin, date(2026, 12, 1)) == time(1, 45)
    assert s.machine_time(time(8, 45), sh, ZoneInfo("America/New_York"), date(2026, 12, 1)) == time(19, 45)
    assert s.same_offset(sh, ZoneInfo("Asia/Singapore"), date(2026, 12, 1))


def test_parse_hhmm():
    assert s.parse_hhmm("08:45") == time(8, 45) and s.parse_hhmm("8：05") == time(8, 5)
    assert s.parse_hhmm("24:00") is None and s.parse_hhmm("8点") is None


def test_quoting():
    assert s.cron_line(time(8, 5), ["/opt/sd/sheetdesk", "refresh", "/data/a b/100%.xlsx"]) == \
        "5 8 * * * /opt/sd/sheetdesk refresh '/data/a b/100\\%.xlsx'"
    assert s.sh_command(["x", "it's"]) == "x 'it'\"'\"'s'"
    argv = [r"C:\Program Files\sd\sheetdesk.exe", "refresh", r"D:\售后 台账\desk.xlsx", "--if-workday"]
    assert s.tr_value(argv) == r'\"C:\Program Files\sd\sheetdesk.exe\" refresh \"D:\售后 台账\desk.xlsx\" --if-workday'
    assert s.schtasks_command("sheetdesk-standup 售后", time(8, 45), argv).startswith(
        'schtasks /Create /F /SC DAILY /TN "sheetdesk-standup 售后" /ST 08:45 /TR "\\"C:\\Program Files')
    assert s.cmd_problems(argv) == []
    assert s.cmd_problems(["a", r"D:\R&D\desk.xlsx"]) == [r"D:\R&D\desk.xlsx"]
    assert s.task_name("standup", 'a/b:c') == "sheetdesk-standup a_b_c"

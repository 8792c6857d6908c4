"""Whether a scheduled run should act today, and the cron / Task Scheduler lines that start it.

A plain daily timer (cron, Windows Task Scheduler) knows nothing of 国庆节 or a 调休 Saturday, so
the timer fires every day and sheetdesk decides on the desk's calendar whether to act. The lines
are built here from times, zones and paths only; the caller finds the paths and the zones.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

import chinese_calendar

from sheetdesk.rules.workdays import WorkCalendar

#: chinese_calendar names its holidays in English; the desk talks Chinese
HOLIDAY_ZH = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: what cmd.exe treats specially even inside schtasks' /TR string (the \" quoting toggles its quote state)
CMD_SPECIAL = frozenset('&|<>^%')
#: schtasks refuses a /TR command longer than this
SCHTASKS_TR_MAX = 261
FIRST_OF = ("month", "week")


# --- today ------------------------------------------------------------------------------------

def day_off_reason(cal: WorkCalendar, day: date) -> tuple[str, str] | None:
    """None on a working day; else why not, (zh, en): the team's own day off, the official
    holiday's name, or the weekend."""
    if cal.is_workday(day):
        return None
    if day in cal.extra_holidays:
        return "团队休息日", "the team's day off"
    name = None
    if not cal.is_provisional(day):
        try:
            name = chinese_calendar.get_holiday_detail(day)[1]
        except NotImplementedError:  # a year chinese_calendar does not cover
            name = None
    if name:
        return HOLIDAY_ZH.get(str(name), str(name)), str(name)
    zh, en = f"周{_WEEKDAYS_ZH[day.weekday()]}", _WEEKDAYS_EN[day.weekday()]
    if day.weekday() < 5:  # a weekday off that is neither the team's nor named: say so plainly
        return f"{zh}，休息日", f"{en}, a day off"
    return zh, en


def period_start(day: date, first_of: str) -> date:
    """The first day of ``day``'s month or ISO week (Monday)."""
    if first_of == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def first_workday(cal: WorkCalendar, day: date, first_of: str) -> date | None:
    """The first working day of ``day``'s month or week; None when it has none (a week of 国庆)."""
    start = period_start(day, first_of)
    end = (start + timedelta(days=7) if first_of == "week"
           else (start.replace(day=28) + timedelta(days=4)).replace(day=1))
    d = start
    while d < end:
        if cal.is_workday(d):
            return d
        d += timedelta(days=1)
    return None


def previous_month(day: date) -> tuple[int, int]:
    """(year, month) of the month before ``day``'s."""
    first = day.replace(day=1) - timedelta(days=1)
    return first.year, first.month


def previous_week(day: date) -> tuple[int, int]:
    """(ISO year, ISO week) of the week before ``day``'s."""
    iso = (day - timedelta(days=7)).isocalendar()
    return iso[0], iso[1]


# --- the lines --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One daily run: ``key`` names it, ``at`` is the desk's wall-clock time, ``argv`` the command."""
    key: str
    at: time
    argv: tuple[str, ...]
    zh: str
    en: str


def parse_hhmm(text: str) -> time | None:
    m = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})\s*", text or "")
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return time(int(m.group(1)), int(m.group(2)))


def machine_time(at: time, desk_zone: tzinfo, machine_zone: tzinfo, day: date) -> time:
    """The computer's wall-clock time at the desk's ``at`` on ``day`` (the offsets of that day)."""
    moment = datetime.combine(day, at, tzinfo=desk_zone).astimezone(machine_zone)
    return moment.time().replace(tzinfo=None)


def same_offset(desk_zone: tzinfo, machine_zone: tzinfo, day: date) -> bool:
    noon = datetime.combine(day, time(12))
    return noon.replace(tzinfo=desk_zone).utcoffset() == noon.replace(tzinfo=machine_zone).utcoffset()


def sh_command(argv: Sequence[str]) -> str:
    """A crontab command: each argument quoted for sh, and ``%`` escaped (cron turns it into a newline)."""
    return " ".join(shlex.quote(a) for a in argv).replace("%", "\\%")


def cron_line(at: time, argv: Sequence[str]) -> str:
    """Every day at ``at``: sheetdesk itself skips the days that are not working days."""
    return f"{at.minute} {at.hour} * * * {sh_command(argv)}"


def cmd_arg(arg: str) -> str:
    """One argument inside schtasks' /TR "...": wrapped in \\" when it holds a space (Windows paths
    hold no quotes, and a BOOK never ends with a backslash, so nothing else needs escaping)."""
    return f'\\"{arg}\\"' if not arg or re.search(r"\s", arg) else arg


def tr_value(argv: Sequence[str]) -> str:
    """The /TR command line, before it is wrapped in its own quotes."""
    return " ".join(cmd_arg(a) for a in argv)


def task_name(key: str, desk: str) -> str:
    """A Task Scheduler name per job and desk; characters task names refuse are replaced."""
    return re.sub(r'[\\/:*?"<>|]', "_", f"sheetdesk-{key} {desk}").strip()


def schtasks_command(name: str, at: time, argv: Sequence[str]) -> str:
    """``schtasks /Create`` for a daily task at ``at`` (the computer's local time), for cmd.exe."""
    return (f'schtasks /Create /F /SC DAILY /TN "{name}" /ST {at:%H:%M} '
            f'/TR "{tr_value(argv)}"')


def cmd_problems(argv: Sequence[str]) -> list[str]:
    """The arguments cmd.exe would misread in /TR, and an overlong /TR: each a reason for a warning."""
    out = [a for a in argv if CMD_SPECIAL & set(a)]
    if len(tr_value(argv)) > SCHTASKS_TR_MAX:
        out.append(f"/TR > {SCHTASKS_TR_MAX}")
    return out

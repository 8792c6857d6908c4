"""Scheduled runs: whether today is a day to act (``--if-workday``, ``--if-first-workday``) on the
desk's own calendar and clock, and ``sheetdesk schedule``'s cron / Task Scheduler lines.

The calendar is the one a refresh times deadlines on (:func:`sheetdesk.app.desk.desk_calendar`),
so a timer and the deadlines never disagree about a day.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from pathlib import Path

from sheetdesk.app.desk import desk_calendar
from sheetdesk.rules import schedule as rules
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.settings import load_settings, utc_now, zone

DEFAULT_STANDUP = "08:45"
DEFAULT_SUMMARY = "09:00"


def _today(book: Path, now: datetime | None) -> tuple[date, WorkCalendar]:
    settings = load_settings(Path(book))
    return (now or settings.now()).date(), desk_calendar(settings)


def workday_skip(book: Path, now: datetime | None) -> tuple[str, str] | None:
    """None on a working day of the desk; else the one line (zh, en) saying why nothing was done."""
    day, cal = _today(book, now)
    reason = rules.day_off_reason(cal, day)
    if reason is None:
        return None
    zh, en = reason
    note_zh, note_en = "", ""
    if cal.is_provisional(day):
        note_zh = f"；{day.year} 年官方安排未收录，按普通周末判断"
        note_en = f"; {day.year}'s official schedule is not known yet, judged on plain weekends"
    return (f"今天（{day}）不是工作日（{zh}{note_zh}），未执行",
            f"today ({day}) is not a working day ({en}{note_en}); nothing done")


def first_workday_skip(book: Path, now: datetime | None, first_of: str) -> tuple[str, str] | None:
    """None on the first working day of today's month (``first_of="month"``) or ISO week; else why not."""
    day, cal = _today(book, now)
    first = rules.first_workday(cal, day, first_of)
    if first == day:
        return None
    zh_of, en_of = ("本月", "this month") if first_of == "month" else ("本周", "this week")
    if first is None:
        return (f"{zh_of}没有工作日，未执行", f"{en_of} has no working day; nothing done")
    return (f"今天（{day}）不是{zh_of}第一个工作日（{first}），未执行",
            f"today ({day}) is not the first working day of {en_of} ({first}); nothing done")


# --- sheetdesk schedule ------------------------------------------------------------------------

def program(argv0: str | None = None) -> list[str]:
    """The command that starts sheetdesk from a timer, whose PATH is short: the absolute path of the
    ``sheetdesk`` script running now (a venv's, not whichever comes first on PATH), else this Python
    with ``-m sheetdesk``."""
    running = Path(argv0 if argv0 is not None else sys.argv[0])
    if running.name.lower().startswith("sheetdesk") and running.suffix.lower() in ("", ".exe") \
            and running.is_file():
        return [str(running.absolute())]
    return [sys.executable, "-m", "sheetdesk"]


@dataclass
class Schedule:
    book: Path
    timezone: str
    machine_zone: str
    same_zone: bool
    jobs: list[rules.Job]
    #: the computer's local time of each job (what schtasks and a cron without CRON_TZ need)
    machine_times: dict[str, time]
    cron: list[str] = field(default_factory=list)
    cron_local: list[str] = field(default_factory=list)
    schtasks: list[str] = field(default_factory=list)
    cmd_problems: list[str] = field(default_factory=list)


def _zone_label(tz: tzinfo, day: date) -> str:
    offset = datetime.combine(day, time(12), tzinfo=tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def build(book: Path, *, standup: time, summary_at: time, mail_to: Sequence[str] = (), machine_tz: str | None = None,
          now: datetime | None = None, command: Sequence[str] | None = None, notify: bool = True) -> Schedule:
    """The jobs of a desk and their lines. ``machine_tz`` is the zone of the computer that will run
    them (default: this one's current offset); times convert on the desk's today. ``notify``: the
    stand-up refresh also sends the group message (``refresh --notify``)."""
    settings = load_settings(Path(book))
    book = Path(book).resolve()
    day = (now or settings.now()).date()
    desk_zone = zone(settings.timezone)
    if machine_tz:
        machine_zone: tzinfo = zone(machine_tz)
        machine_label = f"{machine_tz} ({_zone_label(machine_zone, day)})"
    else:
        machine_zone = utc_now().astimezone().tzinfo or desk_zone
        machine_label = _zone_label(machine_zone, day)
    exe = list(command or program())
    mail = [a for addr in mail_to for a in ("--mail-to", addr)]
    jobs = [
        rules.Job("standup", standup, (*exe, "refresh", str(book), *(["--notify"] if notify else []), "--if-workday"),
                  "晨会：刷新" + ("并推送站会摘要" if notify else "台账"),
                  "stand-up: refresh" + (" and notify" if notify else " the desk")),
        rules.Job("summary", summary_at, (*exe, "summary", str(book), "--month", "previous", "--if-first-workday",
                                          *mail),
                  "月度汇总：每月第一个工作日汇总上月", "monthly summary: last month's, on the month's first working day"),
    ]
    times = {j.key: rules.machine_time(j.at, desk_zone, machine_zone, day) for j in jobs}
    out = Schedule(book, settings.timezone, machine_label, rules.same_offset(desk_zone, machine_zone, day), jobs,
                   times)
    out.cron = [f"CRON_TZ={settings.timezone}"] + [rules.cron_line(j.at, j.argv) for j in jobs]
    out.cron_local = [rules.cron_line(times[j.key], j.argv) for j in jobs]
    desk_name = book.stem if book.stem != "desk" else (book.parent.name or book.stem)
    out.schtasks = [rules.schtasks_command(rules.task_name(j.key, desk_name), times[j.key], j.argv) for j in jobs]
    out.cmd_problems = sorted({p for j in jobs for p in rules.cmd_problems(j.argv)})
    return out

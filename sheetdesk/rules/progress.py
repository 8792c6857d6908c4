"""The progress log (进度跟踪) rolled up per ticket: status, stage completion times, reopenings.

The log is append-only and people type it in any order; the roll-up sorts each ticket's steps by
time. A stage is done at the first time its step was logged after the latest reopening; 问题关闭
also completes the earlier stages nobody logged. A reopening (重新打开, or a 不满意 rating after the
close) ends the ticket's round and starts the next one (二次处理): the ended round keeps what it
achieved, so its results are judged as they were, and the new round's clock starts at the reopening.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sheetdesk.rules import dates
from sheetdesk.rules.problems import ERROR, Problem, ambiguous_id
from sheetdesk.rules.records import Table
from sheetdesk.schema import STAGES, STEPS, step_key


@dataclass(frozen=True, slots=True)
class LogEntry:
    row: int
    ticket_id: str
    time: datetime
    step: str
    by: str = ""
    note: str = ""


#: an SLA pause: (from, until), until None while the clock still stands
Pause = tuple[datetime, datetime | None]


@dataclass(slots=True)
class Round:
    """One round of handling: the first runs from the received time, each later one (二次处理) from
    its reopening. ``ended`` is when the next round started (None for the ticket's current round)."""
    number: int
    start: datetime | None
    done: dict[str, datetime] = field(default_factory=dict)
    pauses: list[Pause] = field(default_factory=list)
    closed_at: datetime | None = None
    ended: datetime | None = None


@dataclass(slots=True)
class Rollup:
    """One ticket's state as its log tells it."""
    status: str | None = None          # latest step key
    status_time: datetime | None = None
    clock_start: datetime | None = None  # received, or the latest reopening
    done: dict[str, datetime] = field(default_factory=dict)
    reopened_at: datetime | None = None
    closed_at: datetime | None = None
    rounds: int = 0                    # reopenings applied so far
    #: SLA pauses since the clock started: (from, until) — until None while still paused
    pauses: list[Pause] = field(default_factory=list)
    entries: list[LogEntry] = field(default_factory=list)
    #: the rounds that ended with a reopening, oldest first (the current round is the fields above)
    history: list[Round] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    @property
    def round(self) -> int:
        """The current round's number: 1 until the first reopening."""
        return self.rounds + 1

    def current(self) -> Round:
        return Round(self.round, self.clock_start, self.done, self.pauses, self.closed_at)

    def all_rounds(self) -> list[Round]:
        """Every round, the first one first; the last is the current one."""
        return [*self.history, self.current()]


def _p(row: int, column: str, zh: str, en: str, level: str = ERROR, value: object = None) -> Problem:
    return Problem("progress", row, column, zh, en, level, value)


def read_log(table: Table | None, received: dict[str, datetime | None], now: datetime,
             date1904: bool = False, conflicts: dict[str, list[int]] | None = None
             ) -> tuple[list[LogEntry], list[Problem]]:
    """Valid log entries, and a problem for every row that cannot be used (it is never dropped).
    ``conflicts``: IDs several register rows hold (ID -> rows); their log rows go to no ticket."""
    conflicts = conflicts or {}
    entries: list[LogEntry] = []
    problems: list[Problem] = []
    if table is None:
        return entries, problems
    for row in table.rows:
        ticket_id = row.text("id")
        ok = True
        if not ticket_id:
            problems.append(_p(row.row, "id", "必填项为空，应为登记表中的反馈编号", "required; expected an ID from the register"))
            ok = False
        elif ticket_id in conflicts:
            problems.append(ambiguous_id("progress", row.row, ticket_id, conflicts[ticket_id]))
            ok = False
        elif ticket_id not in received:
            problems.append(_p(row.row, "id", f"登记表中没有编号“{ticket_id}”", f"no ticket '{ticket_id}' in the register",
                               value=ticket_id))
            ok = False
        step = step_key(row.text("step"))
        if step is None:
            names = "、".join(zh for _, zh, _ in STEPS)
            problems.append(_p(row.row, "step",
                               f"未知节点“{row.text('step')}”，应为：{names}" if row.text("step") else f"必填项为空，应为：{names}",
                               f"unknown step '{row.text('step')}'; expected one of: {', '.join(en for *_, en in STEPS)}",
                               value=row.get("step")))
            ok = False
        moment, readable = dates.to_datetime(row.get("time"), date1904)
        if moment is None:
            problems.append(_p(row.row, "time",
                               f"无法识别的时间“{row.text('time')}”，应为日期时间，如 2026-11-17 09:30" if not readable
                               else "必填项为空，应为日期时间，如 2026-11-17 09:30",
                               f"cannot read '{row.text('time')}' as a time; expected e.g. 2026-11-17 09:30" if not readable
                               else "required; expected a date and time such as 2026-11-17 09:30", value=row.get("time")))
            ok = False
        else:
            if moment > now:
                problems.append(_p(row.row, "time", f"时间 {dates.fmt(moment)} 晚于当前时间 {dates.fmt(now)}",
                                   f"time {dates.fmt(moment)} is in the future (now {dates.fmt(now)})", value=row.get("time")))
                ok = False
            start = received.get(ticket_id) if ticket_id and ticket_id not in conflicts else None
            if start is not None and moment < start:
                problems.append(_p(row.row, "time", f"时间 {dates.fmt(moment)} 早于该反馈的反馈时间 {dates.fmt(start)}",
                                   f"time {dates.fmt(moment)} is before the ticket was received ({dates.fmt(start)})",
                                   value=row.get("time")))
                ok = False
        if ok and step is not None and moment is not None:  # (ok is False whenever either is None)
            entries.append(LogEntry(row.row, ticket_id, moment, step, row.text("by"), row.text("note")))
    return entries, problems


def roll_up(entries: list[LogEntry], received: dict[str, datetime | None],
            extra_reopen: list[tuple[str, datetime]] | None = None,
            pause_steps: frozenset[str] = frozenset()) -> tuple[dict[str, Rollup], list[Problem]]:
    """Per ticket ID: its roll-up. ``extra_reopen`` adds reopenings nobody logged (不满意 ratings);
    each applies only if the ticket is closed at that moment."""
    by_ticket: dict[str, list[LogEntry]] = {}
    for entry in entries:
        by_ticket.setdefault(entry.ticket_id, []).append(entry)
    for ticket_id, at in extra_reopen or ():
        by_ticket.setdefault(ticket_id, []).append(LogEntry(0, ticket_id, at, "reopened"))
    problems: list[Problem] = []
    rollups: dict[str, Rollup] = {}
    for ticket_id, ticket_entries in by_ticket.items():
        ticket_entries.sort(key=lambda e: (e.time, e.row == 0, e.row))
        r = Rollup(clock_start=received.get(ticket_id), entries=ticket_entries)
        for e in ticket_entries:
            if e.row == 0 and not r.closed:  # a rating given while the ticket is still open
                continue
            if r.closed and e.step != "reopened":
                if e.row:
                    problems.append(_p(e.row, "step", f"该反馈已于 {dates.fmt(r.closed_at)} 关闭，之后只能记“重新打开”",
                                       f"the ticket was closed at {dates.fmt(r.closed_at)}; only 'Reopened' may follow",
                                       "warning", e.step))
                continue
            if r.pauses and r.pauses[-1][1] is None and e.step not in pause_steps:
                r.pauses[-1] = (r.pauses[-1][0], e.time)  # any other step restarts the clock
            r.status, r.status_time = e.step, e.time
            if e.step in pause_steps and not (r.pauses and r.pauses[-1][1] is None):
                r.pauses.append((e.time, None))
            if e.step == "reopened":
                r.history.append(Round(r.round, r.clock_start, r.done, r.pauses, r.closed_at, e.time))
                r.reopened_at = r.clock_start = e.time
                r.rounds += 1
                r.done = {}
                r.closed_at = None
                r.pauses = []
            elif e.step == "closed":
                r.closed_at = e.time
                for stage in STAGES:
                    r.done.setdefault(stage, e.time)
            elif e.step in STAGES:
                r.done.setdefault(e.step, e.time)
        rollups[ticket_id] = r
    return rollups, problems

"""Idle tickets (停滞): open tickets nobody has logged progress on for longer than their level's
进展更新 cadence.

The seeds ask the owner to keep the customer informed at a set rhythm (seed 003: every 2 working days;
seed 004: daily). The rhythm is the SLA sheet's 进展更新 column, per level, written like any SLA time
(1个工作日, 2wd, 24小时); blank means the level is not checked. A ticket is idle from the moment its
last progress row (of any step) or its reopening is further back than the cadence, measured the way
the cadence is written: working days on the official calendar, wall-clock hours around the clock.

A ticket nobody has logged anything on yet is watched by its first-response deadline instead (it is
late, or not yet due: a P2 may take 7 working days to answer, so a 2-day cadence must not nag first);
only a level that times no first response counts the cadence from the received time. A ticket waiting
on the customer (an SLA pause) is not idle: the next move is the customer's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sheetdesk.rules import dates
from sheetdesk.rules.durations import Duration, due_time, format_amount
from sheetdesk.rules.problems import WARNING, Problem
from sheetdesk.rules.progress import LogEntry
from sheetdesk.rules.sla import Level
from sheetdesk.rules.tracker import TicketStatus
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.schema import step_name


@dataclass(slots=True)
class Idle:
    """One idle ticket: a line of the stand-up's 停滞 list and a warning on its register row."""
    ticket_id: str
    customer: str
    owner: str
    priority: str
    row: int
    #: the last sign of life: the latest progress row, the reopening, or the received time
    since: datetime
    cadence: Duration
    #: when the next update was due (since + cadence)
    due: datetime
    #: the ticket's current step key (None: nothing logged yet)
    status: str | None
    #: how long the ticket has been idle, in the cadence's kind of time (business or clock seconds)
    idle_seconds: float
    #: working-calendar seconds past ``due``: one unit across levels, for sorting
    over_seconds: float

    @property
    def wall(self) -> bool:
        return not self.cadence.business

    def idle_text(self, cal: WorkCalendar, lang: str) -> str:
        return format_amount(self.idle_seconds, self.wall, cal, lang)

    def status_text(self, lang: str) -> str:
        if self.status is None:
            return "新登记" if lang == "zh" else "New"
        return step_name(self.status, lang)


def last_progress(entries: Iterable[LogEntry]) -> dict[str, datetime]:
    """Ticket ID -> the time of its latest progress row."""
    out: dict[str, datetime] = {}
    for e in entries:
        if e.ticket_id not in out or e.time > out[e.ticket_id]:
            out[e.ticket_id] = e.time
    return out


def find_idle(statuses: Iterable[TicketStatus], levels: dict[str, Level], last_logged: dict[str, datetime],
              cal: WorkCalendar, now: datetime) -> list[Idle]:
    """The open tickets past their level's cadence, longest past it first.

    ``levels``: level name -> Level (the ticket's effective level is looked up by name);
    ``last_logged``: ticket ID -> its latest progress row (:func:`last_progress`)."""
    out: list[Idle] = []
    for st in statuses:
        t = st.ticket
        if st.closed or t.received is None or not t.id:
            continue
        level = levels.get(st.effective)
        cadence = level.update_every if level is not None else None
        if cadence is None:
            continue
        pauses = st.rollup.pauses
        if pauses and pauses[-1][1] is None:  # waiting on the customer
            continue
        signs = [m for m in (last_logged.get(t.id), st.rollup.reopened_at) if m is not None]
        if not signs and level is not None and level.stages.get("first_response") is not None:
            continue  # nothing logged yet: the first-response deadline watches it (the 已超时 list)
        since = max([t.received, *signs])
        due = due_time(cal, since, cadence)
        if now <= due:
            continue
        idle = (now - since).total_seconds() if not cadence.business else cal.business_seconds_between(since, now)
        out.append(Idle(t.id, t.customer, t.owner, st.effective, t.row, since, cadence, due, st.rollup.status,
                        idle, max(cal.business_seconds_between(due, now), 0.0)))
    out.sort(key=lambda i: (-i.over_seconds, i.due, i.ticket_id, i.row))
    return out


def idle_problems(items: Iterable[Idle], cal: WorkCalendar) -> list[Problem]:
    """A warning on each idle ticket's 责任人 cell (the person who owes the customer an update)."""
    out = []
    for i in items:
        when = dates.fmt(i.since)
        out.append(Problem(
            "register", i.row, "owner",
            f"已 {i.idle_text(cal, 'zh')} 无进展记录（上次 {when}），{i.priority} 要求每 {i.cadence.text('zh')} "
            f"向客户更新一次进展，请在进度跟踪表记一行",
            f"no progress logged for {i.idle_text(cal, 'en')} (last {when}); {i.priority} asks for an update every "
            f"{i.cadence.text('en')}: log a Progress row",
            WARNING))
    return out

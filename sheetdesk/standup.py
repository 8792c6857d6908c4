"""The stand-up summary ``refresh`` prints: what is late, what falls due before tomorrow's stand-up,
what is new since yesterday's, what has no owner, and the load per owner.

"Tomorrow's stand-up" is the start of business on the next working day; "yesterday's" the start of
business on the previous working day, so a Monday stand-up also sees the weekend's tickets.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sheetdesk.schema import STAGES
from sheetdesk.sla import OPEN_LATE
from sheetdesk.tracker import TicketStatus
from sheetdesk.workdays import WorkCalendar


@dataclass(slots=True)
class Item:
    ticket_id: str
    customer: str
    owner: str
    priority: str
    stage: str | None = None
    due: datetime | None = None
    business_seconds: float = 0.0
    wall: bool = False


@dataclass(slots=True)
class IdConflict:
    """An ID typed on several register rows: each row is its own ticket, none gets the ID's log."""
    ticket_id: str
    #: (register row, customer) of every row holding the ID
    rows: list[tuple[int, str]]


@dataclass
class Standup:
    now: datetime
    next_standup: datetime
    last_standup: datetime
    late: list[Item] = field(default_factory=list)
    due_soon: list[Item] = field(default_factory=list)
    new: list[Item] = field(default_factory=list)
    unassigned: list[Item] = field(default_factory=list)
    reopened: list[Item] = field(default_factory=list)
    by_owner: dict[str, dict[str, int]] = field(default_factory=dict)
    provisional_years: list[int] = field(default_factory=list)
    #: follow-up calls not yet made that are due by the next stand-up (late ones included)
    calls_due: list = field(default_factory=list)
    #: IDs held by more than one register row, until someone corrects them
    id_conflicts: list[IdConflict] = field(default_factory=list)


def _business_start(cal: WorkCalendar, day) -> datetime:
    return datetime.combine(day, cal.hours.intervals[0][0])


def standup_window(cal: WorkCalendar, now: datetime) -> tuple[datetime, datetime]:
    """(previous working day's stand-up, next working day's stand-up)."""
    day = now.date() + timedelta(days=1)
    while not cal.is_workday(day):
        day += timedelta(days=1)
    prev = now.date() - timedelta(days=1)
    while not cal.is_workday(prev):
        prev -= timedelta(days=1)
    return _business_start(cal, prev), _business_start(cal, day)


def build_standup(statuses: list[TicketStatus], cal: WorkCalendar, now: datetime) -> Standup:
    last, nxt = standup_window(cal, now)
    s = Standup(now, nxt, last)
    owners: dict[str, Counter] = {}
    years = set()
    for st in statuses:  # a ticket is its row: rows sharing an ID are listed each (and in id_conflicts)
        t = st.ticket
        base = dict(ticket_id=t.id or "", customer=t.customer, owner=t.owner, priority=st.effective)
        if t.received is not None and t.received >= last:
            s.new.append(Item(**base, due=None))
        if st.closed:
            continue
        counts = owners.setdefault(t.owner or "", Counter())
        counts["open"] += 1
        if not t.owner:
            s.unassigned.append(Item(**base))
        if st.rollup.status == "reopened":
            s.reopened.append(Item(**base, due=st.rollup.reopened_at))
        is_late = False
        for stage in STAGES:
            state = st.states[stage]
            if state.provisional and state.due is not None:
                years.update(range(st.rollup.clock_start.year, state.due.year + 1))  # type: ignore[union-attr]
            if state.state == OPEN_LATE:
                s.late.append(Item(**base, stage=stage, due=state.due, business_seconds=state.business_seconds,
                                   wall=state.wall))
                is_late = True
            elif state.done is None and state.due is not None and state.due <= nxt:
                s.due_soon.append(Item(**base, stage=stage, due=state.due, business_seconds=state.business_seconds,
                                       wall=state.wall))
        if is_late:
            counts["late"] += 1
    s.late.sort(key=lambda i: -i.business_seconds)
    s.due_soon.sort(key=lambda i: i.due)
    s.new.sort(key=lambda i: i.ticket_id)
    s.by_owner = {owner: {"open": c["open"], "late": c["late"]} for owner, c in sorted(owners.items())
                  if c["open"]}
    s.provisional_years = sorted(y for y in years if cal.is_provisional(datetime(y, 1, 1).date()))
    return s


def id_conflicts(tickets, conflicts: dict[str, list[int]]) -> list[IdConflict]:
    """The stand-up's list of duplicated IDs (``RegisterPlan.conflicts``), with each row's customer."""
    if not conflicts:
        return []
    customer = {t.row: t.customer for t in tickets if t.id in conflicts}
    return [IdConflict(ticket_id, [(row, customer.get(row, "")) for row in rows])
            for ticket_id, rows in sorted(conflicts.items())]

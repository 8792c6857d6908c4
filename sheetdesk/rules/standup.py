"""The stand-up summary ``refresh`` prints: what is late, what falls due before tomorrow's stand-up,
what is new since yesterday's, what has no owner, and the load per owner.

"Tomorrow's stand-up" is the start of business on the next working day; "yesterday's" the start of
business on the previous working day, so a Monday stand-up also sees the weekend's tickets.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sheetdesk.rules.durations import format_amount
from sheetdesk.rules.escalation import Escalation
from sheetdesk.rules.followups import Call
from sheetdesk.rules.idle import Idle
from sheetdesk.rules.register import Ticket
from sheetdesk.rules.sla import OPEN_LATE, StageState
from sheetdesk.rules.tracker import TicketStatus
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.schema import REGISTER, STAGES


@dataclass(slots=True)
class Item:
    """One line of a stand-up list: one ticket."""
    ticket_id: str
    customer: str
    owner: str
    priority: str
    #: the stage the line is about: the most late one (late list), the first due (due-soon list)
    stage: str | None = None
    due: datetime | None = None
    #: working-calendar seconds late (late stages) or left (open ones), whatever the stage's SLA unit:
    #: one comparable measure to sort a list by (what a line shows is ``state``'s own amount)
    business_seconds: float = 0.0
    late: bool = False
    #: the escalation (升级原因) when a rule raised the ticket; None otherwise
    escalation: Escalation | None = None
    #: the ticket's other late or due-soon stages: (stage, late?, due)
    others: list[tuple[str, bool, datetime]] = field(default_factory=list)
    #: what is not decided yet (unassigned list): "owner", "category", "priority"
    missing: tuple[str, ...] = ()
    row: int = 0
    #: the effective priority's rank (0 = most urgent), for the group message's order and mentions
    rank: int = 99
    #: the stage's state: its lateness or time left in the SLA's own unit (clock hours for 2小时)
    state: StageState | None = None

    @property
    def wall(self) -> bool:
        return self.state is not None and self.state.wall

    @property
    def own_seconds(self) -> float:
        """Late by / left, in the stage's own unit (clock seconds for a wall-clock SLA)."""
        return self.state.business_seconds if self.state is not None else self.business_seconds

    def amount_text(self, cal: WorkCalendar, lang: str) -> str:
        """The amount as the register's 超时 column writes it (2.6天 for a 2小时 SLA, 1.5个工作日)."""
        if self.state is not None:
            return self.state.amount_text(cal, lang)
        return format_amount(self.business_seconds, False, cal, lang)

    @property
    def escalated(self) -> bool:
        return self.escalation is not None


@dataclass(slots=True)
class Incomplete:
    """A register row that cannot be numbered or timed (its received time is missing or unreadable)."""
    row: int
    customer: str
    ticket_id: str
    #: what to complete, (zh, en) each
    missing: list[tuple[str, str]]
    priority: str = ""
    escalation: Escalation | None = None
    rank: int = 99

    @property
    def escalated(self) -> bool:
        return self.escalation is not None


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
    #: every open escalated ticket (a safety complaint is never out of sight), most urgent first
    escalated: list[Item] = field(default_factory=list)
    #: rows that cannot be numbered or timed (待补全), escalated ones first
    incomplete: list[Incomplete] = field(default_factory=list)
    by_owner: dict[str, dict[str, int]] = field(default_factory=dict)
    provisional_years: list[int] = field(default_factory=list)
    #: follow-up calls not yet made that are due by the next stand-up (late ones included)
    calls_due: list[Call] = field(default_factory=list)
    #: IDs held by more than one register row, until someone corrects them
    id_conflicts: list[IdConflict] = field(default_factory=list)
    #: open tickets with no progress row for longer than their level's 进展更新 cadence (停滞)
    idle: list[Idle] = field(default_factory=list)


def _business_start(cal: WorkCalendar, day: date) -> datetime:
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


def _seconds(cal: WorkCalendar, state: StageState, now: datetime) -> float:
    """Working-calendar seconds the stage is late by (late) or has left (open). A wall-clock SLA's
    own amounts are clock seconds: they are measured again on the calendar, so one list holds one unit."""
    if not state.wall:
        return state.business_seconds
    assert state.due is not None
    if state.state == OPEN_LATE:
        return max(cal.business_seconds_between(state.due, now), 0.0)
    return max(cal.business_seconds_between(now, state.due), 0.0)


def _escalation(escalations: dict[int, Escalation] | None, row: int) -> Escalation | None:
    e = escalations.get(row) if escalations else None
    return e if e is not None and e.reasons else None


def _missing_cells(t: Ticket) -> list[tuple[str, str]]:
    """What keeps a row from being numbered and timed, then its other empty required cells."""
    raw = t.values.get("received")
    out: list[tuple[str, str]] = []
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        out.append(("反馈时间为空", "received time is missing"))
    else:
        out.append((f"反馈时间“{str(raw).strip()}”无法识别", f"received time '{str(raw).strip()}' cannot be read"))
    for col in REGISTER.columns:
        if col.required and col.key not in ("received", "id") and not str(t.values.get(col.key) or "").strip():
            out.append((f"{col.zh}为空", f"{col.en.lower()} is missing"))
    return out


def build_standup(statuses: list[TicketStatus], cal: WorkCalendar, now: datetime,
                  escalations: dict[int, Escalation] | None = None, tickets: Sequence[Ticket] = ()) -> Standup:
    """``escalations``: register row -> its escalation; ``tickets``: every register row (the rows that
    cannot be timed are listed as 待补全)."""
    last, nxt = standup_window(cal, now)
    s = Standup(now, nxt, last)
    owners: dict[str, Counter[str]] = {}
    years: set[int] = set()
    for st in statuses:  # a ticket is its row: rows sharing an ID are listed each (and in id_conflicts)
        t = st.ticket
        e = _escalation(escalations, t.row)
        item = functools.partial(Item, ticket_id=t.id or "", customer=t.customer, owner=t.owner,
                                 priority=st.effective, escalation=e, row=t.row, rank=st.rank)
        if t.received is not None and t.received >= last:
            s.new.append(item(due=None))
        if st.closed:
            continue
        counts = owners.setdefault(t.owner or "", Counter())
        counts["open"] += 1
        missing = tuple(k for k, gone in (("owner", not t.owner), ("category", not t.category),
                                          ("priority", t.untriaged)) if gone)
        if not t.owner or t.untriaged:
            s.unassigned.append(item(missing=missing))
        if st.rollup.status == "reopened":
            s.reopened.append(item(due=st.rollup.reopened_at))
        # (seconds, due, stage): the ticket's late stages, its stages due by the next stand-up
        late: list[tuple[float, datetime, str, StageState]] = []
        soon: list[tuple[float, datetime, str, StageState]] = []
        # the nearest open deadline: (seconds, due, stage, state), for the escalated list
        nearest: tuple[float, datetime, str, StageState] | None = None
        for stage in STAGES:
            state = st.states[stage]
            start = st.rollup.clock_start  # (a provisional stage is a timed one: it has a start)
            if state.provisional and state.due is not None and start is not None:
                years.update(range(start.year, state.due.year + 1))
            if state.done is not None or state.due is None:
                continue
            if state.state == OPEN_LATE:
                late.append((_seconds(cal, state, now), state.due, stage, state))
            elif state.due <= nxt:
                soon.append((_seconds(cal, state, now), state.due, stage, state))
            elif nearest is None or state.due < nearest[1]:
                nearest = (_seconds(cal, state, now), state.due, stage, state)
        late.sort(key=lambda x: (-x[0], x[1]))
        soon.sort(key=lambda x: (x[0], x[1]))
        others = [(stage, True, due) for _, due, stage, _ in late[1:]] + [(stage, False, due) for _, due, stage, _ in soon]
        lead = None
        if late:
            counts["late"] += 1
            seconds, due, stage, state = late[0]
            lead = item(stage=stage, due=due, business_seconds=seconds, late=True, others=others, state=state)
            s.late.append(lead)
        elif soon:
            seconds, due, stage, state = soon[0]
            lead = item(stage=stage, due=due, business_seconds=seconds, others=others[1:], state=state)
            s.due_soon.append(lead)
        if e is not None:
            if lead is None and nearest is not None:
                seconds, due, stage, state = nearest
                lead = item(stage=stage, due=due, business_seconds=seconds, state=state)
            s.escalated.append(lead or item())
    for t in tickets:
        if t.id and t.received is not None:
            continue
        e = _escalation(escalations, t.row)
        level = e.level if e is not None else t.level
        s.incomplete.append(Incomplete(t.row, t.customer, t.id or "", _missing_cells(t), level.name if level else "",
                                       e, e.level.rank if e and e.level else 99))
    s.late.sort(key=lambda i: (-i.business_seconds, i.due, not i.escalated, i.ticket_id))
    s.due_soon.sort(key=lambda i: (i.business_seconds, i.due, not i.escalated, i.ticket_id))
    s.escalated.sort(key=_urgency)
    s.incomplete.sort(key=lambda i: (not i.escalated, i.rank, i.row))
    s.new.sort(key=lambda i: i.ticket_id)
    s.unassigned.sort(key=lambda i: not i.escalated)  # a safety complaint nobody owns comes first
    s.by_owner = {owner: {"open": c["open"], "late": c["late"]} for owner, c in sorted(owners.items())
                  if c["open"]}
    s.provisional_years = sorted(y for y in years if cal.is_provisional(datetime(y, 1, 1).date()))
    return s


def _urgency(i: Item) -> tuple[int, float, str]:
    """Late lines first (most late first), then by time left, then those without a deadline."""
    if i.stage is None:
        return (2, 0.0, i.ticket_id)
    return (0, -i.business_seconds, i.ticket_id) if i.late else (1, i.business_seconds, i.ticket_id)


def id_conflicts(tickets: Iterable[Ticket], conflicts: dict[str, list[int]]) -> list[IdConflict]:
    """The stand-up's list of duplicated IDs (``RegisterPlan.conflicts``), with each row's customer."""
    if not conflicts:
        return []
    customer = {t.row: t.customer for t in tickets if t.id in conflicts}
    return [IdConflict(ticket_id, [(row, customer.get(row, "")) for row in rows])
            for ticket_id, rows in sorted(conflicts.items())]

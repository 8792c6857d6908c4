"""Each ticket's SLA picture, and the 跟踪看板 / Tracker sheet built from it.

The tracker is regenerated on every refresh: open tickets first, most urgent first (late before
due-soon, then least time left, then severity), closed tickets in a second block underneath.

A reopened ticket is in a later round (二次处理): its first response stays the first round's, its
resolution stages (技术介入, 方案提供, 问题关闭) are the current round's, timed from the reopening.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sheetdesk.rules.durations import format_business_seconds
from sheetdesk.rules.limits import cap_text
from sheetdesk.rules.progress import Rollup, Round
from sheetdesk.rules.register import Ticket
from sheetdesk.rules.sla import (
    AMBER_STATES,
    OPEN_LATE,
    RED_STATES,
    ROUND_STAGES,
    STATE_NAMES,
    UNTIMED,
    Level,
    StageState,
    round_label,
    stage_states,
)
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.schema import STAGES, step_name

NEW_STATUS = ("新登记", "New")
STAGE_NAMES = {
    "first_response": ("首次响应", "First response"),
    "tech_engaged": ("技术介入", "Tech engaged"),
    "solution": ("方案提供", "Solution"),
    "closed": ("问题关闭", "Closed"),
}


@dataclass(frozen=True, slots=True)
class RoundStates:
    """A later round (二次处理) and its resolution stages' states (``ROUND_STAGES``)."""
    number: int
    start: datetime
    states: dict[str, StageState]


@dataclass(slots=True)
class TicketStatus:
    ticket: Ticket
    rollup: Rollup
    effective: str                 # effective priority name ('' when unknown)
    rank: int                      # severity rank, 0 = most urgent; large when unknown
    #: the current picture: the first round's first response, the current round's resolution stages
    states: dict[str, StageState]
    #: the refresh's clock: an open pause runs until then
    now: datetime
    #: every stage as the first round left it (the same as ``states`` until a reopening)
    first_states: dict[str, StageState] = field(default_factory=dict)
    #: the rounds after a reopening, oldest first; the last is the current one while the ticket is in it
    later_rounds: list[RoundStates] = field(default_factory=list)

    @property
    def round(self) -> int:
        return self.rollup.round

    def round_text(self, lang: str) -> str:
        return round_label(self.round, lang)

    @property
    def closed(self) -> bool:
        return self.rollup.closed

    def status_text(self, lang: str) -> str:
        if self.rollup.status is None:
            return NEW_STATUS[0] if lang == "zh" else NEW_STATUS[1]
        return step_name(self.rollup.status, lang)

    @property
    def urgency(self) -> float:
        """Signed business seconds to the nearest open deadline (negative = late); inf when none."""
        open_states = [s for s in self.states.values() if s.done is None and s.state != UNTIMED]
        if not open_states:
            return float("inf")
        return min(-s.business_seconds if s.state == OPEN_LATE else s.business_seconds for s in open_states)

    @property
    def provisional(self) -> bool:
        return any(s.provisional for s in self.states.values())


def build_statuses(tickets: list[Ticket], rollups: dict[str, Rollup], effective: dict[int, tuple[str, int]],
                   sla_levels: dict[str, Level], cal: WorkCalendar, now: datetime) -> list[TicketStatus]:
    """``effective`` maps register row -> (priority name, rank); ``sla_levels`` name -> Level."""
    out: list[TicketStatus] = []
    for t in tickets:
        if not t.id or t.received is None:
            continue
        rollup = rollups.get(t.id) or Rollup(clock_start=t.received)
        if rollup.clock_start is None:
            rollup.clock_start = t.received
        name, rank = effective.get(t.row, ("", 99))
        level = sla_levels.get(name)
        rounds = rollup.all_rounds()
        first = _round_states(cal, level, rounds[0], t.received, now)
        later = [RoundStates(r.number, r.start or t.received,
                             {k: v for k, v in _round_states(cal, level, r, t.received, now).items() if k in ROUND_STAGES})
                 for r in rounds[1:]]
        states = {**first, **later[-1].states} if later else first
        out.append(TicketStatus(t, rollup, name, rank, states, now, first, later))
    return out


def _round_states(cal: WorkCalendar, level: Level | None, r: Round, received: datetime,
                  now: datetime) -> dict[str, StageState]:
    """A round's stage states; an ended round is judged as it stood when the next one began."""
    return stage_states(cal, level, r.start or received, r.done, r.ended or now, r.pauses)


def fill_of(state: StageState) -> str | None:
    if state.state in RED_STATES:
        return "red"
    if state.state in AMBER_STATES:
        return "amber"
    return None


def headers(lang: str) -> list[str]:
    zh = lang == "zh"
    cols = ["反馈编号", "客户名称", "问题分类", "生效优先级", "责任人", "状态"] if zh else \
        ["ID", "Customer", "Category", "Effective priority", "Owner", "Status"]
    for stage in STAGES:
        name = STAGE_NAMES[stage][0 if zh else 1]
        cols += [f"{name}时限", f"{name}完成", f"{name}状态"] if zh else \
            [f"{name} due", f"{name} done", f"{name} state"]
    cols += ["剩余/超时", "超时", "暂停计时"] if zh else ["Left / late", "Overdue", "Paused"]
    cols += ["轮次"] if zh else ["Round"]
    return cols


def _left_text(status: TicketStatus, cal: WorkCalendar, lang: str) -> str | None:
    """The nearest open deadline: time left, or how late, in that stage's own clock."""
    open_states = [s for s in status.states.values() if s.done is None and s.state != UNTIMED]
    if not open_states:
        return None
    st = min(open_states, key=lambda s: -s.business_seconds if s.state == OPEN_LATE else s.business_seconds)
    amount = st.amount_text(cal, lang)
    if st.state == OPEN_LATE:
        return f"超时 {amount}" if lang == "zh" else f"late {amount}"
    return f"剩余 {amount}" if lang == "zh" else f"{amount} left"


def _paused_text(status: TicketStatus, cal: WorkCalendar, lang: str) -> str | None:
    """Business time the SLA clock stood still (等待客户 and other pause steps), '(paused)' while it is."""
    pauses = status.rollup.pauses
    if not pauses:
        return None
    until = status.now
    total = sum(cal.business_seconds_between(a, b or until) for a, b in pauses)
    text = format_business_seconds(total, cal, lang)
    if pauses[-1][1] is None:
        text += "（暂停中）" if lang == "zh" else " (paused)"
    return text


def tracker_order(statuses: list[TicketStatus]) -> tuple[list[TicketStatus | str | None], int]:
    """The tracker's rows in order (a status each; None for the blank row and "closed" for the title
    row between the open and the closed tickets), and how many are open."""
    def key(s: TicketStatus) -> tuple[bool, float, int, datetime | None, str | None]:
        late = any(x.state in RED_STATES for x in s.states.values())
        return (not late, s.urgency, s.rank, s.ticket.received, s.ticket.id)

    open_ = sorted((s for s in statuses if not s.closed), key=key)
    closed = sorted((s for s in statuses if s.closed), key=lambda s: (s.rollup.closed_at, s.ticket.id), reverse=True)
    order: list[TicketStatus | str | None] = list(open_)
    if closed:
        order += [None, "closed", *closed]
    return order, len(open_)


def _fit(text: str | None, lang: str) -> str | None:
    """A person's text copied into the tracker, cut to what a cell holds (a pasted essay as a name)."""
    return cap_text(text, lang) if text else text


def tracker_rows(order: list[TicketStatus | str | None], overdue: dict[int, str | None], cal: WorkCalendar,
                 lang: str) -> Iterator[tuple[tuple[object, ...], tuple[str | None, ...]]]:
    """(values, fills) of each row of :func:`tracker_order`, made as they are asked for. Closed
    tickets follow the open ones after a title row."""
    width = len(headers(lang))
    blank = (None,) * width
    patterns: dict[tuple[str | None, ...], tuple[str | None, ...]] = {}  # a few dozen fill patterns, shared by every row that has one
    for s in order:
        if s is None:
            yield blank, blank
            continue
        if isinstance(s, str):  # "closed": the title row
            yield ("已关闭" if lang == "zh" else "Closed tickets",) + (None,) * (width - 1), blank
            continue
        t = s.ticket
        row: list[object] = [_fit(t.id, lang), _fit(t.customer, lang), _fit(t.category, lang) or None,
                             s.effective or None, _fit(t.owner, lang) or None, s.status_text(lang)]
        fill: list[str | None] = [None] * 6
        for stage in STAGES:
            st = s.states[stage]
            state_name = STATE_NAMES[st.state][0 if lang == "zh" else 1]
            row += [st.due, st.done, state_name if st.state != UNTIMED else None]
            fill += [fill_of(st), None, fill_of(st)]
        row += [_left_text(s, cal, lang) if not s.closed else None, overdue.get(t.row), _paused_text(s, cal, lang)]
        fill += [None, "red" if overdue.get(t.row) else None, None]
        row.append(s.round_text(lang))
        fill.append(None)
        fill_row = tuple(fill)
        yield tuple(row), patterns.setdefault(fill_row, fill_row)

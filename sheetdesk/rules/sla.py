"""The SLA table (时效标准): priority levels, their aliases and stage durations.

Managers edit it in Excel; the row order is the severity order, most urgent first, so the
escalation rules can say "at least the second level" without knowing the level names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sheetdesk.rules.durations import Duration, DurationError, due_time, format_amount, parse_duration
from sheetdesk.rules.problems import ERROR, WARNING, Problem
from sheetdesk.rules.records import Table
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.schema import STAGES, normalise_header

_ALIAS_SPLIT = ",，、;；/"
#: an SLA pause: (from, until), until None while the clock still stands
Pause = tuple[datetime, datetime | None]


def split_list(text: str) -> list[str]:
    """Comma/、/；-separated cell text as a list of non-empty items."""
    items = [text]
    for sep in _ALIAS_SPLIT:
        items = [piece for item in items for piece in item.split(sep)]
    return [item.strip() for item in items if item.strip()]


@dataclass(frozen=True)
class Level:
    row: int
    name: str
    rank: int  # 0 = most urgent
    aliases: tuple[str, ...]
    stages: dict[str, Duration | None] = field(default_factory=dict)
    #: the 进展更新 cadence: an open ticket with no progress row for longer is idle; None = not checked
    update_every: Duration | None = None


@dataclass
class SlaTable:
    levels: list[Level]
    _index: dict[str, Level] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for level in self.levels:
            for word in (level.name, *level.aliases):
                self._index.setdefault(normalise_header(word), level)

    def resolve(self, text: str) -> Level | None:
        """A typed priority (name or alias, any case) → its level."""
        return self._index.get(normalise_header(text)) if text else None

    def names(self) -> list[str]:
        return [level.name for level in self.levels]

    def at_rank(self, rank: int) -> Level | None:
        if not self.levels:
            return None
        return self.levels[min(rank, len(self.levels) - 1)]


def read_sla(table: Table) -> tuple[SlaTable, list[Problem]]:
    """Levels in row order; bad durations and alias clashes become problems on their cells."""
    problems: list[Problem] = []
    levels: list[Level] = []
    seen: dict[str, str] = {}
    for row in table.rows:
        name = row.text("priority")
        if not name:
            if any(row.text(s) for s in STAGES):
                problems.append(Problem("sla", row.row, "priority", "优先级为空，请填写级别名称（如 P1）",
                                        "priority is empty; name the level (e.g. P1)"))
            continue
        stages: dict[str, Duration | None] = {}
        for stage in STAGES:
            try:
                stages[stage] = parse_duration(row.get(stage)) if table.has(stage) else None
            except DurationError as exc:
                stages[stage] = None
                problems.append(Problem("sla", row.row, stage, exc.zh, exc.en, value=row.get(stage)))
        update_every = None
        try:
            update_every = parse_duration(row.get("update_every")) if table.has("update_every") else None
        except DurationError as exc:
            problems.append(Problem("sla", row.row, "update_every", exc.zh, exc.en, value=row.get("update_every")))
        aliases = tuple(split_list(row.text("aliases")))
        for word in (name, *aliases):
            key = normalise_header(word)
            if key in seen and seen[key] != name:
                problems.append(Problem(
                    "sla", row.row, "aliases",
                    f"“{word}”已用于级别 {seen[key]}，同一名称不能指向两个级别",
                    f"'{word}' already names level {seen[key]}; a name cannot point at two levels"))
            else:
                seen[key] = name
        levels.append(Level(row.row, name, len(levels), aliases, stages, update_every))
    if not levels:
        problems.append(Problem("sla", None, None, "时效标准表没有任何级别，无法计算时限",
                                "the SLA sheet has no levels; no deadlines can be computed", ERROR))
    elif len(levels) > 1:
        problems += _high_beside_urgent(levels[0], levels[1])
    return SlaTable(levels), problems


def _high_beside_urgent(top: Level, second: Level) -> list[Problem]:
    """紧急/高/中/低 are four words for the levels: 紧急 the most urgent, 高 the second (seed 002). A
    desk whose most urgent level also answers to 高 (the template before that rule) reads every 高
    ticket as the most urgent: said once, on the row, so a manager can move it."""
    words = {normalise_header(w) for w in (top.name, *top.aliases)}
    if not {"紧急", "高"} <= words and not {"urgent", "high"} <= words:
        return []
    zh_word, en_word = ("高", "high") if "高" in words else ("high", "high")
    return [Problem("sla", top.row, "aliases",
                    f"“{zh_word}”与“紧急”同为最高级别 {top.name} 的别名：按售后流程，高 是第二级，"
                    f"请把“{zh_word}”移到 {second.name} 的别名中",
                    f"'{en_word}' and 'urgent' both name the most urgent level {top.name}: high is the second "
                    f"level; move '{en_word}' to the aliases of {second.name}", WARNING)]


# --- stage deadlines and states -------------------------------------------------------------

ON_TIME, LATE, OPEN_LATE, DUE_SOON, OPEN, UNTIMED = "on_time", "late", "open_late", "due_soon", "open", "untimed"
#: states that colour a due cell
RED_STATES, AMBER_STATES = (LATE, OPEN_LATE), (DUE_SOON,)
STAGE_SHORT = {
    "first_response": ("响应", "response"),
    "tech_engaged": ("技术介入", "tech engagement"),
    "solution": ("方案", "solution"),
    "closed": ("解决", "resolution"),
}
STATE_NAMES = {
    ON_TIME: ("按时完成", "on time"), LATE: ("超时完成", "done late"), OPEN_LATE: ("已超时", "late"),
    DUE_SOON: ("即将到期", "due soon"), OPEN: ("进行中", "open"), UNTIMED: ("不计时", "untimed"),
}


@dataclass(frozen=True, slots=True)
class StageState:
    stage: str
    due: datetime | None
    done: datetime | None
    state: str
    #: business seconds: how late (late states) or how much is left (open states)
    business_seconds: float = 0.0
    provisional: bool = False
    #: the stage's SLA is wall-clock (24小时): its amounts are clock seconds, not business seconds
    wall: bool = False

    def amount_text(self, cal: WorkCalendar, lang: str) -> str:
        if self.state in RED_STATES and self.business_seconds < 60:
            # due at the end of a Friday and seen on Monday morning: late, but by no business time yet
            return "<1分钟" if lang == "zh" else "<1 min"
        return format_amount(self.business_seconds, self.wall, cal, lang)


def _allowance(cal: WorkCalendar, start: datetime, due: datetime, duration: Duration) -> float:
    if not duration.business:
        return (due - start).total_seconds()
    return cal.business_seconds_between(start, due)


def _remaining(cal: WorkCalendar, now: datetime, due: datetime, duration: Duration) -> float:
    if not duration.business:
        return (due - now).total_seconds()
    return cal.business_seconds_between(now, due)


def _paused(cal: WorkCalendar, duration: Duration, start: datetime, until: datetime, pauses: Iterable[Pause],
            now: datetime) -> float:
    """Time the clock stood still between ``start`` and ``until``, in the duration's own kind of time."""
    total = 0.0
    for a, b in pauses:
        a, b = max(a, start), min(b or now, until)
        if b > a:
            total += cal.business_seconds_between(a, b) if duration.business else (b - a).total_seconds()
    return total


def paused_due(cal: WorkCalendar, start: datetime, duration: Duration, pauses: Sequence[Pause], now: datetime) -> datetime:
    """The deadline pushed back by every pause that falls before it (a fixed point: pushing it may
    bring a later pause inside)."""
    due = due_time(cal, start, duration)
    if not pauses:
        return due
    for _ in range(len(pauses) + 1):
        extra = _paused(cal, duration, start, due, pauses, now)
        if duration.business:
            unit = 3600 if duration.unit == "business_hours" else cal.hours.day_seconds
            moved = cal.add_business_seconds(start, duration.amount * unit + extra)
        else:
            moved = due_time(cal, start, duration) + timedelta(seconds=extra)
        if moved == due:
            break
        due = moved
    return due


def stage_state(cal: WorkCalendar, stage: str, duration: Duration | None, start: datetime | None,
                done: datetime | None, now: datetime, pauses: Iterable[Pause] = ()) -> StageState:
    """PRODUCT.md §3 "Overdue": late when undone past due or done after it; due-soon in the last quarter."""
    if duration is None or start is None:
        return StageState(stage, None, done, UNTIMED)
    due = paused_due(cal, start, duration, list(pauses), now)
    provisional = cal.touches_provisional(start, due)
    wall = not duration.business
    if done is not None:
        if done > due:
            return StageState(stage, due, done, LATE, _remaining(cal, due, done, duration), provisional, wall)
        return StageState(stage, due, done, ON_TIME, 0.0, provisional, wall)
    if now > due:
        return StageState(stage, due, None, OPEN_LATE, _remaining(cal, due, now, duration), provisional, wall)
    remaining = _remaining(cal, now, due, duration)
    allowance = _allowance(cal, start, due, duration)
    state = DUE_SOON if allowance > 0 and remaining <= allowance / 4 else OPEN
    return StageState(stage, due, None, state, remaining, provisional, wall)


def stage_states(cal: WorkCalendar, level: Level | None, start: datetime | None, done: dict[str, datetime],
                 now: datetime, pauses: Sequence[Pause] = ()) -> dict[str, StageState]:
    stages = level.stages if level is not None else {}
    return {stage: stage_state(cal, stage, stages.get(stage), start, done.get(stage), now, pauses)
            for stage in STAGES}


#: the stages a later round (二次处理, after a reopening) times again; the first response is not
ROUND_STAGES = ("tech_engaged", "solution", "closed")


def round_label(number: int, lang: str) -> str:
    """第2轮 / Round 2."""
    return f"第{number}轮" if lang == "zh" else f"Round {number}"


def overdue_text(states: dict[str, StageState], cal: WorkCalendar, lang: str,
                 round_label: str | None = None) -> str | None:
    """The 超时 cell: which stages are late and by how much, in business time. ``round_label`` (a
    later round's 第2轮) names the round whose resolution stages are late; the first response
    belongs to the first round and is never labelled."""
    parts = []
    for stage in STAGES:
        s = states[stage]
        if s.state in RED_STATES:
            amount = s.amount_text(cal, lang)
            zh, en = STAGE_SHORT[stage]
            label = round_label if round_label and stage in ROUND_STAGES else None
            if lang == "zh":
                parts.append((label or "") + f"{zh}超时 {amount}" + ("（已完成）" if s.state == LATE else ""))
            else:
                parts.append((f"{label}: " if label else "") + f"{en} late by {amount}"
                             + (" (done)" if s.state == LATE else ""))
    if not parts:
        return None
    return ("；" if lang == "zh" else "; ").join(parts)

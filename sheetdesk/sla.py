"""The SLA table (时效标准): priority levels, their aliases and stage durations.

Managers edit it in Excel; the row order is the severity order, most urgent first, so the
escalation rules can say "at least the second level" without knowing the level names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sheetdesk.durations import Duration, DurationError, parse_duration
from sheetdesk.problems import ERROR, Problem
from sheetdesk.records import Table
from sheetdesk.schema import STAGES, normalise_header

_ALIAS_SPLIT = ",，、;；/"


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
        levels.append(Level(row.row, name, len(levels), aliases, stages))
    if not levels:
        problems.append(Problem("sla", None, None, "时效标准表没有任何级别，无法计算时限",
                                "the SLA sheet has no levels; no deadlines can be computed", ERROR))
    return SlaTable(levels), problems

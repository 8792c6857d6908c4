"""The follow-up figures of the weekly and monthly summaries (seed 004: 回访率、满意度评分、低分转主管).

Pure functions over :class:`KpiCall` — one flat record per row of the 回访计划 — so branches merge by
concatenation. Definitions (a week or a month alike):

* 应回访 (due): planned calls whose 最晚回访 falls in the period and has passed (before today), plus
  those of the period already made — like SLA attainment, a call is judged once made or late;
* 已回访 (made): of those, the calls with a 回访时间; 按时 (on time): made by their 最晚回访;
* 回访覆盖率 (coverage): made / due;
* 平均回访评分, 9分及以上占比: over those same calls made that have a score, plus the rows the plan
  no longer holds (off-plan, kept because someone typed them) made in the period; the target is the
  回访规则 sheet's (the strictest when types differ);
* 低分转主管: of those same scored calls, the ones scored ≤ 6 the plan flags for the supervisor.

The scores are those of the calls 已回访 counts, so a week's mean and its count agree: a call made
early counts in the period its window ends in, everywhere.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypedDict

from sheetdesk.rules.followups import LOW_SCORE

HIGH_SCORE = 9

#: (key, zh, en) of the follow-up rows of the KPIs sheet
FOLLOWUP_METRICS = (
    ("calls_due", "应回访数", "Calls due"),
    ("calls_made", "已回访数", "Calls made"),
    ("calls_on_time", "按时回访数", "Calls on time"),
    ("call_coverage", "回访覆盖率", "Call coverage"),
    ("mean_call_score", "平均回访评分", "Mean call score"),
    ("high_score_share", "9分及以上占比", "Share of scores ≥ 9"),
    ("high_score_target", "目标(≥9分占比)", "Target (share ≥ 9)"),
    ("low_scores", "低分转主管数", "Low scores to supervisor"),
)
PERCENT_KEYS = frozenset({"call_coverage", "high_score_share", "high_score_target"})


@dataclass(frozen=True, slots=True)
class KpiCall:
    ticket_id: str
    type: str
    due: date | None
    latest: date | None
    called_at: datetime | None = None
    score: float | None = None
    planned: bool = True
    customer: str = ""
    caller: str = ""
    notes: str = ""
    branch: str = ""


class TypeRow(TypedDict):
    """One call type's figures (the 回访 sheet of the summary)."""
    type: str
    calls_due: int
    calls_made: int
    calls_on_time: int
    call_coverage: float | None
    mean_call_score: float | None
    high_score_share: float | None
    #: calls of this type made in the period scored ≤ 6 (sent to the supervisor)
    low_scores: int


def _judged(calls: list[KpiCall], start: date, end: date, today: date) -> list[KpiCall]:
    return [c for c in calls if c.planned and c.latest is not None and start <= c.latest < end
            and (c.latest < today or c.called_at is not None)]


def _scored(calls: list[KpiCall], start: date, end: date, today: date) -> list[KpiCall]:
    """The period's calls made with a score: the judged ones, and off-plan rows made in the period."""
    judged = [c for c in _judged(calls, start, end, today) if c.called_at is not None]
    off_plan = [c for c in calls if not c.planned and c.called_at is not None and start <= c.called_at.date() < end]
    return [c for c in judged + off_plan if c.score is not None]


def _figures(calls: list[KpiCall], start: date, end: date, today: date) -> dict[str, float | int | None]:
    due = _judged(calls, start, end, today)
    made = [c for c in due if c.called_at is not None]
    on_time = [c for c in made if c.latest is not None and c.called_at is not None and c.called_at.date() <= c.latest]
    scores = [c.score for c in _scored(calls, start, end, today) if c.score is not None]
    return {
        "calls_due": len(due), "calls_made": len(made), "calls_on_time": len(on_time),
        "call_coverage": len(made) / len(due) if due else None,
        "mean_call_score": round(statistics.fmean(scores), 2) if scores else None,
        "high_score_share": sum(s >= HIGH_SCORE for s in scores) / len(scores) if scores else None,
    }


def followup_kpis(calls: list[KpiCall], start: datetime, end: datetime, now: datetime,
                  target: float | None) -> dict[str, float | int | None]:
    """The summary's follow-up figures for the period [start, end)."""
    out = _figures(calls, start.date(), end.date(), now.date())
    out["high_score_target"] = target
    out["low_scores"] = len(low_score_calls(calls, start, end, now))
    return out


def by_type(calls: list[KpiCall], start: datetime, end: datetime, now: datetime) -> list[TypeRow]:
    """The figures per call type, in the order the types first appear."""
    order: dict[str, list[KpiCall]] = {}
    for c in calls:
        order.setdefault(c.type, []).append(c)
    rows: list[TypeRow] = []
    for name, members in order.items():
        f = _figures(members, start.date(), end.date(), now.date())
        if not f["calls_due"] and f["mean_call_score"] is None:
            continue  # nothing of this type in the period
        rows.append({"type": name, "calls_due": int(f["calls_due"] or 0), "calls_made": int(f["calls_made"] or 0),
                     "calls_on_time": int(f["calls_on_time"] or 0), "call_coverage": f["call_coverage"],
                     "mean_call_score": f["mean_call_score"], "high_score_share": f["high_score_share"],
                     "low_scores": len(low_score_calls(members, start, end, now))})
    return rows


def low_score_calls(calls: list[KpiCall], start: datetime, end: datetime, now: datetime) -> list[KpiCall]:
    """The period's scored calls (:func:`_scored`) at ≤ 6, sent to the supervisor, lowest first."""
    low = [c for c in _scored(calls, start.date(), end.date(), now.date()) if c.score is not None and c.score <= LOW_SCORE]
    return sorted(low, key=lambda c: (c.score or 0, c.called_at or datetime.min))

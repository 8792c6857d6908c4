"""The manager's numbers (PRODUCT.md §4): volumes, SLA attainment, times, satisfaction, trends.

Pure functions over :class:`KpiTicket` — one flat record per ticket, built from a refresh result —
so a KPI can be checked by hand against a known register and several branches merge by
concatenation. Definitions:

* 受理量: received in the period (a 复合型 ticket counts once, under its lead category, in every
  breakdown); 复合型问题数: those of them with several categories; 结案量: closed in the period, whatever month they arrived;
  月末未结: received by the period's end and not closed by then.
* attainment of a stage: tickets received in the period whose stage was done by its due time, over
  those whose stage was done or is past due at ``now`` (undue open stages are not yet judged). It is
  the first round's: a reopening (二次处理) does not change whether the first round met its deadlines.
* 二次处理数: later rounds (reopenings) that started in the period; 二次处理达标率: those whose
  问题关闭 was done by the round's own due time, over those judged (as above).
* mean/median times: business hours from received to the first response / to the (latest) close,
  for tickets received in the period that reached that point.
* 满意率: (满意 + 基本满意) / rated, over the tickets rated in the period (评价时间; a rating without
  a time counts in the month its ticket closed). A ticket's latest rating counts.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypedDict

from sheetdesk.rules.followup_kpis import KpiCall, TypeRow
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.settings import DEFAULT_TIMEZONE

#: (key, zh, en) in the order of the KPIs sheet
METRICS = (
    ("received", "受理量", "Received"),
    ("compound", "复合型问题数", "Compound problems"),
    ("closed", "结案量", "Closed"),
    ("open_at_end", "月末未结", "Open at month end"),
    ("response_attainment", "首次响应达标率", "First-response attainment"),
    ("resolution_attainment", "解决达标率", "Resolution attainment"),
    ("later_rounds", "二次处理数", "Second rounds"),
    ("later_round_attainment", "二次处理达标率", "Second-round attainment"),
    ("mean_response_h", "平均首次响应时长(小时)", "Mean first response (h)"),
    ("median_response_h", "首次响应时长中位数(小时)", "Median first response (h)"),
    ("mean_resolution_h", "平均解决时长(小时)", "Mean resolution (h)"),
    ("median_resolution_h", "解决时长中位数(小时)", "Median resolution (h)"),
    ("rated", "评价数", "Ratings"),
    ("satisfaction_rate", "满意率", "Satisfaction rate"),
)


@dataclass(frozen=True, slots=True)
class LaterRound:
    """A round after a reopening (二次处理): when it started and its 问题关闭 due / done."""
    number: int
    start: datetime
    due: datetime | None = None
    done: datetime | None = None


@dataclass(frozen=True, slots=True)
class KpiTicket:
    id: str
    received: datetime
    category: str = ""
    priority: str = ""
    rank: int = 99
    department: str = ""
    owner: str = ""
    response_due: datetime | None = None
    response_done: datetime | None = None
    closed_due: datetime | None = None
    closed_at: datetime | None = None
    rating: str | None = None          # satisfied | fair | unsatisfied
    rated_at: datetime | None = None
    overdue_reason: str = ""
    branch: str = ""
    #: the rounds after reopenings; with any, ``closed_due`` and ``first_closed_at`` are the first round's
    later_rounds: tuple[LaterRound, ...] = ()
    first_closed_at: datetime | None = None
    #: the matrix subcategory the ticket falls in ('' when none can be told; see routing.subcategory_of)
    subcategory: str = ""
    #: 复合型: several categories were typed; ``category`` is the lead (first) one, where it counts
    compound: bool = False

    @property
    def resolution_done(self) -> datetime | None:
        """When the first round's 问题关闭 was done (a ticket never reopened: its close)."""
        return self.first_closed_at if self.later_rounds else self.closed_at


#: the KPIs by key (``METRICS``): counts, rates and hours, None where there is nothing to measure
Kpis = dict[str, float | int | None]


class GroupRow(TypedDict):
    """One row of a breakdown (by category, priority, department, owner or branch)."""
    name: str
    received: int
    share: float
    closed: int
    response_attainment: float | None
    resolution_attainment: float | None
    late: int
    rank: int


class TrendRow(TypedDict):
    """One month of the trend, with its month-on-month and year-on-year change of ``received``."""
    month: str
    received: int
    closed: int
    response_attainment: float | None
    resolution_attainment: float | None
    satisfaction_rate: float | None
    received_mom: float | None
    received_yoy: float | None
    #: changes of the rates, in percentage points (5.0 = up 5 pp), None without both months' rate
    satisfaction_rate_mom: float | None
    satisfaction_rate_yoy: float | None
    response_attainment_mom: float | None
    response_attainment_yoy: float | None
    resolution_attainment_mom: float | None
    resolution_attainment_yoy: float | None


@dataclass(frozen=True)
class Period:
    start: datetime   # inclusive
    end: datetime     # exclusive
    label: str
    #: month | week | quarter | year: names the summary (月度/周/季度/年度) and its 期末 figures
    kind: str = "month"

    def has(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def month(year: int, month_no: int) -> Period:
    start = datetime(year, month_no, 1)
    end = datetime(year + (month_no == 12), month_no % 12 + 1, 1)
    return Period(start, end, f"{year}-{month_no:02d}")


def iso_week(year: int, week: int) -> Period:
    start = datetime.combine(date.fromisocalendar(year, week, 1), datetime.min.time())
    return Period(start, start + timedelta(days=7), f"{year}-W{week:02d}", "week")


def quarter(year: int, number: int) -> Period:
    if not 1 <= number <= 4:
        raise ValueError(number)
    first = month(year, 3 * number - 2)
    return Period(first.start, shift_month(first, 3).start, f"{year}-Q{number}", "quarter")


def year_period(year: int) -> Period:
    return Period(datetime(year, 1, 1), datetime(year + 1, 1, 1), f"{year}", "year")


def last_month(period: Period) -> Period:
    """The month a period ends in: the 12-month trend of a quarter or a year ends there."""
    return shift_month(month(period.end.year, period.end.month), -1) if period.kind != "week" else \
        month(period.start.year, period.start.month)


#: kind -> (zh, en) of the summary's name: 月度汇总, 季度汇总 …
PERIOD_NAMES = {"month": ("月度", "monthly"), "week": ("周", "weekly"), "quarter": ("季度", "quarterly"),
                "year": ("年度", "annual")}


def period_name(period: Period, lang: str) -> str:
    zh, en = PERIOD_NAMES[period.kind]
    return zh if lang == "zh" else en


def shift_month(period: Period, months: int) -> Period:
    index = period.start.year * 12 + period.start.month - 1 + months
    return month(index // 12, index % 12 + 1)


def _attained(due: datetime | None, done: datetime | None, now: datetime) -> bool | None:
    """True/False once the stage can be judged, None while it is open and not yet due (or untimed)."""
    if due is None:
        return None
    if done is not None:
        return done <= due
    return False if now > due else None


def _rate(flags: list[bool | None]) -> float | None:
    judged = [f for f in flags if f is not None]
    return sum(judged) / len(judged) if judged else None


def _hours(cal: WorkCalendar, values: list[tuple[datetime, datetime]]) -> list[float]:
    return [cal.business_seconds_between(a, b) / 3600 for a, b in values if b >= a]


def is_late(t: KpiTicket, now: datetime) -> bool:
    """The first round missed its first response or its resolution deadline."""
    return (_attained(t.response_due, t.response_done, now) is False
            or _attained(t.closed_due, t.resolution_done, now) is False)


def _rating_moment(t: KpiTicket) -> datetime | None:
    return t.rated_at or t.closed_at


def kpis(tickets: list[KpiTicket], period: Period, now: datetime, cal: WorkCalendar) -> Kpis:
    arrived = [t for t in tickets if period.has(t.received)]
    response = _hours(cal, [(t.received, t.response_done) for t in arrived if t.response_done])
    resolution = _hours(cal, [(t.received, t.closed_at) for t in arrived if t.closed_at])
    rated = [t for t in tickets if t.rating and period.has(_rating_moment(t))]
    good = sum(t.rating in ("satisfied", "fair") for t in rated)
    later = [r for t in tickets for r in t.later_rounds if period.has(r.start)]
    return {
        "received": len(arrived),
        "compound": sum(t.compound for t in arrived),
        "closed": sum(period.has(t.closed_at) for t in tickets),
        "open_at_end": sum(t.received < period.end and not (t.closed_at and t.closed_at < period.end) for t in tickets),
        "response_attainment": _rate([_attained(t.response_due, t.response_done, now) for t in arrived]),
        "resolution_attainment": _rate([_attained(t.closed_due, t.resolution_done, now) for t in arrived]),
        "later_rounds": len(later),
        "later_round_attainment": _rate([_attained(r.due, r.done, now) for r in later]),
        "mean_response_h": round(statistics.fmean(response), 2) if response else None,
        "median_response_h": round(statistics.median(response), 2) if response else None,
        "mean_resolution_h": round(statistics.fmean(resolution), 2) if resolution else None,
        "median_resolution_h": round(statistics.median(resolution), 2) if resolution else None,
        "rated": len(rated),
        "satisfaction_rate": good / len(rated) if rated else None,
    }


def group_table(tickets: list[KpiTicket], period: Period, now: datetime, field: str) -> list[GroupRow]:
    """Rows per value of ``field`` (category, priority, department, owner, branch), busiest first."""
    arrived = [t for t in tickets if period.has(t.received)]
    groups: dict[str, list[KpiTicket]] = {}
    for t in arrived:
        groups.setdefault(getattr(t, field) or "", []).append(t)
    total = len(arrived)
    rows: list[GroupRow] = []
    for name, members in groups.items():
        rows.append({
            "name": name, "received": len(members), "share": len(members) / total if total else 0.0,
            "closed": sum(1 for t in members if t.closed_at and t.closed_at < period.end),
            "response_attainment": _rate([_attained(t.response_due, t.response_done, now) for t in members]),
            "resolution_attainment": _rate([_attained(t.closed_due, t.resolution_done, now) for t in members]),
            "late": sum(1 for t in members if is_late(t, now)),
            "rank": min(t.rank for t in members),
        })
    if field == "priority":
        rows.sort(key=lambda r: (r["rank"], r["name"]))
    else:
        rows.sort(key=lambda r: (-r["received"], r["name"]))
    return rows


def unhappy_top(tickets: list[KpiTicket], period: Period, field: str = "category", n: int = 3
                ) -> list[tuple[str, int, float]]:
    """Seed 002's 高频不满意问题TOP3: the ``n`` most frequent values of ``field`` (category or
    subcategory) among the 不满意 ratings of the period, with their count and share of the 不满意
    ratings (ties in name order). A subcategory is named with its category (物流类/发货延迟)."""
    unhappy = [t for t in tickets if t.rating == "unsatisfied" and period.has(_rating_moment(t))]
    if field == "subcategory":
        counts = Counter(f"{t.category}/{t.subcategory}" if t.subcategory else t.category for t in unhappy)
    else:
        counts = Counter(getattr(t, field) or "" for t in unhappy)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [(name, count, count / len(unhappy)) for name, count in ranked]


def satisfaction_distribution(tickets: list[KpiTicket], period: Period) -> dict[str, int]:
    counts = Counter(t.rating for t in tickets if t.rating and period.has(_rating_moment(t)))
    return {key: counts.get(key, 0) for key in ("satisfied", "fair", "unsatisfied")}


def overdue_reasons(tickets: list[KpiTicket], period: Period, now: datetime) -> list[tuple[str, int]]:
    """超时原因 typed for late tickets received in the period; late ones without a reason are counted too."""
    counts: Counter[str] = Counter()
    for t in tickets:
        if not period.has(t.received):
            continue
        if t.overdue_reason:
            counts[t.overdue_reason] += 1
        elif is_late(t, now):
            counts[""] += 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _change(current: float | int | None, before: float | int | None) -> float | None:
    if current is None or before is None or before == 0:
        return None
    return (current - before) / before


def _points(current: float | None, before: float | None) -> float | None:
    """A rate's change in percentage points."""
    if current is None or before is None:
        return None
    return round((current - before) * 100, 1)


def trend(tickets: list[KpiTicket], period: Period, now: datetime, months: int = 12) -> list[TrendRow]:
    """The last ``months`` months up to ``period``, each with month-on-month and year-on-year change.

    A whole-register statistic (two years of an archive desk: tens of thousands of tickets), so it is
    computed in one pass with pandas, grouped by month, instead of scanning the register three times
    per month; the definitions are :func:`kpis`'s (no durations here, so no calendar)."""
    import pandas as pd

    def moments(values: Iterable[datetime | None]) -> pd.Series:  # microseconds: any year a register may hold, None as NaT
        return pd.Series(values, dtype="datetime64[us]")

    def month_index(series: pd.Series) -> pd.Series:
        return series.dt.year * 12 + series.dt.month - 1

    frame = pd.DataFrame({
        "received": moments([t.received for t in tickets]),
        "closed_at": moments([t.closed_at for t in tickets]),
        "response_due": moments([t.response_due for t in tickets]),
        "response_done": moments([t.response_done for t in tickets]),
        "closed_due": moments([t.closed_due for t in tickets]),
        "resolution_done": moments([t.resolution_done for t in tickets]),
        "rated_at": moments([_rating_moment(t) if t.rating else None for t in tickets]),
        "good": [t.rating in ("satisfied", "fair") for t in tickets],
    })
    at = pd.Timestamp(now)
    for stage, due, done in (("response", "response_due", "response_done"), ("resolution", "closed_due", "resolution_done")):
        judged = frame[due].notna() & (frame[done].notna() | (at > frame[due]))
        frame[stage] = (frame[done].notna() & (frame[done] <= frame[due])).astype(float).where(judged)  # NaN: not judged
    arrived = frame.groupby(month_index(frame["received"]))
    received = arrived.size()
    attainment = {stage: arrived[stage].mean() for stage in ("response", "resolution")}
    closed = frame.groupby(month_index(frame["closed_at"])).size()
    satisfaction = frame["good"].groupby(month_index(frame["rated_at"])).mean()

    def value(series: pd.Series, key: int) -> float | None:
        got = series.get(key)
        return None if got is None or pd.isna(got) else float(got)

    def count(series: pd.Series, key: int) -> int:  # 0 for a month without any
        got = series.get(key)
        return 0 if got is None or pd.isna(got) else int(got)

    rows: list[TrendRow] = []
    for back in range(months - 1, -1, -1):
        p = shift_month(period, -back)
        key = p.start.year * 12 + p.start.month - 1
        in_month = count(received, key)
        rates = {"satisfaction_rate": satisfaction, "response_attainment": attainment["response"],
                 "resolution_attainment": attainment["resolution"]}
        row: TrendRow = {
            "month": p.label, "received": in_month, "closed": count(closed, key),
            "response_attainment": value(attainment["response"], key),
            "resolution_attainment": value(attainment["resolution"], key),
            "satisfaction_rate": value(satisfaction, key),
            "received_mom": _change(in_month, count(received, key - 1)),
            "received_yoy": _change(in_month, count(received, key - 12)),
            "satisfaction_rate_mom": None, "satisfaction_rate_yoy": None,
            "response_attainment_mom": None, "response_attainment_yoy": None,
            "resolution_attainment_mom": None, "resolution_attainment_yoy": None,
        }
        for name, series in rates.items():
            now_rate = value(series, key)
            row[f"{name}_mom"] = _points(now_rate, value(series, key - 1))  # type: ignore[literal-required]
            row[f"{name}_yoy"] = _points(now_rate, value(series, key - 12))  # type: ignore[literal-required]
        rows.append(row)
    return rows


@dataclass
class SummaryData:
    period: Period
    weekly: bool
    now: datetime
    lang: str
    branches: list[str]
    kpis: Kpis
    by_branch: list[tuple[str, Kpis]] = field(default_factory=list)
    categories: list[GroupRow] = field(default_factory=list)
    priorities: list[GroupRow] = field(default_factory=list)
    departments: list[GroupRow] = field(default_factory=list)
    owners: list[GroupRow] = field(default_factory=list)
    satisfaction: dict[str, int] = field(default_factory=dict)
    reasons: list[tuple[str, int]] = field(default_factory=list)
    trend: list[TrendRow] = field(default_factory=list)
    late: list[KpiTicket] = field(default_factory=list)
    #: 不满意TOP3 by category and by subcategory: (name, count, share of the 不满意)
    unhappy_categories: list[tuple[str, int, float]] = field(default_factory=list)
    unhappy_subcategories: list[tuple[str, int, float]] = field(default_factory=list)
    #: the (first) desk's time zone: ``now`` is on its clock
    timezone: str = DEFAULT_TIMEZONE
    #: follow-up calls (rules/followup_kpis.py): the figures, per call type, the low scores
    followups: dict[str, float | int | None] = field(default_factory=dict)
    followup_types: list[TypeRow] = field(default_factory=list)
    low_calls: list[KpiCall] = field(default_factory=list)


#: a week, a quarter or a year does not end with "the month": its open tickets are counted "at period end"
WEEKLY_OPEN_AT_END = ("open_at_end", "期末未结", "Open at period end")


def metrics(period_end: bool) -> tuple[tuple[str, str, str], ...]:
    """(key, zh, en) of the KPIs in sheet order, named for the period the summary covers
    (``period_end``: any period but a month)."""
    if not period_end:
        return METRICS
    return tuple(WEEKLY_OPEN_AT_END if key == "open_at_end" else (key, zh, en) for key, zh, en in METRICS)


def metric_label(key: str, period_end: bool, lang: str) -> str:
    _, zh, en = next(m for m in metrics(period_end) if m[0] == key)
    return zh if lang == "zh" else en

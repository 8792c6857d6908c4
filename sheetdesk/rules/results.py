"""Results and satisfaction (处理结果): ratings read from words or scores, and the reopenings they cause.

PRODUCT.md §1.5: 满意/基本满意/不满意 or a score — 1–10 or 1–100, 90–100 满意, 70–89 基本满意,
below 70 不满意. A score of 10 or less is read on the 1–10 scale (so 9 and 10 are 满意), anything
above on the 1–100 scale; a rating of 不满意 given after the ticket closed reopens it at its 评价时间.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sheetdesk.rules import dates
from sheetdesk.rules.problems import ERROR, WARNING, Problem, ambiguous_id
from sheetdesk.rules.records import Table
from sheetdesk.schema import SATISFACTION, normalise_header

SATISFIED, FAIR, UNSATISFIED = "satisfied", "fair", "unsatisfied"
_WORDS = {normalise_header(w): key for key, zh, en in SATISFACTION for w in (key, zh, en)}
_WORDS.update({normalise_header(w): key for w, key in (
    ("非常满意", SATISFIED), ("很满意", SATISFIED), ("一般", FAIR), ("还行", FAIR), ("比较满意", FAIR),
    ("非常不满意", UNSATISFIED), ("很不满意", UNSATISFIED), ("差", UNSATISFIED), ("dissatisfied", UNSATISFIED),
    ("ok", FAIR), ("good", SATISFIED))})


def rating_of(value: object) -> tuple[str | None, float | None, bool]:
    """Cell → (rating key, score on 0–100 or None, readable). Blank is (None, None, True)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None, True
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip().rstrip("分").strip()
        key = _WORDS.get(normalise_header(text))
        if key is not None:
            return key, None, True
        try:
            number = float(text)
        except ValueError:
            return None, None, False
    if not 1 <= number <= 100:
        return None, None, False
    score = number * 10 if number <= 10 else number
    key = SATISFIED if score >= 90 else FAIR if score >= 70 else UNSATISFIED
    return key, score, True


def rating_name(key: str | None, lang: str) -> str:
    for k, zh, en in SATISFACTION:
        if k == key:
            return zh if lang == "zh" else en
    return ""


@dataclass(frozen=True, slots=True)
class Result:
    row: int
    ticket_id: str
    rating: str | None
    score: float | None
    rated_at: datetime | None
    reviewer: str
    reviewed_on: date | None
    overdue_reason: str
    values: Mapping[str, object]


def _p(row: int, column: str, zh: str, en: str, level: str = ERROR, value: object = None) -> Problem:
    return Problem("results", row, column, zh, en, level, value)


def read_results(table: Table | None, received: dict[str, datetime | None], now: datetime,
                 date1904: bool = False, conflicts: dict[str, list[int]] | None = None
                 ) -> tuple[list[Result], list[Problem]]:
    """The usable results rows, and a problem for each that is wrong. ``conflicts``: IDs several
    register rows hold (ID -> rows); their results rows go to no ticket."""
    conflicts = conflicts or {}
    results: list[Result] = []
    problems: list[Problem] = []
    if table is None:
        return results, problems
    for row in table.rows:
        ticket_id = row.text("id")
        if not ticket_id:
            problems.append(_p(row.row, "id", "必填项为空，应为登记表中的反馈编号", "required; expected an ID from the register"))
            continue
        if ticket_id in conflicts:
            problems.append(ambiguous_id("results", row.row, ticket_id, conflicts[ticket_id]))
            continue
        if ticket_id not in received:
            problems.append(_p(row.row, "id", f"登记表中没有编号“{ticket_id}”", f"no ticket '{ticket_id}' in the register",
                               value=ticket_id))
            continue
        rating, score, readable = rating_of(row.get("satisfaction"))
        if not readable:
            problems.append(_p(row.row, "satisfaction",
                               f"无法识别满意度“{row.text('satisfaction')}”，应为 满意、基本满意、不满意 或 1–10 / 1–100 的分数",
                               f"cannot read satisfaction '{row.text('satisfaction')}'; expected Satisfied, Fairly "
                               f"satisfied, Unsatisfied or a score 1–10 / 1–100", value=row.get("satisfaction")))
        rated_at, ok = dates.to_datetime(row.get("rated_at"), date1904)
        if not ok:
            problems.append(_p(row.row, "rated_at", f"无法识别的时间“{row.text('rated_at')}”，应为日期时间，如 2026-11-17 09:30",
                               f"cannot read '{row.text('rated_at')}' as a time; expected e.g. 2026-11-17 09:30",
                               value=row.get("rated_at")))
        elif rated_at is not None:
            start = received.get(ticket_id)
            if rated_at > now:
                problems.append(_p(row.row, "rated_at", f"评价时间 {dates.fmt(rated_at)} 晚于当前时间 {dates.fmt(now)}",
                                   f"rated at {dates.fmt(rated_at)} is in the future (now {dates.fmt(now)})"))
                rated_at = None
            elif start is not None and rated_at < start:
                problems.append(_p(row.row, "rated_at", f"评价时间 {dates.fmt(rated_at)} 早于该反馈的反馈时间 {dates.fmt(start)}",
                                   f"rated at {dates.fmt(rated_at)} is before the ticket was received ({dates.fmt(start)})"))
                rated_at = None
        if rating == UNSATISFIED and rated_at is None and ok:
            problems.append(_p(row.row, "rated_at", "不满意的评价需填写评价时间，才能从该时间重新打开处理",
                               "an Unsatisfied rating needs its Rated at time to reopen the ticket from then", WARNING))
        reviewed_on, ok_review = dates.to_date(row.get("reviewed_on"), date1904)
        if not ok_review:
            problems.append(_p(row.row, "reviewed_on", f"无法识别的日期“{row.text('reviewed_on')}”，应为日期，如 2026-11-17",
                               f"cannot read '{row.text('reviewed_on')}' as a date; expected e.g. 2026-11-17",
                               value=row.get("reviewed_on")))
        results.append(Result(row.row, ticket_id, rating, score, rated_at, row.text("reviewer"), reviewed_on,
                              row.text("overdue_reason"), row.values))
    return results, problems


def reopenings(results: list[Result]) -> list[tuple[str, datetime]]:
    """(ticket ID, time) of every 不满意 rating; the roll-up applies those that follow a close."""
    return sorted((r.ticket_id, r.rated_at) for r in results if r.rating == UNSATISFIED and r.rated_at is not None)


def latest_by_ticket(results: list[Result]) -> dict[str, Result]:
    """The rating that counts for KPIs: the latest rated row of each ticket (else its last row)."""
    out: dict[str, Result] = {}
    for r in sorted(results, key=lambda r: (r.rated_at or datetime.min, r.row)):
        out[r.ticket_id] = r
    return out

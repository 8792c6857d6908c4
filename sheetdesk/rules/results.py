"""Results and satisfaction (处理结果): ratings read from words or scores, and the reopenings they cause.

PRODUCT.md §1.5: 满意/基本满意/不满意 or a score — 1–10 or 1–100, 90–100 满意, 70–89 基本满意,
below 70 不满意. Without a stated scale a score of 10 or less is read on the 1–10 scale (so 9 and 10
are 满意), anything above on the 1–100 scale; a team that scores 1–100 says so (评分制 100 in 选项,
or ``[results] scale = 100``), and then a 10 is 不满意. A rating of 不满意 given after the ticket
closed reopens it at its 评价时间.
"""

from __future__ import annotations

import re
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


SCALES = (10, 100)
_SCALE_WORDS = {"十分制": 10, "百分制": 100}
_SCALE_NUMBER = re.compile(r"^(?:1\s*[-–—~～至到]\s*)?(10|100)\s*(?:分制|分|point|points|-point)?$", re.IGNORECASE)


def scale_of(text: str) -> int | None:
    """A 评分制 entry (10, 100, 百分制, 1–100, 100分制, 100-point) → 10 or 100; None: not a scale."""
    text = str(text).strip()
    if text in _SCALE_WORDS:
        return _SCALE_WORDS[text]
    if text.endswith(".0"):
        text = text[:-2]
    m = _SCALE_NUMBER.match(text)
    return int(m.group(1)) if m else None


def read_scale(entries: list[tuple[int, str]], configured: int | None) -> tuple[int | None, list[Problem]]:
    """The rating scale from 选项's 评分制 entries ((row, text), the first one counts) and
    ``[results] scale``. The sheet wins where both are given: it is the managers' policy and travels
    with the workbook; a disagreement is a warning. None: no scale stated (scores read either way)."""
    problems: list[Problem] = []
    for row, text in entries:
        scale = scale_of(text)
        if scale is None:
            problems.append(Problem("lists", row, "scale", f"无法识别评分制“{text}”，应为 10 或 100（百分制）",
                                    f"cannot read rating scale '{text}'; expected 10 or 100", ERROR, text))
            continue
        if configured is not None and configured != scale:
            problems.append(Problem("lists", row, "scale",
                                    f"评分制 {scale} 与 sheetdesk.toml 的 [results] scale = {configured} 不一致，按选项表的 {scale} 计",
                                    f"rating scale {scale} differs from [results] scale = {configured} in sheetdesk.toml; "
                                    f"the Lists sheet's {scale} counts", WARNING, text))
        return scale, problems
    return configured, problems


def rating_of(value: object, scale: int | None = None) -> tuple[str | None, float | None, bool]:
    """Cell → (rating key, score on 0–100 or None, readable). Blank is (None, None, True). ``scale``
    10 or 100 reads every number on that scale; None reads 10 or less on the 1–10 scale."""
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
    if not 1 <= number <= (scale or 100):
        return None, None, False
    score = number * 10 if (scale == 10 or (scale is None and number <= 10)) else number
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
    #: the manager's second review (复核) a major problem needs before its report
    second_reviewer: str = ""
    second_reviewed_on: date | None = None


def _p(row: int, column: str, zh: str, en: str, level: str = ERROR, value: object = None) -> Problem:
    return Problem("results", row, column, zh, en, level, value)


def read_results(table: Table | None, received: dict[str, datetime | None], now: datetime,
                 date1904: bool = False, conflicts: dict[str, list[int]] | None = None, scale: int | None = None
                 ) -> tuple[list[Result], list[Problem]]:
    """The usable results rows, and a problem for each that is wrong. ``conflicts``: IDs several
    register rows hold (ID -> rows); their results rows go to no ticket. ``scale``: the rating scale
    (:func:`read_scale`)."""
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
        rating, score, readable = rating_of(row.get("satisfaction"), scale)
        if not readable:
            scores = f"1–{scale}" if scale else "1–10 / 1–100"
            problems.append(_p(row.row, "satisfaction",
                               f"无法识别满意度“{row.text('satisfaction')}”，应为 满意、基本满意、不满意 或 {scores} 的分数",
                               f"cannot read satisfaction '{row.text('satisfaction')}'; expected Satisfied, Fairly "
                               f"satisfied, Unsatisfied or a score {scores}", value=row.get("satisfaction")))
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
        second_on, ok_second = dates.to_date(row.get("second_reviewed_on"), date1904)
        if not ok_second:
            problems.append(_p(row.row, "second_reviewed_on",
                               f"无法识别的日期“{row.text('second_reviewed_on')}”，应为日期，如 2026-11-17",
                               f"cannot read '{row.text('second_reviewed_on')}' as a date; expected e.g. 2026-11-17",
                               value=row.get("second_reviewed_on")))
        elif second_on is not None and reviewed_on is not None and second_on < reviewed_on:
            problems.append(_p(row.row, "second_reviewed_on",
                               f"复核日期 {second_on} 早于审核日期 {reviewed_on}，复核应在审核之后",
                               f"second review {second_on} is before the review {reviewed_on}; it should follow it",
                               WARNING, row.get("second_reviewed_on")))
        results.append(Result(row.row, ticket_id, rating, score, rated_at, row.text("reviewer"), reviewed_on,
                              row.text("overdue_reason"), row.values, row.text("second_reviewer"), second_on))
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

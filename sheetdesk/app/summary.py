"""``sheetdesk summary``: read one or more desks (branches), compute the KPIs, write the manager's xlsx.

Each desk is read through the same read-only path as ``validate`` so the numbers use exactly the
deadlines a refresh would write; nothing is written to the desks themselves.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from sheetdesk.app.desk import RunResult, run
from sheetdesk.errors import InputError
from sheetdesk.rules import followup_kpis, kpis
from sheetdesk.rules.callrules import overall_target
from sheetdesk.rules.kpis import SummaryData
from sheetdesk.rules.results import latest_by_ticket
from sheetdesk.rules.routing import subcategory_of
from sheetdesk.rules.schedule import previous_month, previous_week
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.settings import load_settings

#: the word ``--month`` / ``--week`` take for the period before today's (on the desk's clock)
PREVIOUS = "previous"


def parse_month(text: str, today: date | None = None) -> kpis.Period:
    """``YYYY-MM``, or ``previous``: the month before ``today``'s."""
    if text.strip().lower() == PREVIOUS and today is not None:
        return kpis.month(*previous_month(today))
    try:
        year, month_no = (int(x) for x in text.strip().split("-"))
        return kpis.month(year, month_no)
    except ValueError:
        raise InputError(f"--month 的值“{text}”应为 YYYY-MM（如 2026-11）或 previous（上月）",
                         f"--month '{text}' should be YYYY-MM (e.g. 2026-11) or previous") from None


def parse_week(text: str, today: date | None = None) -> kpis.Period:
    """``YYYY-Www``, or ``previous``: the ISO week before ``today``'s."""
    if text.strip().lower() == PREVIOUS and today is not None:
        return kpis.iso_week(*previous_week(today))
    try:
        year, week = text.strip().upper().split("-W")
        return kpis.iso_week(int(year), int(week))
    except ValueError:
        raise InputError(f"--week 的值“{text}”应为 YYYY-Www（如 2026-W47）或 previous（上周）",
                         f"--week '{text}' should be YYYY-Www (e.g. 2026-W47) or previous") from None


def parse_quarter(text: str) -> kpis.Period:
    m = re.fullmatch(r"(\d{4})\s*-?\s*Q([1-4])", text.strip(), re.IGNORECASE)
    if m is None:
        raise InputError(f"--quarter 的值“{text}”应为 YYYY-Qn（n 为 1–4），如 2026-Q4",
                         f"--quarter '{text}' should be YYYY-Qn (n from 1 to 4), e.g. 2026-Q4")
    return kpis.quarter(int(m.group(1)), int(m.group(2)))


def parse_year(text: str) -> kpis.Period:
    try:
        value = int(text.strip())
        if not 1900 <= value <= 9998:
            raise ValueError(value)
        return kpis.year_period(value)
    except ValueError:
        raise InputError(f"--year 的值“{text}”应为四位年份，如 2026", f"--year '{text}' should be a year, e.g. 2026") from None


def choose_period(month: str | None = None, week: str | None = None, quarter: str | None = None,
                  year: str | None = None, today: date | None = None) -> kpis.Period:
    """The one period the command line names (``Period.kind`` says which sort); ``today`` (the desk's
    clock) for ``--month previous`` / ``--week previous``."""
    one_period(month, week, quarter, year)
    given = [(text, parse) for text, parse in ((month, lambda x: parse_month(x, today)),
                                               (week, lambda x: parse_week(x, today)), (quarter, parse_quarter),
                                               (year, parse_year)) if text]
    text, parse = given[0]
    return parse(text)


def one_period(*texts: str | None) -> None:
    """Exactly one of --month, --week, --quarter, --year (checked before any desk is read)."""
    if sum(bool(t) for t in texts) != 1:
        raise InputError("请指定 --month YYYY-MM、--week YYYY-Www、--quarter YYYY-Qn 或 --year YYYY 之一",
                         "give exactly one of --month YYYY-MM, --week YYYY-Www, --quarter YYYY-Qn or --year YYYY")


def tickets_from_run(result: RunResult, branch: str) -> list[kpis.KpiTicket]:
    """One flat record per numbered ticket of a refresh result: per register row, so two rows that
    share an ID count as two tickets (neither has a rating: results rows of such an ID count for none)."""
    ratings = {}
    if result.results is not None:
        ratings = latest_by_ticket(result.results)
    out = []
    for s in result.statuses:
        t = s.ticket
        if not t.id or t.received is None:
            continue
        r = ratings.get(t.id)
        sub = ""
        if r is not None and r.rating == "unsatisfied" and result.matrix is not None:
            sub = subcategory_of(result.matrix, t.category, str(t.values.get("description") or ""))
        # attainment is the first round's; each later round (二次处理) is judged on its own
        response, closed = s.first_states["first_response"], s.first_states["closed"]
        later = tuple(kpis.LaterRound(x.number, x.start, x.states["closed"].due, x.states["closed"].done)
                      for x in s.later_rounds)
        out.append(kpis.KpiTicket(
            t.id, t.received, t.lead_category, s.effective, s.rank, t.department, t.owner,
            response.due, response.done, closed.due, s.rollup.closed_at if s.closed else None,
            r.rating if r else None, r.rated_at if r else None, r.overdue_reason if r else "", branch,
            later, closed.done if later else None, sub, t.compound))
    return out


def calls_from_run(result: RunResult, branch: str) -> list[followup_kpis.KpiCall]:
    """One flat record per row of the desk's 回访计划, as a refresh would write it."""
    return [followup_kpis.KpiCall(c.ticket_id, c.type, c.due, c.latest, c.called, c.score, c.planned, c.customer,
                                  str(c.staff.get("caller") or ""), str(c.staff.get("notes") or ""), branch)
            for c in result.calls]


def build(books: list[Path], period: kpis.Period, *, weekly: bool, now: datetime, lang: str,
          on_book=lambda: None) -> SummaryData:
    tickets: list[kpis.KpiTicket] = []
    names: list[str] = []
    cal: WorkCalendar | None = None
    per_branch: list[tuple[str, list[kpis.KpiTicket]]] = []
    calls: list[followup_kpis.KpiCall] = []
    target: float | None = None
    for book in books:
        result = run(book, now=now, write=False)
        cal = cal or result.calendar
        name = _branch_name(book, names)
        names.append(name)
        mine = tickets_from_run(result, name)
        per_branch.append((name, mine))
        tickets += mine
        calls += calls_from_run(result, name)
        target = target if target is not None else overall_target(result.call_rules)
        on_book()
    assert cal is not None
    data = SummaryData(period, weekly, now, lang, names, kpis.kpis(tickets, period, now, cal),
                       timezone=load_settings(books[0]).timezone)
    if len(books) > 1:
        data.by_branch = [(name, kpis.kpis(mine, period, now, cal)) for name, mine in per_branch]
    data.categories = kpis.group_table(tickets, period, now, "category")
    data.priorities = kpis.group_table(tickets, period, now, "priority")
    data.departments = kpis.group_table(tickets, period, now, "department")
    data.owners = kpis.group_table(tickets, period, now, "owner")
    data.satisfaction = kpis.satisfaction_distribution(tickets, period)
    data.reasons = kpis.overdue_reasons(tickets, period, now)
    data.unhappy_categories = kpis.unhappy_top(tickets, period, "category")
    data.unhappy_subcategories = kpis.unhappy_top(tickets, period, "subcategory")
    if not weekly:
        data.trend = kpis.trend(tickets, kpis.last_month(period), now)
    data.followups = followup_kpis.followup_kpis(calls, period.start, period.end, now, target)
    data.followup_types = followup_kpis.by_type(calls, period.start, period.end, now)
    data.low_calls = followup_kpis.low_score_calls(calls, period.start, period.end, now)
    data.late = sorted((t for t in tickets if period.has(t.received) and (
        (t.response_due and (t.response_done or now) > t.response_due)
        or (t.closed_due and (t.resolution_done or now) > t.closed_due))), key=lambda t: (t.rank, t.received))
    return data


def _branch_name(book: Path, taken: list[str]) -> str:
    """The folder name when every desk is called desk.xlsx, else the file stem; made unique."""
    base = book.stem if book.stem != "desk" else (book.resolve().parent.name or book.stem)
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def default_output(first_book: Path, period: kpis.Period) -> Path:
    return first_book.resolve().parent / "summaries" / f"{period.label}.xlsx"

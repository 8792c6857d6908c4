"""回访计划 / Follow-ups: the calls owed to customers, merged with what staff typed about them.

sheetdesk owns the plan (which calls, when) and the staff own the call columns. Each row is keyed by
(反馈编号, 回访类型): a regenerated plan carries every typed value over to its row, never adds a
second row for a key, and keeps rows that left the plan (a reopened ticket) while anything is typed
in them. Which calls and their windows come from the 回访规则 sheet (``rules/callrules.py``): a call
is due from 应回访日期 and late only after 最晚回访, counted in working days.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sheetdesk.rules import dates
from sheetdesk.rules.callrules import CLOSE, CallRule, hours_label, outside_hours, working_days_after
from sheetdesk.rules.callrules import window as call_window
from sheetdesk.rules.problems import ERROR, WARNING, Problem, row_list
from sheetdesk.rules.records import Table
from sheetdesk.rules.workdays import BusinessHours, WorkCalendar
from sheetdesk.schema import FOLLOWUPS, normalise_header

STAFF_COLUMNS = ("caller", "called_at", "score", "notes")
LOW_SCORE = 6


def round_type(name: str, round_no: int, lang: str) -> str:
    """A call counted from the close, once per round: the second round's call is a call of its own."""
    if round_no <= 1:
        return name
    return f"{name}（第{round_no}轮）" if lang == "zh" else f"{name} (round {round_no})"


@dataclass(frozen=True, slots=True)
class Planned:
    ticket_id: str
    customer: str
    type: str
    due: date
    priority: int = 1  # 0 = call first (VIP or unhappy customer)
    latest: date | None = None
    hours: BusinessHours | None = None


@dataclass(frozen=True, slots=True)
class Owed:
    """What the plan needs of a ticket: when it arrived, was bought and (last) closed."""
    ticket_id: str
    customer: str
    received: date
    bought: date | None
    closed: date | None
    round_no: int = 1
    priority: int = 1
    #: the customer's contacts in comparable form (contacts.contact_keys): one purchase, one call
    contacts: tuple[str, ...] = ()


@dataclass(slots=True)
class Call:
    """One row of the follow-ups sheet as written."""
    ticket_id: str
    customer: str
    type: str
    due: date | None
    staff: dict[str, object] = field(default_factory=dict)
    planned: bool = True
    priority: int = 1
    #: (zh, en, level, column key or None) of each note in the row's 校验
    check: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    late: bool = False
    low_score: bool = False
    #: what staff typed cannot be read (the cell is marked, like a bad cell of the register)
    bad_called_at: bool = False
    bad_score: bool = False
    latest: date | None = None
    hours: BusinessHours | None = None
    #: the call time and score as read (None: not typed or not readable)
    called: datetime | None = None
    score: float | None = None

    @property
    def done(self) -> bool:
        return self.staff.get("called_at") not in (None, "")

    def key(self) -> tuple[str, str]:
        return self.ticket_id, normalise_header(self.type)


#: the hidden sheet's memory of the day the desk first planned by its 回访规则 sheet
SINCE_KEY = "followups:since"


def planned_since(remembered: str | None, now: datetime) -> date:
    """The remembered day, or today for a desk that plans by its rules for the first time."""
    try:
        return date.fromisoformat(remembered) if remembered else now.date()
    except ValueError:
        return now.date()


def plan_calls(tickets: list[Owed], rules: list[CallRule], cal: WorkCalendar, lang: str,
               since: date | None = None) -> list[Planned]:
    """The calls each ticket is owed. A call counted from the close is planned once the ticket is
    closed (one per round); one counted from 购买日期 falls back to the close without a purchase date,
    and is planned only if its window had not ended before the ticket arrived (an old purchase must
    not flood the sheet with overdue calls), and once per customer (by contact) and purchase date:
    a second ticket about the same purchase owes no second call. ``since``: the day the desk first
    planned by its rules; a periodic call whose window had ended before it is not planned (a desk's
    years of closed tickets are not thousands of calls due today)."""
    out: list[Planned] = []
    windows: dict[tuple[int, date], tuple[date, date]] = {}  # a register's tickets share few dates
    bought_calls: set[tuple[str, date, int]] = set()

    def window(rule: CallRule, anchor: date, cal: WorkCalendar) -> tuple[date, date]:
        key = (id(rule), anchor)
        found = windows.get(key)
        if found is None:
            found = windows[key] = call_window(rule, anchor, cal)
        return found

    for t in tickets:
        for rule in rules:
            if rule.basis == CLOSE:
                if t.closed is None:
                    continue
                due, latest = window(rule, t.closed, cal)
                out.append(Planned(t.ticket_id, t.customer, round_type(rule.name(lang), t.round_no, lang), due,
                                   t.priority, latest, rule.hours))
                continue
            anchor = t.bought or (t.closed if rule.close_fallback else None)
            if anchor is None:
                continue
            if t.bought is not None and t.contacts:  # the same customer's purchase on a second ticket
                key = (t.contacts[0], t.bought, id(rule))
                if key in bought_calls:
                    continue
                bought_calls.add(key)
            due, latest = window(rule, anchor, cal)
            if since is not None and latest < since:
                continue
            if t.bought is None or latest >= t.received:
                out.append(Planned(t.ticket_id, t.customer, rule.name(lang), due, t.priority, latest, rule.hours))
    return out


def _score(value: object) -> tuple[float | None, bool]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    try:
        score = float(str(value).strip().rstrip("分"))
    except ValueError:
        return None, False
    return (score, True) if 1 <= score <= 10 else (None, False)


def merge_calls(planned: list[Planned], existing: Table | None, today: date, date1904: bool = False,
                conflicts: dict[str, list[int]] | None = None, cal: WorkCalendar | None = None) -> list[Call]:
    """The sheet's rows: planned calls with their typed values, plus kept off-plan rows; pending first.
    ``conflicts``: IDs several register rows hold (ID -> rows); a typed row of one is kept and says so.
    ``cal``: late calls are counted in its working days (calendar days without one)."""
    typed: dict[tuple[str, str], tuple[str, str, object, dict[str, object]]] = {}
    latest_typed: dict[tuple[str, str], object] = {}
    if existing is not None:
        for row in existing.rows:
            staff = {k: row.get(k) for k in STAFF_COLUMNS if existing.has(k) and row.get(k) not in (None, "")}
            key = (row.text("id"), normalise_header(row.text("type")))
            if key in typed:  # a row staff copied: keep both, the copy's values go to a separate row
                key = (key[0], key[1] + f"#{row.row}")
            typed[key] = (row.text("customer"), row.text("type"), row.get("due"), staff)
            if existing.has("latest") and row.get("latest") not in (None, ""):
                latest_typed[key] = row.get("latest")
    calls: list[Call] = []
    seen: set[tuple[str, str]] = set()
    for p in planned:
        key = (p.ticket_id, normalise_header(p.type))
        if key in seen:
            continue
        seen.add(key)
        staff = typed.get(key, ("", "", None, {}))[3]
        calls.append(Call(p.ticket_id, p.customer, p.type, p.due, dict(staff), True, p.priority,
                          latest=p.latest or p.due, hours=p.hours))
    for key, (customer, type_text, due_value, staff) in typed.items():
        if key in seen or not staff:
            continue  # an off-plan row nobody typed in is sheetdesk's to drop
        due, _ = dates.to_date(due_value, date1904)
        latest, _ = dates.to_date(latest_typed.get(key), date1904)
        call = Call(key[0], customer, type_text, due, dict(staff), planned=False, latest=latest or due)
        if conflicts and key[0] in conflicts:
            zh_rows, en_rows = row_list(conflicts[key[0]])
            call.check.append((f"编号“{key[0]}”在登记表中有多行（第{zh_rows}行），回访计划暂停，保留已填写的记录；"
                               f"请在登记表改正重复的编号",
                               f"ID '{key[0]}' is on several Register rows ({en_rows}): no call is "
                               f"planned for it and the typed record is kept; correct the duplicate ID in the Register",
                               WARNING, None))
        else:
            call.check.append(("该回访已不在计划中（工单已重新打开或已删除），保留已填写的记录",
                               "this call is no longer planned (ticket reopened or removed); the typed record is kept",
                               WARNING, None))
        calls.append(call)
    for call in calls:
        _check(call, today, date1904, cal)
    calls.sort(key=lambda c: (c.done or not c.planned, c.due or date.max, c.priority, c.ticket_id, c.type))
    return calls


def _check(call: Call, today: date, date1904: bool, cal: WorkCalendar | None) -> None:
    called, ok = dates.to_datetime(call.staff.get("called_at"), date1904)
    call.called = called
    if not ok:
        call.bad_called_at = True
        call.check.append((f"无法识别回访时间“{call.staff.get('called_at')}”，应为日期时间，如 2026-11-17 10:30",
                           f"cannot read Called at '{call.staff.get('called_at')}'; expected e.g. 2026-11-17 10:30", ERROR,
                           "called_at"))
    elif called is not None and outside_hours(called, call.hours):
        assert call.hours is not None
        zh_hours, en_hours = hours_label(call.hours, "zh"), hours_label(call.hours, "en")
        call.check.append((f"回访时间 {called:%H:%M} 不在回访时段（{zh_hours}）内",
                           f"called at {called:%H:%M}, outside the call hours ({en_hours})", WARNING, "called_at"))
    score, ok_score = _score(call.staff.get("score"))
    call.score = score
    if not ok_score:
        call.bad_score = True
        call.check.append((f"回访评分“{call.staff.get('score')}”应为 1–10 的分数",
                           f"score '{call.staff.get('score')}' should be a number from 1 to 10", ERROR, "score"))
    elif score is not None and score <= LOW_SCORE:
        call.low_score = True
        call.check.append((f"回访评分 {score:g} ≤ {LOW_SCORE}，请主管跟进", f"score {score:g} ≤ {LOW_SCORE}: supervisor to follow up",
                           WARNING, "score"))
    latest = call.latest or call.due
    if called is None and call.planned and latest is not None and latest < today:
        days = working_days_after(latest, today, cal) if cal is not None else (today - latest).days
        if days > 0:
            call.late = True
            call.check.append(_overdue_note(days, cal is not None))


def call_problems(calls: list[Call]) -> list[Problem]:
    """The plan's notes for the console and ``--json`` (a call outside the call hours, a low score, a
    value that cannot be read), at the row each call is written to. An overdue call is not one: the
    stand-up lists it among the calls due, as it lists late tickets apart from the problems."""
    out: list[Problem] = []
    for row, call in enumerate(calls, 2):
        notes = call.check[:-1] if call.late else call.check  # the overdue note is always the last
        out.extend(Problem("followups", row, column, zh, en, level) for zh, en, level, column in notes)
    return out


@functools.lru_cache(maxsize=4096)
def _overdue_note(days: int, working: bool = True) -> tuple[str, str, str, str | None]:
    """One note per number of days: an archive of unlogged calls repeats them tens of thousands of times."""
    if working:
        return (f"回访已逾期 {days} 个工作日", f"call overdue by {days} working day(s)", WARNING, "latest")
    return (f"回访已逾期 {days} 天", f"call overdue by {days} day(s)", WARNING, "latest")


def header(lang: str) -> list[str]:
    return [c.name(lang) for c in FOLLOWUPS.columns]


def sheet_rows(calls: list[Call], lang: str) -> Iterator[tuple[tuple[object, ...], tuple[str | None, ...]]]:
    """(values, fills) of each call's row of the plan, made as they are asked for."""
    texts: dict[str, str] = {}
    for c in calls:
        check = "；".join(("注意：" if lvl == WARNING else "") + zh for zh, en, lvl, _ in c.check) if lang == "zh" else \
            "; ".join(("Note: " if lvl == WARNING else "") + en for zh, en, lvl, _ in c.check)
        yield ((c.ticket_id, c.customer or None, c.type, c.due, c.latest, c.staff.get("caller"), c.staff.get("called_at"),
                c.staff.get("score"), c.staff.get("notes"), texts.setdefault(check, check) or None),
               _FILLS[(c.late, c.low_score, c.bad_called_at, c.bad_score)])  # a few patterns, shared by every row


def _fills(late: bool, low: bool, bad_time: bool, bad_score: bool) -> tuple[str | None, ...]:
    """Red on a late call's latest date, amber on a low score, the error mark on a call time or score
    that cannot be read."""
    marks = {4: "red" if late else None, 6: "error" if bad_time else None,
             7: "error" if bad_score else "amber" if low else None}
    return tuple(marks.get(i) for i in range(len(FOLLOWUPS.columns)))


_FILLS = {key: _fills(*key) for key in itertools.product((False, True), repeat=4)}

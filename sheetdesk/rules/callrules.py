"""回访规则 / Follow-up rules: which calls a ticket is owed, the window of each, and when to call.

Each row of the sheet is a call type (seed 004): counted from 购买日期 (falling back to the close when
the register has no purchase date) or from the close; due from the window's first day and late only
after its last. Days are calendar days (自然日) or working days (工作日) of the desk's calendar; a
window's first or last day that is not a working day moves to the next working day (a make-up
Saturday counts). 回访时段 are the hours staff may call (a call logged outside them is a warning);
目标 is the share of scores of 9 or 10 the summary holds the calls against. A desk without the
sheet keeps the calls it had: the post-close call, and ``[followups] periodic`` from 购买日期.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sheetdesk.rules.problems import Problem
from sheetdesk.rules.records import Table
from sheetdesk.rules.workdays import BusinessHours, WorkCalendar
from sheetdesk.schema import normalise_header

PURCHASE, CLOSE = "purchase", "close"
CALENDAR, WORKING = "calendar", "working"
BASIS_NAMES: dict[str, tuple[str, ...]] = {PURCHASE: ("购买日期", "购买", "交付", "purchase", "purchasedate", "delivery"),
               CLOSE: ("结案", "关闭", "问题关闭", "close", "closed", "closing")}
UNIT_NAMES: dict[str, tuple[str, ...]] = {CALENDAR: ("自然日", "天", "日", "calendar", "calendardays", "days"),
              WORKING: ("工作日", "working", "workingdays", "wd")}
_YES = {"是", "启用", "开", "y", "yes", "true", "1", "on", "√", "✓", ""}
_NO = {"否", "停用", "关", "n", "no", "false", "0", "off", "×", "✗"}
#: the seed's call hours: not before 9:00, not over lunch, not after 18:00
DEFAULT_HOURS = "09:00-12:00,14:00-18:00"
DEFAULT_TARGET = 0.9
#: the most days a window may reach (ten years)
MAX_DAYS = 3650


@dataclass(frozen=True)
class CallRule:
    type_zh: str
    type_en: str
    basis: str                 # PURCHASE (falls back to the close) or CLOSE
    start: int
    end: int
    unit: str                  # CALENDAR or WORKING
    hours: BusinessHours | None = None
    hours_text: str = ""
    target: float | None = None
    post_close: bool = False   # the call after every close (one per round)
    row: int | None = None
    #: a call counted from 购买日期 counts from the close when the register has none
    close_fallback: bool = True

    def name(self, lang: str) -> str:
        return self.type_zh if lang == "zh" else self.type_en


def _word(text: str, names: dict[str, tuple[str, ...]]) -> str | None:
    key = normalise_header(text)
    for value, words in names.items():
        if key in {normalise_header(w) for w in words}:
            return value
    return None


def _days(value: object) -> int | None:
    text = str(value).strip().rstrip("天日") if value is not None else ""
    if text in ("",):
        return None
    try:
        number = float(text)
    except ValueError:
        return -1
    return int(number) if number.is_integer() and 0 <= number <= MAX_DAYS else -1


def parse_target(value: object) -> float | None:
    """90%, 0.9 or 90 -> 0.9; None when blank; ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    percent = text.endswith(("%", "％"))
    number = float(text.rstrip("%％").strip())
    if percent or number > 1:
        number /= 100
    if not 0 < number <= 1:
        raise ValueError(text)
    return number


def read_call_rules(table: Table) -> tuple[list[CallRule], list[Problem]]:
    """The enabled call types of the sheet; a row that cannot be read is an error in its 校验 and plans no call."""
    rules: list[CallRule] = []
    problems: list[Problem] = []

    def bad(row: int, column: str, zh: str, en: str) -> None:
        problems.append(Problem("followup_rules", row, column, zh, en))

    for row in table.rows:
        name = row.text("type")
        if not name:
            continue
        enabled = normalise_header(row.text("enabled"))
        if enabled not in _YES | _NO:
            bad(row.row, "enabled", f"“{row.text('enabled')}”应为 是 或 否", f"'{row.text('enabled')}' should be Yes or No")
            continue
        basis = _word(row.text("basis"), BASIS_NAMES) if row.text("basis") else PURCHASE
        unit = _word(row.text("unit"), UNIT_NAMES) if row.text("unit") else CALENDAR
        start, end = _days(row.get("start")), _days(row.get("end"))
        ok = True
        if basis is None:
            bad(row.row, "basis", f"“{row.text('basis')}”应为 购买日期 或 结案", f"'{row.text('basis')}' should be Purchase or Close")
            ok = False
        if unit is None:
            bad(row.row, "unit", f"“{row.text('unit')}”应为 自然日 或 工作日", f"'{row.text('unit')}' should be Calendar or Working")
            ok = False
        for key, value in (("start", start), ("end", end)):
            if value == -1:
                bad(row.row, key, f"“{row.text(key)}”应为 0–{MAX_DAYS} 的整数天数，如 7",
                    f"'{row.text(key)}' should be a whole number of days from 0 to {MAX_DAYS}, e.g. 7")
                ok = False
        if start is None and end is None and ok:
            bad(row.row, "start", "窗口开始和窗口结束都为空，应填天数，如 7 和 15",
                "window start and end are both blank; expected days, e.g. 7 and 15")
            ok = False
        if ok and start is not None and end is not None and end < start:
            bad(row.row, "end", f"窗口结束（{end}）早于窗口开始（{start}）", f"window end ({end}) is before its start ({start})")
            ok = False
        hours = None
        if row.text("hours"):
            try:
                hours = BusinessHours.parse(row.text("hours"))
            except ValueError:  # its message is the settings' bilingual one: the cell gets its own
                bad(row.row, "hours", f"回访时段“{row.text('hours')}”无法识别，应写成 09:00-12:00,14:00-18:00",
                    f"cannot read call hours '{row.text('hours')}'; expected e.g. 09:00-12:00,14:00-18:00")
                ok = False
        target = None
        try:
            target = parse_target(row.get("target"))
        except ValueError:
            bad(row.row, "target", f"目标“{row.text('target')}”应为百分比，如 90%",
                f"target '{row.text('target')}' should be a percentage, e.g. 90%")
            ok = False
        if not ok or enabled in _NO:
            continue
        first = start if start is not None else end
        last = end if end is not None else start
        assert first is not None and last is not None and basis is not None and unit is not None
        rules.append(CallRule(name, name, basis, first, last, unit, hours, row.text("hours"), target,
                              post_close=basis == CLOSE, row=row.row))
    return rules, problems


def legacy_rules(periodic: list[int]) -> list[CallRule]:
    """A desk without the 回访规则 sheet: the post-close call within 3 working days, and the
    ``[followups] periodic`` days after 购买日期 (each a one-day window), no call hours, no target."""
    rules = [CallRule("结案回访", "Post-close call", CLOSE, 1, 3, WORKING, post_close=True)]
    for days in periodic:
        rules.append(CallRule(f"购买后{days}天回访", f"{days}-day call after purchase", PURCHASE, days, days,
                              CALENDAR, close_fallback=False))
    return rules


def next_workday(day: date, cal: WorkCalendar) -> date:
    """The day itself when it is a working day, else the next one (make-up working days count)."""
    for _ in range(400):
        if cal.is_workday(day):
            return day
        day += timedelta(days=1)
    return day


def add_days(anchor: date, days: int, unit: str, cal: WorkCalendar) -> date:
    """``days`` after ``anchor`` on a working day: calendar days then the next working day, or working days."""
    if unit == CALENDAR:
        return next_workday(anchor + timedelta(days=days), cal)
    day = anchor
    for _ in range(days):
        day = next_workday(day + timedelta(days=1), cal)
    return next_workday(day, cal)


def window(rule: CallRule, anchor: date, cal: WorkCalendar) -> tuple[date, date]:
    """(应回访日期, 最晚回访) of a call counted from ``anchor``."""
    return add_days(anchor, rule.start, rule.unit, cal), add_days(anchor, rule.end, rule.unit, cal)


def working_days_after(latest: date, today: date, cal: WorkCalendar) -> int:
    """Working days after ``latest`` up to and including ``today`` (how late a call is)."""
    if today <= latest:
        return 0
    start = datetime.combine(latest + timedelta(days=1), time(0))
    end = datetime.combine(today + timedelta(days=1), time(0))
    return round(cal.business_seconds_between(start, end) / cal.hours.day_seconds)


def outside_hours(moment: datetime, hours: BusinessHours | None) -> bool:
    """A call logged outside the call hours; a bare date (00:00, no time typed) is not judged."""
    if hours is None or moment.time() == time(0):
        return False
    t = moment.time()
    return not any(start <= t <= end for start, end in hours.intervals)


def hours_label(hours: BusinessHours, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(f"{s:%H:%M}-{e:%H:%M}" for s, e in hours.intervals)


def overall_target(rules: list[CallRule]) -> float | None:
    """The summary's target: the enabled types' target when they share one, else the strictest."""
    targets = [r.target for r in rules if r.target is not None]
    return max(targets) if targets else None

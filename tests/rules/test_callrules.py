"""回访规则 as plain values: reading the rows, windows on the official calendar, call hours, the
follow-up figures. 2026: 1–7 Oct are holidays, Saturday 10 Oct is a make-up working day."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from sheetdesk.rules import callrules as cr
from sheetdesk.rules.followup_kpis import KpiCall, by_type, followup_kpis, low_score_calls
from sheetdesk.rules.followups import Owed, merge_calls, plan_calls
from sheetdesk.rules.records import Row, Table
from sheetdesk.rules.workdays import BusinessHours, WorkCalendar
from sheetdesk.schema import FOLLOWUP_RULES

CAL = WorkCalendar()
SEVEN_FIFTEEN = cr.CallRule("7-15", "7-15", cr.PURCHASE, 7, 15, cr.CALENDAR, BusinessHours.parse(cr.DEFAULT_HOURS))
POST_CLOSE = cr.CallRule("结案回访", "Post-close call", cr.CLOSE, 1, 3, cr.WORKING, post_close=True)


def table(*rows: dict) -> Table:
    keys = [c.key for c in FOLLOWUP_RULES.columns]
    return Table(FOLLOWUP_RULES, "回访规则", 1, {k: i for i, k in enumerate(keys, 1)},
                 [Row(n, r) for n, r in enumerate(rows, 2)])


def test_a_window_day_on_a_holiday_moves_to_the_next_working_day():
    assert cr.window(SEVEN_FIFTEEN, date(2026, 9, 25), CAL) == (date(2026, 10, 8), date(2026, 10, 10))  # make-up Saturday
    assert cr.window(SEVEN_FIFTEEN, date(2026, 9, 26), CAL) == (date(2026, 10, 8), date(2026, 10, 12))  # Sunday → Monday
    assert cr.window(POST_CLOSE, date(2026, 9, 30), CAL) == (date(2026, 10, 8), date(2026, 10, 10))
    assert cr.add_days(date(2026, 10, 3), 0, cr.WORKING, CAL) == date(2026, 10, 8)


def test_overdue_days_are_working_days():
    assert cr.working_days_after(date(2026, 10, 10), date(2026, 10, 10), CAL) == 0
    assert cr.working_days_after(date(2026, 10, 10), date(2026, 10, 11), CAL) == 0  # a Sunday
    assert cr.working_days_after(date(2026, 10, 10), date(2026, 10, 14), CAL) == 3
    assert cr.working_days_after(date(2026, 9, 30), date(2026, 10, 9), CAL) == 2


def test_call_hours():
    hours = BusinessHours.parse(cr.DEFAULT_HOURS)
    assert not cr.outside_hours(datetime(2026, 11, 3, 9, 0), hours)
    assert cr.outside_hours(datetime(2026, 11, 3, 12, 30), hours)
    assert cr.outside_hours(datetime(2026, 11, 3, 20, 0), hours)
    assert not cr.outside_hours(datetime(2026, 11, 3), hours)  # a date without a time is not judged
    assert not cr.outside_hours(datetime(2026, 11, 3, 20, 0), None)


def test_reading_the_sheet():
    rules, problems = cr.read_call_rules(table(
        {"type": "结案回访", "basis": "结案", "start": 1, "end": 3, "unit": "工作日", "hours": cr.DEFAULT_HOURS,
         "target": "90%", "enabled": "是"},
        {"type": "购买后30天回访", "basis": "购买日期", "start": "30天", "end": None, "target": 0.85},
        {"type": "停用", "start": 1, "end": 2, "enabled": "否"},
        {"type": "坏的", "basis": "发货", "start": 5, "end": 2, "unit": "周", "hours": "全天", "target": "很高"},
        {"type": "倒置", "start": 5, "end": 2},
    ))
    assert [(r.type_zh, r.basis, r.start, r.end, r.unit, r.target) for r in rules] == [
        ("结案回访", cr.CLOSE, 1, 3, cr.WORKING, 0.9), ("购买后30天回访", cr.PURCHASE, 30, 30, cr.CALENDAR, 0.85)]
    assert {(p.row, p.column) for p in problems} == {(5, "basis"), (5, "unit"), (5, "hours"), (5, "target"), (6, "end")}
    hours = next(p for p in problems if p.column == "hours")  # one language each, said once
    assert hours.zh == "回访时段“全天”无法识别，应写成 09:00-12:00,14:00-18:00"
    assert hours.en == "cannot read call hours '全天'; expected e.g. 09:00-12:00,14:00-18:00"
    assert cr.overall_target(rules) == 0.9
    assert cr.parse_target(90) == 0.9 and cr.parse_target("") is None
    with pytest.raises(ValueError):
        cr.parse_target(150)


def test_plan_counts_from_the_purchase_or_else_the_close():
    owed = [Owed("A", "甲", date(2026, 9, 28), date(2026, 9, 25), None),
            Owed("B", "乙", date(2026, 9, 29), None, date(2026, 9, 30), round_no=2),
            Owed("C", "丙", date(2026, 11, 2), date(2026, 1, 5), None)]  # an old purchase: its window is over
    planned = plan_calls(owed, [POST_CLOSE, SEVEN_FIFTEEN], CAL, "zh")
    assert [(p.ticket_id, p.type, p.due, p.latest) for p in planned] == [
        ("A", "7-15", date(2026, 10, 8), date(2026, 10, 10)),
        ("B", "结案回访（第2轮）", date(2026, 10, 8), date(2026, 10, 10)),
        ("B", "7-15", date(2026, 10, 8), date(2026, 10, 15))]
    legacy = cr.legacy_rules([30])
    assert [p.type for p in plan_calls(owed[1:2], legacy, CAL, "zh")] == ["结案回访（第2轮）"]  # no fallback


def test_late_only_after_the_window_in_working_days():
    planned = plan_calls([Owed("A", "甲", date(2026, 9, 28), date(2026, 9, 25), None)], [SEVEN_FIFTEEN], CAL, "zh")
    assert not merge_calls(planned, None, date(2026, 10, 5), cal=CAL)[0].late
    assert not merge_calls(planned, None, date(2026, 10, 11), cal=CAL)[0].late  # Sunday after the make-up Saturday
    call = merge_calls(planned, None, date(2026, 10, 12), cal=CAL)[0]
    assert call.late and call.check == [("回访已逾期 1 个工作日", "call overdue by 1 working day(s)", "warning", "latest")]


def test_follow_up_figures():
    calls = [KpiCall("1", "结案回访", date(2026, 10, 13), date(2026, 10, 15), datetime(2026, 10, 14, 10), 10),
             KpiCall("2", "结案回访", date(2026, 10, 13), date(2026, 10, 15), datetime(2026, 10, 19, 10), 9),
             KpiCall("3", "结案回访", date(2026, 10, 13), date(2026, 10, 15)),
             KpiCall("4", "结案回访", date(2026, 10, 21), date(2026, 10, 23), datetime(2026, 10, 21, 20), 5),
             KpiCall("5", "结案回访", date(2026, 10, 30), date(2026, 11, 3)),             # not yet owed
             KpiCall("6", "购买后30天回访", date(2026, 10, 26), date(2026, 11, 2), None),  # window ends in November
             KpiCall("7", "旧", None, None, datetime(2026, 10, 5, 10), 3, planned=False)]  # off-plan: a score only
    k = followup_kpis(calls, datetime(2026, 10, 1), datetime(2026, 11, 1), datetime(2026, 11, 2, 9), 0.9)
    assert k == {"calls_due": 4, "calls_made": 3, "calls_on_time": 2, "call_coverage": 0.75, "mean_call_score": 6.75,
                 "high_score_share": 0.5, "high_score_target": 0.9, "low_scores": 2}
    assert [c.ticket_id for c in low_score_calls(calls, datetime(2026, 10, 1), datetime(2026, 11, 1),
                                                 datetime(2026, 11, 2, 9))] == ["7", "4"]
    rows = by_type(calls, datetime(2026, 10, 1), datetime(2026, 11, 1), datetime(2026, 11, 2, 9))
    assert [(r["type"], r["calls_due"]) for r in rows] == [("结案回访", 4), ("旧", 0)]

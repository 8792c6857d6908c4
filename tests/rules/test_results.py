"""Satisfaction ratings, reopenings from 不满意, and the follow-up plan merged with typed calls."""

from datetime import date, datetime

import pytest

from sheetdesk.rules.callrules import legacy_rules
from sheetdesk.rules.followups import Owed, merge_calls, plan_calls
from sheetdesk.rules.progress import LogEntry, roll_up
from sheetdesk.rules.records import Row, Table
from sheetdesk.rules.results import FAIR, SATISFIED, UNSATISFIED, rating_of, read_results, reopenings
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.schema import RESULTS

NOW = datetime(2026, 11, 23, 9, 0)
CAL = WorkCalendar()


@pytest.mark.parametrize("value, key", [
    ("满意", SATISFIED), ("基本满意", FAIR), ("不满意", UNSATISFIED), ("Unsatisfied", UNSATISFIED),
    (10, SATISFIED), (9, SATISFIED), (8, FAIR), (7, FAIR), (6, UNSATISFIED), (1, UNSATISFIED),
    (95, SATISFIED), (90, SATISFIED), (89, FAIR), (70, FAIR), (69, UNSATISFIED), ("85分", FAIR), ("100", SATISFIED),
])
def test_ratings(value, key):
    assert rating_of(value)[0] == key


@pytest.mark.parametrize("bad", ["很好吧", 0, 101, -5, "abc"])
def test_unreadable_ratings(bad):
    assert rating_of(bad) == (None, None, False)


def table(rows: list[dict], columns: tuple[str, ...]) -> Table:
    return Table(RESULTS, RESULTS.zh, 1, {k: i + 1 for i, k in enumerate(columns)},
                 [Row(i + 2, r) for i, r in enumerate(rows)])


COLS = ("id", "result", "satisfaction", "rated_at", "reviewer", "reviewed_on", "overdue_reason")


def test_read_results_validates_each_row():
    received = {"202611-001": datetime(2026, 11, 2, 9), "202611-002": datetime(2026, 11, 3, 9)}
    rows = [
        {"id": "202611-001", "satisfaction": "不满意", "rated_at": "2026-11-10 10:00"},
        {"id": "202611-009", "satisfaction": "满意"},
        {"id": "202611-002", "satisfaction": "很好吧"},
        {"id": "202611-002", "satisfaction": "不满意"},
        {"id": "202611-002", "satisfaction": "满意", "rated_at": "2026-12-10 10:00"},
    ]
    results, problems = read_results(table(rows, COLS), received, NOW)
    by_row = {(p.row, p.column): p for p in problems}
    assert "202611-009" in by_row[(3, "id")].zh
    assert "很好吧" in by_row[(4, "satisfaction")].zh
    assert "评价时间" in by_row[(5, "rated_at")].zh and by_row[(5, "rated_at")].level == "warning"
    assert "晚于当前时间" in by_row[(6, "rated_at")].zh
    assert reopenings(results) == [("202611-001", datetime(2026, 11, 10, 10))]


def test_unhappy_rating_reopens_only_a_closed_ticket():
    received = {"A": datetime(2026, 11, 2, 9), "B": datetime(2026, 11, 2, 9)}
    log = [LogEntry(2, "A", datetime(2026, 11, 3, 9), "first_response"),
           LogEntry(3, "A", datetime(2026, 11, 5, 9), "closed"),
           LogEntry(4, "B", datetime(2026, 11, 3, 9), "first_response")]
    rollups, _ = roll_up(log, received, [("A", datetime(2026, 11, 6, 10)), ("B", datetime(2026, 11, 6, 10))])
    a, b = rollups["A"], rollups["B"]
    assert a.status == "reopened" and a.clock_start == datetime(2026, 11, 6, 10) and a.rounds == 1
    assert a.done == {} and not a.closed
    assert b.status == "first_response" and b.rounds == 0  # rated while open: nothing to reopen
    # the second round closes again after the rating
    log.append(LogEntry(5, "A", datetime(2026, 11, 9, 15), "closed"))
    rollups, _ = roll_up(log, received, [("A", datetime(2026, 11, 6, 10))])
    assert rollups["A"].closed and rollups["A"].closed_at == datetime(2026, 11, 9, 15)


def test_followups_plan_and_merge_keep_typed_calls():
    owed = [Owed("202611-001", "王女士", date(2026, 11, 10), None, date(2026, 11, 13), 1, 1),
            Owed("202611-002", "李先生", date(2026, 11, 10), None, date(2026, 11, 19), 2, 0),
            Owed("202611-003", "赵先生", date(2026, 11, 10), date(2026, 11, 1), None, 1, 1)]
    planned = plan_calls(owed, legacy_rules([7, 30]), CAL, "zh")  # a desk without 回访规则
    assert [(p.ticket_id, p.type, p.due, p.latest) for p in planned] == [
        ("202611-001", "结案回访", date(2026, 11, 16), date(2026, 11, 18)),
        ("202611-002", "结案回访（第2轮）", date(2026, 11, 20), date(2026, 11, 24)),
        # the 7-day call was due before the ticket arrived
        ("202611-003", "购买后30天回访", date(2026, 12, 1), date(2026, 12, 1)),
    ]
    existing = table([
        {"id": "202611-001", "type": "结案回访", "due": datetime(2026, 11, 18), "caller": "小周",
         "called_at": datetime(2026, 11, 17, 10, 5), "score": 5, "notes": "仍有异响"},
        {"id": "202611-004", "type": "结案回访", "due": datetime(2026, 11, 10)},  # off-plan, empty → dropped
        {"id": "202611-005", "type": "结案回访", "due": datetime(2026, 11, 10), "notes": "客户已换机"},
    ], ("id", "customer", "type", "due", "caller", "called_at", "score", "notes", "check"))
    calls = merge_calls(planned, existing, date(2026, 11, 23))
    keys = [(c.ticket_id, c.type) for c in calls]
    assert ("202611-004", "结案回访") not in keys
    assert keys.count(("202611-001", "结案回访")) == 1
    done = next(c for c in calls if c.ticket_id == "202611-001")
    assert done.staff["notes"] == "仍有异响" and done.low_score and not done.late
    kept = next(c for c in calls if c.ticket_id == "202611-005")
    assert not kept.planned and kept.staff["notes"] == "客户已换机"
    pending = [c for c in calls if not c.done]
    assert pending[0].ticket_id == "202611-002"  # due first
    assert calls[-1].done
    # nothing is late yet on 23 Nov; on 25 Nov the 24 Nov call is
    later = merge_calls(planned, existing, date(2026, 11, 25))
    assert next(c for c in later if c.ticket_id == "202611-002").late


def test_waiting_on_customer_pauses_the_clock_when_configured():
    from sheetdesk.rules.durations import Duration
    from sheetdesk.rules.sla import LATE, ON_TIME, stage_state

    received = {"A": datetime(2026, 11, 16, 9)}
    log = [LogEntry(2, "A", datetime(2026, 11, 16, 10), "first_response"),
           LogEntry(3, "A", datetime(2026, 11, 16, 14), "waiting"),
           LogEntry(4, "A", datetime(2026, 11, 17, 14), "update")]  # one business day waiting
    plain, _ = roll_up(log, received)
    paused, _ = roll_up(log, received, pause_steps=frozenset({"waiting"}))
    assert plain["A"].pauses == []
    assert paused["A"].pauses == [(datetime(2026, 11, 16, 14), datetime(2026, 11, 17, 14))]
    two_days = Duration(2, "working_days")
    done = datetime(2026, 11, 18, 15)  # due 17 Nov 18:00, or 18 Nov 18:00 with the day of waiting
    assert stage_state(CAL, "closed", two_days, received["A"], done, NOW).state == LATE
    state = stage_state(CAL, "closed", two_days, received["A"], done, NOW, paused["A"].pauses)
    assert state.due == datetime(2026, 11, 18, 18)
    assert state.state == ON_TIME
    # still waiting: the pause runs until now
    open_log = log[:2]
    still, _ = roll_up(open_log, received, pause_steps=frozenset({"waiting"}))
    assert still["A"].pauses == [(datetime(2026, 11, 16, 14), None)]
    live = stage_state(CAL, "closed", two_days, received["A"], None, datetime(2026, 11, 18, 9), still["A"].pauses)
    assert live.due == datetime(2026, 11, 19, 13)  # 18 business hours plus the 13 paused so far


@pytest.mark.parametrize(("value", "auto", "on_100", "on_10"), [
    (10, SATISFIED, UNSATISFIED, SATISFIED), (9, SATISFIED, UNSATISFIED, SATISFIED),
    (75, FAIR, FAIR, None), ("95分", SATISFIED, SATISFIED, None), ("满意", SATISFIED, SATISFIED, SATISFIED)])
def test_rating_on_a_stated_scale(value, auto, on_100, on_10):
    from sheetdesk.rules.results import rating_of as rate
    assert rate(value)[0] == auto
    assert rate(value, 100)[0] == on_100
    assert rate(value, 10)[0] == on_10 and rate(value, 10)[2] == (on_10 is not None)


def test_scale_entries_and_the_toml():
    from sheetdesk.rules.results import read_scale, scale_of
    assert [scale_of(t) for t in ("100", "百分制", "1-100", "1–10", "10分制", "100.0", "十分制", "5", "")] == \
        [100, 100, 100, 10, 10, 100, 10, None, None]
    assert read_scale([], None) == (None, [])
    assert read_scale([], 100) == (100, [])
    scale, problems = read_scale([(2, "百分制")], 10)
    assert scale == 100 and problems[0].level == "warning" and problems[0].sheet == "lists"
    scale, problems = read_scale([(2, "五分制")], None)
    assert scale is None and problems[0].level == "error" and "五分制" in problems[0].zh

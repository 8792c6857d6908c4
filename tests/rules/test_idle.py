"""Idle tickets (停滞) with plain values: the cadence counted on the official calendar (2026's National
Day holidays, Oct 1–7, and its make-up working Saturday, Oct 10), what restarts it, what is not checked."""

from datetime import datetime

import pytest

from sheetdesk.rules.durations import parse_duration
from sheetdesk.rules.idle import find_idle, idle_problems, last_progress
from sheetdesk.rules.progress import LogEntry, Rollup
from sheetdesk.rules.records import Row, Table
from sheetdesk.rules.register import Ticket
from sheetdesk.rules.sla import Level, read_sla
from sheetdesk.rules.tracker import TicketStatus
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.schema import SLA

CAL = WorkCalendar()


def level(name="P1", every="2个工作日", rank=1, response="4小时"):
    return Level(2 + rank, name, rank, (), {"first_response": parse_duration(response)}, parse_duration(every))


LEVELS = {lv.name: lv for lv in (level("P0", "1个工作日", 0), level("P1"), level("P2", None, 2),
                                 level("P3", "24小时", 3), level("P4", "2个工作日", 4, response=None))}


def status(received, *, priority="P1", ticket_id="202609-001", rollup=None, now=None):
    t = Ticket(2, ticket_id, received, "王女士", "产品质量类", LEVELS.get(priority), "维修部", "李工", {})
    return TicketStatus(t, rollup or Rollup(clock_start=received), priority, 1, {}, now or received)


def idle(statuses, logged=None, now=None):
    return find_idle(statuses, LEVELS, logged or {}, CAL, now)


def test_two_working_days_skip_national_day():
    # last row Wed 30 Sep 10:00; Oct 1–7 are holidays: two working days end Fri 9 Oct 10:00
    st = status(datetime(2026, 9, 29, 10))
    logged = {"202609-001": datetime(2026, 9, 30, 10)}
    assert idle([st], logged, datetime(2026, 10, 8, 17)) == []  # 7 calendar days, 1 working day
    assert idle([st], logged, datetime(2026, 10, 9, 10)) == []  # exactly at the cadence: not yet
    [item] = idle([st], logged, datetime(2026, 10, 9, 11))
    assert item.since == datetime(2026, 9, 30, 10) and item.due == datetime(2026, 10, 9, 10)
    assert item.idle_text(CAL, "zh") == "2.1个工作日"


def test_the_make_up_saturday_counts():
    # last row Fri 9 Oct 10:00: Sat 10 Oct is a working day, so two working days end Mon 12 Oct 10:00
    st = status(datetime(2026, 10, 9, 9))
    logged = {"202609-001": datetime(2026, 10, 9, 10)}
    [item] = idle([st], logged, datetime(2026, 10, 12, 11))
    assert item.due == datetime(2026, 10, 12, 10)
    assert idle([st], logged, datetime(2026, 10, 12, 9, 30)) == []


def test_a_row_restarts_the_count():
    st = status(datetime(2026, 11, 2, 10))
    [item] = idle([st], {"202609-001": datetime(2026, 11, 2, 11)}, datetime(2026, 11, 5, 10))
    assert item.since == datetime(2026, 11, 2, 11)
    assert idle([st], {"202609-001": datetime(2026, 11, 4, 9)}, datetime(2026, 11, 5, 10)) == []


def test_with_no_row_yet_the_first_response_deadline_watches_the_ticket():
    # untouched for weeks: late for its first response (the 已超时 list), never idle on top
    assert idle([status(datetime(2026, 11, 2, 10))], {}, datetime(2026, 11, 20, 10)) == []
    # a level that times no first response counts the cadence from the received time
    [item] = idle([status(datetime(2026, 11, 2, 10), priority="P4")], {}, datetime(2026, 11, 5, 10))
    assert item.since == datetime(2026, 11, 2, 10) and item.status is None and item.status_text("zh") == "新登记"


def test_each_level_has_its_own_cadence_and_blank_is_not_checked():
    received, now = datetime(2026, 11, 2, 10), datetime(2026, 11, 3, 11)  # 1 working day and 1 hour later
    ids = [f"202611-00{i}" for i in range(3)]
    found = idle([status(received, priority=p, ticket_id=i) for i, p in zip(ids, ("P0", "P1", "P2"))],
                 dict.fromkeys(ids, received), now)
    assert [i.priority for i in found] == ["P0"]
    assert idle([status(received, priority="P9")], {"202609-001": received}, now) == []  # not in the SLA sheet


def test_a_wall_clock_cadence_runs_around_the_clock():
    # 24小时 from Friday 17:00 ends Saturday 17:00, weekend or not
    st = status(datetime(2026, 11, 20, 16), priority="P3")
    [item] = idle([st], {"202609-001": datetime(2026, 11, 20, 17)}, datetime(2026, 11, 21, 18))
    assert item.wall and item.idle_text(CAL, "zh") == "25小时"


def test_closed_and_waiting_tickets_are_not_idle():
    received, now = datetime(2026, 11, 2, 10), datetime(2026, 11, 20, 10)
    closed = Rollup(status="closed", clock_start=received)
    waiting = Rollup(status="waiting", clock_start=received, pauses=[(datetime(2026, 11, 3, 10), None)])
    assert idle([status(received, rollup=closed), status(received, rollup=waiting)],
                {"202609-001": datetime(2026, 11, 3, 10)}, now) == []


def test_a_reopening_restarts_the_count():
    received = datetime(2026, 11, 2, 10)
    reopened = Rollup(status="reopened", clock_start=datetime(2026, 11, 19, 10), reopened_at=datetime(2026, 11, 19, 10))
    logged = {"202609-001": datetime(2026, 11, 10, 10)}
    assert idle([status(received, rollup=reopened)], logged, datetime(2026, 11, 20, 10)) == []


def test_longest_past_the_cadence_first_and_a_warning_on_the_owner():
    now = datetime(2026, 11, 20, 10)
    a = status(datetime(2026, 11, 16, 10), ticket_id="202611-001")
    b = status(datetime(2026, 11, 10, 10), ticket_id="202611-002")
    found = idle([a, b], {"202611-001": datetime(2026, 11, 16, 10), "202611-002": datetime(2026, 11, 10, 10)}, now)
    assert [i.ticket_id for i in found] == ["202611-002", "202611-001"]
    [p, _] = idle_problems(found, CAL)
    assert (p.sheet, p.column, p.level) == ("register", "owner", "warning")
    assert "无进展记录（上次 2026-11-10 10:00）" in p.zh and "每 2个工作日" in p.zh
    assert "update every 2wd" in p.en


def test_last_progress_is_the_latest_row_whatever_its_order():
    entries = [LogEntry(3, "A", datetime(2026, 11, 5, 10), "update"), LogEntry(2, "A", datetime(2026, 11, 3, 10), "first_response"),
               LogEntry(4, "B", datetime(2026, 11, 4, 10), "update")]
    assert last_progress(entries) == {"A": datetime(2026, 11, 5, 10), "B": datetime(2026, 11, 4, 10)}


def sla_table(*rows):
    keys = ("priority", "aliases", "first_response", "tech_engaged", "solution", "closed", "update_every")
    return Table(SLA, "时效标准", 1, {c.key: i for i, c in enumerate(SLA.columns, 1)},
                 [Row(i, dict(zip(keys, r))) for i, r in enumerate(rows, 2)])


@pytest.mark.parametrize("typed, expected", [("2个工作日", "2个工作日"), ("1wd", "1个工作日"), ("24小时", "24小时"),
                                             (None, None), ("—", None)])
def test_the_sla_sheet_reads_the_cadence(typed, expected):
    sla, problems = read_sla(sla_table(("P1", "", "4小时", None, None, "5个工作日", typed)))
    assert problems == []
    cadence = sla.levels[0].update_every
    assert (cadence.text("zh") if cadence else None) == expected


def test_a_cadence_without_a_unit_is_a_problem_on_its_cell():
    sla, problems = read_sla(sla_table(("P1", "", "4小时", None, None, "5个工作日", 2)))
    assert sla.levels[0].update_every is None
    assert [(p.row, p.column) for p in problems] == [(2, "update_every")] and "缺少单位" in problems[0].zh

"""Intake on time: 登记时间 stamped, first-seen stamps never judged, each channel's 登记时限 on the official
calendar (2026: 国庆 Oct 1–7 off, Saturday Oct 10 a make-up working day)."""

from __future__ import annotations

from datetime import datetime

import pytest

from sheetdesk.rules.intake import IntakeLimits, IntakeRow, plan_intake, read_limits, split_memory
from sheetdesk.rules.records import Row, Table
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.schema import LISTS

CAL = WorkCalendar()
NOW = datetime(2026, 10, 12, 11, 0)
LIMITS, _ = read_limits(None)  # the template's limits


def row(received, entered, channel="电话", appended=False, ticket="202610-001", n=2):
    return IntakeRow(n, ticket, channel, received, entered, appended)


def judged(*rows, first_seen=None, limits=LIMITS):
    return plan_intake(rows, limits, first_seen or {}, CAL, NOW)


def test_phone_within_ten_minutes_is_on_time_and_later_is_a_warning():
    assert judged(row(datetime(2026, 10, 9, 10, 0), datetime(2026, 10, 9, 10, 10))).problems == []
    late = judged(row(datetime(2026, 10, 9, 10, 0), datetime(2026, 10, 9, 10, 11))).problems
    assert [(p.column, p.level) for p in late] == [("entered", "warning")]
    assert "10分钟" in late[0].zh and "2026-10-09 10:10" in late[0].zh


@pytest.mark.parametrize("received, entered, late", [
    # the last working day before 国庆: one working day ends on Oct 8, the first day back
    (datetime(2026, 9, 30, 16, 0), datetime(2026, 10, 8, 15, 59), False),
    (datetime(2026, 9, 30, 16, 0), datetime(2026, 10, 9, 9, 30), True),
    # Friday Oct 9: Saturday Oct 10 is a make-up working day, so Monday morning is already late
    (datetime(2026, 10, 9, 16, 0), datetime(2026, 10, 10, 15, 0), False),
    (datetime(2026, 10, 9, 16, 0), datetime(2026, 10, 12, 9, 30), True),
])
def test_written_channels_have_one_working_day(received, entered, late):
    problems = judged(row(received, entered, channel="邮件")).problems
    assert bool(problems) is late


def test_blank_entered_is_stamped_typed_rows_remembered_and_not_judged():
    plan = judged(row(datetime(2026, 10, 1, 9, 0), None))
    assert plan.stamps == {2: datetime(2026, 10, 12, 11, 0)}
    assert plan.memory() == {"entered:202610-001": "2026-10-12 11:00"}
    assert plan.problems == [] and plan.stamped_first_seen == 1
    # the next refresh: the cell holds the remembered stamp, so it is still not judged
    again = judged(row(datetime(2026, 10, 1, 9, 0), datetime(2026, 10, 12, 11, 0)),
                   first_seen={"202610-001": "2026-10-12 11:00"})
    assert again.problems == [] and again.first_seen == {"202610-001": "2026-10-12 11:00"}
    # a person changed it: theirs now, and judged
    changed = judged(row(datetime(2026, 10, 1, 9, 0), datetime(2026, 10, 12, 10, 0)),
                     first_seen={"202610-001": "2026-10-12 11:00"})
    assert changed.first_seen == {} and [p.level for p in changed.problems] == ["warning"]


def test_appended_rows_are_stamped_and_judged():
    plan = judged(row(datetime(2026, 10, 10, 9, 0), None, appended=True))
    assert plan.stamps == {2: datetime(2026, 10, 12, 11, 0)} and plan.memory() == {}
    assert [p.level for p in plan.problems] == ["warning"]


def test_rows_without_an_id_wait_and_read_only_runs_stamp_nothing():
    assert judged(row(None, None, ticket=None)).stamps == {}
    assert plan_intake([row(datetime(2026, 10, 1), None)], LIMITS, {}, CAL, NOW, stamping=False).stamps == {}


def test_unreadable_entered_is_a_warning_and_unknown_channels_are_not_timed():
    assert [p.level for p in judged(row(datetime(2026, 10, 9), "昨天")).problems] == ["warning"]
    assert judged(row(datetime(2026, 10, 1), datetime(2026, 10, 9), channel="传真")).problems == []


def lists_table(rows, with_limit=True):
    columns = {"channel": 1, "intake_limit": 2} if with_limit else {"channel": 1}
    table = Table(LISTS, "选项", 1, columns)
    table.rows = [Row(i, values) for i, values in enumerate(rows, 2)]
    return table


def test_the_lists_sheet_sets_each_channels_limit():
    limits, problems = read_limits(lists_table([{"channel": "电话", "intake_limit": "30分钟"},
                                                {"channel": "邮件"},  # blank: not timed
                                                {"channel": "传真", "intake_limit": "两天"}]))
    assert limits.of("电话").text() == "30分钟" and limits.of("邮件") is None and limits.of("传真") is None
    assert [(p.sheet, p.row, p.column) for p in problems] == [("lists", 4, "intake_limit")]
    # a 选项 sheet from before the column: the template's limits
    old, _ = read_limits(lists_table([{"channel": "电话"}], with_limit=False))
    assert old.of("电话").text() == "10分钟" and old.of("Email").text() == "1个工作日"
    assert old.of("微信").text() == "10分钟" and old.of("拼多多").text() == "1个工作日"


def test_memory_splits_from_the_category_memory():
    assert split_memory({"202610-001": "物流类", "entered:202610-002": "2026-10-12 11:00"}) == (
        {"202610-001": "物流类"}, {"202610-002": "2026-10-12 11:00"})
    assert IntakeLimits().of("电话") is None

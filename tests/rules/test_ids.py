from datetime import datetime

from sheetdesk.rules.ids import IdRow, format_id, parse_id, plan_ids


def t(day, hour=9):
    return datetime(2026, 11, day, hour)


def test_format_is_three_digits_until_past_999():
    assert format_id("202611", 7) == "202611-007"
    assert format_id("202611", 1000) == "202611-1000"
    assert parse_id("202611-1000") == ("202611", 1000)
    assert parse_id("202613-001") is None
    assert parse_id("2026-11-001") is None


def test_serials_follow_received_time_not_row_order():
    plan = plan_ids([IdRow(2, t(5), None), IdRow(3, t(1), None), IdRow(4, t(3), None)], {})
    assert plan.issued == {3: "202611-001", 4: "202611-002", 2: "202611-003"}
    assert plan.counter == {"202611": 3}


def test_continue_above_typed_ids_and_counter_so_deleted_numbers_are_never_reused():
    rows = [IdRow(2, t(1), "202611-004"), IdRow(3, t(2), None)]
    assert plan_ids(rows, {}).issued == {3: "202611-005"}
    # the counter remembers 009 was issued even though that row is gone
    assert plan_ids(rows, {"202611": 9}).issued == {3: "202611-010"}


def test_months_are_numbered_separately():
    plan = plan_ids([IdRow(2, datetime(2026, 10, 31, 23), None), IdRow(3, t(1), None)], {"202610": 2})
    assert plan.issued == {2: "202610-003", 3: "202611-001"}


def test_duplicates_are_reported_never_renumbered():
    plan = plan_ids([IdRow(2, t(1), "202611-001"), IdRow(5, t(2), "202611-001")], {})
    assert plan.issued == {}
    assert plan.problems == {}
    assert plan.duplicates == {"202611-001": [2, 5]}


def test_wrong_month_and_malformed_ids():
    plan = plan_ids([IdRow(2, t(1), "202610-001"), IdRow(3, t(1), "A-1")], {})
    assert plan.problems[2] == ("month", "202611")
    assert plan.problems[3] == ("malformed", "A-1")


def test_no_id_without_received_time():
    assert plan_ids([IdRow(2, None, None)], {}).issued == {}


def test_the_counter_and_the_rules_share_one_id_grammar():
    """Month 13 is no month: the backups' and archive's IDs are read with the same grammar as the register's."""
    from sheetdesk.workbook.counter import serials_in

    assert serials_in(["202611-007", "202613-050", "202600-009", " 202611-012 ", None]) == {"202611": 12}

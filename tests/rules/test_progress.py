from datetime import datetime

from sheetdesk.rules.progress import LogEntry, read_log, roll_up
from sheetdesk.rules.records import Row, Table
from sheetdesk.schema import PROGRESS, step_key

RECEIVED = {"202611-001": datetime(2026, 11, 2, 10), "202611-002": datetime(2026, 11, 3, 10)}
NOW = datetime(2026, 11, 23, 9)


def table(*rows):
    return Table(PROGRESS, "进度跟踪", 1, {c.key: i for i, c in enumerate(PROGRESS.columns, 1)},
                 [Row(i, dict(zip(("id", "time", "by", "step", "note"), r))) for i, r in enumerate(rows, 2)])


def test_steps_in_both_languages():
    assert step_key("首次响应") == "first_response"
    assert step_key(" first RESPONSE ") == "first_response"
    assert step_key("问题关闭") == "closed" and step_key("Reopened") == "reopened"
    assert step_key("喝茶") is None


def test_bad_rows_are_reported_with_column_and_kept_out_of_the_roll_up():
    entries, problems = read_log(table(
        ("202611-001", "2026-11-02 11:00", "李工", "首次响应", ""),
        ("202611-999", "2026-11-02 11:00", "李工", "首次响应", ""),
        ("202611-001", "2026-11-01 11:00", "李工", "技术介入", ""),
        ("202611-001", "2026-12-01 11:00", "李工", "技术介入", ""),
        ("202611-001", "昨天", "李工", "技术介入", ""),
        ("202611-001", "2026-11-02 12:00", "李工", "喝茶", ""),
    ), RECEIVED, NOW)
    assert [e.row for e in entries] == [2]
    assert [(p.row, p.column) for p in problems] == [(3, "id"), (4, "time"), (5, "time"), (6, "time"), (7, "step")]


def entry(row, ticket, when, step):
    return LogEntry(row, ticket, datetime(2026, 11, *when), step)


def test_first_logged_time_completes_a_stage_and_status_is_the_latest_step():
    rollups, _ = roll_up([
        entry(3, "202611-001", (2, 15), "update"),
        entry(2, "202611-001", (2, 11), "first_response"),
        entry(4, "202611-001", (2, 16), "first_response"),
    ], RECEIVED)
    r = rollups["202611-001"]
    assert r.done == {"first_response": datetime(2026, 11, 2, 11)}
    assert r.status == "first_response" and r.status_time == datetime(2026, 11, 2, 16)


def test_close_completes_unlogged_stages_and_reopen_restarts_the_clock():
    rollups, problems = roll_up([
        entry(2, "202611-001", (2, 11), "first_response"),
        entry(3, "202611-001", (4, 11), "closed"),
        entry(4, "202611-001", (5, 11), "update"),          # after close: reported, ignored
        entry(5, "202611-001", (6, 9), "reopened"),
        entry(6, "202611-001", (6, 10), "first_response"),
    ], RECEIVED)
    r = rollups["202611-001"]
    assert r.status == "first_response" and not r.closed
    assert r.clock_start == datetime(2026, 11, 6, 9) and r.done == {"first_response": datetime(2026, 11, 6, 10)}
    assert [(p.row, p.column) for p in problems] == [(4, "step")]


def test_unlogged_reopen_from_a_rating():
    rollups, _ = roll_up([entry(2, "202611-002", (3, 11), "closed")], RECEIVED,
                         extra_reopen=[("202611-002", datetime(2026, 11, 5, 14))])
    r = rollups["202611-002"]
    assert r.status == "reopened" and r.clock_start == datetime(2026, 11, 5, 14) and r.done == {}


def test_check_cells_are_written_in_row_order_for_records_and_rows_with_problems():
    """The log keeps records only for rows whose 校验 holds something once it is rolled up; a row
    that is only now getting a problem is merged back in row order (the change list reads top down)."""
    from types import SimpleNamespace

    from sheetdesk.app.checks import check_writes
    from sheetdesk.rules.problems import Problem
    from sheetdesk.schema import SHEETS_BY_KEY

    table = Table(SHEETS_BY_KEY["progress"], "进度跟踪", 1, {"id": 1, "check": 6},
                  [Row(2, {"check": "旧"}), Row(5, {"check": "旧"})])
    problems = [Problem("progress", r, "id", f"问题{r}", f"problem {r}") for r in (3, 5, 7)]
    writes = list(check_writes(SimpleNamespace(tables={"progress": table}, lang="zh"), "progress", problems))
    assert [(w.row, w.value) for w in writes] == [(2, None), (3, "反馈编号：问题3"), (5, "反馈编号：问题5"), (7, "反馈编号：问题7")]

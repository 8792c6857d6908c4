"""sheetdesk export: desks mirrored into SQLite and a real PostgreSQL server, re-runs converge.

The PostgreSQL cases run against the server ``.ci/run`` installs and starts (SHEETDESK_TEST_PG_URL);
without it they skip with that reason. No mock stands in for either database.
"""

from __future__ import annotations

import os
from datetime import datetime

import openpyxl
import pytest
import sqlalchemy as sa

from sheetdesk.app import dbexport
from sheetdesk.app.desk import run
from sheetdesk.app.summary import tickets_from_run
from sheetdesk.rules import dates, kpis
from sheetdesk.rules.routing import split_categories
from sheetdesk.schema import PROGRESS as PROGRESS_SHEET
from sheetdesk.schema import REGISTER as REGISTER_SHEET
from tests.helpers import NOW

PG_URL = os.environ.get("SHEETDESK_TEST_PG_URL")
NOW_DT = dates.parse_now(NOW)


def t(received, id_, **extra):
    return {"id": id_, "channel": "电话", "customer": "客户" + (id_ or "新")[-3:], "contact": "13812345678",
            "description": extra.pop("description", "机器无法开机"), "received": received, **extra}


REGISTER = [
    t(datetime(2026, 11, 2, 10), "202611-001", product="K2"),
    t(datetime(2026, 11, 16, 9), "202611-002"),
    t(datetime(2026, 11, 3, 9), "202611-003", description="快递一直没收到", category="物流类"),
    t(datetime(2026, 10, 28, 9), "202610-001", purchase_date="2026-10-01"),
    t(datetime(2026, 11, 20, 9), None, description="使用时被烫伤"),   # not numbered yet: left out
]
LOG = [
    {"id": "202611-001", "time": datetime(2026, 11, 2, 11), "by": "李工", "step": "首次响应", "note": "已联系客户"},
    {"id": "202611-001", "time": datetime(2026, 11, 5, 10), "by": "李工", "step": "问题关闭"},
    {"id": "202611-002", "time": datetime(2026, 11, 18, 12), "by": "李工", "step": "首次响应"},
    {"id": "202610-001", "time": datetime(2026, 10, 28, 10), "by": "李工", "step": "首次响应"},
    {"id": "202610-001", "time": datetime(2026, 11, 2, 15), "by": "李工", "step": "问题关闭"},
]
RESULTS = [
    {"id": "202611-001", "result": "更换主板", "satisfaction": "满意", "rated_at": datetime(2026, 11, 6, 10),
     "reviewer": "王主管", "reviewed_on": datetime(2026, 11, 7)},
    {"id": "202610-001", "satisfaction": 75, "rated_at": datetime(2026, 11, 3, 9), "overdue_reason": "备件缺货"},
    {"id": "202611-002", "satisfaction": "不满意", "rated_at": datetime(2026, 11, 20, 9)},
]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database: a SQLite file, or the real PostgreSQL server with sheetdesk's tables dropped."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'export.db'}"
    if not PG_URL:
        pytest.skip("SHEETDESK_TEST_PG_URL is not set: no PostgreSQL server here (.ci/run installs and starts one)")
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        dbexport.metadata.drop_all(conn)
    engine.dispose()
    return PG_URL


def snapshot(url: str) -> dict[str, list[dict]]:
    """Every row of every mirrored table, in key order."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        out = {table.name: [dict(r) for r in conn.execute(
            sa.select(table).order_by(*table.primary_key.columns)).mappings()] for table in dbexport.DATA_TABLES}
    engine.dispose()
    return out


def desk_in(make_desk, tmp_path, folder, rows=REGISTER, **kw):
    (tmp_path / folder).mkdir(exist_ok=True)
    return make_desk(rows, name=f"{folder}/desk.xlsx", **kw)


def export(cli, *args):
    result = cli("export", *args, "--now", NOW)
    assert result.exit_code == 0, result.output
    return result.output


def test_export_end_to_end_and_reexport_converges(make_desk, cli, tmp_path, db_url):
    book = desk_in(make_desk, tmp_path, "beijing", progress=LOG, results=RESULTS)
    before = book.read_bytes()
    out = export(cli, book, "--db", db_url)
    assert "分支“beijing”" in out and "工单 4（新增 4" in out and "进度 5（新增 5" in out
    assert "1 行尚未编号" in out and "sheetdesk refresh" in out
    assert book.read_bytes() == before  # the desk is only read

    rows = snapshot(db_url)
    tickets = {r["id"]: r for r in rows["tickets"]}
    assert set(tickets) == {"202611-001", "202611-002", "202611-003", "202610-001"}
    assert all(r["branch"] == "beijing" for table in rows.values() for r in table)
    # every column of the schema is filled from the desk (the row dicts carry exactly the table's columns)
    assert set(rows["tickets"][0]) == {c.name for c in dbexport.TICKETS.columns}

    # the database says what a refresh would write: compare with the same read-only run
    result = run(book, now=NOW_DT, write=False)
    assert {s.ticket.id for s in result.statuses} - set(tickets) == {"202611-004"}  # the ID only a refresh gives
    for s in (s for s in result.statuses if s.ticket.id in tickets):
        r = tickets[s.ticket.id]
        assert r["received"] == s.ticket.received and r["effective_priority"] == s.effective
        assert r["response_due"] == s.states["first_response"].due and r["resolution_due"] == s.states["closed"].due
        assert r["response_done"] == s.states["first_response"].done
        assert r["closed_at"] == (s.rollup.closed_at if s.closed else None)
    one = tickets["202611-001"]
    assert (one["customer"], one["contact"], one["product"], one["status"]) == ("客户001", "13812345678", "K2", "closed")
    assert one["category"] == "产品质量类" and one["department"] and one["owner"]  # routed by the matrix
    assert tickets["202611-002"]["status"] == "first_response" and tickets["202611-003"]["status"] == "new"
    assert tickets["202610-001"]["purchase_date"] == datetime(2026, 10, 1).date()

    log = {(r["ticket_id"], r["row"]): r for r in rows["progress"]}
    assert log[("202611-001", 2)]["step"] == "first_response" and log[("202611-001", 2)]["note"] == "已联系客户"
    assert log[("202611-001", 2)]["logged_by"] == "李工" and log[("202611-001", 2)]["time"] == datetime(2026, 11, 2, 11)
    res = {r["ticket_id"]: r for r in rows["results"]}
    assert res["202611-001"]["rating"] == "satisfied" and res["202611-001"]["reviewer"] == "王主管"
    assert res["202610-001"]["rating"] == "fair" and res["202610-001"]["score"] == 75
    assert res["202610-001"]["overdue_reason"] == "备件缺货"
    calls = {(r["ticket_id"], r["type"]) for r in rows["followups"]}
    assert ("202611-001", "结案回访") in calls and ("202610-001", "结案回访") in calls

    again = export(cli, book, "--db", db_url)
    assert again.count("新增 0，更新 0，删除 0") == 4, again
    assert snapshot(db_url) == rows


def test_deleted_and_changed_rows_follow_the_desk(make_desk, cli, tmp_path, db_url):
    book = desk_in(make_desk, tmp_path, "beijing", progress=LOG, results=RESULTS)
    export(cli, book, "--db", db_url)

    wb = openpyxl.load_workbook(book)
    reg = wb[REGISTER_SHEET.zh]
    reg.delete_rows(3)                                 # 202611-002 leaves the register (its log and result go too)
    log = wb[PROGRESS_SHEET.zh]
    log.delete_rows(6)                                 # 202610-001 is no longer closed
    reg.cell(2, 4).value = "王女士"                    # 202611-001's customer is corrected
    wb.save(book)

    out = export(cli, book, "--db", db_url, "--lang", "en")
    assert "3 tickets (0 new, 3 updated, 1 deleted)" in out, out  # two moved up a row, one renamed
    rows = snapshot(db_url)
    tickets = {r["id"]: r for r in rows["tickets"]}
    assert "202611-002" not in tickets and tickets["202611-001"]["customer"] == "王女士"
    assert tickets["202610-001"]["closed_at"] is None and tickets["202610-001"]["status"] == "first_response"
    assert {r["ticket_id"] for r in rows["progress"]} == {"202611-001", "202610-001"}
    assert "202611-002" not in {r["ticket_id"] for r in rows["results"]}
    assert ("202610-001", "结案回访") not in {(r["ticket_id"], r["type"]) for r in rows["followups"]}


def test_typed_follow_up_call_reaches_the_database(make_desk, cli, tmp_path, db_url):
    book = desk_in(make_desk, tmp_path, "beijing", progress=LOG, results=RESULTS)
    assert cli("refresh", book, "--now", NOW).exit_code == 0
    wb = openpyxl.load_workbook(book)
    ws = wb["回访计划"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "202611-001")
    col = {c.value: c.column for c in ws[1]}
    ws.cell(row, col["回访人"]).value, ws.cell(row, col["回访时间"]).value = "小周", datetime(2026, 11, 9, 10, 30)
    ws.cell(row, col["回访评分"]).value = 9
    wb.save(book)
    export(cli, book, "--db", db_url)
    call = next(r for r in snapshot(db_url)["followups"] if r["ticket_id"] == "202611-001")
    assert (call["caller"], call["called_at"], call["score"]) == ("小周", datetime(2026, 11, 9, 10, 30), 9.0)
    assert call["planned"] is True and call["due"] is not None


def test_two_branches_share_one_database(make_desk, cli, tmp_path, db_url):
    north = desk_in(make_desk, tmp_path, "north", progress=LOG)
    south = desk_in(make_desk, tmp_path, "south", rows=REGISTER[:2])
    plain = db_url.replace("postgresql+psycopg://", "postgresql://", 1)  # the form people copy: psycopg is implied
    out = export(cli, north, south, "--db", plain)
    assert "分支“north”" in out and "分支“south”" in out
    rows = snapshot(db_url)
    by_branch = {(r["branch"], r["id"]) for r in rows["tickets"]}
    assert {i for b, i in by_branch if b == "north"} == {"202611-001", "202611-002", "202611-003", "202610-001"}
    assert {i for b, i in by_branch if b == "south"} == {"202611-001", "202611-002"}  # the same IDs, apart

    wb = openpyxl.load_workbook(north)
    wb[REGISTER_SHEET.zh].delete_rows(2, 3)
    wb.save(north)
    export(cli, north, "--db", db_url)                # only north re-exported: south stays as it was
    after = snapshot(db_url)
    assert {i for b, i in ((r["branch"], r["id"]) for r in after["tickets"]) if b == "north"} == {"202610-001"}
    assert [r for r in after["tickets"] if r["branch"] == "south"] == [r for r in rows["tickets"] if r["branch"] == "south"]

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        branches = {r.branch: r for r in conn.execute(sa.select(dbexport.BRANCHES))}
    engine.dispose()
    assert set(branches) == {"north", "south"} and branches["north"].tickets == 1
    assert branches["south"].book == str(south.resolve()) and branches["south"].as_of == NOW_DT


def test_database_and_branch_from_sheetdesk_toml(make_desk, cli, tmp_path):
    book = desk_in(make_desk, tmp_path, "desk-folder")
    (tmp_path / "desk-folder" / "sheetdesk.toml").write_text(
        '[database]\nurl = "sqlite:///../shared/all.db"\nbranch = "上海"\n', encoding="utf-8")
    out = export(cli, book)
    db = tmp_path / "shared" / "all.db"          # relative to the toml, whatever the working directory
    assert db.exists() and "分支“上海”" in out
    assert {r["branch"] for r in snapshot(f"sqlite:///{db}")["tickets"]} == {"上海"}
    out = export(cli, book, "--branch", "shanghai")  # the command line wins
    assert "分支“shanghai”" in out


def test_export_refuses_clearly(make_desk, cli, tmp_path):
    book = desk_in(make_desk, tmp_path, "beijing")
    result = cli("export", book, "--now", NOW)
    assert result.exit_code == 2 and "--db" in result.output and "[database]" in result.output
    result = cli("export", book, "--db", "not a url", "--lang", "en")
    assert result.exit_code == 2 and "cannot read database URL" in result.output
    result = cli("export", book, book, "--db", "sqlite:///x.db", "--lang", "en")
    assert result.exit_code == 2 and "--branch" in result.output
    legacy = tmp_path / "legacy.db"
    engine = sa.create_engine(f"sqlite:///{legacy}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE tickets (branch TEXT, id TEXT)"))
    engine.dispose()
    result = cli("export", book, "--db", f"sqlite:///{legacy}", "--lang", "en")
    assert result.exit_code == 1 and "table tickets exists but lacks column(s) row" in result.output
    assert "Traceback" not in result.output


KPI_SQL = """
SELECT t.id, t.received, t.category, t.effective_priority, t.priority_rank, t.department, t.owner,
       t.response_due, t.response_done, t.resolution_due, t.closed_at,
       r.rating, r.rated_at, r.overdue_reason, t.branch
FROM tickets t
LEFT JOIN (
    SELECT branch, ticket_id, rating, rated_at, overdue_reason,
           ROW_NUMBER() OVER (PARTITION BY branch, ticket_id
                              ORDER BY CASE WHEN rated_at IS NULL THEN 0 ELSE 1 END DESC, rated_at DESC, row DESC) AS n
    FROM results
) r ON r.branch = t.branch AND r.ticket_id = t.id AND r.n = 1
WHERE t.received IS NOT NULL AND t.branch = :branch
ORDER BY t.row
"""


def test_kpis_from_the_database_equal_the_workbook(cli, tmp_path, db_url):
    """The demo desk (two months, reopenings, ratings, late tickets) gives the same KPIs both ways."""
    folder = tmp_path / "demo"
    assert cli("demo", folder, "--now", NOW).exit_code == 0
    book = folder / "desk.xlsx"
    export(cli, book, "--db", db_url)

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        # SQLite hands back times as text: say which result columns are times (PostgreSQL needs no telling)
        query = sa.text(KPI_SQL).columns(**{name: sa.DateTime for name in (
            "received", "response_due", "response_done", "resolution_due", "closed_at", "rated_at")})
        rows = conn.execute(query, {"branch": "demo"}).all()
    engine.dispose()
    # a later row of a duplicated ID is exported as ID#row (the demo has one): the same ticket
    # a 复合型 category (产品质量类,物流类) counts under its lead, the first one, as the summary counts it
    from_db = [kpis.KpiTicket(r.id.split("#")[0], r.received, (split_categories(r.category or "") or [""])[0],
                              r.effective_priority or "",
                              99 if r.priority_rank is None else r.priority_rank, r.department or "", r.owner or "",
                              r.response_due, r.response_done, r.resolution_due, r.closed_at, r.rating, r.rated_at,
                              r.overdue_reason or "", r.branch,
                              compound=len(split_categories(r.category or "")) > 1) for r in rows]
    result = run(book, now=NOW_DT, write=False)
    from_book = tickets_from_run(result, "demo")
    assert len(from_db) == len(from_book) > 30
    # the export's stage columns are the current round's; the KPIs judge a reopened ticket's first
    # round (and its later rounds apart), which the export does not hold: compare the others
    reopened = {k.id for k in from_book if k.later_rounds}
    assert reopened
    from_db = [k for k in from_db if k.id not in reopened]
    from_book = [k for k in from_book if k.id not in reopened]
    assert sorted(from_db, key=lambda k: (k.id, k.received)) == sorted(from_book, key=lambda k: (k.id, k.received))

    cal = result.calendar
    for period in (kpis.month(2026, 11), kpis.month(2026, 10), kpis.iso_week(2026, 47)):
        assert kpis.kpis(from_db, period, NOW_DT, cal) == kpis.kpis(from_book, period, NOW_DT, cal)
        for field in ("category", "priority", "department", "owner"):
            assert kpis.group_table(from_db, period, NOW_DT, field) == kpis.group_table(from_book, period, NOW_DT, field)
    k = kpis.kpis(from_db, kpis.month(2026, 11), NOW_DT, cal)
    assert k["received"] > 0 and k["rated"] > 0  # the comparison is not between two empty results


def test_rows_sharing_an_id_are_exported_as_two_tickets(make_desk, cli, tmp_path, db_url):
    """A ticket is its register row: the later row of a duplicated ID is keyed ID#row; the ID's log and
    results rows belong to neither (the desk flags them) and are not exported; re-exports converge."""
    rows = [t(datetime(2026, 11, 20, 14), "202611-001", customer="王女士"),
            t(datetime(2026, 11, 20, 16), "202611-001", customer="李先生"),
            t(datetime(2026, 11, 10, 10), "202611-002")]
    log = [{"id": "202611-001", "time": datetime(2026, 11, 20, 17), "by": "李工", "step": "问题关闭"},
           {"id": "202611-002", "time": datetime(2026, 11, 10, 11), "by": "李工", "step": "首次响应"}]
    results = [{"id": "202611-001", "satisfaction": "满意", "rated_at": datetime(2026, 11, 20, 18)}]
    book = desk_in(make_desk, tmp_path, "beijing", rows, progress=log, results=results)
    out = export(cli, book, "--db", db_url)
    assert "工单 3（新增 3" in out and "编号#行号" in out, out

    got = snapshot(db_url)
    tickets = {r["id"]: r for r in got["tickets"]}
    assert set(tickets) == {"202611-001", "202611-001#3", "202611-002"}
    assert (tickets["202611-001"]["customer"], tickets["202611-001"]["row"]) == ("王女士", 2)
    assert (tickets["202611-001#3"]["customer"], tickets["202611-001#3"]["row"]) == ("李先生", 3)
    assert tickets["202611-001"]["received"] != tickets["202611-001#3"]["received"]
    assert tickets["202611-001"]["status"] == tickets["202611-001#3"]["status"] == "new"
    assert [r["ticket_id"] for r in got["progress"]] == ["202611-002"] and got["results"] == []

    again = export(cli, book, "--db", db_url)
    assert again.count("新增 0，更新 0，删除 0") == 4, again
    assert snapshot(db_url) == got

    wb = openpyxl.load_workbook(book)  # the clerk corrects the ID: the ID#row ticket goes, the new one comes
    wb[REGISTER_SHEET.zh].cell(3, 1).value = "202611-003"
    wb.save(book)
    fixed = export(cli, book, "--db", db_url, "--lang", "en")
    assert "3 tickets (1 new, 1 updated, 1 deleted)" in fixed, fixed
    got = snapshot(db_url)
    assert {r["id"] for r in got["tickets"]} == {"202611-001", "202611-002", "202611-003"}
    assert {r["ticket_id"] for r in got["progress"]} == {"202611-001", "202611-002"}

"""``sheetdesk export``: a desk's tickets, progress log, results and follow-ups into a relational database.

The workbook stays the place people type; the database is a copy that SQL, BI tools and other
systems can read, and where several branches (one workbook each) meet. So the export is a mirror,
not a log: every row is keyed (primary keys below), written with an upsert, and rows that left the
desk are deleted for that branch, so running it again converges on the desk as it is now and
never touches another branch's rows. Everything runs in one transaction: a failure leaves the
database as it was. Schema and semantics: ``docs/database.md``.

Uses SQLAlchemy Core: SQLite (the embedded default) and PostgreSQL get native
``INSERT … ON CONFLICT DO UPDATE``; any other database SQLAlchemy can reach falls back to
update-then-insert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from sheetdesk.app.desk import run
from sheetdesk.errors import InputError, SettingsError, SheetdeskError
from sheetdesk.rules import dates
from sheetdesk.settings import load_settings

metadata = sa.MetaData()

#: register columns people type, exported under the same keys (PRODUCT.md §2)
REGISTER_TEXT = ("channel", "customer", "tier", "contact", "product", "batch", "description", "expectation",
                 "emotion", "category", "priority", "department", "owner", "collaborators")
#: the SLA stages and the column prefix each gets in ``tickets``
STAGE_COLUMNS = (("first_response", "response"), ("tech_engaged", "tech_engaged"), ("solution", "solution"),
                 ("closed", "resolution"))


def _key(name: str, length: int = 100) -> sa.Column:
    return sa.Column(name, sa.String(length), primary_key=True)


TICKETS = sa.Table(
    "tickets", metadata,
    _key("branch"), _key("id", 40),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("received", sa.DateTime),
    *(sa.Column(k, sa.Text) for k in REGISTER_TEXT[:6]),
    sa.Column("purchase_date", sa.Date),
    *(sa.Column(k, sa.Text) for k in REGISTER_TEXT[6:]),
    sa.Column("effective_priority", sa.Text),
    sa.Column("priority_rank", sa.Integer),
    sa.Column("escalation_reason", sa.Text),
    sa.Column("status", sa.String(40), nullable=False),
    *(sa.Column(f"{prefix}_{what}", sa.DateTime) for _, prefix in STAGE_COLUMNS for what in ("due", "done")),
    sa.Column("closed_at", sa.DateTime),
    sa.Column("reopened_at", sa.DateTime),
    sa.Column("rounds", sa.Integer, nullable=False),
)

PROGRESS = sa.Table(
    "progress", metadata,
    _key("branch"), _key("ticket_id", 40), sa.Column("row", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("time", sa.DateTime, nullable=False),
    sa.Column("step", sa.String(40), nullable=False),
    sa.Column("logged_by", sa.Text),
    sa.Column("note", sa.Text),
)

RESULTS = sa.Table(
    "results", metadata,
    _key("branch"), _key("ticket_id", 40), sa.Column("row", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("result", sa.Text),
    sa.Column("satisfaction", sa.Text),
    sa.Column("rating", sa.String(20)),
    sa.Column("score", sa.Float),
    sa.Column("comment", sa.Text),
    sa.Column("rated_at", sa.DateTime),
    sa.Column("prepared_by", sa.Text),
    sa.Column("prepared_on", sa.Date),
    sa.Column("reviewer", sa.Text),
    sa.Column("reviewed_on", sa.Date),
    sa.Column("overdue_reason", sa.Text),
    sa.Column("remarks", sa.Text),
)

FOLLOWUPS = sa.Table(
    "followups", metadata,
    _key("branch"), _key("ticket_id", 40), _key("type", 200),
    sa.Column("customer", sa.Text),
    sa.Column("due", sa.Date),
    sa.Column("caller", sa.Text),
    sa.Column("called_at", sa.DateTime),
    sa.Column("score", sa.Float),
    sa.Column("notes", sa.Text),
    sa.Column("planned", sa.Boolean, nullable=False),
    sa.Column("call_first", sa.Boolean, nullable=False),
)

BRANCHES = sa.Table(
    "branches", metadata,
    _key("branch"),
    sa.Column("book", sa.Text, nullable=False),
    sa.Column("desk_lang", sa.String(8), nullable=False),
    sa.Column("as_of", sa.DateTime, nullable=False),
    sa.Column("exported_at", sa.DateTime, nullable=False),
    sa.Column("tickets", sa.Integer, nullable=False),
)

for _table in (PROGRESS, RESULTS, FOLLOWUPS):
    sa.Index(f"ix_{_table.name}_ticket", _table.c.branch, _table.c.ticket_id)
sa.Index("ix_tickets_received", TICKETS.c.branch, TICKETS.c.received)

#: the mirrored tables, in the order they are written
DATA_TABLES = (TICKETS, PROGRESS, RESULTS, FOLLOWUPS)


class DatabaseError(SheetdeskError):
    """The database cannot be reached, or refused the export (nothing was changed)."""


@dataclass
class TableCounts:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


@dataclass
class BranchExport:
    book: Path
    branch: str
    desk_lang: str = "zh"
    as_of: datetime | None = None
    rows: dict[str, list[dict]] = field(default_factory=dict)
    counts: dict[str, TableCounts] = field(default_factory=dict)
    #: register rows with an ID only a refresh would assign (not exported until the workbook holds it)
    unnumbered: int = 0
    #: register rows whose ID repeats an earlier row (exported under ``ID#row``, see :func:`collect`)
    duplicates: int = 0


# --- what to export ---------------------------------------------------------------------------------

def _text(value: object) -> str | None:
    """A cell as text the way the desk shows it; None when blank (so '' and empty agree)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return dates.fmt(value)
    text = str(value).strip()
    return text or None


def _moment(value: object) -> datetime | None:
    return dates.to_datetime(value)[0]


def _day(value: object) -> date | None:
    return dates.to_date(value)[0]


def _score(value: object) -> float | None:
    try:
        return float(str(value).strip().rstrip("分")) if _text(value) else None
    except ValueError:
        return None


def collect(result, branch: str) -> BranchExport:
    """The rows of one desk's read-only run (``desk.run(..., write=False)``), keyed for the database.

    Only IDs the workbook holds are exported: a blank ID gets its number from the next refresh, and
    guessing it here could give a database row an ID that later names another ticket.

    A ticket is its register row: when several rows hold one ID, the first keeps the ID as its key and
    each later one is exported as ``ID#row`` (``202611-001#7``), so every customer stays a ticket of
    its own and a re-export converges. The ID's log, result and follow-up rows belong to none of them
    (the desk reports them as ambiguous) and are not exported until the ID is corrected.
    """
    out = BranchExport(Path(result.book), branch, result.desk_lang, result.now)
    plan = result.plan
    conflicts = plan.conflicts if plan else {}
    statuses = {s.ticket.row: s for s in result.statuses}
    tickets: dict[str, dict] = {}
    for t in plan.tickets if plan else []:
        if not t.id:
            continue
        if not _text(t.values.get("id")):
            out.unnumbered += 1
            continue
        ticket_key = t.id
        if t.id in conflicts and t.row != conflicts[t.id][0]:
            out.duplicates += 1
            ticket_key = f"{t.id}#{t.row}"
        s = statuses.get(t.row)
        row: dict[str, object] = {"branch": branch, "id": ticket_key, "row": t.row, "received": t.received}
        for key in REGISTER_TEXT:  # what a refresh shows: the typed value, else what routing fills in
            row[key] = _text(plan.writes.get((t.row, key), t.values.get(key)))
        row.update(category=t.category or None, department=t.department or None, owner=t.owner or None,
                   purchase_date=_day(t.values.get("purchase_date")))
        escalation = result.escalations.get(t.row)
        row["escalation_reason"] = escalation.reason(result.desk_lang) if escalation else None
        row["effective_priority"] = (s.effective or None) if s else None
        row["priority_rank"] = s.rank if s and s.effective else None
        row["status"] = (s.rollup.status or "new") if s else "new"
        for stage, prefix in STAGE_COLUMNS:
            state = s.states.get(stage) if s else None
            row[f"{prefix}_due"] = state.due if state else None
            row[f"{prefix}_done"] = state.done if state else None
        row["closed_at"] = s.rollup.closed_at if s and s.closed else None
        row["reopened_at"] = s.rollup.reopened_at if s else None
        row["rounds"] = s.rollup.rounds if s else 0
        tickets[ticket_key] = row
    out.rows["tickets"] = list(tickets.values())

    progress: dict[tuple, dict] = {}
    for s in result.statuses:
        if s.ticket.id not in tickets or s.ticket.id in conflicts:
            continue
        for e in s.rollup.entries:
            if e.row:  # row 0 is a reopening implied by a 不满意 rating, not a typed log row
                progress.setdefault((e.ticket_id, e.row), {
                    "branch": branch, "ticket_id": e.ticket_id, "row": e.row, "time": e.time, "step": e.step,
                    "logged_by": e.by or None, "note": e.note or None})
    out.rows["progress"] = sorted(progress.values(), key=lambda r: r["row"])

    results = []
    for r in result.results or []:
        if r.ticket_id not in tickets or r.ticket_id in conflicts:
            continue
        v = r.values
        results.append({
            "branch": branch, "ticket_id": r.ticket_id, "row": r.row, "result": _text(v.get("result")),
            "satisfaction": _text(v.get("satisfaction")), "rating": r.rating, "score": r.score,
            "comment": _text(v.get("comment")), "rated_at": r.rated_at, "prepared_by": _text(v.get("prepared_by")),
            "prepared_on": _day(v.get("prepared_on")), "reviewer": r.reviewer or None, "reviewed_on": r.reviewed_on,
            "overdue_reason": r.overdue_reason or None, "remarks": _text(v.get("remarks"))})
    out.rows["results"] = results

    calls: dict[tuple, dict] = {}
    for c in result.calls:
        if c.ticket_id not in tickets or c.ticket_id in conflicts or not c.type:
            continue
        calls.setdefault((c.ticket_id, c.type), {  # a copied row with the same key: the first one counts
            "branch": branch, "ticket_id": c.ticket_id, "type": c.type, "customer": c.customer or None,
            "due": c.due, "caller": _text(c.staff.get("caller")), "called_at": _moment(c.staff.get("called_at")),
            "score": _score(c.staff.get("score")), "notes": _text(c.staff.get("notes")),
            "planned": bool(c.planned), "call_first": c.priority == 0})
    out.rows["followups"] = list(calls.values())
    return out


# --- where to export --------------------------------------------------------------------------------

def resolve_url(given: str | None, book: Path) -> str:
    """``--db`` (or ``SHEETDESK_DB_URL``), else ``[database] url`` in the desk's sheetdesk.toml.

    A relative SQLite path in the toml is taken relative to the toml, so a scheduled job started
    from another folder writes the same file.
    """
    if given:
        return given
    settings = load_settings(book)
    url = settings.raw.get("database", {}).get("url")
    if not url:
        raise InputError("未指定数据库：请用 --db URL（如 --db sqlite:///desk.db），或在 sheetdesk.toml 的 [database] 中设置 url",
                         "no database given: use --db URL (e.g. --db sqlite:///desk.db) or set url under [database] "
                         "in sheetdesk.toml")
    if not isinstance(url, str):
        raise SettingsError(f"{settings.path}：[database] url 应为字符串", f"{settings.path}: [database] url must be a string")
    parsed = _parse_url(url)
    db = parsed.database
    if parsed.get_backend_name() == "sqlite" and db and db != ":memory:" and not db.startswith("file:") \
            and not Path(db).is_absolute() and settings.path is not None:
        return parsed.set(database=str(settings.path.parent / db)).render_as_string(hide_password=False)
    return url


def branch_names(books: list[Path], given: tuple[str, ...] | list[str]) -> list[str]:
    """``--branch`` (one per book, in order), else ``[database] branch`` beside each desk, else its folder.

    The folder name is the default because a branch's desk is conventionally ``<branch>/desk.xlsx``;
    a desk not called desk.xlsx is named by its file (as ``summary`` names branches).
    """
    if given and len(given) != len(books):
        raise InputError(f"--branch 给了 {len(given)} 个，工作簿有 {len(books)} 个：应一一对应",
                         f"{len(given)} --branch name(s) for {len(books)} workbook(s): give one per workbook, in order")
    names = []
    for i, book in enumerate(books):
        name = given[i] if given else load_settings(book).raw.get("database", {}).get("branch")
        if not name:
            name = book.stem if book.stem != "desk" else (book.resolve().parent.name or book.stem)
        name = str(name).strip()
        if not name or len(name) > 100:
            raise InputError(f"分支名“{name}”无效：应为 1–100 个字符", f"branch name '{name}' is invalid: 1–100 characters")
        if name in names:
            raise InputError(f"两个工作簿都对应分支“{name}”：请用 --branch 分别命名（每个工作簿一个）",
                             f"two workbooks map to branch '{name}': name them with --branch (one per workbook)")
        names.append(name)
    return names


def _parse_url(url: str) -> sa.engine.URL:
    try:
        return sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise InputError(f"无法识别的数据库地址“{url}”，应如 sqlite:///desk.db 或 postgresql://用户@主机/库名",
                         f"cannot read database URL '{url}'; expected e.g. sqlite:///desk.db or "
                         f"postgresql://user@host/dbname") from None


def shown_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)


def connect(url: str) -> sa.Engine:
    parsed = _parse_url(url)
    if parsed.drivername in ("postgresql", "postgres"):  # the driver sheetdesk installs, not SQLAlchemy's default
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not parsed.database.startswith("file:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        return sa.create_engine(parsed)
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"数据库驱动不可用（{parsed.drivername}）：{_first_line(exc)}；PostgreSQL 请用 postgresql+psycopg://",
                            f"database driver not available ({parsed.drivername}): {_first_line(exc)}; "
                            f"for PostgreSQL use postgresql+psycopg://") from None


# --- writing ----------------------------------------------------------------------------------------

def _check_schema(conn: sa.Connection) -> None:
    """Tables an older or foreign tool created without our columns: say so instead of failing mid-way."""
    inspector = sa.inspect(conn)
    for table in (*DATA_TABLES, BRANCHES):
        if not inspector.has_table(table.name):
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in have]
        if missing:
            raise DatabaseError(f"数据库中已有表 {table.name}，但缺少列 {', '.join(missing)}（见 docs/database.md）",
                                f"table {table.name} exists but lacks column(s) {', '.join(missing)} "
                                f"(see docs/database.md)")


def _pk(table: sa.Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _upsert(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    if not rows:
        return
    pk = _pk(table)
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(index_elements=pk,
                                          set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in pk})
        for start in range(0, len(rows), 500):
            conn.execute(stmt, rows[start:start + 500])
        return
    match = sa.and_(*(table.c[k] == sa.bindparam(f"pk_{k}") for k in pk))
    for row in rows:  # any other database: update, and insert what was not there
        keys = {f"pk_{k}": row[k] for k in pk}
        done = conn.execute(table.update().where(match).values({k: v for k, v in row.items() if k not in pk}), keys)
        if done.rowcount == 0:
            conn.execute(table.insert().values(row))


def _mirror(conn: sa.Connection, table: sa.Table, branch: str, rows: list[dict]) -> TableCounts:
    """Make ``table``'s rows of ``branch`` equal ``rows``: write what is new or changed, delete what is gone."""
    pk = _pk(table)
    existing = {tuple(r[k] for k in pk): dict(r)
                for r in conn.execute(sa.select(table).where(table.c.branch == branch)).mappings()}
    wanted = {tuple(r[k] for k in pk): r for r in rows}
    changed = [r for key, r in wanted.items() if existing.get(key) != r]
    gone = [key for key in existing if key not in wanted]
    _upsert(conn, table, changed)
    if gone:
        match = sa.and_(*(table.c[k] == sa.bindparam(f"pk_{k}") for k in pk))
        conn.execute(table.delete().where(match), [{f"pk_{k}": v for k, v in zip(pk, key)} for key in gone])
    inserted = sum(1 for r in changed if tuple(r[k] for k in pk) not in existing)
    return TableCounts(len(wanted), inserted, len(changed) - inserted, len(gone))


def write(engine: sa.Engine, exports: list[BranchExport], exported_at: datetime) -> None:
    """Create the tables if missing, then mirror every branch, all in one transaction."""
    try:
        with engine.begin() as conn:
            _check_schema(conn)
            metadata.create_all(conn)
            for ex in exports:
                for table in DATA_TABLES:
                    ex.counts[table.name] = _mirror(conn, table, ex.branch, ex.rows[table.name])
                _upsert(conn, BRANCHES, [{"branch": ex.branch, "book": str(ex.book.resolve()),
                                          "desk_lang": ex.desk_lang, "as_of": ex.as_of, "exported_at": exported_at,
                                          "tickets": len(ex.rows["tickets"])}])
    except sa.exc.OperationalError as exc:
        raise DatabaseError(f"无法写入数据库 {shown_url(str(engine.url))}：{_first_line(exc)}（数据库未做任何修改）",
                            f"cannot write to database {shown_url(str(engine.url))}: {_first_line(exc)} "
                            f"(nothing was changed)") from None
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"数据库拒绝了导出：{_first_line(exc)}（数据库未做任何修改）",
                            f"the database refused the export: {_first_line(exc)} (nothing was changed)") from None
    finally:
        engine.dispose()


def export(books: list[Path], url: str, *, branches: list[str], now: datetime | None = None,
           on_book=lambda: None) -> list[BranchExport]:
    """Read every desk (read-only, as ``validate`` does), then write them all to the database at ``url``."""
    exports = []
    for book, branch in zip(books, branches):
        exports.append(collect(run(book, now=now, write=False), branch))
        on_book()
    # exported_at is wall-clock in the first desk's time zone, like every other time in the database
    write(connect(url), exports, load_settings(books[0]).now())
    return exports

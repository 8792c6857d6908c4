"""The library API behind the commands: open a desk, apply the rules, save safely.

``refresh`` and ``validate`` share one path; validate stops before writing. The CLI only maps
options to these functions and prints their results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sheetdesk.errors import BookNotFound
from sheetdesk.problems import ERROR, Problem, join_cell
from sheetdesk.register import Lists, RegisterPlan, plan_register
from sheetdesk.routing import read_matrix
from sheetdesk.schema import (DEFAULT_CHANNELS, DEFAULT_EMOTIONS, DEFAULT_TIERS, EN_LIST_VALUES, LISTS,
                              MATRIX, PROGRESS, REGISTER, RESULTS, SLA)
from sheetdesk.settings import Settings, load_settings
from sheetdesk.sla import read_sla
from sheetdesk.workbook import verify
from sheetdesk.workbook.locks import DeskLock, check_not_open
from sheetdesk.workbook.package import ensure_savable
from sheetdesk.workbook.reader import Book, open_book, read_table
from sheetdesk.workbook.safesave import atomic_write, snapshot
from sheetdesk.workbook.writer import Change, CellWrite, apply_writes, write_counter


@dataclass
class RunResult:
    book: Path
    now: datetime
    desk_lang: str
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    plan: RegisterPlan | None = None
    written: bool = False
    dry_run: bool = False
    backup: Path | None = None
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]


def _lists(book: Book) -> Lists:
    table = read_table(book, LISTS, required=False, add_owned=False)
    values: dict[str, list[str]] = {"channel": [], "tier": [], "emotion": []}
    if table is not None:
        for row in table.rows:
            for key in values:
                if row.text(key):
                    values[key].append(row.text(key))
    defaults = {"channel": DEFAULT_CHANNELS, "tier": DEFAULT_TIERS, "emotion": DEFAULT_EMOTIONS}
    for key in values:
        if not values[key]:  # an emptied list means "use the defaults", never "allow nothing"
            values[key] = list(defaults[key]) + list(EN_LIST_VALUES[key])
    return Lists(**values)


def _read_counter(book: Book) -> dict[str, int]:
    from sheetdesk.schema import COUNTER

    name = COUNTER.name(book.lang)
    if name not in book.wb.sheetnames:
        return {}
    counter: dict[str, int] = {}
    for month, serial in book.wb[name].iter_rows(min_row=2, max_col=2, values_only=True):
        if month is not None and isinstance(serial, (int, float)):
            counter[str(month).strip()] = int(serial)
    return counter


def _check_writes(book: Book, sheet_key: str, problems: list[Problem]) -> list[CellWrite]:
    """The 校验 cell of every row of a sheet: its messages, or cleared when the row is clean."""
    table = book.tables.get(sheet_key)
    if table is None or "check" not in table.columns:
        return []
    by_row: dict[int, list[Problem]] = {}
    for p in problems:
        if p.sheet == sheet_key and p.row is not None:
            by_row.setdefault(p.row, []).append(p)
    rows = {r.row for r in table.rows} | set(by_row)
    return [CellWrite(sheet_key, r, "check", join_cell(by_row.get(r, []), book.lang)) for r in sorted(rows)]


def run(path: Path, *, now: datetime | None = None, write: bool = True, dry_run: bool = False,
        force: bool = False, settings: Settings | None = None) -> RunResult:
    """Validate, number and route the desk at ``path``; save unless ``write`` is False or ``dry_run``."""
    path = Path(path)
    if not path.exists():
        raise BookNotFound(f"找不到工作簿 {path}（可用 sheetdesk init 新建）",
                           f"workbook not found: {path} (create one with sheetdesk init)")
    settings = settings or load_settings(path)
    now = now or settings.now()
    saving = write and not dry_run
    if saving:
        check_not_open(path, force=force)
        with DeskLock(path):
            return _run(path, now, settings, saving=True, dry_run=False)
    return _run(path, now, settings, saving=False, dry_run=dry_run)


def _run(path: Path, now: datetime, settings: Settings, *, saving: bool, dry_run: bool) -> RunResult:
    snap = snapshot(path)
    result = RunResult(path, now, "zh", dry_run=dry_run)
    if saving:
        ensure_savable(path)
    book = open_book(path)
    result.desk_lang = book.lang
    register = read_table(book, REGISTER)
    sla_table = read_table(book, SLA)
    matrix_table = read_table(book, MATRIX)
    for optional in (PROGRESS, RESULTS):
        read_table(book, optional, required=False)

    sla, sla_problems = read_sla(sla_table)
    matrix, matrix_problems = read_matrix(matrix_table, sla)
    plan = plan_register(register, matrix, sla, _lists(book), _read_counter(book), now, book.date1904)
    result.plan = plan
    result.problems = sla_problems + matrix_problems + plan.problems

    writes = [CellWrite("register", row, key, value, only_if_blank=True) for (row, key), value in plan.writes.items()]
    for sheet_key in ("register", "matrix", "sla"):
        writes += _check_writes(book, sheet_key, result.problems)
    protected = verify.fingerprint(book, skip={(w.sheet, w.row, w.column) for w in writes})
    result.changes = apply_writes(book, writes) + write_counter(book, plan.counter)

    if saving and result.changes:
        def check(tmp: Path) -> None:
            verify.assert_kept(tmp, book, protected)

        result.backup = atomic_write(path, book.wb.save, expected=snap, verify=check, backups=settings.backups)
        result.written = True
    return result

"""The register's 登记时间 in a run: which rows to stamp, which to judge, what the hidden sheet remembers
(the rule itself is :mod:`sheetdesk.rules.intake`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sheetdesk.app.append import Appended
from sheetdesk.rules.intake import IntakePlan, IntakeRow, plan_intake, read_limits, split_memory
from sheetdesk.rules.register import RegisterPlan
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.workbook.edits import CellWrite
from sheetdesk.workbook.reader import Book


def intake(book: Book, plan: RegisterPlan, remembered: dict[str, str], appended: Appended | None,
           cal: WorkCalendar, now: datetime, *, stamping: bool) -> IntakePlan:
    """Stamp and judge the register's 登记时间; the first-seen stamps join the hidden sheet's memory
    (``plan.filled``, beside the categories sheetdesk filled), which is saved only when it changed."""
    new = set(appended.row_numbers) if appended is not None and appended.sheet_key == "register" else set()
    rows = [IntakeRow(t.row, t.id, str(t.values.get("channel") or "").strip(), t.received, t.values.get("entered"),
                      t.row in new) for t in plan.tickets]
    limits, problems = read_limits(book.tables.get("lists"))
    _, first_seen = split_memory(remembered)
    result = plan_intake(rows, limits, first_seen, cal, now, book.date1904, stamping)
    result.problems[:0] = problems
    if stamping:
        plan.filled.update(result.memory())
        plan.filled_changed = plan.filled != remembered
    return result


def stamp_writes(result: IntakePlan) -> Iterator[CellWrite]:
    for row, stamp in result.stamps.items():
        yield CellWrite("register", row, "entered", stamp, only_if_blank=True)

"""What a run writes about people's rows: each row's 校验 cell, the marks on the cells its problems
name, and the cells it must leave alone because a merged range covers them.
"""

from __future__ import annotations

from collections.abc import Iterator

from sheetdesk.rules.problems import ERROR, WARNING, Problem, join_cell
from sheetdesk.rules.register import ROUTED
from sheetdesk.schema import SHEETS_BY_KEY
from sheetdesk.workbook.cells import column_letter
from sheetdesk.workbook.edits import KEEP, CellWrite
from sheetdesk.workbook.reader import Book, merged_ranges

#: the sheets people type into that sheetdesk also writes: their 校验, the marks, the register's routing
CHECKED_SHEETS = ("register", "matrix", "sla", "escalation", "progress", "results", "staff", "followup_rules")


def check_writes(book: Book, sheet_key: str, problems: list[Problem]) -> Iterator[CellWrite]:
    """The 校验 cell of every row of a sheet: its messages, or cleared when the row is clean."""
    table = book.tables.get(sheet_key)
    if table is None or "check" not in table.columns:
        return
    by_row: dict[int, list[Problem]] = {}
    for p in problems:
        if p.sheet == sheet_key and p.row is not None:
            by_row.setdefault(p.row, []).append(p)
    # the records and the rows with problems, merged in row order (the records are; no set or sorted
    # copy of a 100k-row log's numbers)
    pending, i = sorted(by_row), 0
    for record in table.rows:
        while i < len(pending) and pending[i] <= record.row:
            if pending[i] < record.row:  # a row with problems that is not a record (or not kept as one)
                yield CellWrite(sheet_key, pending[i], "check", join_cell(by_row[pending[i]], book.lang))
            i += 1
        yield CellWrite(sheet_key, record.row, "check", join_cell(by_row.get(record.row, []), book.lang))
    for r in pending[i:]:
        yield CellWrite(sheet_key, r, "check", join_cell(by_row[r], book.lang))


def mark_writes(book: Book, sheet_key: str, problems: list[Problem]) -> Iterator[CellWrite]:
    """Light orange on each cell of people's columns an error names, light yellow for a warning
    (sheetdesk's own columns keep their own colours; a note needs nobody). The engines clear every
    other mark of the sheet."""
    table = book.tables.get(sheet_key)
    if table is None or "check" not in table.columns:
        return
    owned = {c.key for c in SHEETS_BY_KEY[sheet_key].columns if c.owned}
    marks: dict[tuple[int, str], str] = {}
    for p in problems:
        if (p.sheet == sheet_key and p.row is not None and p.column and p.column not in owned
                and p.level in (ERROR, WARNING) and marks.get((p.row, p.column)) != ERROR):
            marks[(p.row, p.column)] = p.level
    for (row, column), level in marks.items():
        yield CellWrite(sheet_key, row, column, KEEP, fill=level, mark=True)


#: the sheets people type into: 校验 and the problem marks on their cells


def merged_conflicts(book: Book) -> tuple[list[Problem], set[tuple[str, int, str]]]:
    """Merged cells over columns sheetdesk fills: a warning on each row they cover. Every cell inside
    a merged range is left alone — values and cell marks alike: writing into a merged range would
    hide the value, fail on the openpyxl path, or (a mark on a covered cell, which openpyxl does not
    keep) be written again on every refresh."""
    problems: list[Problem] = []
    blocked: set[tuple[str, int, str]] = set()
    for key, table in book.tables.items():
        ranges = merged_ranges(book, table) if key in CHECKED_SHEETS else []
        if not ranges:
            continue
        sheet = table.sheet
        filled = {k: c for k, c in table.columns.items()
                  if sheet.column(k).owned or (key == "register" and k in ("id", "category", *ROUTED))}
        for r1, c1, r2, c2 in ranges:
            first = max(r1, table.header_row + 1)
            inside = [k for k, c in table.columns.items() if c1 <= c <= c2]
            blocked.update((key, row, k) for row in range(first, r2 + 1) for k in inside)
            keys = [k for k, c in sorted(filled.items(), key=lambda kc: kc[1]) if c1 <= c <= c2]
            if not keys:
                continue
            where = f"{column_letter(c1)}{first}:{column_letter(c2)}{r2}"
            zh_cols = "、".join(sheet.column(k).zh for k in keys)
            en_cols = ", ".join(sheet.column(k).en for k in keys)
            for row in range(first, r2 + 1):
                problems.append(Problem(
                    key, row, keys[0],
                    f"合并单元格 {where} 覆盖了 sheetdesk 要填写的列（{zh_cols}），这些单元格未填写；请取消合并",
                    f"merged cells {where} cover columns sheetdesk fills ({en_cols}); left unfilled: unmerge them",
                    WARNING))
    return problems, blocked

"""The hidden counter sheet (``_sheetdesk``): the last serial issued per month.

It is what keeps a deleted row's ID from being issued again, so a damaged counter is a structural
problem: refresh stops (nothing written) and ``sheetdesk doctor --fix`` rebuilds it from the
register and the report archive.
"""

from __future__ import annotations

import re
from pathlib import Path

from sheetdesk.errors import StructureError
from sheetdesk.rules.ids import parse_id
from sheetdesk.schema import COUNTER, REGISTER, find_sheet, normalise_header
from sheetdesk.workbook.fastread import FastSheet, quiet_stderr
from sheetdesk.workbook.reader import Book, locate_header
from sheetdesk.workbook.safesave import list_backups

_MONTH = re.compile(r"^\d{4}(0[1-9]|1[0-2])$")


def counter_problems(book: Book) -> list[tuple[str, str]]:
    """(zh, en) of everything wrong with the counter sheet; empty when it is sound or absent."""
    name = COUNTER.name(book.lang)
    if name not in book.wb.sheetnames:
        return []
    ws = book.wb[name]
    problems = []
    header = [normalise_header(v) for v in next(ws.iter_rows(max_row=1, max_col=2, values_only=True), (None, None))]
    wanted = [normalise_header(c.name(book.lang)) for c in COUNTER.columns]
    if header and any(header) and header != wanted:
        problems.append((f"表头应为 {'、'.join(c.name('zh') for c in COUNTER.columns)}",
                         f"its header should be {', '.join(c.name('en') for c in COUNTER.columns)}"))
    seen = set()
    for r, (month, serial) in enumerate(ws.iter_rows(min_row=2, max_col=2, values_only=True), 2):
        if month is None and serial is None:
            continue
        text = str(month).strip() if month is not None else ""
        if not _MONTH.match(text):
            problems.append((f"第{r}行的月份“{month}”应为 YYYYMM", f"row {r}: month '{month}' should be YYYYMM"))
        elif text in seen:
            problems.append((f"第{r}行的月份 {text} 重复", f"row {r}: month {text} appears twice"))
        seen.add(text)
        if isinstance(serial, bool) or not isinstance(serial, (int, float)) or serial < 0 or serial != int(serial):
            problems.append((f"第{r}行的流水号“{serial}”应为非负整数", f"row {r}: serial '{serial}' should be a whole number"))
    return problems


def read_counter(book: Book, *, register_has_ids: bool) -> dict[str, int]:
    """The counter, or StructureError when it is damaged or missing from a desk that already issued IDs."""
    name = COUNTER.name(book.lang)
    if name not in book.wb.sheetnames:
        if register_has_ids:
            raise StructureError(
                f"隐藏的计数表“{name}”不见了：没有它，已删除行的编号可能被重新使用。未写入任何内容；"
                "请运行 sheetdesk doctor --fix（从登记表和归档重建）",
                f"the hidden counter sheet '{name}' is missing: without it a deleted row's ID could be issued "
                "again. Nothing was written; run sheetdesk doctor --fix (rebuilds it from the register and archive)")
        return {}
    problems = counter_problems(book)
    if problems:
        raise StructureError(
            f"隐藏的计数表“{name}”已损坏（{'；'.join(p[0] for p in problems[:3])}）。未写入任何内容；"
            "请运行 sheetdesk doctor --fix 重建",
            f"the hidden counter sheet '{name}' is damaged ({'; '.join(p[1] for p in problems[:3])}). "
            "Nothing was written; run sheetdesk doctor --fix to rebuild it")
    return {month: int(serial) for month, serial in stored(book).items()}  # type: ignore[arg-type]


def stored(book: Book) -> dict[str, object]:
    """month -> serial exactly as the counter sheet holds them (empty when there is no sheet)."""
    name = COUNTER.name(book.lang)
    if name not in book.wb.sheetnames:
        return {}
    return {str(month).strip(): serial for month, serial in
            book.wb[name].iter_rows(min_row=2, max_col=2, values_only=True) if month is not None}


#: columns D:E of the hidden sheet remember the categories sheetdesk filled, by ticket ID (C stays
#: empty, so the counter in A:B reads exactly as before)
FILLED_COLUMNS = (4, 5)
FILLED_HEADERS = {"zh": ("自动分类编号", "自动填写的分类"), "en": ("Auto-classified ID", "Category filled")}


def filled_categories(book: Book) -> dict[str, str]:
    """ticket ID -> the category sheetdesk filled for it (its keyword suggestion), as remembered."""
    name = COUNTER.name(book.lang)
    if name not in book.wb.sheetnames:
        return {}
    out: dict[str, str] = {}
    for ticket, category in book.wb[name].iter_rows(min_row=2, min_col=FILLED_COLUMNS[0], max_col=FILLED_COLUMNS[1],
                                                    values_only=True):
        if ticket not in (None, "") and category not in (None, ""):
            out[str(ticket).strip()] = str(category)
    return out


def filled_rows(filled: dict[str, str]) -> list[tuple[str, str]]:
    """The memory as it is written: sorted by ID, so the same memory is always the same bytes."""
    return sorted(filled.items())


def differs(current: dict[str, object], wanted: dict[str, int]) -> bool:
    """Whether the stored counter must be rewritten to hold ``wanted``."""
    numbers = {k: int(v) for k, v in current.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return numbers != wanted or len(current) != len(wanted)


def serials_in(ids) -> dict[str, int]:
    """month -> highest serial among well-formed IDs."""
    out: dict[str, int] = {}
    for text in ids:
        parsed = parse_id(str(text or ""))
        if parsed:
            out[parsed[0]] = max(out.get(parsed[0], 0), parsed[1])
    return out


def archived_ids(book_path: Path) -> list[str]:
    """IDs that have a report in the archive beside the desk (their rows may be gone from the register)."""
    root = Path(book_path).resolve().parent / "archive"
    if not root.is_dir():
        return []
    return [p.name.split(".")[0] for p in root.glob("*/*/*.xlsx")]


def backup_ids(book_path: Path, on_backup=lambda: None) -> list[str]:
    """IDs remembered by the backups: their counters (as ``YYYYMM-serial``) and register IDs.

    A damaged counter loses the one fact that matters — the highest serial ever issued — but the
    backups sheetdesk keeps beside the desk still have it. Read with calamine, only the two sheets
    that tell: a dozen backups of a large desk are seconds, not minutes. ``on_backup`` is called
    after each backup (progress).
    """
    out: list[str] = []
    for backup in list_backups(book_path):
        out += _ids_in_backup(backup)
        on_backup()
    return out


def _ids_in_backup(backup: Path) -> list[str]:
    from python_calamine import CalamineWorkbook  # deferred: a native reader, loaded only to read backups

    out: list[str] = []
    try:
        with quiet_stderr():  # a Rust panic on an odd cell prints to fd 2
            wb = CalamineWorkbook.from_path(str(backup))
            try:
                def grid(name: str) -> list[list[object]]:
                    return wb.get_sheet_by_name(name).to_python(skip_empty_area=False)

                for name in (COUNTER.zh, COUNTER.en):
                    if name in wb.sheet_names:
                        for row in grid(name)[1:]:
                            month, serial = (list(row) + [None, None])[:2]
                            if isinstance(month, float) and month.is_integer():
                                month = int(month)  # calamine gives every number as a float
                            if month not in (None, "") and isinstance(serial, (int, float)) \
                                    and not isinstance(serial, bool) and _MONTH.match(str(month)):
                                out.append(f"{month}-{int(serial):03d}")
                reg = find_sheet(wb.sheet_names, REGISTER)
                if reg is not None:
                    ws = FastSheet(reg, grid(reg), "visible")
                    header_row, columns = locate_header(ws, REGISTER)
                    if "id" in columns:
                        col = columns["id"]
                        out += [str(v) for (v,) in ws.iter_rows(min_row=header_row + 1, min_col=col, max_col=col) if v]
            finally:
                wb.close()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # a damaged backup adds nothing (pyo3's PanicException is a BaseException)
        return []
    return out

"""``sheetdesk doctor``: say what is wrong with a desk file and repair what can be repaired safely.

Diagnoses the things that make ``refresh`` stop or that a crash leaves behind: an unreadable file,
missing sheets or headers, a damaged or missing counter, office lock files (and how old they are),
leftover temporary files, content the save engine cannot keep. ``--fix`` rebuilds the counter from
the register and the report archive, adds missing optional sheets from the template and removes
leftover temporary files — through the same lock, verification and backup as every write. It never
invents rules: a missing matrix or SLA sheet is for a person to restore (``sheetdesk restore``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from sheetdesk.errors import BookUnreadable, SheetdeskError, StructureError
from sheetdesk.schema import COUNTER, REGISTER, SHEETS, find_sheet
from sheetdesk.settings import desk_clock
from sheetdesk.workbook import package, verify
from sheetdesk.workbook.counter import archived_ids, backup_ids, counter_problems, read_counter, serials_in
from sheetdesk.workbook.fastread import FastReadUnsupported
from sheetdesk.workbook.locks import DeskLock, check_not_open, find_office_locks, legacy_lock_files
from sheetdesk.workbook.marks import MARKS, mark_openpyxl
from sheetdesk.workbook.reader import Book, locate_header, open_book, read_table
from sheetdesk.workbook.safesave import LEFTOVER_AGE, atomic_write, list_backups, remove_leftovers, snapshot, temp_files

OK, WARN, BAD = "ok", "warning", "error"
REQUIRED_SHEETS = ("register", "matrix", "sla")
#: sheets --fix may add empty (header only) because nothing in them is a rule somebody chose
OPTIONAL_SHEETS = ("progress", "results", "followups", "tracker", "escalation", "lists", "followup_rules")


@dataclass
class Finding:
    level: str
    zh: str
    en: str
    fixable: bool = False
    fixed: bool = False


@dataclass
class Diagnosis:
    book: Path
    findings: list[Finding] = field(default_factory=list)
    written: bool = False

    def add(self, level: str, zh: str, en: str, fixable: bool = False) -> Finding:
        f = Finding(level, zh, en, fixable)
        self.findings.append(f)
        return f

    @property
    def healthy(self) -> bool:
        return all(f.level == OK or f.fixed for f in self.findings)


def _leftovers(book: Path) -> list[Path]:
    """Temporary files of interrupted saves, and the run lock earlier versions kept beside the book."""
    return temp_files(book) + legacy_lock_files(book)


class _NoSteps:
    def step(self, zh: str, en: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


def diagnose(path: Path, *, fix: bool = False, force: bool = False, steps=None) -> Diagnosis:
    """Read-only diagnosis through calamine (seconds on a 20k desk, not half a minute with openpyxl);
    openpyxl is loaded only to repair. ``steps`` (a :class:`sheetdesk.cli.console.Steps`) shows progress."""
    path = Path(path)
    d = Diagnosis(path)
    steps = steps or _NoSteps()
    for lock in find_office_locks(path):
        hours = lock.age_seconds / 3600
        stale = f"（已 {hours:.0f} 小时，可能是崩溃遗留，确认无人打开后可删除）" if hours >= 12 else ""
        d.add(WARN, lock.describe("zh") + stale, lock.describe("en") + (" (looks stale)" if stale else ""))
    leftovers = _leftovers(path)
    legacy = legacy_lock_files(path)
    temps = [p for p in leftovers if p not in legacy]
    if temps:
        d.add(WARN, f"有 {len(temps)} 个中断保存留下的临时文件：{'、'.join(p.name for p in temps)}（原文件完好）",
              f"{len(temps)} temporary file(s) left by an interrupted save: {', '.join(p.name for p in temps)} "
              "(the workbook itself is intact)", fixable=True)
    if legacy:
        d.add(WARN, f"旧版 sheetdesk 留在台账旁的锁文件：{'、'.join(p.name for p in legacy)}（现在放在 .sheetdesk/ 中），"
              "--fix 可删除", f"lock file(s) an earlier sheetdesk left beside the workbook: "
              f"{', '.join(p.name for p in legacy)} (now kept in .sheetdesk/); --fix removes them", fixable=True)
    steps.step(f"读取 {path.name}", f"reading {path.name}")
    try:
        try:
            book = open_book(path, fast=True)
        except FastReadUnsupported:  # a file calamine cannot read faithfully: openpyxl decides
            book = open_book(path)
    except BookUnreadable as exc:
        d.add(BAD, exc.zh + "；可用 sheetdesk restore 恢复备份", exc.en + "; sheetdesk restore can bring back a backup")
        return d
    missing_required = []
    for key in REQUIRED_SHEETS + OPTIONAL_SHEETS:
        sheet = next(s for s in SHEETS if s.key == key)
        name = _sheet_name(book, sheet)
        if name is None:
            if key in REQUIRED_SHEETS:
                missing_required.append(sheet)
                d.add(BAD, f"缺少工作表“{sheet.zh}”：其中是经理维护的规则，无法自动重建；请用 sheetdesk restore 从备份恢复，"
                      "或从新模板（sheetdesk init）复制", f"sheet '{sheet.en}' is missing: it holds the managers' rules "
                      "and cannot be rebuilt; restore a backup (sheetdesk restore) or copy it from a new desk (sheetdesk init)")
            else:
                d.add(WARN, f"缺少工作表“{sheet.zh}”，--fix 可按模板补上（空表）",
                      f"sheet '{sheet.en}' is missing; --fix adds it (empty) from the template", fixable=True)
            continue
        if not sheet.columns:
            continue
        header_row, columns = locate_header(book.wb[name], sheet)
        absent = [c for c in sheet.columns if c.required and c.key not in columns]
        if absent:
            d.add(BAD, f"工作表“{name}”缺少必需的列：{'、'.join(c.zh for c in absent)}（表头被改名或删除？应为："
                  f"{'、'.join(c.zh for c in sheet.columns if not c.owned)}）",
                  f"sheet '{name}' lacks required column(s) {', '.join(c.en for c in absent)} (renamed or deleted "
                  f"headers? expected: {', '.join(c.en for c in sheet.columns if not c.owned)})")
    register_ids: list[str] = []
    if find_sheet(book.wb.sheetnames, REGISTER) is not None:
        try:
            register_ids = [r.text("id") for r in read_table(book, REGISTER, add_owned=False).rows]
        except StructureError:
            pass
    backups = list_backups(path)
    steps.step("核对备份中的编号", "checking the IDs in the backups", total=len(backups))
    wanted = serials_in(register_ids + archived_ids(path) + backup_ids(path, on_backup=steps.advance))
    counter_name = COUNTER.name(book.lang)
    current: dict[str, int] = {}
    if counter_name not in book.wb.sheetnames:
        if wanted:
            d.add(BAD, f"隐藏的计数表“{counter_name}”不见了；--fix 可从登记表、归档和备份重建",
                  f"the hidden counter sheet '{counter_name}' is missing; --fix rebuilds it from the register, archive and backups",
                  fixable=True)
    else:
        problems = counter_problems(book)
        if problems:
            d.add(BAD, f"隐藏的计数表已损坏：{'；'.join(p[0] for p in problems)}；--fix 可重建",
                  f"the hidden counter sheet is damaged: {'; '.join(p[1] for p in problems)}; --fix rebuilds it",
                  fixable=True)
        else:
            current = read_counter(book, register_has_ids=False)
            low = sorted(m for m, s in wanted.items() if current.get(m, 0) < s)
            if low:
                d.add(WARN, f"计数表低于已用编号（{'、'.join(low)}）：下次编号会接在已有编号之后，--fix 可同步",
                      f"the counter is below IDs already used ({', '.join(low)}); --fix brings it up to date",
                      fixable=True)
        if book.wb[counter_name].sheet_state != "hidden":
            d.add(WARN, f"计数表“{counter_name}”未隐藏，--fix 可隐藏", f"the counter sheet '{counter_name}' is visible; "
                  "--fix hides it", fixable=True)
    steps.step("检查文件内容", "scanning the file's content")
    unsupported = package.scan(path)
    if unsupported:
        d.add(WARN, f"含有保存时无法保留的内容（{'、'.join(f.zh for f in unsupported)}）：refresh 会拒绝写入，validate 仍可用",
              f"holds content the save engine cannot keep ({', '.join(f.en for f in unsupported)}): refresh will "
              "refuse to write; validate still works")
    if not [f for f in d.findings if f.level != OK]:
        d.add(OK, "未发现问题", "no problems found")
    if fix and any(f.fixable for f in d.findings):
        steps.step(f"修复 {path.name}", f"repairing {path.name}")
        if not hasattr(book.wb, "save"):  # read by calamine: the repair edits the workbook through openpyxl
            book = open_book(path)
        _repair(path, book, d, {m: max(s, current.get(m, 0)) for m, s in {**current, **wanted}.items()}, force,
                len(register_ids))
    return d


def _sheet_name(book: Book, sheet) -> str | None:
    """The desk's sheet for ``sheet``: sheetdesk's own generated sheets by their mark, others by name."""
    return book.generated.get(sheet.key) if sheet.key in book.generated else find_sheet(book.wb.sheetnames, sheet)


def _repair(path: Path, book: Book, d: Diagnosis, counter: dict[str, int], force: bool, tickets: int) -> None:
    from sheetdesk.workbook.template import build_template  # openpyxl: loaded only to repair

    check_not_open(path, force=force)
    package.ensure_savable(path)  # the repair saves through openpyxl: never at the cost of a part it would drop
    with DeskLock(path):
        snap = snapshot(path)
        remove_leftovers(path)
        for leftover in legacy_lock_files(path):
            try:
                if time.time() - leftover.stat().st_mtime > LEFTOVER_AGE:  # not a save in progress right now
                    leftover.unlink()
            except OSError:
                pass
        template = build_template(book.lang)
        protected = verify.fingerprint(book, skip=set())
        counter_name = COUNTER.name(book.lang)
        if counter_name in book.wb.sheetnames:
            protected.pop(counter_name, None)
            book.wb.remove(book.wb[counter_name])
        ws = book.wb.create_sheet(counter_name)
        ws.append([c.name(book.lang) for c in COUNTER.columns])
        for month in sorted(counter):
            ws.append([month, counter[month]])
        ws.sheet_state = "hidden"
        for key in OPTIONAL_SHEETS:
            sheet = next(s for s in SHEETS if s.key == key)
            if _sheet_name(book, sheet) is None:
                src = template[sheet.name(book.lang)]
                name = book.generated_name(key) if key in MARKS else sheet.name(book.lang)
                target = book.wb.create_sheet(name)
                for row in src.iter_rows(values_only=True):
                    target.append(row)
                if key in MARKS:
                    mark_openpyxl(book.wb, key, name)
        if book.wb.active is not None and book.wb.active.sheet_state == "hidden":
            book.wb.active = 0
        try:
            atomic_write(path, book.wb.save, expected=snap, verify=lambda tmp: verify.assert_kept(tmp, book, protected),
                         backups=desk_clock(path).backup_policy(), note={"command": "doctor", "tickets": tickets})
        except SheetdeskError:
            raise
        d.written = True
        for f in d.findings:
            if f.fixable:
                f.fixed = True

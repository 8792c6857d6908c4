"""The library API behind the commands: open a desk, apply the rules, save safely.

``refresh`` and ``validate`` share one path; validate stops before writing. The CLI only maps
options to these functions and prints their results.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sheetdesk.app.append import Append, Appended, append_row, append_to_grid, appended_writes, refuse_bad_append
from sheetdesk.app.checks import CHECKED_SHEETS, check_writes, mark_writes, merged_conflicts
from sheetdesk.app.intake import intake, stamp_writes
from sheetdesk.errors import BookNotFound, SettingsError
from sheetdesk.rules import callrules, dates, followups
from sheetdesk.rules.contacts import contact_keys
from sheetdesk.rules.escalation import Candidate, Escalation, escalate, read_rules
from sheetdesk.rules.idle import find_idle, idle_problems, last_progress
from sheetdesk.rules.intake import split_memory
from sheetdesk.rules.problems import WARNING, Problem
from sheetdesk.rules.progress import Rollup, read_log, roll_up
from sheetdesk.rules.records import Table
from sheetdesk.rules.register import Lists, RegisterPlan, note_escalated_defaults, plan_register
from sheetdesk.rules.results import latest_by_ticket, read_results, read_scale, reopenings
from sheetdesk.rules.routing import Matrix, read_matrix
from sheetdesk.rules.sla import overdue_text, read_sla
from sheetdesk.rules.staff import Person, missing_owners, read_staff
from sheetdesk.rules.standup import Standup, build_standup, id_conflicts
from sheetdesk.rules.tracker import TicketStatus, build_statuses, fill_of, tracker_order, tracker_rows
from sheetdesk.rules.tracker import headers as tracker_headers
from sheetdesk.rules.workdays import WorkCalendar
from sheetdesk.schema import (
    COUNTER,
    DEFAULT_CHANNELS,
    DEFAULT_EMOTIONS,
    DEFAULT_TIERS,
    EN_LIST_VALUES,
    ESCALATION,
    FOLLOWUP_RULES,
    FOLLOWUPS,
    LISTS,
    MATRIX,
    PROGRESS,
    REGISTER,
    RESULTS,
    SHEETS_BY_KEY,
    SLA,
    STAFF,
)
from sheetdesk.settings import Settings, load_settings
from sheetdesk.workbook import verify
from sheetdesk.workbook.counter import filled_categories, read_counter
from sheetdesk.workbook.edits import KEEP, CellWrite, Change, GeneratedSheet
from sheetdesk.workbook.engines.openpyxl import apply_writes, write_counter, write_generated
from sheetdesk.workbook.engines.patch import Patch, PatchUnsupported, plan_patch, verify_patch
from sheetdesk.workbook.fastread import FastReadUnsupported
from sheetdesk.workbook.locks import DeskLock, check_not_open
from sheetdesk.workbook.package import ensure_savable
from sheetdesk.workbook.reader import Book, open_book, read_table
from sheetdesk.workbook.safesave import atomic_write, remove_leftovers, snapshot


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
    statuses: list[TicketStatus] = field(default_factory=list)
    standup: Standup | None = None
    calendar: WorkCalendar | None = None
    escalations: dict[int, Escalation] = field(default_factory=dict)
    calls: list[followups.Call] = field(default_factory=list)
    call_rules: list[callrules.CallRule] = field(default_factory=list)
    appended: Appended | None = None
    #: typed register rows whose 登记时间 this run filled with when sheetdesk first saw them
    first_seen: int = 0
    results: list | None = None
    #: the 分类矩阵 as read (the summary's 不满意TOP3 tells subcategories by it)
    matrix: Matrix | None = None
    #: register rows read (kept when :meth:`release` lets ``plan.tickets`` go)
    rows_read: int | None = None
    #: the 人员 / Staff sheet's people (who a group message may @-mention)
    staff: list[Person] = field(default_factory=list)
    _kept_ids: list[str | None] | None = None

    @property
    def register_rows(self) -> int:
        if self.rows_read is not None:
            return self.rows_read
        return len(self.plan.tickets) if self.plan else 0

    def release(self) -> None:
        """Let the per-ticket picture go (tickets, states, escalations, calls, results), keeping what
        the commands print: counts, problems, changes, the stand-up and the new IDs. ``run(lean=True)``
        calls it before the save, so a big desk's XML and its rules' objects are never in memory together."""
        self._kept_ids = self.new_ids
        self.rows_read = self.register_rows
        if self.plan is not None:
            self.plan.tickets = []
            self.plan.filled = {}  # the category memory: in the planned save already
        # what `add` says about its new ticket: the escalations of the appended register rows stay
        kept = set(self.appended.row_numbers) if self.appended and self.appended.sheet_key == "register" else set()
        self.escalations = {row: e for row, e in self.escalations.items() if row in kept}
        self.statuses, self.calls, self.results = [], [], None

    @property
    def new_id(self) -> str | None:
        """The ID ``add`` got for its row."""
        ids = self.new_ids
        return ids[0] if ids else None

    @property
    def new_ids(self) -> list[str | None]:
        """The IDs of the appended register rows, in order (None where a row got no ID)."""
        if self._kept_ids is not None:
            return self._kept_ids
        if self.appended is None or self.plan is None:
            return []
        by_row = {t.row: t.id for t in self.plan.tickets}
        return [by_row.get(r) for r in self.appended.row_numbers]


def _lists(table: Table | None) -> Lists:
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


def _scale_entries(table: Table | None) -> list[tuple[int, str]]:
    """选项's 评分制 entries: (row, text)."""
    return [(r.row, r.text("scale")) for r in table.rows if r.text("scale")] if table is not None else []


def _read_counter(book: Book, register) -> dict[str, int]:
    return read_counter(book, register_has_ids=any(r.text("id") for r in register.rows))


def _remembered(book: Book) -> dict[str, str]:
    """The categories sheetdesk filled on earlier refreshes (kept in the hidden sheet), as
    ``plan_register`` takes them; it says what to remember now (``filled_if_changed``)."""
    remembered = filled_categories(book)
    forget = getattr(book.wb, "forget", None)
    if forget is not None:  # its grid: read again only if the counter changes
        forget([COUNTER.name(book.lang)])
    return remembered


def run(path: Path, *, now: datetime | None = None, write: bool = True, dry_run: bool = False,
        force: bool = False, settings: Settings | None = None, append: Append | None = None,
        lean: bool = False) -> RunResult:
    """Validate, number and route the desk at ``path``; save unless ``write`` is False or ``dry_run``.

    ``lean`` (what the commands use): the per-ticket picture is released before the save
    (:meth:`RunResult.release`), and the log entries behind each roll-up once it is rolled up (the
    result's roll-ups then have none), which halves the peak memory of a big desk's refresh."""
    path = Path(path)
    if not path.exists():
        raise BookNotFound.at(path, suggest_init=True)
    settings = settings or load_settings(path)
    now = now or settings.now()
    saving = write and not dry_run
    with _cyclic_gc_paused():
        if saving:
            check_not_open(path, force=force, stale_after=settings.stale_lock_hours * 3600)
            with DeskLock(path):
                result = _run(path, now, settings, saving=True, dry_run=False, append=append, lean=lean)
                remove_leftovers(path)  # what killed runs left: see safesave.remove_leftovers
                return result
        return _run(path, now, settings, saving=False, dry_run=dry_run, append=append, lean=lean)


@contextlib.contextmanager
def _cyclic_gc_paused():
    """A run allocates millions of small objects (cells, records, states) and builds no garbage
    cycles worth collecting; Python's cyclic collector would walk the whole heap again and again
    (13 full collections, 2.5 s of a 16 s refresh of a 50k desk). Paused for the run, restored after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def desk_calendar(settings: Settings) -> WorkCalendar:
    """The desk's working calendar: the official one with the team's own days from sheetdesk.toml."""
    try:
        return WorkCalendar.from_settings(settings.calendar)
    except ValueError as exc:
        where = settings.path or "sheetdesk.toml"
        raise SettingsError(f"{where} 的 [calendar] 设置有误：{exc}", f"{where}: bad [calendar] setting: {exc}") from exc


def _owned_writes(book: Book, plan: RegisterPlan, statuses: list[TicketStatus], overdue: dict[int, str],
                  escalations: dict[int, Escalation]) -> Iterator[CellWrite]:
    """sheetdesk's own register columns: effective priority, status, due times with colours, overdue."""
    lang = book.lang
    by_row = {s.ticket.row: s for s in statuses}
    for t in plan.tickets:
        s = by_row.get(t.row)
        if s is None:
            values = {"effective_priority": None, "status": None,
                      "response_due": None, "resolution_due": None, "overdue": None}
            fills: dict[str, str | None] = {"response_due": None, "resolution_due": None}
        else:
            response, resolution = s.states["first_response"], s.states["closed"]
            values = {"effective_priority": s.effective or None, "status": s.status_text(lang),
                      "response_due": response.due, "resolution_due": resolution.due, "overdue": overdue[t.row]}
            fills = {"response_due": fill_of(response), "resolution_due": fill_of(resolution)}
        e = escalations.get(t.row)
        values["escalation_reason"] = e.reason(lang) if e else None
        for key, value in values.items():
            yield CellWrite("register", t.row, key, value, fill=fills.get(key, KEEP))


def _default_level(settings: Settings, sla):
    """The level untriaged tickets are timed at: ``[sla] default_level``, else the SLA sheet's least
    urgent level; a name the SLA sheet does not have stops the run."""
    if not sla.levels:
        return None
    if settings.default_level is None:
        return sla.levels[-1]
    level = sla.resolve(settings.default_level)
    if level is None:
        where = settings.path or "sheetdesk.toml"
        raise SettingsError(
            f"{where}：[sla] default_level “{settings.default_level}”不在时效标准表中，应为：{'、'.join(sla.names())}",
            f"{where}: [sla] default_level '{settings.default_level}' is not a level of the SLA sheet; "
            f"expected one of: {', '.join(sla.names())}")
    return level


def _provisional(statuses: list[TicketStatus], cal: WorkCalendar) -> list[Problem]:
    """A warning on each deadline computed in a year whose official holidays are not known yet."""
    out = []
    for s in statuses:
        if not s.provisional:
            continue
        last = max(st.due for st in s.states.values() if st.due)
        years = [y for y in range(s.ticket.received.year, last.year + 1)  # type: ignore[union-attr]
                 if cal.is_provisional(date(y, 1, 1))]
        label = "、".join(str(y) for y in years)
        out.append(Problem(
            "register", s.ticket.row, "resolution_due",
            f"时限按普通周末推算（{label}年官方节假日安排尚未收录），仅供参考",
            f"deadline computed on plain weekends ({label} official holidays not known yet); provisional",
            WARNING))
    return out


@dataclass
class _Planned:
    """A patch-engine run between its two steps: the edits are decided, the sheets not yet spliced."""
    result: RunResult
    book: Book
    patch: Patch
    typed_calls: object
    snap: object  # the desk's file as it was read (safesave.snapshot)


#: how a run reads and saves the desk (:func:`_mode` picks one, :func:`_run` falls back from the first two)
PATCH = "patch"        # calamine reads; the patch engine splices the sheets it edits (a save or a dry run)
READ = "read"          # calamine reads; nothing is written, the rules' answer is the result (validate)
OPENPYXL = "openpyxl"  # openpyxl reads, edits and saves the whole workbook (the engine setting, every fallback)


def _mode(path: Path, settings: Settings, *, saving: bool, dry_run: bool) -> str:
    if not saving and not dry_run:
        return READ
    if settings.engine == "patch" and path.suffix.lower() in (".xlsx", ".xlsm"):
        return PATCH
    return OPENPYXL


def _run(path: Path, now: datetime, settings: Settings, *, saving: bool, dry_run: bool,
         append: Append | None = None, lean: bool = False) -> RunResult:
    """The one place the engine is chosen and the one place it falls back: a desk the calamine path
    cannot do (calamine cannot read it, or the patch engine meets XML it does not handle — both say
    :class:`PatchUnsupported`) runs again, from the file, with openpyxl."""
    mode = _mode(path, settings, saving=saving, dry_run=dry_run)
    if mode != OPENPYXL:
        try:
            return _run_with(mode, path, now, settings, saving=saving, dry_run=dry_run, append=append, lean=lean)
        except PatchUnsupported:
            pass
        # out of the handler, the failed attempt's frames (its book, records and planned edits) are gone;
        # the paused cyclic collector takes what they left in cycles before openpyxl reads the desk
        gc.collect()
    return _run_with(OPENPYXL, path, now, settings, saving=saving, dry_run=dry_run, append=append, lean=lean)


def _run_with(mode: str, path: Path, now: datetime, settings: Settings, *, saving: bool, dry_run: bool,
              append: Append | None = None, lean: bool = False) -> RunResult:
    planned = _plan(mode, path, now, settings, saving=saving, dry_run=dry_run, append=append, lean=lean)
    if isinstance(planned, RunResult):
        return planned
    # _plan has returned: its rules' objects (records, tickets, states, tracker rows) are gone unless
    # the result keeps them
    result, book, patch, typed_calls, snap = (planned.result, planned.book, planned.patch, planned.typed_calls,
                                              planned.snap)
    del planned
    if lean:
        result.release()
        book.release()
        gc.collect()  # the cyclic collector is paused for the run; a few cycles may hold the rest
    patch.splice(pack_parts=saving)  # PatchUnsupported: _run falls back
    result.changes = patch.changes
    if result.appended is not None:  # the appended rows are changes, even when nothing else moves
        result.changes[:0] = [Change(result.appended.sheet_key, n, "(row)", None, "appended")
                              for n in result.appended.row_numbers]
    if result.changes and saving:
        # only the cells that changed may differ in the new file: every other cell is checked
        written = {(book.tables[c.sheet].name, c.row, book.tables[c.sheet].columns[c.column]) for c in patch.changes
                   if c.sheet in book.tables and c.column in book.tables[c.sheet].columns}
        written |= {(book.tables[k].name, book.tables[k].header_row, book.tables[k].columns[c])
                    for k, c in book.added_columns}
        generated = {SHEETS_BY_KEY["counter"].zh, SHEETS_BY_KEY["counter"].en,
                     book.generated_name("tracker"), book.generated_name("followups")}

        def check_patch(tmp: Path) -> None:
            verify_patch(tmp, book, written, generated, patch)
            verify.assert_typed_read_back(tmp, book.generated_name("followups"), typed_calls)

        result.backup = atomic_write(path, patch.save, expected=snap, verify=check_patch,
                                     backups=settings.backup_policy(), note=_backup_note(result, append))
        result.written = True
    return result


def _backup_note(result: RunResult, append: Append | None) -> dict:
    """What ``restore`` lists for the backup a save makes: the command that saved, and the number of
    register rows of the version it replaces (the rows read, less those this run appends)."""
    if append is None:
        command = "refresh"
    else:
        command = "log" if append.sheet_key == "progress" else "import" if append.rows is not None else "add"
    appended = result.appended
    added = len(appended.row_numbers) if appended is not None and appended.sheet_key == "register" else 0
    return {"command": command, "tickets": max(result.register_rows - added, 0)}


def _plan(mode: str, path: Path, now: datetime, settings: Settings, *, saving: bool, dry_run: bool,
          append: Append | None = None, lean: bool = False) -> RunResult | _Planned:
    """Read the desk and apply the rules. The openpyxl engine and read-only runs finish here; a
    patch-engine run returns its planned edits for :func:`_run_with` to splice and save."""
    # the patch engine plans the edits of a save and of a dry run (which lists them and stops there)
    patching = mode == PATCH
    fast = mode != OPENPYXL  # calamine reads
    snap = snapshot(path) if saving else None
    result = RunResult(path, now, "zh", dry_run=dry_run)
    cal = desk_calendar(settings)
    try:
        # the register's formula cells are noted while its XML is read (appended rows go below them)
        book = open_book(path, fast=fast, formulas_of=frozenset((REGISTER.zh, REGISTER.en)) if patching else frozenset())
    except FastReadUnsupported as exc:  # calamine cannot read this file: openpyxl reads it (and saves, if saving)
        raise PatchUnsupported(str(exc)) from None
    if saving and not patching:  # the patch engine copies what it does not edit, so nothing is at risk
        ensure_savable(path)
    result.desk_lang = book.lang
    restore_grid = None
    appended = None
    if append is not None:
        if fast:  # the rows join calamine's grid, to be read with the others (and written as edits)
            appended, restore_grid = append_to_grid(book, append, saving=patching)
        else:
            appended = append_row(book, append)
        result.appended = appended
    register = read_table(book, REGISTER)
    if appended is not None and appended.ref_column:
        register.columns["external_ref"] = appended.ref_column  # import's reference: outside the contract
    sla_table = read_table(book, SLA)
    matrix_table = read_table(book, MATRIX)
    progress_table = read_table(book, PROGRESS, required=False)
    results_table = read_table(book, RESULTS, required=False)
    rules_table = read_table(book, ESCALATION, required=False)
    calls_table = read_table(book, FOLLOWUPS, required=False, add_owned=False)
    staff_table = read_table(book, STAFF, required=False)
    call_rules_table = read_table(book, FOLLOWUP_RULES, required=False)
    merged_problems, blocked = merged_conflicts(book)
    if restore_grid is not None:
        restore_grid()  # the grid holds what the file holds: the new rows are edits into empty cells
        del restore_grid  # (it holds the grid, let go just below)
    forget = getattr(book.wb, "forget", None)
    if forget is not None:  # the big sheets' grids: their records hold what the rules and the patch need
        forget([t.name for t in (register, progress_table, results_table) if t is not None])

    sla, sla_problems = read_sla(sla_table)
    matrix, matrix_problems = read_matrix(matrix_table, sla)
    result.matrix = matrix
    remembered = _remembered(book)
    since_text = remembered.pop(followups.SINCE_KEY, None)
    lists_table = read_table(book, LISTS, required=False, add_owned=False)
    plan = plan_register(register, matrix, sla, _lists(lists_table), _read_counter(book, register), now, book.date1904,
                         _default_level(settings, sla), split_memory(remembered)[0])
    result.plan = plan
    # the day the desk first planned by its 回访规则 sheet: periodic calls whose window had ended before
    # it are history the team never planned, not calls to make now (hidden sheet, like the IDs)
    since = followups.planned_since(since_text, now) if call_rules_table is not None else None
    if since is not None and mode != READ:
        plan.filled[followups.SINCE_KEY] = since.isoformat()
    if since_text is not None:
        remembered[followups.SINCE_KEY] = since_text
    intake_plan = intake(book, plan, remembered, appended, cal, now, stamping=mode != READ)
    result.first_seen = intake_plan.stamped_first_seen

    received = {}
    for t in plan.tickets:
        if t.id and t.id not in received:
            received[t.id] = t.received
    entries, log_problems = read_log(progress_table, received, now, book.date1904, plan.conflicts)
    scale, scale_problems = read_scale(_scale_entries(lists_table), settings.rating_scale)
    results, result_problems = read_results(results_table, received, now, book.date1904, plan.conflicts, scale)
    result_problems = scale_problems + result_problems
    result.results = results
    rollups, rollup_problems = roll_up(entries, received, reopenings(results), settings.pause_steps)
    last_logged = last_progress(entries)
    if progress_table is not None:
        # from here on only the log's 校验 cells are written (and, by the patch engine, compared with
        # the records): a row whose 校验 is empty needs no record for that, and a 100k-row log's go
        progress_table.rows = [r for r in progress_table.rows if r.get("check") is not None]
    if lean:  # the entries behind each roll-up serve only reports and exports (which are not lean)
        del entries
        for rollup in rollups.values():
            rollup.entries = []
    rules, rule_problems = read_rules(rules_table, sla)
    candidates = [_candidate(t, matrix, rollups) for t in plan.tickets]
    escalations = escalate(candidates, rules)
    result.escalations = escalations
    raised = {t.row: (t.level.name, escalations[t.row].level.name) for t in plan.tickets
              if t.untriaged and t.row in escalations and escalations[t.row].level is not t.level}
    if raised:
        note_escalated_defaults(plan, raised)
    effective = {row: (e.level.name, e.level.rank) for row, e in escalations.items() if e.level}
    levels = {lv.name: lv for lv in sla.levels}
    statuses = build_statuses(plan.tickets, rollups, effective, levels, cal, now)
    result.statuses = statuses
    result.standup = build_standup(statuses, cal, now, escalations, plan.tickets)
    result.standup.id_conflicts = id_conflicts(plan.tickets, plan.conflicts)
    result.standup.idle = find_idle(statuses, levels, last_logged, cal, now)
    result.calendar = cal

    call_rules, call_rule_problems = (callrules.read_call_rules(call_rules_table) if call_rules_table is not None
                                      else (callrules.legacy_rules(settings.periodic_calls), []))
    result.call_rules = call_rules
    contacts = {c.row: c.contacts for c in candidates}  # one purchase, one call: the customer by contact
    calls = _calls(statuses, results, calls_table, cal, call_rules, now, book, plan.conflicts, since, contacts)
    result.calls = calls
    result.standup.calls_due = [c for c in calls if c.planned and not c.done and c.due is not None
                                and c.due <= result.standup.next_standup.date()]

    result.staff, staff_problems = read_staff(staff_table)
    staff_problems += missing_owners(result.staff, (t.owner for t in plan.tickets),
                                     staff_table.rows[0].row if staff_table is not None and staff_table.rows else None)
    problems = (sla_problems + matrix_problems + rule_problems + plan.problems + intake_plan.problems + log_problems
                + rollup_problems + result_problems + merged_problems + staff_problems
                + idle_problems(result.standup.idle, cal) + call_rule_problems + followups.call_problems(calls))
    if mode == READ:  # read-only: the problems and the ticket picture are the whole answer
        result.problems = _sorted(problems)
        return result
    overdue = {s.ticket.row: overdue_text(s.states, cal, book.lang, s.round_text(book.lang) if s.round > 1 else None)
               for s in statuses}
    problems += _provisional(statuses, cal)
    result.problems = _sorted(problems)
    if append is not None and appended is not None:
        refuse_bad_append(append, appended, problems)

    def all_writes():
        """Every cell sheetdesk would write, as a stream: the patch engine keeps only those that
        change (a daily refresh of 50k tickets considers half a million cells and edits a few thousand)."""
        for (row, key), value in plan.writes.items():
            yield CellWrite("register", row, key, value, only_if_blank=True)
        if append is not None and appended is not None and patching:
            yield from appended_writes(book, append, appended)
        yield from _owned_writes(book, plan, statuses, overdue, escalations)
        yield from stamp_writes(intake_plan)
        for sheet_key in CHECKED_SHEETS:
            yield from check_writes(book, sheet_key, result.problems)
            yield from mark_writes(book, sheet_key, result.problems)

    order, open_rows = tracker_order(statuses)
    header = tracker_headers(book.lang)
    lang = book.lang
    # the generated sheets' rows are made while they are written (and again only if compared)
    tracker = GeneratedSheet("tracker", header, len(order), lambda: tracker_rows(order, overdue, cal, lang),
                             [13, 14, 12, 10, 10, 10] + [16, 16, 10] * 4 + [16, 28, 14, 8, 16], open_rows,
                             tuple(i for i, _ in enumerate(header) if 6 <= i < 18 and (i - 6) % 3 != 2))
    call_sheet = GeneratedSheet("followups", followups.header(lang), len(calls), lambda: followups.sheet_rows(calls, lang),
                                [c.width for c in FOLLOWUPS.columns], len(calls), datetime_cols=(6,),
                                date_cols=(3, 4), people_cols=(5, 6, 7, 8))

    # a people's column the desk does not have (e.g. no 协同部门) simply is not filled
    writes = (w for w in all_writes() if w.sheet in book.tables and w.column in book.tables[w.sheet].columns)
    if blocked:
        writes = (w for w in writes if (w.sheet, w.row, w.column) not in blocked)
    marks = [k for k in CHECKED_SHEETS if k in book.tables and "check" in book.tables[k].columns]
    if patching:
        # PatchUnsupported: _run falls back
        patch = plan_patch(book, writes, plan.counter, [tracker, call_sheet],
                           {appended.sheet_key: appended.originals} if appended is not None else None,
                           filled=plan.filled_if_changed, marks=marks)
        typed_calls = verify.typed_values(calls_table, followups.STAFF_COLUMNS) if saving else None
        return _Planned(result, book, patch, typed_calls, snap)
    writes = list(writes)
    protected = verify.fingerprint(book, skip={(w.sheet, w.row, w.column) for w in writes if w.value is not KEEP})
    typed_calls = verify.typed_values(calls_table, followups.STAFF_COLUMNS)
    result.changes = (apply_writes(book, writes, marks) + write_counter(book, plan.counter, plan.filled_if_changed)
                      + write_generated(book, tracker) + write_generated(book, call_sheet))
    if appended is not None:  # the appended rows are changes, even when nothing else moves
        for number in reversed(appended.row_numbers):
            result.changes.insert(0, Change(appended.sheet_key, number, "(row)", None, "appended"))

    if saving and result.changes:
        def check(tmp: Path) -> None:
            verify.assert_kept(tmp, book, protected)
            verify.assert_typed_kept(tmp, book.generated_name("followups"), typed_calls)

        result.backup = atomic_write(path, book.wb.save, expected=snap, verify=check,
                                     backups=settings.backup_policy(), note=_backup_note(result, append))
        result.written = True
    return result


def _candidate(t, matrix: Matrix, rollups: dict[str, Rollup]) -> Candidate:
    v = t.values
    text = " ".join(str(v.get(k) or "") for k in ("description", "expectation"))
    product = str(v.get("product") or "").strip()
    rollup = rollups.get(t.id) if t.id else None
    return Candidate(t.row, t.received, text, product, t.category, str(v.get("tier") or "").strip(), t.level,
                     keyword=matrix.keyword_of(t.lead_category, text) if t.category and not product else "",
                     emotion=str(v.get("emotion") or "").strip(), ticket_id=t.id,
                     contacts=contact_keys(v.get("contact")), closed_at=rollup.closed_at if rollup and rollup.closed else None)


def _calls(statuses: list[TicketStatus], results, table, cal: WorkCalendar, rules: list[callrules.CallRule],
           now: datetime, book: Book, conflicts: dict[str, list[int]] | None = None,
           since: date | None = None, contacts: dict[int, tuple[str, ...]] | None = None) -> list[followups.Call]:
    """The follow-up plan of the 回访规则 sheet; unhappy and VIP first. An ID several register rows
    hold plans no call (its rows are keyed by ID) until it is corrected."""
    unhappy = {r.ticket_id for r in latest_by_ticket(results).values() if r.rating == "unsatisfied"}
    owed = []
    for s in statuses:
        t = s.ticket
        if not t.id or t.received is None or (conflicts and t.id in conflicts):
            continue
        vip = str(t.values.get("tier") or "").strip().upper() == "VIP"
        closed = s.rollup.closed_at.date() if s.closed and s.rollup.closed_at is not None else None
        bought, _ = dates.to_date(t.values.get("purchase_date"), book.date1904)
        owed.append(followups.Owed(t.id, t.customer, t.received.date(), bought, closed, s.rollup.rounds + 1,
                                   0 if (vip or t.id in unhappy) else 1,
                                   (contacts or {}).get(t.row, ()) if bought is not None else ()))
    planned = followups.plan_calls(owed, rules, cal, book.lang, since)
    return followups.merge_calls(planned, table, now.date(), book.date1904, conflicts, cal)


def _sorted(problems: list[Problem]) -> list[Problem]:
    order = {key: i for i, key in enumerate(("sla", "matrix", "escalation", "register", "progress", "results"))}
    return sorted(problems, key=lambda p: (order.get(p.sheet, 9), p.row or 0))

"""What the commands print: rich tables for people, the same facts as JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sheetdesk.app.desk import RunResult
from sheetdesk.app.doctor import BAD, OK, Diagnosis
from sheetdesk.cli.idle_view import idle_cells, idle_heads, idle_json, idle_title
from sheetdesk.rules import dates
from sheetdesk.rules.problems import ERROR, INFO, WARNING
from sheetdesk.rules.tracker import STAGE_NAMES
from sheetdesk.schema import SHEETS_BY_KEY
from sheetdesk.schema import text as _t

MAX_ROWS = 60


def stdout_console() -> Console:
    stream = std_stream("stdout")
    tty = stream.isatty()
    return Console(file=stream, width=None if tty else 160, highlight=False, soft_wrap=not tty)


# --- streams: output never fails on encoding -------------------------------------------------------
#
# A Chinese Windows writes redirected output in GBK (as does PYTHONIOENCODING=gbk): ✓, •, box lines
# and a customer's emoji are not in it. Characters a stream cannot encode become "?" instead of a
# UnicodeEncodeError halfway through a report of what was saved.

_STRICT = ("strict", "surrogateescape")


class _Replacing:
    """A text stream that replaces what it cannot encode (for streams that cannot be reconfigured)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self._stream, "encoding", None) or "ascii"
            return self._stream.write(text.encode(encoding, "replace").decode(encoding))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def safe_stream(stream):
    """``stream``, made to replace unencodable characters (reconfigured when it can be)."""
    if stream is None or getattr(stream, "errors", None) not in _STRICT:
        return stream
    try:
        stream.reconfigure(errors="replace")
        return stream
    except (AttributeError, ValueError, OSError):
        return _Replacing(stream)


def std_stream(name: str):
    """``sys.stdout`` / ``sys.stderr`` as they are now (a test runner swaps them), replacing what
    they cannot encode. Not click.get_text_stream: for a stream set to replace it wraps the
    underlying bytes anew, in UTF-8, beside the stream everything else is written to."""
    return safe_stream(getattr(sys, name))


def setup_streams() -> None:
    """At start-up: stdout and stderr replace what their encoding cannot hold, for click and rich alike."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name, None)
        safe = safe_stream(stream)
        if safe is not stream:
            setattr(sys, name, safe)


# --- progress of long work ---------------------------------------------------------------------------

def stderr_is_terminal() -> bool:
    """Progress is drawn only for a person watching: never into a pipe, a log file or a test's capture."""
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class Steps:
    """A transient spinner (and bar, when a step has a count) on stderr for work that takes seconds.

    ``with Steps(show=not as_json) as steps: steps.step("读取", "reading", total=n); steps.advance()``.
    Drawn only when stderr is a terminal; otherwise every call is a no-op and nothing is written.
    """

    def __init__(self, *, lang: str = "zh", show: bool = True) -> None:
        self.lang = lang
        self.shown = show and stderr_is_terminal()
        console = Console(file=std_stream("stderr"), stderr=True,
                          force_terminal=True if self.shown else None)
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                                  TimeElapsedColumn(), console=console, transient=True, disable=not self.shown)
        self._task = None

    def __enter__(self) -> Steps:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)

    def step(self, zh: str, en: str, total: int | None = None) -> None:
        """Start the next step (the previous one is done); ``total`` gives it a bar."""
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(zh if self.lang == "zh" else en, total=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, n)


def busy(lang: str, zh: str, en: str, *, show: bool = True) -> Steps:
    """A spinner on stderr (terminal only) while one long step runs."""
    steps = Steps(lang=lang, show=show)
    steps.step(zh, en)
    return steps


def echo_json(data: object) -> None:
    """JSON on stdout, written as it is encoded: a 50k desk's problems would otherwise be one string
    of tens of megabytes (and its encoded copy) on top of the run's memory."""
    out = std_stream("stdout")
    pieces: list[str] = []
    for piece in json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(data):
        pieces.append(piece)
        if len(pieces) == 8192:  # handed over a few hundred kilobytes at a time, not token by token
            out.write("".join(pieces))
            pieces.clear()
    out.write("".join(pieces) + "\n")


def _level(level: str, lang: str) -> str:
    names = {ERROR: ("错误", "error"), WARNING: ("注意", "warning"), INFO: ("提示", "note")}[level]
    return names[0] if lang == "zh" else names[1]


def _fmt_value(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return dates.fmt(value)  # type: ignore[arg-type]
    return str(value)


def print_result(result: RunResult, lang: str) -> None:
    console = stdout_console()
    plan = result.plan
    levels = Counter(p.level for p in result.problems)
    rows = result.register_rows
    console.print(_t(
        lang,
        f"[bold]{escape(str(result.book))}[/]  当前时间 {dates.fmt(result.now)}：登记表 {rows} 行，新编号 {len(plan.issued) if plan else 0} 个，"
        f"自动分派 {plan.routed if plan else 0} 行；错误 {levels[ERROR]}，注意 {levels[WARNING]}，提示 {levels[INFO]}",
        f"[bold]{escape(str(result.book))}[/]  now {dates.fmt(result.now)}: {rows} register rows, {len(plan.issued) if plan else 0} new IDs, "
        f"{plan.routed if plan else 0} rows routed; {levels[ERROR]} errors, {levels[WARNING]} warnings, {levels[INFO]} notes",
    ))
    if result.first_seen:
        console.print(_t(lang, f"登记时间：{result.first_seen} 行手工录入的登记按 sheetdesk 首次看到的时间填写（不一定是录入时间，不判断是否及时登记）",
                         f"Entered: {result.first_seen} typed rows stamped with when sheetdesk first saw them (not necessarily when typed; not judged for late registration)"))
    shown = [p for p in result.problems if p.level != INFO] or []
    if shown:
        table = Table(title=_t(lang, "需要处理的问题", "Problems to fix"), show_lines=False)
        for head in (_t(lang, "工作表", "Sheet"), _t(lang, "行", "Row"), _t(lang, "列", "Column"),
                     _t(lang, "级别", "Level"), _t(lang, "说明", "Message")):
            table.add_column(head)
        for p in shown[:MAX_ROWS]:
            sheet = SHEETS_BY_KEY[p.sheet]
            table.add_row(sheet.name(lang), (f"第{p.row}行" if lang == "zh" else f"row {p.row}") if p.row else "", sheet.column(p.column).name(lang) if p.column else "",
                          _level(p.level, lang), escape(p.text(lang)))
        console.print(table)
        if len(shown) > MAX_ROWS:
            console.print(_t(lang, f"……另有 {len(shown) - MAX_ROWS} 条，见各行的“校验”列",
                             f"… and {len(shown) - MAX_ROWS} more; see each row's Check column"))
    if result.dry_run:
        console.print(_t(lang, f"[yellow]试运行：将修改 {len(result.changes)} 处，未写入任何内容[/]",
                         f"[yellow]dry run: {len(result.changes)} changes would be made; nothing was written[/]"))
        if result.changes:
            table = Table()
            for head in (_t(lang, "工作表", "Sheet"), _t(lang, "行", "Row"), _t(lang, "列", "Column"),
                         _t(lang, "原值", "Old"), _t(lang, "新值", "New")):
                table.add_column(head)
            for c in result.changes[:MAX_ROWS * 2]:
                sheet = SHEETS_BY_KEY[c.sheet]
                col = sheet.column(c.column).name(lang) if c.column in {x.key for x in sheet.columns} else c.column
                table.add_row(sheet.name(lang), str(c.row), col, escape(_fmt_value(c.old)), escape(_fmt_value(c.new)))
            console.print(table)
    elif result.written:
        console.print(_t(lang, f"[green]已保存 {escape(str(result.book))}[/]（{len(result.changes)} 处修改；备份：{escape(str(result.backup))}）",
                         f"[green]saved {escape(str(result.book))}[/] ({len(result.changes)} changes; backup: {escape(str(result.backup))})"))
    elif result.changes:
        console.print(_t(lang, "只读校验：未写入任何内容", "validate is read-only: nothing was written"))
    else:
        console.print(_t(lang, "无需修改：工作簿已是最新", "nothing to change: the workbook is up to date"))


def result_json(result: RunResult, lang: str) -> dict:
    plan = result.plan
    return {
        "book": str(result.book),
        "now": dates.fmt(result.now),
        "written": result.written,
        "dry_run": result.dry_run,
        "backup": str(result.backup) if result.backup else None,
        "rows": result.register_rows,
        "issued": {str(row): ticket_id for row, ticket_id in (plan.issued.items() if plan else [])},
        "routed": plan.routed if plan else 0,
        "first_seen": result.first_seen,
        "changes": [
            {"sheet": SHEETS_BY_KEY[c.sheet].name(lang), "row": c.row, "column": c.column,
             "old": _fmt_value(c.old), "new": _fmt_value(c.new)}
            for c in result.changes
        ],
        "problems": [
            {"sheet": SHEETS_BY_KEY[p.sheet].name(lang), "row": p.row,
             "column": SHEETS_BY_KEY[p.sheet].column(p.column).name(lang) if p.column else None,
             "level": p.level, "message": p.text(lang)}
            for p in result.problems
        ],
        "standup": standup_json(result, lang),
    }


def print_demo_guide(result: RunResult, lang: str) -> None:
    console = stdout_console()
    book = result.book
    if lang == "zh":
        lines = [
            "",
            f"[bold]示例台账已生成：{book}[/]  用 Excel、WPS 或 LibreOffice 打开看看：",
            "  • 登记表：空着的“反馈编号”已按 年月-流水号 自动编号；空着的分类、部门、责任人、优先级已按分类矩阵填好",
            "  • 登记表“校验”列：每行的问题（缺必填、时间写错、未知渠道、电话号码不对、重复编号……）",
            "  • 登记表 生效优先级 / 升级原因：烫伤等关键词、财产损失、舆情（曝光、12315…）、同一联系方式重复投诉、"
            "愤怒且多次投诉、同型号（无型号时按分类矩阵的同一行）同类问题 7 天内 5 单（批量问题）自动升级；复合型问题（如 产品质量类,物流类）"
            "由主导分类分派，其他分类的部门填入协同部门",
            "  • 登记表 响应时限 / 解决时限 / 超时：按法定工作日（含调休）计算，超时标红、将到期标黄",
            "  • 跟踪看板：未结工单按紧急程度排序，每个环节的时限、完成时间和状态；已关闭的在下方",
            "  • 回访计划：按回访规则排出的回访（结案后 1–3 个工作日、购买后 7–15/30/90 天），应回访日期起可回访、"
            "最晚回访后算逾期；回访人、时间、评分、记录由客服填写",
            "  • 分类矩阵 / 时效标准 / 升级规则 / 回访规则 / 选项：经理维护的规则，改完再运行 refresh 即生效",
            f"  • 月度汇总：sheetdesk summary {book} --month {result.now:%Y-%m}",
            f"  • 再运行一次 sheetdesk refresh {book} --now \"{result.now:%Y-%m-%d %H:%M}\"：什么都不会变（刷新是幂等的；不带 --now 则按现在的时间重算时限和颜色）",
            f"  • 在登记表新增一行、留空编号，再运行 sheetdesk refresh {book}",
        ]
    else:
        lines = [
            "",
            f"[bold]Demo desk written: {book}[/]  open it in Excel, WPS or LibreOffice:",
            "  • Register: blank IDs were numbered YYYYMM-NNN; blank category, department, owner and priority were routed by the matrix",
            "  • Register 'Check' column: each row's problems (missing fields, bad times, unknown channel, bad phone, duplicate ID…)",
            "  • Register Effective priority / Escalation reason: injury keywords, property damage, publicity, the "
            "same contact complaining again, angry repeat complaints and batches (5 of one category + product, or "
            "+ the matrix row matched without a product, in 7 days) escalate; a compound ticket (Product quality,Logistics) "
            "is routed by its lead category, the others' departments collaborate",
            "  • Register Response due / Resolution due / Overdue: on the official working calendar; late red, due soon amber",
            "  • Tracker: open tickets, most urgent first, every stage's due, done and state; closed ones below",
            "  • Follow-ups: the calls of the Follow-up rules sheet (1-3 working days after the close; 7-15, 30 and 90 "
            "days after purchase), callable from Due, late after Latest; staff fill caller, time, score and notes",
            "  • Matrix / SLA / Escalation / Follow-up rules / Lists: the managers' rules; edit them and run refresh again",
            f"  • Monthly summary: sheetdesk summary {book} --month {result.now:%Y-%m}",
            f"  • Run it again, sheetdesk refresh {book} --now \"{result.now:%Y-%m-%d %H:%M}\": nothing changes (refresh is idempotent; without --now the deadlines and colours move on to the real time)",
            f"  • Add a row to the Register with a blank ID, then run sheetdesk refresh {book}",
        ]
    for line in lines:
        console.print(line)


def _stage(stage: str | None, lang: str) -> str:
    if stage is None:
        return ""
    zh, en = STAGE_NAMES[stage]
    return zh if lang == "zh" else en


#: lines a stand-up list shows on the console before "… and N more" (--json keeps every item)
STANDUP_ROWS = 30

_MISSING = {"owner": ("责任人", "owner"), "category": ("分类", "category"), "priority": ("优先级", "priority")}


def _prio(item, lang: str) -> str:
    """The effective priority, marked when an escalation rule raised the ticket."""
    if not item.escalated:
        return item.priority
    return f"{item.priority}（升级）" if lang == "zh" else f"{item.priority} (escalated)"


def _others(item, lang: str) -> str:
    """The ticket's other late stages, then its other stages due by the next stand-up."""
    parts = []
    for stage, late, due in item.others:
        if late:
            parts.append(_stage(stage, lang))
        else:
            parts.append(_t(lang, f"{_stage(stage, lang)} {dates.fmt(due)}到期", f"{_stage(stage, lang)} due {dates.fmt(due)}"))
    return ("、" if lang == "zh" else ", ").join(parts)


def print_standup(result: RunResult, lang: str) -> None:
    """The stand-up summary: one line per ticket in each list, late and due-soon amounts in each
    stage's own unit as the register's 超时 column writes them (sorted by working time, one measure
    for every unit), escalated tickets marked, every cut list saying how many more there are."""
    s = result.standup
    if s is None:
        return
    console = stdout_console()
    cal = result.calendar
    console.print(_t(lang, f"\n[bold]晨会摘要[/]（下次晨会 {dates.fmt(s.next_standup)}）",
                     f"\n[bold]Stand-up summary[/] (next stand-up {dates.fmt(s.next_standup)})"))
    _print_id_conflicts(console, s.id_conflicts, lang)

    def show(title: str, items: list, heads: list[str], cells, *, skip_empty: bool = False) -> None:
        if not items:
            if not skip_empty:
                console.print(f"{title}：0" if lang == "zh" else f"{title}: 0")
            return
        table = Table(title=f"{title}（{len(items)}）" if lang == "zh" else f"{title} ({len(items)})")
        for h in heads:
            table.add_column(h)
        for i in items[:STANDUP_ROWS]:
            table.add_row(*(escape(str(c)) for c in cells(i)))
        console.print(table)
        if len(items) > STANDUP_ROWS:
            more = len(items) - STANDUP_ROWS
            console.print(_t(lang, f"… 另有 {more} 条（refresh --json 列出全部）", f"… and {more} more (refresh --json lists all)"))

    ticket_heads = [_t(lang, "反馈编号", "ID"), _t(lang, "客户", "Customer"), _t(lang, "责任人", "Owner"),
                    _t(lang, "生效优先级", "Priority")]
    unassigned = _t(lang, "（未分派）", "(unassigned)")

    shared = {c.ticket_id for c in s.id_conflicts}  # rows sharing an ID are told apart by their row

    def ticket(i) -> list[str]:
        shown = _t(lang, f"{i.ticket_id}（第{i.row}行）", f"{i.ticket_id} (row {i.row})") if i.ticket_id in shared else i.ticket_id
        return [shown, i.customer, i.owner or unassigned, _prio(i, lang)]

    show(_t(lang, "待补全", "Needs completing"), s.incomplete,
         [_t(lang, "登记表行", "Register row"), _t(lang, "反馈编号", "ID"), _t(lang, "客户", "Customer"),
          _t(lang, "需补全（补全后才能编号、计时）", "What is missing (to be numbered and timed)"), _t(lang, "优先级", "Priority"), _t(lang, "升级原因", "Escalation reason")],
         lambda i: [_t(lang, f"第{i.row}行", f"row {i.row}"), i.ticket_id, i.customer,
                    ("；" if lang == "zh" else "; ").join(m[0] if lang == "zh" else m[1] for m in i.missing),
                    _prio(i, lang), i.escalation.reason(lang) if i.escalation else ""],
         skip_empty=True)
    show(_t(lang, "已超时", "Late"), s.late,
         ticket_heads + [_t(lang, "超时环节", "Late stage"), _t(lang, "时限", "Due"),
                         _t(lang, "超时", "Late by"), _t(lang, "其他环节", "Other stages")],
         lambda i: ticket(i) + [_stage(i.stage, lang), dates.fmt(i.due), i.amount_text(cal, lang),
                                _others(i, lang)])
    show(_t(lang, "下次晨会前到期", "Due before the next stand-up"), s.due_soon,
         ticket_heads + [_t(lang, "环节", "Stage"), _t(lang, "时限", "Due"),
                         _t(lang, "剩余", "Left"), _t(lang, "其他环节", "Other stages")],
         lambda i: ticket(i) + [_stage(i.stage, lang), dates.fmt(i.due), i.amount_text(cal, lang),
                                _others(i, lang)])
    show(idle_title(lang), s.idle, ticket_heads + idle_heads(lang),
         lambda i: [i.ticket_id, i.customer, i.owner or unassigned, i.priority] + idle_cells(i, cal, lang),
         skip_empty=True)

    def state(i) -> str:
        if i.stage is None:
            return ""
        amount = i.amount_text(cal, lang)
        if i.late:
            return _t(lang, f"{_stage(i.stage, lang)}超时 {amount}", f"{_stage(i.stage, lang)} late by {amount}")
        return _t(lang, f"{_stage(i.stage, lang)}剩余 {amount}", f"{_stage(i.stage, lang)}: {amount} left")

    show(_t(lang, "升级工单（未结）", "Escalated, open"), s.escalated,
         ticket_heads + [_t(lang, "升级原因", "Escalation reason"), _t(lang, "时限", "Deadline")],
         lambda i: ticket(i) + [i.escalation.reason(lang) if i.escalation else "", state(i)])
    show(_t(lang, "重新打开", "Reopened"), s.reopened, ticket_heads, ticket)
    show(_t(lang, "新登记（自上次晨会）", "New since the last stand-up"), s.new, ticket_heads, ticket)
    show(_t(lang, "未分派", "Unassigned"), s.unassigned, ticket_heads + [_t(lang, "待定", "To decide")],
         lambda i: ticket(i) + [("、" if lang == "zh" else ", ").join(_MISSING[m][0 if lang == "zh" else 1]
                                                                       for m in i.missing)])
    show(_t(lang, "待回访", "Follow-up calls due"), s.calls_due,
         [_t(lang, "反馈编号", "ID"), _t(lang, "客户", "Customer"), _t(lang, "回访类型", "Type"),
          _t(lang, "应回访日期", "Due"), _t(lang, "最晚回访", "Latest"), _t(lang, "状态", "State")],
         lambda c: [c.ticket_id, c.customer, c.type, dates.fmt(c.due), dates.fmt(c.latest),
                    _t(lang, "已逾期", "overdue") if c.late else ""])
    if s.by_owner:
        show(_t(lang, "按责任人", "By owner"), list(s.by_owner.items()),
             [_t(lang, "责任人", "Owner"), _t(lang, "未结", "Open"), _t(lang, "超时", "Late")],
             lambda oc: [oc[0] or unassigned, str(oc[1]["open"]), str(oc[1]["late"])])
    for year in s.provisional_years:
        console.print("[yellow]" + cal.provisional_hint(year, lang) + "[/]")


def _print_id_conflicts(console: Console, conflicts, lang: str) -> None:
    """IDs several register rows hold: each row is its own ticket, and the ID's log waits for a fix."""
    if not conflicts:
        return
    table = Table(title=_t(lang, f"编号冲突（{len(conflicts)}）：请在登记表改正重复的编号，改正前该编号的进度和结果不计入任何一行",
                           f"ID conflicts ({len(conflicts)}): correct the duplicate IDs in the Register; until then "
                           f"no Progress or Results row with the ID counts"))
    for h in (_t(lang, "反馈编号", "ID"), _t(lang, "登记表行", "Register rows")):
        table.add_column(h)
    for c in conflicts[:MAX_ROWS]:
        rows = [(f"第{row}行 {customer}" if lang == "zh" else f"row {row} {customer}").strip()
                for row, customer in c.rows[:8]]
        if len(c.rows) > 8:
            rows.append(_t(lang, f"等共 {len(c.rows)} 行", f"… {len(c.rows)} rows in all"))
        table.add_row(c.ticket_id, ("；" if lang == "zh" else "; ").join(rows))
    console.print(table)
    if len(conflicts) > MAX_ROWS:
        console.print(_t(lang, f"……另有 {len(conflicts) - MAX_ROWS} 个编号冲突，见登记表的“校验”列",
                         f"… and {len(conflicts) - MAX_ROWS} more ID conflicts; see the Register's Check column"))


def standup_json(result: RunResult, lang: str) -> dict | None:
    """The stand-up for scripts: every item of every list (nothing is cut)."""
    s = result.standup
    if s is None:
        return None
    cal = result.calendar

    def items(lst):
        return [{"id": i.ticket_id, "row": i.row, "customer": i.customer, "owner": i.owner, "priority": i.priority,
                 "escalated": i.escalated, "escalation_reason": i.escalation.reason(lang) if i.escalation else None,
                 "stage": i.stage, "due": dates.fmt(i.due) if i.due else None, "late": i.late,
                 "hours": round(i.own_seconds / 3600, 2), "clock": "wall" if i.wall else "business",
                 "working_hours": round(i.business_seconds / 3600, 2),
                 "amount": i.amount_text(cal, lang) if i.stage else None,
                 "other_stages": [{"stage": st, "late": late, "due": dates.fmt(due)} for st, late, due in i.others],
                 "missing": list(i.missing)}
                for i in lst]

    return {"next_standup": dates.fmt(s.next_standup), "last_standup": dates.fmt(s.last_standup),
            "incomplete": [{"row": i.row, "id": i.ticket_id or None, "customer": i.customer,
                            "missing": [m[0] if lang == "zh" else m[1] for m in i.missing],
                            "priority": i.priority or None, "escalated": i.escalated,
                            "escalation_reason": i.escalation.reason(lang) if i.escalation else None}
                           for i in s.incomplete],
            "late": items(s.late), "due_before_next_standup": items(s.due_soon), "escalated": items(s.escalated),
            "reopened": items(s.reopened), "new": items(s.new), "unassigned": items(s.unassigned),
            "idle": idle_json(s.idle, cal, lang),
            "by_owner": s.by_owner, "provisional_years": s.provisional_years,
            "id_conflicts": [{"id": c.ticket_id, "rows": [{"row": row, "customer": customer} for row, customer in c.rows]}
                             for c in s.id_conflicts],
            "calls_due": [{"id": c.ticket_id, "customer": c.customer, "type": c.type, "due": dates.fmt(c.due),
                           "latest": dates.fmt(c.latest), "late": c.late} for c in s.calls_due]}


# --- doctor, export, restore -------------------------------------------------------------------------

def print_diagnosis(d: Diagnosis, book: Path, fix: bool, lang: str) -> None:
    """One line per finding, marked ✓ (fine or fixed), ✗ (broken) or ! (worth a look), then what to do."""
    marks = {OK: "✓", BAD: "✗"}
    for f in d.findings:
        mark = "✓" if f.fixed else marks.get(f.level, "!")
        suffix = _t(lang, "（已修复）", " (fixed)") if f.fixed else ""
        click.echo(f"{mark} {_t(lang, f.zh, f.en)}{suffix}")
    if d.written:
        click.echo(_t(lang, f"已修复并保存 {book}（原文件已备份）", f"repaired and saved {book} (previous version backed up)"))
    elif any(f.fixable for f in d.findings) and not fix:
        click.echo(_t(lang, f"运行 sheetdesk doctor {book} --fix 修复标记的问题", f"run sheetdesk doctor {book} --fix to repair"))


def print_export(done, url_shown: str, lang: str) -> None:
    """Per desk: the rows of each table and what moved, then what was left out and why."""
    labels = {"tickets": ("工单", "tickets"), "progress": ("进度", "progress rows"), "results": ("结果", "results"),
              "followups": ("回访", "follow-ups")}
    for ex in done:
        parts = []
        for table, (zh, en) in labels.items():
            c = ex.counts[table]
            moved = _t(lang, f"新增 {c.inserted}，更新 {c.updated}，删除 {c.deleted}",
                       f"{c.inserted} new, {c.updated} updated, {c.deleted} deleted")
            parts.append(_t(lang, f"{zh} {c.rows}（{moved}）", f"{c.rows} {en} ({moved})"))
        click.echo(_t(lang, f"已导出 {ex.book} → 分支“{ex.branch}”：" + "；".join(parts),
                      f"exported {ex.book} → branch '{ex.branch}': " + "; ".join(parts)))
        if ex.unnumbered:
            click.echo(_t(lang, f"  {ex.unnumbered} 行尚未编号，未导出：先运行 sheetdesk refresh {ex.book}",
                          f"  {ex.unnumbered} row(s) not numbered yet were left out: run sheetdesk refresh {ex.book} first"))
        if ex.duplicates:
            click.echo(_t(lang, f"  {ex.duplicates} 行的编号与前面的行重复：各自作为单独的工单导出，编号记为“编号#行号”；"
                                f"该编号的进度、结果和回访未导出，请在登记表改正重复的编号（见校验列）",
                          f"  {ex.duplicates} row(s) repeat an earlier row's ID: each is exported as its own ticket, "
                          f"keyed 'ID#row'; the ID's progress, results and follow-ups are left out until the duplicate "
                          f"ID is corrected in the Register (see Check)"))
    click.echo(_t(lang, f"数据库：{url_shown}", f"database: {url_shown}"))


def print_backups(book: Path, infos, lang: str, problems: dict | None = None) -> None:
    """The backups, newest first: when and by which command each was made, and what it holds; a
    damaged one is marked instead of numbered, with the reason below the table."""
    problems = problems or {}
    table = Table(title=escape(_t(lang, f"{book} 的备份（最新在前）", f"backups of {book} (newest first)")))
    for head in ("N", _t(lang, "备份时间", "Backed up"), _t(lang, "由…产生", "Made by"),
                 _t(lang, "该版本保存于", "Version saved"), _t(lang, "大小", "Size"), _t(lang, "工单行数", "Tickets"),
                 _t(lang, "文件", "File")):
        table.add_column(head)
    n = 0
    for b in infos:
        if problems.get(b.path) is None:
            n += 1
        taken = f"{b.taken:%Y-%m-%d %H:%M:%S}" if b.taken else "—"
        tickets = "—" if b.tickets is None else str(b.tickets)
        number = str(n) if problems.get(b.path) is None else _t(lang, "损坏", "damaged")
        table.add_row(number, taken, escape(b.command or "—"), f"{b.saved:%Y-%m-%d %H:%M:%S}", f"{b.size:,}", tickets,
                      escape(b.path.name))
    stdout_console().print(table)
    for b in infos:
        problem = problems.get(b.path)
        if problem is not None:
            click.echo(_t(lang, f"损坏：{b.path.name} 不是可读的工作簿，不能恢复（{problem[0]}）",
                          f"damaged: {b.path.name} is not a readable workbook and cannot be restored ({problem[1]})"))
    click.echo(_t(lang, f"恢复：sheetdesk restore {book} --pick N", f"to restore: sheetdesk restore {book} --pick N"))

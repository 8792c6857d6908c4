"""What the commands print: rich tables for people, the same facts as JSON for scripts."""

from __future__ import annotations

from collections import Counter

import click
from rich.console import Console
from rich.table import Table

from sheetdesk import dates
from sheetdesk.desk import RunResult
from sheetdesk.problems import ERROR, INFO, WARNING
from sheetdesk.schema import SHEETS_BY_KEY

MAX_ROWS = 60


def _console() -> Console:
    stream = click.get_text_stream("stdout")
    tty = stream.isatty()
    return Console(file=stream, width=None if tty else 160, highlight=False, soft_wrap=not tty)


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


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
    console = _console()
    plan = result.plan
    levels = Counter(p.level for p in result.problems)
    rows = len(plan.tickets) if plan else 0
    console.print(_t(
        lang,
        f"[bold]{result.book}[/]  当前时间 {dates.fmt(result.now)}：登记表 {rows} 行，新编号 {len(plan.issued) if plan else 0} 个，"
        f"自动分派 {plan.routed if plan else 0} 行；错误 {levels[ERROR]}，注意 {levels[WARNING]}，提示 {levels[INFO]}",
        f"[bold]{result.book}[/]  now {dates.fmt(result.now)}: {rows} register rows, {len(plan.issued) if plan else 0} new IDs, "
        f"{plan.routed if plan else 0} rows routed; {levels[ERROR]} errors, {levels[WARNING]} warnings, {levels[INFO]} notes",
    ))
    shown = [p for p in result.problems if p.level != INFO] or []
    if shown:
        table = Table(title=_t(lang, "需要处理的问题", "Problems to fix"), show_lines=False)
        for head in (_t(lang, "工作表", "Sheet"), _t(lang, "行", "Row"), _t(lang, "列", "Column"),
                     _t(lang, "级别", "Level"), _t(lang, "说明", "Message")):
            table.add_column(head)
        for p in shown[:MAX_ROWS]:
            sheet = SHEETS_BY_KEY[p.sheet]
            table.add_row(sheet.name(lang), str(p.row or ""), sheet.column(p.column).name(lang) if p.column else "",
                          _level(p.level, lang), p.text(lang))
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
                table.add_row(sheet.name(lang), str(c.row), col, _fmt_value(c.old), _fmt_value(c.new))
            console.print(table)
    elif result.written:
        console.print(_t(lang, f"[green]已保存 {result.book}[/]（{len(result.changes)} 处修改；备份：{result.backup}）",
                         f"[green]saved {result.book}[/] ({len(result.changes)} changes; backup: {result.backup})"))
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
        "rows": len(plan.tickets) if plan else 0,
        "issued": {str(row): ticket_id for row, ticket_id in (plan.issued.items() if plan else [])},
        "routed": plan.routed if plan else 0,
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
    }


def print_demo_guide(result: RunResult, lang: str) -> None:
    console = _console()
    book = result.book
    if lang == "zh":
        lines = [
            "",
            f"[bold]示例台账已生成：{book}[/]  用 Excel、WPS 或 LibreOffice 打开看看：",
            "  • 登记表：空着的“反馈编号”已按 年月-流水号 自动编号；空着的分类、部门、责任人、优先级已按分类矩阵填好",
            "  • 登记表“校验”列：每行的问题（缺必填、时间写错、未知渠道、电话号码不对、重复编号……）",
            "  • 分类矩阵 / 时效标准 / 选项：经理维护的规则，改完再运行 refresh 即生效",
            f"  • 再运行一次 sheetdesk refresh {book}：什么都不会变（刷新是幂等的）",
            f"  • 在登记表新增一行、留空编号，再运行 sheetdesk refresh {book}",
        ]
    else:
        lines = [
            "",
            f"[bold]Demo desk written: {book}[/]  open it in Excel, WPS or LibreOffice:",
            "  • Register: blank IDs were numbered YYYYMM-NNN; blank category, department, owner and priority were routed by the matrix",
            "  • Register 'Check' column: each row's problems (missing fields, bad times, unknown channel, bad phone, duplicate ID…)",
            "  • Matrix / SLA / Lists: the managers' rules; edit them and run refresh again",
            f"  • Run sheetdesk refresh {book} again: nothing changes (refresh is idempotent)",
            f"  • Add a row to the Register with a blank ID, then run sheetdesk refresh {book}",
        ]
    for line in lines:
        console.print(line)

"""The ``sheetdesk`` command: thin click commands over :mod:`sheetdesk.app.desk`.

Every command takes ``--lang`` and ``--now``; failures print one line (no traceback unless
``SHEETDESK_DEBUG=1``) and exit non-zero; row problems are data and exit 0.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from sheetdesk import __version__

from sheetdesk.rules import dates, kpis
from sheetdesk.errors import InputError, SheetdeskError
from sheetdesk.schema import desk_language
from sheetdesk.schema import text as _t

DEFAULT_BOOK = "desk.xlsx"
#: what a BOOK argument may end with: the formats sheetdesk works on, and the ones it can only refuse
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et")
#: spreadsheet formats sheetdesk cannot work on, with their names for the message
OTHER_FORMATS = {".xls": "Excel 97-2003 (.xls)", ".xlsb": "Excel 二进制 (.xlsb) / Excel binary (.xlsb)",
                 ".ods": "OpenDocument (.ods)", ".et": "WPS (.et)"}


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = dates.parse_now(value)
    if moment is None:
        raise InputError(f"--now 的值“{value}”无法识别，应为 \"YYYY-MM-DD HH:MM\"",
                         f"--now '{value}' is not a time; expected \"YYYY-MM-DD HH:MM\"")
    return moment


def _desk_lang(book) -> str | None:
    """An English desk talks English unless --lang says otherwise (sheet names tell, without a full load)."""
    import re
    import zipfile

    try:
        with zipfile.ZipFile(book) as z:
            names = re.findall(rb'<sheet [^>]*name="([^"]+)"', z.read("xl/workbook.xml"))
    except Exception:  # no book yet, or not a workbook: the command itself will say so
        return None
    lang = desk_language(n.decode("utf-8", "replace") for n in names)
    return lang if lang == "en" else None


def check_book(book: Path) -> None:
    """One clear line for a BOOK that cannot be a desk whatever it holds: a folder, an old .xls."""
    book = Path(book)
    if book.is_dir():
        hint = book / DEFAULT_BOOK
        raise InputError(f"{book} 是文件夹，不是工作簿；请给出台账文件，如 {hint}",
                         f"{book} is a folder, not a workbook; give the desk file, e.g. {hint}")
    kind = OTHER_FORMATS.get(book.suffix.lower())
    if kind is not None:
        zh, _, en = kind.partition(" / ")
        raise InputError(f"{book} 是 {zh} 格式，sheetdesk 只能读写 .xlsx：请用 Excel/WPS 另存为 .xlsx 后再试",
                         f"{book} is in {en or zh} format; sheetdesk works on .xlsx only: save as .xlsx in Excel/WPS "
                         "and retry")


def _check_books(kwargs: dict) -> None:
    """The BOOK arguments click parsed (``import FILE`` alone parses its FILE as ``book``: not a book)."""
    if "file" in kwargs and kwargs["file"] is None:
        return
    for book in ([kwargs["book"]] if kwargs.get("book") is not None else []) + list(kwargs.get("books") or []):
        check_book(book)


def common(func):
    """--lang and --now on every command; one-line errors instead of tracebacks."""

    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                  help="输出语言 / language of messages")
    @click.option("--now", "now_text", metavar='"YYYY-MM-DD HH:MM"', default=None,
                  help="以此时刻为当前时间（可复现的运行） / treat this as the current time")
    @functools.wraps(func)
    def wrapper(*args, lang: str, now_text: str | None, **kwargs):
        ctx = click.get_current_context()
        if ctx.get_parameter_source("lang") == click.core.ParameterSource.DEFAULT:
            lang = _desk_lang(kwargs.get("book") or (kwargs.get("books") or [None])[0]) or lang
        try:
            _check_books(kwargs)
            return func(*args, lang=lang, now=_parse_now(now_text), **kwargs)
        except SheetdeskError as exc:
            click.echo(_t(lang, "错误：", "error: ") + exc.render(lang), err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, BrokenPipeError):
            raise  # a reader that stopped early (`| head`): click ends quietly
        except KeyboardInterrupt:
            click.echo(_t(lang, "已中断，未写入任何内容", "interrupted; nothing was written"), err=True)
            sys.exit(130)
        except Exception as exc:  # a bug: still one line for the user
            if os.environ.get("SHEETDESK_DEBUG"):
                raise
            click.echo(_t(lang, f"内部错误：{type(exc).__name__}: {exc}（设置 SHEETDESK_DEBUG=1 可查看详情）",
                          f"internal error: {type(exc).__name__}: {exc} (set SHEETDESK_DEBUG=1 for details)"),
                       err=True)
            sys.exit(70)

    return wrapper


class _Main(click.Group):
    def main(self, *args, **kwargs):
        from sheetdesk.cli.console import setup_streams

        setup_streams()  # before anything is printed, --help included
        return super().main(*args, **kwargs)


def _busy(lang: str, zh: str, en: str, *, show: bool = True):
    """A spinner on stderr (terminal only) while one long step runs."""
    from sheetdesk.cli.console import Steps

    steps = Steps(lang=lang, show=show)
    steps.step(zh, en)
    return steps


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sheetdesk")
def main() -> None:
    """sheetdesk：把共享的 Excel 工作簿变成售后客户问题反馈处理及跟踪台。

    An after-sales feedback desk kept in a shared Excel workbook.
    """


@main.command()
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--preset", type=click.Choice(["p0p1p2", "four-stage"]), default="p0p1p2", show_default=True,
              help="时效标准预设 / SLA table preset")
@common
def init(directory: Path, preset: str, lang: str, now: datetime | None) -> None:
    """新建台账 DIR/desk.xlsx / create a new desk workbook."""
    from sheetdesk.app.templates import create_desk

    target = create_desk(directory, lang=lang, preset=preset)
    click.echo(_t(lang, f"已新建 {target}", f"created {target}"))
    click.echo(_t(lang, f"下一步：在“登记表”中登记反馈，然后运行 sheetdesk refresh {target}",
                  f"next: type feedback into 'Register', then run sheetdesk refresh {target}"))


@main.command()
@click.argument("directory", required=False, default="sheetdesk-demo",
                type=click.Path(file_okay=False, path_type=Path))
@common
def demo(directory: Path, lang: str, now: datetime | None) -> None:
    """生成并刷新一个示例台账 / a sample desk with realistic data, refreshed."""
    from sheetdesk.app import desk
    from sheetdesk.app.templates import create_demo

    now = now or datetime(2026, 11, 23, 9, 0)
    target = create_demo(directory, lang=lang, today=now.date())
    result = desk.run(target, now=now)
    from sheetdesk.cli.console import print_demo_guide, print_result, print_standup

    print_result(result, lang)
    print_standup(result, lang)
    print_demo_guide(result, lang)


def _book_command(name: str, writes: bool):
    def decorator(func):
        func = common(func)
        func = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print JSON")(func)
        if writes:
            func = click.option("--dry-run", is_flag=True, help="只列出将要做的修改 / list changes, write nothing")(func)
            func = click.option("--force", is_flag=True,
                                help="忽略 Excel/WPS/LibreOffice 的锁文件 / ignore office lock files")(func)
        func = click.argument("book", required=False, default=DEFAULT_BOOK, type=click.Path(path_type=Path))(func)
        return main.command(name)(func)

    return decorator


def _echo_json(data: object) -> None:
    """JSON on stdout, written as it is encoded: a 50k desk's problems would otherwise be one string
    of tens of megabytes (and its encoded copy) on top of the run's memory."""
    from sheetdesk.cli.console import std_stream

    out = std_stream("stdout")
    pieces: list[str] = []
    for piece in json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(data):
        pieces.append(piece)
        if len(pieces) == 8192:  # handed over a few hundred kilobytes at a time, not token by token
            out.write("".join(pieces))
            pieces.clear()
    out.write("".join(pieces) + "\n")


@_book_command("refresh", writes=True)
def refresh(book: Path, as_json: bool, dry_run: bool, force: bool, lang: str, now: datetime | None) -> None:
    """校验、编号、分派并保存 / validate, number, route and save the desk."""
    from sheetdesk.app import desk
    from sheetdesk.cli.console import print_result, print_standup, result_json

    with _busy(lang, f"正在刷新 {book}", f"refreshing {book}", show=not as_json):
        result = desk.run(book, now=now, dry_run=dry_run, force=force, lean=True)
    if as_json:
        _echo_json(result_json(result, lang))
    else:
        print_result(result, lang)
        print_standup(result, lang)


@_book_command("validate", writes=False)
def validate(book: Path, as_json: bool, lang: str, now: datetime | None) -> None:
    """只读校验，不写入 / the same checks, read-only."""
    from sheetdesk.app import desk
    from sheetdesk.cli.console import print_result, result_json

    with _busy(lang, f"正在校验 {book}", f"checking {book}", show=not as_json):
        result = desk.run(book, now=now, write=False, lean=True)
    if as_json:
        _echo_json(result_json(result, lang))
    else:
        print_result(result, lang)



def _time_option(value: str | None, option: str, now: datetime) -> datetime:
    if value is None:
        return now
    moment, ok = dates.to_datetime(value)
    if moment is None:
        raise InputError(f"{option} 的值“{value}”无法识别，应为日期时间，如 \"2026-11-17 09:30\"",
                         f"{option} '{value}' is not a time; expected e.g. \"2026-11-17 09:30\"")
    return moment


def _book_argument(func):
    return click.argument("book", required=False, default=DEFAULT_BOOK, type=click.Path(path_type=Path))(func)


@main.command()
@_book_argument
@click.option("--customer", required=True, help="客户名称 / customer")
@click.option("--channel", required=True, help="反馈渠道 / channel")
@click.option("--description", required=True, help="问题描述 / description")
@click.option("--contact", help="联系方式 / phone or e-mail")
@click.option("--received", help='反馈时间，默认为当前时间 / received time (default: now)')
@click.option("--tier", help="客户等级 / tier")
@click.option("--product", help="产品型号 / product")
@click.option("--batch", help="批次 / batch")
@click.option("--purchase-date", help="购买日期 / purchase date")
@click.option("--expectation", help="客户诉求 / expectation")
@click.option("--emotion", help="客户情绪 / emotion")
@click.option("--category", help="问题分类 / category")
@click.option("--priority", help="优先级 / priority")
@click.option("--owner", help="责任人 / owner")
@click.option("--force", is_flag=True, help="忽略 Excel/WPS/LibreOffice 的锁文件 / ignore office lock files")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print JSON")
@common
def add(book: Path, customer: str, channel: str, description: str, contact: str | None, received: str | None,
        tier: str | None, product: str | None, batch: str | None, purchase_date: str | None,
        expectation: str | None, emotion: str | None, category: str | None, priority: str | None,
        owner: str | None, force: bool, as_json: bool, lang: str, now: datetime | None) -> None:
    """登记一条反馈并输出其编号 / register a ticket and print its new ID."""
    from sheetdesk.app import desk
    from sheetdesk.settings import load_settings

    now = now or load_settings(Path(book)).now()
    values: dict[str, object] = {
        "received": _time_option(received, "--received", now), "channel": channel, "customer": customer,
        "description": description, "contact": contact, "tier": tier, "product": product, "batch": batch,
        "purchase_date": purchase_date, "expectation": expectation, "emotion": emotion, "category": category,
        "priority": priority, "owner": owner,
    }
    with _busy(lang, f"正在登记到 {book}", f"adding to {book}", show=not as_json):
        result = desk.run(book, now=now, force=force, append=desk.Append("register", values), lean=True)
    row = result.appended.row_numbers[0] if result.appended and result.appended.row_numbers else None
    escalation = result.escalations.get(row) if row else None
    reason = escalation.reason(lang) if escalation and escalation.level else None
    level = escalation.level.name if reason else None
    if as_json:
        click.echo(json.dumps({"id": result.new_id, "row": result.appended.row if result.appended else None,
                               "escalated": reason is not None, "escalated_to": level, "escalation_reason": reason},
                              ensure_ascii=False))
    elif reason:
        click.echo(_t(lang, f"{result.new_id or ''}（已升级为 {level}：{reason}）",
                      f"{result.new_id or ''} (escalated to {level}: {reason})"))
    else:
        click.echo(result.new_id or "")


def _log_args(args: tuple[str, ...]) -> tuple[Path, str, str, str | None]:
    """``log [BOOK] ID STEP [NOTE]``: with three arguments the first is the book only when it looks
    like one (see :func:`_is_book_arg`); otherwise they are ID STEP NOTE on ./desk.xlsx."""
    if len(args) == 4 or (len(args) == 3 and _is_book_arg(args[0])):
        book, rest = Path(args[0]), list(args[1:])
    else:
        book, rest = Path(DEFAULT_BOOK), list(args)
    if len(rest) not in (2, 3):
        raise InputError("用法：sheetdesk log [BOOK] ID STEP [NOTE] --by NAME（需要编号和节点）",
                         "usage: sheetdesk log [BOOK] ID STEP [NOTE] --by NAME (an ID and a step are needed)")
    return book, rest[0], rest[1], rest[2] if len(rest) == 3 else None


@main.command()
@click.argument("args", nargs=-1, metavar="[BOOK] ID STEP [NOTE]")
@click.option("--by", "by", required=True, help="处理人 / who did it")
@click.option("--at", "at", help="时间，默认为当前时间 / when (default: now)")
@click.option("--force", is_flag=True, help="忽略 Excel/WPS/LibreOffice 的锁文件 / ignore office lock files")
@common
def log(args: tuple[str, ...], by: str, at: str | None, force: bool, lang: str, now: datetime | None) -> None:
    """在进度跟踪中追加一行 / append a progress row: [BOOK] ID STEP [NOTE] --by NAME.

    STEP 可用中文或英文（首次响应 / first-response） / STEP in Chinese or English.
    """
    from sheetdesk.app import desk
    from sheetdesk.schema import step_key, step_name
    from sheetdesk.schema import STEPS
    from sheetdesk.settings import load_settings

    book, ticket_id, step, note = _log_args(args)
    if click.get_current_context().get_parameter_source("lang") == click.core.ParameterSource.DEFAULT:
        lang = _desk_lang(book) or lang
    check_book(book)
    key = step_key(step)
    if key is None:
        raise InputError(f"未知节点“{step}”，应为：{'、'.join(zh for _, zh, _ in STEPS)}",
                         f"unknown step '{step}'; expected one of: "
                         f"{', '.join(k.replace('_', '-') for k, *_ in STEPS)}")
    now = now or load_settings(Path(book)).now()
    when = _time_option(at, "--at", now)
    values = {"id": ticket_id.strip(), "time": when, "by": by, "step": key, "note": note}
    with _busy(lang, f"正在记录到 {book}", f"logging to {book}"):
        result = desk.run(book, now=now, force=force, append=desk.Append("progress", values, refuse=("error", "warning")),
                          lean=True)
    row = result.appended.row if result.appended else 0
    click.echo(_t(lang, f"已记录：{ticket_id} {step_name(key, lang)}（进度跟踪 第{row}行）",
                  f"logged: {ticket_id} {step_name(key, lang)} (Progress row {row})"))


@main.command()
@click.argument("books", nargs=-1, type=click.Path(path_type=Path))
@click.option("--month", "month_text", metavar="YYYY-MM", help="统计月份 / the month to summarise")
@click.option("--week", "week_text", metavar="YYYY-Www", help="周报：时效监控 / weekly SLA monitoring")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件，默认 summaries/YYYY-MM.xlsx / output file")
@click.option("--mail-to", "mail_to", multiple=True, metavar="ADDR",
              help="写好后作为附件发到此邮箱，可多次给出（[mail] 见 sheetdesk.toml） / mail it to ADDR (repeatable)")
@common
def summary(books: tuple[Path, ...], month_text: str | None, week_text: str | None, output: Path | None,
            mail_to: tuple[str, ...], lang: str, now: datetime | None) -> None:
    """月度（或周）汇总，含图表；多个台账合并 / the manager's summary with charts; several desks merge."""
    from sheetdesk.app import mailer
    from sheetdesk.cli.console import Steps
    from sheetdesk.app import summary as summ
    from sheetdesk.errors import BookNotFound
    from sheetdesk.workbook.summary_writer import write_summary

    if bool(month_text) == bool(week_text):
        raise InputError("请指定 --month YYYY-MM 或 --week YYYY-Www 之一", "give exactly one of --month YYYY-MM or --week YYYY-Www")
    period = summ.parse_month(month_text) if month_text else summ.parse_week(week_text or "")
    recipients = mailer.check_recipients(mail_to)
    paths = list(books) or [Path(DEFAULT_BOOK)]
    for p in paths:
        if not p.exists():
            raise BookNotFound(f"找不到工作簿 {p}", f"workbook not found: {p}")
    from sheetdesk.settings import load_settings

    now = now or load_settings(paths[0]).now()  # the first desk's clock, as for its mail and its file
    with Steps(lang=lang) as steps:
        steps.step("读取台账", "reading desks", total=len(paths))
        data = summ.build(paths, period, weekly=bool(week_text), now=now, lang=lang, on_book=steps.advance)
    target = output or summ.default_output(paths[0], period)
    write_summary(data, target)
    k = data.kpis
    open_label = kpis.metric_label("open_at_end", data.weekly, lang)
    click.echo(_t(lang, f"已写入 {target}：受理 {k['received']}，结案 {k['closed']}，{open_label} {k['open_at_end']}",
                  f"wrote {target}: {k['received']} received, {k['closed']} closed, {k['open_at_end']} {open_label.lower()}"))
    if recipients:
        mailer.mail_summary(target, recipients, paths[0], data)
        click.echo(_t(lang, f"已发送至 {'、'.join(recipients)}", f"mailed to {', '.join(recipients)}"))


@main.command()
@click.argument("args", nargs=-1, metavar="[BOOK] [ID]...")
@click.option("--all", "all_", is_flag=True, help="所有已审核且尚未归档的工单 / every reviewed ticket without a report")
@click.option("--external", is_flag=True, help="另出对外版（客户与联系方式脱敏） / also a masked copy for outside")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 生成 PDF / also a PDF (needs LibreOffice)")
@common
def report(args: tuple[str, ...], all_: bool, external: bool, pdf: bool, lang: str, now: datetime | None) -> None:
    """已审核工单的处理结果报告，归档到 archive/YYYY/MM/ / per-ticket result reports into the archive."""
    from sheetdesk.app import desk, reports
    from sheetdesk.cli.console import Steps
    from sheetdesk.workbook.report_writer import write_index, write_report

    book, ids = _book_and_ids(args)
    check_book(book)
    if pdf:
        reports.soffice()  # the one-line install hint comes before anything is written
    with _busy(lang, f"正在读取 {book}", f"reading {book}"):
        result = desk.run(book, now=now, write=False)
    built = reports.build_reports(result)
    root = reports.archive_dir(book)
    conflicts = result.plan.conflicts if result.plan else {}
    chosen, refused = reports.refuse_unsafe(reports.select(built, ids, all_, root, conflicts))
    for zh, en in refused:  # a malformed typed ID never names a file; the others are still written
        click.echo(_t(lang, "注意：", "warning: ") + _t(lang, zh, en), err=True)
    written, unchanged = [], 0
    with Steps(lang=lang, show=len(chosen) >= 20) as steps:
        steps.step("生成报告", "writing reports", total=len(chosen))
        for rep in chosen:
            copies = [rep] + ([reports.external_copy(rep)] if external else [])
            for copy in copies:
                done = reports.archive_report(root, copy, write_report, result.now)
                if done.written:
                    written.append(done.path)
                    if pdf:
                        written.append(reports.pdf_of(done.path))
                else:
                    unchanged += 1
            steps.advance()
    from sheetdesk.settings import load_settings

    index = (write_index(root, reports.index_rows(root, load_settings(book).timezone), result.desk_lang)
             if root.exists() else None)
    for path in written:
        click.echo(_t(lang, f"已写入 {path}", f"wrote {path}"))
    if unchanged:
        click.echo(_t(lang, f"{unchanged} 份报告内容未变，未重复写入", f"{unchanged} report(s) unchanged; nothing rewritten"))
    if not chosen and not refused:
        click.echo(_t(lang, "没有需要出报告的工单（需已审核：审核人和审核日期已填写）",
                      "no tickets to report (a report needs Reviewer and Reviewed on filled)"))
    if all_ and conflicts:
        skipped = sorted(conflicts)
        more_zh = f"等 {len(skipped)} 个" if len(skipped) > 20 else ""
        more_en = f" and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        click.echo(_t(lang, f"登记表中重复的编号不出报告：{'、'.join(skipped[:20])}{more_zh}（改正重复的编号后再运行）",
                      f"no report for IDs on several Register rows: {', '.join(skipped[:20])}{more_en} "
                      f"(correct them, then run again)"))
    if index is not None:
        click.echo(_t(lang, f"归档索引：{index}", f"archive index: {index}"))
    if refused and ids:  # the IDs named on the command line were not all reported
        sys.exit(InputError.exit_code)


def _is_book_arg(text: str) -> bool:
    """Whether a leading positional argument is the book rather than a ticket ID: it names an
    existing file or folder, or ends like a spreadsheet (.xls and friends too, so they get their hint)."""
    return text.lower().endswith(SPREADSHEET_SUFFIXES) or Path(text).exists()


def _book_and_ids(args: tuple[str, ...]) -> tuple[Path, list[str]]:
    """``report [BOOK] [ID...]``: the first argument is the book when it names a workbook file."""
    if args and _is_book_arg(args[0]):
        return Path(args[0]), list(args[1:])
    return Path(DEFAULT_BOOK), list(args)


@main.command()
@_book_argument
@click.option("--fix", is_flag=True, help="修复可修复的问题 / repair what can be repaired")
@click.option("--force", is_flag=True, help="忽略 Excel/WPS/LibreOffice 的锁文件 / ignore office lock files")
@common
def doctor(book: Path, fix: bool, force: bool, lang: str, now: datetime | None) -> None:
    """诊断台账文件，--fix 修复 / diagnose the desk file; --fix repairs what it can."""
    from sheetdesk.cli.console import Steps
    from sheetdesk.app.doctor import BAD, OK, diagnose
    from sheetdesk.errors import BookNotFound

    if not Path(book).exists():
        raise BookNotFound(f"找不到工作簿 {book}", f"workbook not found: {book}")
    with Steps(lang=lang) as steps:
        d = diagnose(Path(book), fix=fix, force=force, steps=steps)
    marks = {OK: "✓", BAD: "✗"}
    for f in d.findings:
        mark = "✓" if f.fixed else marks.get(f.level, "!")
        suffix = _t(lang, "（已修复）", " (fixed)") if f.fixed else ""
        click.echo(f"{mark} {_t(lang, f.zh, f.en)}{suffix}")
    if d.written:
        click.echo(_t(lang, f"已修复并保存 {book}（原文件已备份）", f"repaired and saved {book} (previous version backed up)"))
    elif any(f.fixable for f in d.findings) and not fix:
        click.echo(_t(lang, f"运行 sheetdesk doctor {book} --fix 修复标记的问题", f"run sheetdesk doctor {book} --fix to repair"))
    if not d.healthy:
        sys.exit(1)


@main.command()
@_book_argument
@click.option("--pick", type=int, metavar="N", help="恢复第 N 个备份（1 = 最新的完好备份） / restore backup N (1 = newest readable)")
@click.option("--force", is_flag=True, help="忽略 Excel/WPS/LibreOffice 的锁文件 / ignore office lock files")
@common
def restore(book: Path, pick: int | None, force: bool, lang: str, now: datetime | None) -> None:
    """列出或恢复备份 / list the backups, or restore one with --pick N."""
    from sheetdesk.errors import BookNotFound, BookUnreadable
    from sheetdesk.settings import desk_clock
    from sheetdesk.workbook.locks import DeskLock, check_not_open
    from sheetdesk.workbook.safesave import backup_info, backup_problem, list_backups, remove_leftovers, restore_backup

    backups = list_backups(Path(book))
    if not backups:
        raise BookNotFound(f"{book} 没有备份（.sheetdesk/backups/ 为空）", f"no backups of {book} (.sheetdesk/backups/ is empty)")
    settings = desk_clock(Path(book))  # a damaged sheetdesk.toml must not stand between a user and a backup
    # a backup that is no readable workbook (cut short by a full disk, say) is listed but never numbered
    problems = {b: backup_problem(b) for b in backups}
    good = [b for b in backups if problems[b] is None]
    if pick is None:
        _print_backups(book, [backup_info(b, settings.timezone) for b in backups], lang, problems)
        return
    if not good:
        raise BookUnreadable(f"{book} 的备份全部损坏，没有可恢复的版本", f"every backup of {book} is damaged; nothing to restore")
    if not 1 <= pick <= len(good):
        raise InputError(f"--pick 应在 1 到 {len(good)} 之间", f"--pick must be between 1 and {len(good)}")
    chosen = good[pick - 1]
    check_not_open(Path(book), force=force)
    with DeskLock(Path(book)):
        problem = backup_problem(chosen, thorough=True)  # every part inflated and checked before it is used
        if problem is not None:
            raise BookUnreadable(f"备份 {chosen.name} 已损坏（{problem[0]}），不能用它恢复；{book} 未改动，请另选一个备份",
                                 f"backup {chosen.name} is damaged ({problem[1]}) and cannot be restored; {book} is "
                                 "untouched, pick another backup")
        saved = restore_backup(Path(book), chosen, backups=settings.backup_policy(), tickets=_register_rows(Path(book)))
        remove_leftovers(Path(book))
    click.echo(_t(lang, f"已用 {chosen.name} 恢复 {book}；恢复前的版本另存为 {saved.name if saved else '（无）'}",
                  f"restored {book} from {chosen.name}; the version it replaced is kept as {saved.name if saved else '(none)'}"))


def _print_backups(book: Path, infos, lang: str, problems: dict | None = None) -> None:
    """The backups, newest first: when and by which command each was made, and what it holds; a
    damaged one is marked instead of numbered, with the reason below the table."""
    from rich.markup import escape
    from rich.table import Table

    from sheetdesk.cli.console import stdout_console

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


def _register_rows(book: Path) -> int | None:
    """Register rows of the version a restore replaces, for its backup's label (None if unreadable)."""
    from sheetdesk.schema import REGISTER
    from sheetdesk.workbook.reader import open_book, read_table

    try:
        return len(read_table(open_book(book, fast=True), REGISTER, add_owned=False).rows)
    except Exception:  # a damaged desk is what restore is for: its label just says "—"
        return None


@main.command()
@click.argument("books", nargs=-1, type=click.Path(path_type=Path))
@click.option("--db", "db_url", metavar="URL", envvar="SHEETDESK_DB_URL", show_envvar=True,
              help="数据库地址，如 sqlite:///desk.db 或 postgresql://用户@主机/库名；"
                   "默认取 sheetdesk.toml 的 [database] url / database URL (default: [database] url)")
@click.option("--branch", "branch_names", multiple=True, metavar="NAME",
              help="分支名，每个工作簿一个，默认为台账所在文件夹名 / branch name per workbook (default: its folder)")
@common
def export(books: tuple[Path, ...], db_url: str | None, branch_names: tuple[str, ...], lang: str,
           now: datetime | None) -> None:
    """把工单、进度、结果和回访导出到数据库（可反复运行） / mirror the desk(s) into a database; re-runs converge."""
    from sheetdesk.app import dbexport
    from sheetdesk.cli.console import Steps
    from sheetdesk.errors import BookNotFound

    paths = list(books) or [Path(DEFAULT_BOOK)]
    for p in paths:
        if not p.exists():
            raise BookNotFound(f"找不到工作簿 {p}", f"workbook not found: {p}")
    url = dbexport.resolve_url(db_url, paths[0])
    names = dbexport.branch_names(paths, branch_names)
    with Steps(lang=lang) as steps:
        steps.step("导出台账", "exporting desks", total=len(paths))
        done = dbexport.export(paths, url, branches=names, now=now, on_book=steps.advance)
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
    click.echo(_t(lang, f"数据库：{dbexport.shown_url(url)}", f"database: {dbexport.shown_url(url)}"))


@main.command("import")
@_book_argument
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path), metavar="MAP.toml",
              help="列映射文件（TOML，见 docs/import.md） / column mapping file")
@click.option("--encoding", metavar="NAME",
              help="CSV 的文字编码，如 gbk、big5、shift_jis（默认自动识别 UTF-8/GBK） / the CSV's text encoding")
@click.option("--dry-run", is_flag=True, help="只检查，不写入 / check only, write nothing")
@click.option("--force", is_flag=True, help="忽略 Excel/WPS/LibreOffice 的锁文件 / ignore office lock files")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print JSON")
@click.option("--example", "example_dir", is_flag=False, flag_value="import-examples", default=None,
              type=click.Path(file_okay=False, path_type=Path), metavar="[DIR]",
              help="把示例导出文件及映射写到 DIR（默认 import-examples） / write the example exports and maps into DIR")
@common
def import_(book: Path, file: Path | None, map_path: Path | None, encoding: str | None, dry_run: bool, force: bool,
            as_json: bool, example_dir: Path | None, lang: str, now: datetime | None) -> None:
    """从呼叫中心/客服/电商导出的 CSV 或 xlsx 批量登记 / bulk intake from a CSV or xlsx export: [BOOK] FILE."""
    from sheetdesk.app import importer
    from sheetdesk.cli.console import Steps
    from sheetdesk.settings import load_settings

    ctx = click.get_current_context()
    if example_dir is not None:
        if file is not None or ctx.get_parameter_source("book") != click.core.ParameterSource.DEFAULT:
            raise InputError("--example 只写出示例文件，不能同时指定 BOOK 或 FILE",
                             "--example only writes the example files; do not name BOOK or FILE with it")
        _print_examples(importer.write_examples(example_dir), lang)
        return
    if file is None:  # one argument is the file; the book is ./desk.xlsx
        if ctx.get_parameter_source("book") == click.core.ParameterSource.DEFAULT:
            raise InputError("缺少要导入的文件：sheetdesk import [BOOK] FILE",
                             "missing the file to import: sheetdesk import [BOOK] FILE")
        book, file = Path(DEFAULT_BOOK), book
        if ctx.get_parameter_source("lang") == click.core.ParameterSource.DEFAULT:
            lang = _desk_lang(book) or lang
    try:
        now = now or load_settings(book).now()
        job = importer.prepare(book, file, map_path, encoding)
        with Steps(lang=lang, show=not as_json and job.size > importer.PROGRESS_ROWS) as steps:
            steps.step(f"导入 {file.name}", f"importing {file.name}", total=job.steps)
            result = importer.run_import(job, now=now, force=force, dry_run=dry_run, lang=lang, advance=steps.advance)
    except SheetdeskError as exc:
        if lang == "en":  # the book's language was found here, after `common` chose its own
            exc.zh = exc.en
        raise
    if as_json:
        _echo_json(_import_json(result, lang))
    else:
        _print_import(result, lang)


def _print_examples(written: list[Path], lang: str) -> None:
    """What was written, and the commands that import each example export with its map."""
    folder = written[0].parent if written else Path(".")
    names = "、".join(p.name for p in written) if lang == "zh" else ", ".join(p.name for p in written)
    click.echo(_t(lang, f"已写出导入示例到 {folder}：{names}", f"wrote the import examples into {folder}: {names}"))
    click.echo(_t(lang, "试一试（先用 sheetdesk init 新建台账；示例日期为 2026 年 11 月）：",
                  "try them (create a desk with sheetdesk init first; the examples are dated November 2026):"))
    for mapping in (p for p in written if p.suffix == ".toml"):
        for export in (p for p in written if p.suffix != ".toml" and p.name.startswith(mapping.stem)):
            click.echo(f"  sheetdesk import {DEFAULT_BOOK} {export} --map {mapping}")


def _import_json(result, lang: str) -> dict:
    return {
        "file": str(result.job.source.path), "book": str(result.job.book), "dry_run": result.dry_run,
        "imported": [{"line": row.line, "id": new_id} for row, new_id in result.imported],
        "skipped": [{"line": s.row.line, "external_ref": s.ref, "repeats_line": s.repeats} for s in result.skipped],
        "rejected": [{"line": r.row.line, "reasons": [x.text(lang) for x in r.reasons]} for r in result.rejected],
        "rejected_file": str(result.rejected_file) if result.rejected_file else None,
    }


def _id_list(ids: list[str], lang: str) -> str:
    """A handful of IDs in full; a long list as its ends (in ID order, not the file's)."""
    sep = "、" if lang == "zh" else ", "
    ids = sorted(ids, key=lambda i: (i.partition("-")[0], len(i), i))
    return sep.join(ids) if len(ids) <= 12 else sep.join(ids[:5]) + " … " + sep.join(ids[-2:])


def _print_import(result, lang: str) -> None:
    """The rows that did not land (line, column, value, why), then one summary line."""
    from rich.markup import escape
    from rich.table import Table

    from sheetdesk.cli.console import MAX_ROWS, stdout_console

    console = stdout_console()
    job = result.job
    console.print(_t(lang, f"读取 {job.source.path}：{job.size} 行（{job.source.describe(lang)}）",
                     f"read {job.source.path}: {job.size} rows ({job.source.describe(lang)})"), markup=False)
    if result.rejected:
        table = Table(title=_t(lang, "未能导入的行", "Rows not imported"))
        for head in (_t(lang, "行", "Line"), _t(lang, "列", "Column"), _t(lang, "值", "Value"), _t(lang, "原因", "Reason")):
            table.add_column(head)
        shown = 0
        for rej in result.rejected:
            for reason in rej.reasons:
                if shown < MAX_ROWS:
                    table.add_row(str(rej.row.line), escape(reason.where(lang)), escape(reason.value),
                                  escape(reason.zh if lang == "zh" else reason.en))
                shown += 1
        console.print(table)
        if shown > MAX_ROWS:
            console.print(_t(lang, f"……另有 {shown - MAX_ROWS} 条未显示，完整列表见拒绝文件",
                             f"… {shown - MAX_ROWS} more not shown; the rejected file has them all"))
    repeats = sum(1 for s in result.skipped if s.repeats is not None)
    ids = [i for _, i in result.imported if i]
    if result.dry_run:
        parts = [_t(lang, f"试运行：可导入 {len(result.imported)} 条", f"dry run: {len(result.imported)} would be imported")]
    else:
        parts = [_t(lang, f"已导入 {len(result.imported)} 条", f"imported {len(result.imported)}")
                 + (f"（{_id_list(ids, lang)}）" if ids and lang == "zh" else f" ({_id_list(ids, lang)})" if ids else "")]
    skipped = len(result.skipped) - repeats
    parts.append(_t(lang, f"跳过 {skipped} 条已导入过的", f"skipped {skipped} already imported"))
    if repeats:
        parts.append(_t(lang, f"跳过 {repeats} 条文件内重复的", f"skipped {repeats} repeated within the file"))
    parts.append(_t(lang, f"拒绝 {len(result.rejected)} 条", f"rejected {len(result.rejected)}"))
    line = _t(lang, "，", ", ").join(parts)
    if result.rejected_file:
        line += _t(lang, f"（见 {result.rejected_file}）", f" (see {result.rejected_file})")
    console.print(line, markup=False)
    if result.rejected_error:
        click.echo(_t(lang, f"注意：拒绝文件未能写入：{result.rejected_error}",
                      f"warning: could not write the rejected file: {result.rejected_error}"), err=True)
    if result.rejected and not result.dry_run:
        console.print(_t(lang, "改正拒绝文件中的行后，可用同一映射再次导入它；已导入的行不会重复",
                         "fix the rows in the rejected file and import it again with the same mapping; "
                         "rows already imported are not added twice"), markup=False)

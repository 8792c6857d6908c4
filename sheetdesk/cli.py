"""The ``sheetdesk`` command: thin click commands over :mod:`sheetdesk.desk`.

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

from sheetdesk import __version__, dates
from sheetdesk.errors import InputError, SheetdeskError

DEFAULT_BOOK = "desk.xlsx"


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = dates.parse_now(value)
    if moment is None:
        raise InputError(f"--now 的值“{value}”无法识别，应为 \"YYYY-MM-DD HH:MM\"",
                         f"--now '{value}' is not a time; expected \"YYYY-MM-DD HH:MM\"")
    return moment


def common(func):
    """--lang and --now on every command; one-line errors instead of tracebacks."""

    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                  help="输出语言 / language of messages")
    @click.option("--now", "now_text", metavar='"YYYY-MM-DD HH:MM"', default=None,
                  help="以此时刻为当前时间（可复现的运行） / treat this as the current time")
    @functools.wraps(func)
    def wrapper(*args, lang: str, now_text: str | None, **kwargs):
        try:
            return func(*args, lang=lang, now=_parse_now(now_text), **kwargs)
        except SheetdeskError as exc:
            click.echo(_t(lang, "错误：", "error: ") + exc.render(lang), err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Exit:
            raise
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    from sheetdesk.templates import create_desk

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
    from sheetdesk import desk
    from sheetdesk.templates import create_demo

    now = now or datetime(2026, 11, 23, 9, 0)
    target = create_demo(directory, lang=lang, today=now.date())
    result = desk.run(target, now=now)
    from sheetdesk.console import print_demo_guide, print_result

    print_result(result, lang)
    print_demo_guide(result, lang)


def _book_command(name: str, writes: bool):
    def decorator(func):
        func = common(func)
        func = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print JSON")(func)
        if writes:
            func = click.option("--dry-run", is_flag=True, help="只列出将要做的修改 / list changes, write nothing")(func)
            func = click.option("--force", is_flag=True,
                                help="忽略 Excel/WPS/LibreOffice 的锁文件 / ignore office lock files")(func)
        func = click.argument("book", required=False, default=DEFAULT_BOOK,
                              type=click.Path(dir_okay=False, path_type=Path))(func)
        return main.command(name)(func)

    return decorator


@_book_command("refresh", writes=True)
def refresh(book: Path, as_json: bool, dry_run: bool, force: bool, lang: str, now: datetime | None) -> None:
    """校验、编号、分派并保存 / validate, number, route and save the desk."""
    from sheetdesk import desk
    from sheetdesk.console import print_result, print_standup, result_json

    result = desk.run(book, now=now, dry_run=dry_run, force=force)
    if as_json:
        click.echo(json.dumps(result_json(result, lang), ensure_ascii=False, indent=2))
    else:
        print_result(result, lang)
        print_standup(result, lang)


@_book_command("validate", writes=False)
def validate(book: Path, as_json: bool, lang: str, now: datetime | None) -> None:
    """只读校验，不写入 / the same checks, read-only."""
    from sheetdesk import desk
    from sheetdesk.console import print_result, result_json

    result = desk.run(book, now=now, write=False)
    if as_json:
        click.echo(json.dumps(result_json(result, lang), ensure_ascii=False, indent=2))
    else:
        print_result(result, lang)


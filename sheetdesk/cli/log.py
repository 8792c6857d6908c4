"""``sheetdesk log [BOOK] ID STEP [NOTE] --by NAME``: append one row to the progress log."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app import desk
from sheetdesk.app.append import Append
from sheetdesk.cli.console import busy
from sheetdesk.cli.options import DEFAULT_BOOK, check_book, common, force_option, is_book_arg, lang_for, parse_time
from sheetdesk.errors import InputError
from sheetdesk.schema import STEPS, step_key, step_name
from sheetdesk.schema import text as _t
from sheetdesk.settings import load_settings


def log_args(args: tuple[str, ...]) -> tuple[Path, str, str, str | None]:
    """``log [BOOK] ID STEP [NOTE]``: with three arguments the first is the book only when it looks
    like one (see :func:`sheetdesk.cli.options.is_book_arg`); otherwise they are ID STEP NOTE on ./desk.xlsx."""
    if len(args) == 4 or (len(args) == 3 and is_book_arg(args[0])):
        book, rest = Path(args[0]), list(args[1:])
    else:
        book, rest = Path(DEFAULT_BOOK), list(args)
    if len(rest) not in (2, 3):
        raise InputError("用法：sheetdesk log [BOOK] ID STEP [NOTE] --by NAME（需要编号和节点）",
                         "usage: sheetdesk log [BOOK] ID STEP [NOTE] --by NAME (an ID and a step are needed)")
    return book, rest[0], rest[1], rest[2] if len(rest) == 3 else None


@click.command()
@click.argument("args", nargs=-1, metavar="[BOOK] ID STEP [NOTE]")
@click.option("--by", "by", required=True, help="处理人 / who did it")
@click.option("--at", "at", help="时间，默认为当前时间 / when (default: now)")
@force_option
@common
def log(args: tuple[str, ...], by: str, at: str | None, force: bool, lang: str, now: datetime | None) -> None:
    """在进度跟踪中追加一行 / append a progress row: [BOOK] ID STEP [NOTE] --by NAME.

    STEP 可用中文或英文（首次响应 / first-response） / STEP in Chinese or English.
    """
    book, ticket_id, step, note = log_args(args)
    lang = lang_for(book, lang)
    check_book(book)
    key = step_key(step)
    if key is None:
        raise InputError(f"未知节点“{step}”，应为：{'、'.join(zh for _, zh, _ in STEPS)}",
                         f"unknown step '{step}'; expected one of: "
                         f"{', '.join(k.replace('_', '-') for k, *_ in STEPS)}")
    now = now or load_settings(Path(book)).now()
    when = parse_time(at, "--at", now)
    values = {"id": ticket_id.strip(), "time": when, "by": by, "step": key, "note": note}
    with busy(lang, f"正在记录到 {book}", f"logging to {book}"):
        result = desk.run(book, now=now, force=force, append=Append("progress", values, refuse=("error", "warning")),
                          lean=True)
    row = result.appended.row if result.appended else 0
    click.echo(_t(lang, f"已记录：{ticket_id} {step_name(key, lang)}（进度跟踪 第{row}行）",
                  f"logged: {ticket_id} {step_name(key, lang)} (Progress row {row})"))

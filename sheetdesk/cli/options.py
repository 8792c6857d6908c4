"""What every command shares, declared once: the BOOK argument, ``--lang``, ``--now``, ``--json``,
``--force``, ``--dry-run``, ``--if-workday``, the checks a BOOK must pass, and the one-line error handling.

Failures print one line (no traceback unless ``SHEETDESK_DEBUG=1``) and exit non-zero; row problems
are data and exit 0.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app import schedule
from sheetdesk.errors import BookNotFound, InputError, SheetdeskError
from sheetdesk.rules import dates
from sheetdesk.schema import desk_language
from sheetdesk.schema import text as _t

DEFAULT_BOOK = "desk.xlsx"
#: what a BOOK argument may end with: the formats sheetdesk works on, and the ones it can only refuse
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et")
#: spreadsheet formats sheetdesk cannot work on, with their names for the message
OTHER_FORMATS = {".xls": "Excel 97-2003 (.xls)", ".xlsb": "Excel 二进制 (.xlsb) / Excel binary (.xlsb)",
                 ".ods": "OpenDocument (.ods)", ".et": "WPS (.et)"}


def book_argument(func):
    """``[BOOK]``: the desk workbook, ./desk.xlsx when not given."""
    return click.argument("book", required=False, default=DEFAULT_BOOK, type=click.Path(path_type=Path))(func)


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print JSON")(func)


def force_option(func):
    return click.option("--force", is_flag=True, help="忽略 Excel/WPS/LibreOffice 的锁文件 / ignore office lock files")(func)


def dry_run_option(help: str = "只列出将要做的修改 / list changes, write nothing"):
    """``--dry-run``; a command that only checks says so in its own words."""
    return click.option("--dry-run", is_flag=True, help=help)


def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = dates.parse_now(value)
    if moment is None:
        raise InputError(f"--now 的值“{value}”无法识别，应为 \"YYYY-MM-DD HH:MM\"",
                         f"--now '{value}' is not a time; expected \"YYYY-MM-DD HH:MM\"")
    return moment


def parse_time(value: str | None, option: str, now: datetime) -> datetime:
    """A time option (``--received``, ``--at``): ``now`` when not given."""
    if value is None:
        return now
    moment, ok = dates.to_datetime(value)
    if moment is None:
        raise InputError(f"{option} 的值“{value}”无法识别，应为日期时间，如 \"2026-11-17 09:30\"",
                         f"{option} '{value}' is not a time; expected e.g. \"2026-11-17 09:30\"")
    return moment


def desk_lang(book) -> str | None:
    """An English desk talks English unless --lang says otherwise (sheet names tell, without a full load)."""
    try:
        with zipfile.ZipFile(book) as z:
            names = re.findall(rb'<sheet [^>]*name="([^"]+)"', z.read("xl/workbook.xml"))
    except Exception:  # no book yet, or not a workbook: the command itself will say so
        return None
    lang = desk_language(n.decode("utf-8", "replace") for n in names)
    return lang if lang == "en" else None


def lang_for(book, lang: str) -> str:
    """The language of messages about ``book``: the desk's own unless --lang was given."""
    if click.get_current_context().get_parameter_source("lang") == click.core.ParameterSource.DEFAULT:
        return desk_lang(book) or lang
    return lang


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


def require_book(book: Path) -> None:
    """For the commands that read a desk before anything else would notice it is missing."""
    if not Path(book).exists():
        raise BookNotFound.at(book)


def _check_books(kwargs: dict) -> None:
    """The BOOK arguments click parsed (``import FILE`` alone parses its FILE as ``book``: not a book)."""
    if "file" in kwargs and kwargs["file"] is None:
        return
    for book in ([kwargs["book"]] if kwargs.get("book") is not None else []) + list(kwargs.get("books") or []):
        check_book(book)


def is_book_arg(text: str) -> bool:
    """Whether a leading positional argument is the book rather than a ticket ID: it names an
    existing file or folder, or ends like a spreadsheet (.xls and friends too, so they get their hint)."""
    return text.lower().endswith(SPREADSHEET_SUFFIXES) or Path(text).exists()


def book_and_ids(args: tuple[str, ...]) -> tuple[Path, list[str]]:
    """``[BOOK] [ID...]``: the first argument is the book when it names a workbook file."""
    if args and is_book_arg(args[0]):
        return Path(args[0]), list(args[1:])
    return Path(DEFAULT_BOOK), list(args)


def common(func):
    """--lang and --now on every command; one-line errors instead of tracebacks."""

    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                  help="输出语言 / language of messages")
    @click.option("--now", "now_text", metavar='"YYYY-MM-DD HH:MM"', default=None,
                  help="以此时刻为当前时间（可复现的运行） / treat this as the current time")
    @functools.wraps(func)
    def wrapper(*args, lang: str, now_text: str | None, **kwargs):
        lang = lang_for(kwargs.get("book") or (kwargs.get("books") or [None])[0], lang)
        try:
            _check_books(kwargs)
            return func(*args, lang=lang, now=parse_now(now_text), **kwargs)
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


def skipped(lang: str, message: tuple[str, str]) -> None:
    """A scheduled run that had nothing to do today: one line on stderr; the command exits 0."""
    click.echo(_t(lang, *message), err=True)


def book_of(kwargs: dict) -> Path:
    """The desk a command works on, whichever way it takes it (BOOK, BOOKS..., [BOOK] [ID]...)."""
    if kwargs.get("book") is not None:
        return Path(kwargs["book"])
    if kwargs.get("books"):
        return Path(kwargs["books"][0])
    if kwargs.get("args"):
        return book_and_ids(tuple(kwargs["args"]))[0]
    return Path(DEFAULT_BOOK)


def if_workday_option(func):
    """``--if-workday``: do nothing (exit 0, one line on stderr) on a day that is not a working day of
    the desk's calendar, on the desk's clock or ``--now``. Goes directly below :func:`common`, which
    hands it ``lang`` and ``now`` and turns a broken sheetdesk.toml into its one line."""

    @functools.wraps(func)
    def wrapper(*args, if_workday: bool, lang: str, now: datetime | None, **kwargs):
        if if_workday:
            reason = schedule.workday_skip(book_of(kwargs), now)
            if reason is not None:
                skipped(lang, reason)
                return None
        return func(*args, lang=lang, now=now, **kwargs)

    return click.option("--if-workday", "if_workday", is_flag=True,
                        help="非工作日（按台账日历）不执行，退出码 0 / do nothing on a day off of the desk's calendar")(wrapper)

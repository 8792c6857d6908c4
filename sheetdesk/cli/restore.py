"""``sheetdesk restore [BOOK] [--pick N]``: list the backups of a desk, or put one back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sheetdesk.cli.console import print_backups
from sheetdesk.cli.options import book_argument, common, force_option
from sheetdesk.errors import BookNotFound, BookUnreadable, InputError
from sheetdesk.schema import REGISTER
from sheetdesk.schema import text as _t
from sheetdesk.settings import desk_clock
from sheetdesk.workbook.locks import DeskLock, check_not_open
from sheetdesk.workbook.reader import open_book, read_table
from sheetdesk.workbook.safesave import backup_info, backup_problem, list_backups, remove_leftovers, restore_backup


@click.command()
@book_argument
@click.option("--pick", type=int, metavar="N", help="恢复第 N 个备份（1 = 最新的完好备份） / restore backup N (1 = newest readable)")
@force_option
@common
def restore(book: Path, pick: int | None, force: bool, lang: str, now: datetime | None) -> None:
    """列出或恢复备份 / list the backups, or restore one with --pick N."""
    backups = list_backups(Path(book))
    if not backups:
        raise BookNotFound(f"{book} 没有备份（.sheetdesk/backups/ 为空）", f"no backups of {book} (.sheetdesk/backups/ is empty)")
    settings = desk_clock(Path(book))  # a damaged sheetdesk.toml must not stand between a user and a backup
    # a backup that is no readable workbook (cut short by a full disk, say) is listed but never numbered
    problems = {b: backup_problem(b) for b in backups}
    good = [b for b in backups if problems[b] is None]
    if pick is None:
        print_backups(book, [backup_info(b, settings.timezone) for b in backups], lang, problems)
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
        saved = restore_backup(Path(book), chosen, backups=settings.backup_policy(), tickets=register_rows(Path(book)))
        remove_leftovers(Path(book))
    click.echo(_t(lang, f"已用 {chosen.name} 恢复 {book}；恢复前的版本另存为 {saved.name if saved else '（无）'}",
                  f"restored {book} from {chosen.name}; the version it replaced is kept as {saved.name if saved else '(none)'}"))


def register_rows(book: Path) -> int | None:
    """Register rows of the version a restore replaces, for its backup's label (None if unreadable)."""
    try:
        return len(read_table(open_book(book, fast=True), REGISTER, add_owned=False).rows)
    except Exception:  # a damaged desk is what restore is for: its label just says "—"
        return None

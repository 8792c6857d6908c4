"""``sheetdesk notify [BOOK]``: the stand-up posted to the group bots and mailed to the targets of
sheetdesk.toml; ``refresh --notify`` does the same after its save. Exit code 3: the desk was read
(and refreshed) but at least one target was not notified."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app import desk
from sheetdesk.app import notify as app_notify
from sheetdesk.app.desk import RunResult
from sheetdesk.cli.console import busy
from sheetdesk.cli.options import book_argument, common, dry_run_option, if_workday_option, require_book
from sheetdesk.errors import SheetdeskError
from sheetdesk.schema import text as _t
from sheetdesk.settings import load_settings


def send_and_report(book: Path, result: RunResult, lang: str, *, dry_run: bool, err: bool = False,
                    after_refresh: bool = False) -> bool:
    """Send, print one line per target (and each payload on --dry-run); False when a target failed.
    After a refresh even a settings problem is only a failed notification: the save stands."""
    try:
        report = app_notify.send_standup(book, result, lang, dry_run=dry_run)
    except SheetdeskError as exc:
        if not after_refresh:
            raise
        click.echo(_t(lang, f"未发送群消息：{exc.zh}（台账已刷新）", f"not notified: {exc.en} (the desk is refreshed)"),
                   err=True)
        return False
    for outcome in report.outcomes:
        label = outcome.target.label(lang)
        if outcome.preview:
            click.echo(f"—— {label}" if lang == "zh" else f"-- {label}", err=err)
            click.echo(outcome.preview, err=err)
        line = f"{label}：{outcome.text(lang)}" if lang == "zh" else f"{label}: {outcome.text(lang)}"
        click.echo(line, err=err or not outcome.ok)
    if not report.ok and after_refresh:
        click.echo(_t(lang, "台账已刷新，但群消息未全部送达（退出码 3）",
                      "the desk is refreshed, but not every target was notified (exit code 3)"), err=True)
    return report.ok


@click.command()
@book_argument
@dry_run_option("只打印将要发送的消息，不发送 / print the messages, send nothing")
@common
@if_workday_option
def notify(book: Path, dry_run: bool, lang: str, now: datetime | None) -> None:
    """把晨会摘要发到企业微信/钉钉/飞书群和邮箱 / post the stand-up to the group bots and mail."""
    require_book(book)
    app_notify.notify_settings(load_settings(book))  # no targets: say so before reading the desk
    with busy(lang, f"正在读取 {book}", f"reading {book}"):
        result = desk.run(book, now=now, write=False, lean=True)
    if not send_and_report(book, result, lang, dry_run=dry_run):
        sys.exit(app_notify.EXIT_NOT_NOTIFIED)

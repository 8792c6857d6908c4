"""``sheetdesk refresh`` (validate, number, route and save) and ``sheetdesk validate`` (the same
checks, read-only)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app import desk
from sheetdesk.cli.console import busy, echo_json, print_result, print_standup, result_json
from sheetdesk.cli.options import book_argument, common, dry_run_option, force_option, if_workday_option, json_option


@click.command()
@book_argument
@force_option
@dry_run_option()
@json_option
@common
@if_workday_option
def refresh(book: Path, as_json: bool, dry_run: bool, force: bool, lang: str, now: datetime | None) -> None:
    """校验、编号、分派并保存 / validate, number, route and save the desk."""
    with busy(lang, f"正在刷新 {book}", f"refreshing {book}", show=not as_json):
        result = desk.run(book, now=now, dry_run=dry_run, force=force, lean=True)
    if as_json:
        echo_json(result_json(result, lang))
    else:
        print_result(result, lang)
        print_standup(result, lang)


@click.command()
@book_argument
@json_option
@common
def validate(book: Path, as_json: bool, lang: str, now: datetime | None) -> None:
    """只读校验，不写入 / the same checks, read-only."""
    with busy(lang, f"正在校验 {book}", f"checking {book}", show=not as_json):
        result = desk.run(book, now=now, write=False, lean=True)
    if as_json:
        echo_json(result_json(result, lang))
    else:
        print_result(result, lang)

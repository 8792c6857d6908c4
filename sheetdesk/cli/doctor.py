"""``sheetdesk doctor [BOOK] [--fix]``: diagnose the desk file and repair what can be repaired."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app.doctor import diagnose
from sheetdesk.cli.console import Steps, print_diagnosis
from sheetdesk.cli.options import book_argument, common, force_option, require_book


@click.command()
@book_argument
@click.option("--fix", is_flag=True, help="修复可修复的问题 / repair what can be repaired")
@force_option
@common
def doctor(book: Path, fix: bool, force: bool, lang: str, now: datetime | None) -> None:
    """诊断台账文件，--fix 修复 / diagnose the desk file; --fix repairs what it can."""
    require_book(book)
    with Steps(lang=lang) as steps:
        d = diagnose(Path(book), fix=fix, force=force, steps=steps)
    print_diagnosis(d, book, fix, lang)
    if not d.healthy:
        sys.exit(1)

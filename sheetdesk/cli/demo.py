"""``sheetdesk demo [DIR]``: a sample desk with realistic data, refreshed, and a guide to it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app import desk
from sheetdesk.app.templates import create_demo
from sheetdesk.cli.console import print_demo_guide, print_result, print_standup
from sheetdesk.cli.options import common


@click.command()
@click.argument("directory", required=False, default="sheetdesk-demo",
                type=click.Path(file_okay=False, path_type=Path))
@common
def demo(directory: Path, lang: str, now: datetime | None) -> None:
    """生成并刷新一个示例台账 / a sample desk with realistic data, refreshed."""
    now = now or datetime(2026, 11, 23, 9, 0)
    target = create_demo(directory, lang=lang, today=now.date())
    result = desk.run(target, now=now)
    print_result(result, lang)
    print_standup(result, lang)
    print_demo_guide(result, lang)

"""``sheetdesk init [DIR]``: a new, empty desk workbook."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app.templates import create_desk
from sheetdesk.cli.options import common
from sheetdesk.schema import text as _t


@click.command()
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--preset", type=click.Choice(["p0p1p2", "four-stage"]), default="p0p1p2", show_default=True,
              help="时效标准预设 / SLA table preset")
@common
def init(directory: Path, preset: str, lang: str, now: datetime | None) -> None:
    """新建台账 DIR/desk.xlsx / create a new desk workbook."""
    target = create_desk(directory, lang=lang, preset=preset)
    click.echo(_t(lang, f"已新建 {target}", f"created {target}"))
    click.echo(_t(lang, f"下一步：在“登记表”中登记反馈，然后运行 sheetdesk refresh {target}",
                  f"next: type feedback into 'Register', then run sheetdesk refresh {target}"))

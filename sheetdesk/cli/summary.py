"""``sheetdesk summary [BOOK]... --month YYYY-MM | --week YYYY-Www | --quarter YYYY-Qn | --year YYYY``: the manager's summary workbook,
several desks merged, optionally mailed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app import mailer
from sheetdesk.app import summary as summ
from sheetdesk.cli.console import Steps
from sheetdesk.cli.options import DEFAULT_BOOK, common, require_book
from sheetdesk.rules import kpis
from sheetdesk.schema import text as _t
from sheetdesk.settings import load_settings
from sheetdesk.workbook.summary_writer import write_summary


@click.command()
@click.argument("books", nargs=-1, type=click.Path(path_type=Path))
@click.option("--month", "month_text", metavar="YYYY-MM", help="统计月份 / the month to summarise")
@click.option("--week", "week_text", metavar="YYYY-Www", help="周报：时效监控 / weekly SLA monitoring")
@click.option("--quarter", "quarter_text", metavar="YYYY-Qn", help="季度汇总，如 2026-Q4 / the quarter to summarise")
@click.option("--year", "year_text", metavar="YYYY", help="年度汇总 / the year to summarise")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件，默认 summaries/YYYY-MM.xlsx / output file")
@click.option("--mail-to", "mail_to", multiple=True, metavar="ADDR",
              help="写好后作为附件发到此邮箱，可多次给出（[mail] 见 sheetdesk.toml） / mail it to ADDR (repeatable)")
@common
def summary(books: tuple[Path, ...], month_text: str | None, week_text: str | None, quarter_text: str | None,
            year_text: str | None, output: Path | None, mail_to: tuple[str, ...], lang: str,
            now: datetime | None) -> None:
    """月度、周、季度或年度汇总，含图表；多个台账合并 / the manager's summary with charts; several desks merge."""
    period = summ.choose_period(month_text, week_text, quarter_text, year_text)
    recipients = mailer.check_recipients(mail_to)
    paths = list(books) or [Path(DEFAULT_BOOK)]
    for p in paths:
        require_book(p)
    now = now or load_settings(paths[0]).now()  # the first desk's clock, as for its mail and its file
    with Steps(lang=lang) as steps:
        steps.step("读取台账", "reading desks", total=len(paths))
        data = summ.build(paths, period, weekly=period.kind == "week", now=now, lang=lang, on_book=steps.advance)
    target = output or summ.default_output(paths[0], period)
    write_summary(data, target)
    k = data.kpis
    open_label = kpis.metric_label("open_at_end", period.kind != "month", lang)
    click.echo(_t(lang, f"已写入 {target}：受理 {k['received']}，结案 {k['closed']}，{open_label} {k['open_at_end']}",
                  f"wrote {target}: {k['received']} received, {k['closed']} closed, {k['open_at_end']} {open_label.lower()}"))
    if recipients:
        mailer.mail_summary(target, recipients, paths[0], data)
        click.echo(_t(lang, f"已发送至 {'、'.join(recipients)}", f"mailed to {', '.join(recipients)}"))

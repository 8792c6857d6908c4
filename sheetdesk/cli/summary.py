"""``sheetdesk summary [BOOK]... --month YYYY-MM|previous | --week YYYY-Www|previous``: the manager's
summary workbook, several desks merged, optionally mailed; ``--if-workday`` / ``--if-first-workday``
let a daily timer start it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app import mailer, schedule
from sheetdesk.app import summary as summ
from sheetdesk.cli.console import Steps
from sheetdesk.cli.options import DEFAULT_BOOK, common, if_workday_option, require_book, skipped
from sheetdesk.rules import kpis
from sheetdesk.schema import text as _t
from sheetdesk.settings import load_settings
from sheetdesk.workbook.summary_writer import write_summary


@click.command()
@click.argument("books", nargs=-1, type=click.Path(path_type=Path))
@click.option("--month", "month_text", metavar="YYYY-MM|previous",
              help="统计月份，previous 为上月 / the month to summarise (previous: last month)")
@click.option("--week", "week_text", metavar="YYYY-Www|previous",
              help="周报：时效监控，previous 为上周 / weekly SLA monitoring (previous: last week)")
@click.option("--quarter", "quarter_text", metavar="YYYY-Qn", help="季度汇总，如 2026-Q4 / the quarter to summarise")
@click.option("--year", "year_text", metavar="YYYY", help="年度汇总 / the year to summarise")
@click.option("--if-first-workday", "if_first_workday", is_flag=True,
              help="只在本月（用 --week 时为本周）第一个工作日执行 / run only on the first working day of "
                   "this month (of this week with --week)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件，默认 summaries/YYYY-MM.xlsx / output file")
@click.option("--mail-to", "mail_to", multiple=True, metavar="ADDR",
              help="写好后作为附件发到此邮箱，可多次给出（[mail] 见 sheetdesk.toml） / mail it to ADDR (repeatable)")
@common
@if_workday_option
def summary(books: tuple[Path, ...], month_text: str | None, week_text: str | None, quarter_text: str | None,
            year_text: str | None, if_first_workday: bool, output: Path | None, mail_to: tuple[str, ...], lang: str,
            now: datetime | None) -> None:
    """月度、周、季度或年度汇总，含图表；多个台账合并 / the manager's summary with charts; several desks merge."""
    summ.one_period(month_text, week_text, quarter_text, year_text)
    paths = list(books) or [Path(DEFAULT_BOOK)]
    now = now or load_settings(paths[0]).now()  # the first desk's clock, as for its mail and its file
    period = summ.choose_period(month_text, week_text, quarter_text, year_text, now.date())
    if if_first_workday:
        reason = schedule.first_workday_skip(paths[0], now, "week" if week_text else "month")
        if reason is not None:
            skipped(lang, reason)
            return
    recipients = mailer.check_recipients(mail_to)
    for p in paths:
        require_book(p)
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

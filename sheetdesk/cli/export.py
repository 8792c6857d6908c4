"""``sheetdesk export [BOOK]... --db URL``: mirror the desk(s) into a database; re-runs converge."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sheetdesk.cli.console import Steps, print_export
from sheetdesk.cli.options import DEFAULT_BOOK, common, require_book


@click.command()
@click.argument("books", nargs=-1, type=click.Path(path_type=Path))
@click.option("--db", "db_url", metavar="URL", envvar="SHEETDESK_DB_URL", show_envvar=True,
              help="数据库地址，如 sqlite:///desk.db 或 postgresql://用户@主机/库名；"
                   "默认取 sheetdesk.toml 的 [database] url / database URL (default: [database] url)")
@click.option("--branch", "branch_names", multiple=True, metavar="NAME",
              help="分支名，每个工作簿一个，默认为台账所在文件夹名 / branch name per workbook (default: its folder)")
@common
def export(books: tuple[Path, ...], db_url: str | None, branch_names: tuple[str, ...], lang: str,
           now: datetime | None) -> None:
    """把工单、进度、结果和回访导出到数据库（可反复运行） / mirror the desk(s) into a database; re-runs converge."""
    from sheetdesk.app import dbexport  # imported when the command runs (it loads SQLAlchemy): keeps --help fast

    paths = list(books) or [Path(DEFAULT_BOOK)]
    for p in paths:
        require_book(p)
    url = dbexport.resolve_url(db_url, paths[0])
    names = dbexport.branch_names(paths, branch_names)
    with Steps(lang=lang) as steps:
        steps.step("导出台账", "exporting desks", total=len(paths))
        done = dbexport.export(paths, url, branches=names, now=now, on_book=steps.advance)
    print_export(done, dbexport.shown_url(url), lang)

"""``sheetdesk import [BOOK] FILE``: bulk intake from a call centre's, help desk's or shop's CSV or xlsx
export (the module is not named ``import``: that is a keyword)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app import importer
from sheetdesk.cli.console import Steps, echo_json
from sheetdesk.cli.import_view import import_json, print_import, print_import_examples
from sheetdesk.cli.options import (
    DEFAULT_BOOK,
    book_argument,
    common,
    dry_run_option,
    force_option,
    json_option,
    lang_for,
)
from sheetdesk.errors import InputError, SheetdeskError
from sheetdesk.settings import load_settings


@click.command("import")
@book_argument
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path), metavar="MAP.toml",
              help="列映射文件（TOML，见 docs/import.md） / column mapping file")
@click.option("--encoding", metavar="NAME",
              help="CSV 的文字编码，如 gbk、big5、shift_jis（默认自动识别 UTF-8/GBK） / the CSV's text encoding")
@dry_run_option("只检查，不写入 / check only, write nothing")
@force_option
@json_option
@click.option("--example", "example_dir", is_flag=False, flag_value="import-examples", default=None,
              type=click.Path(file_okay=False, path_type=Path), metavar="[DIR]",
              help="把示例导出文件及映射写到 DIR（默认 import-examples） / write the example exports and maps into DIR")
@common
def import_(book: Path, file: Path | None, map_path: Path | None, encoding: str | None, dry_run: bool, force: bool,
            as_json: bool, example_dir: Path | None, lang: str, now: datetime | None) -> None:
    """从呼叫中心/客服/电商导出的 CSV 或 xlsx 批量登记 / bulk intake from a CSV or xlsx export: [BOOK] FILE."""
    ctx = click.get_current_context()
    if example_dir is not None:
        if file is not None or ctx.get_parameter_source("book") != click.core.ParameterSource.DEFAULT:
            raise InputError("--example 只写出示例文件，不能同时指定 BOOK 或 FILE",
                             "--example only writes the example files; do not name BOOK or FILE with it")
        print_import_examples(importer.write_examples(example_dir), lang)
        return
    if file is None:  # one argument is the file; the book is ./desk.xlsx
        if ctx.get_parameter_source("book") == click.core.ParameterSource.DEFAULT:
            raise InputError("缺少要导入的文件：sheetdesk import [BOOK] FILE",
                             "missing the file to import: sheetdesk import [BOOK] FILE")
        book, file = Path(DEFAULT_BOOK), book
        lang = lang_for(book, lang)
    try:
        now = now or load_settings(book).now()
        job = importer.prepare(book, file, map_path, encoding)
        with Steps(lang=lang, show=not as_json and job.size > importer.PROGRESS_ROWS) as steps:
            steps.step(f"导入 {file.name}", f"importing {file.name}", total=job.steps)
            result = importer.run_import(job, now=now, force=force, dry_run=dry_run, lang=lang, advance=steps.advance)
    except SheetdeskError as exc:
        if lang == "en":  # the book's language was found here, after `common` chose its own
            exc.zh = exc.en
        raise
    if as_json:
        echo_json(import_json(result, lang))
    else:
        print_import(result, lang)

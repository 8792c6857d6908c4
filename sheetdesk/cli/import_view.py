"""What ``sheetdesk import`` prints: the rows that did not land, one summary line, and the example
commands; the same facts as JSON."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from sheetdesk.cli.console import MAX_ROWS, stdout_console
from sheetdesk.cli.options import DEFAULT_BOOK
from sheetdesk.schema import text as _t


def print_import_examples(written: list[Path], lang: str) -> None:
    """What was written, and the commands that import each example export with its map."""
    folder = written[0].parent if written else Path(".")
    names = "、".join(p.name for p in written) if lang == "zh" else ", ".join(p.name for p in written)
    click.echo(_t(lang, f"已写出导入示例到 {folder}：{names}", f"wrote the import examples into {folder}: {names}"))
    click.echo(_t(lang, "试一试（先用 sheetdesk init 新建台账；示例日期为 2026 年 11 月）：",
                  "try them (create a desk with sheetdesk init first; the examples are dated November 2026):"))
    for mapping in (p for p in written if p.suffix == ".toml"):
        for export in (p for p in written if p.suffix != ".toml" and p.name.startswith(mapping.stem)):
            click.echo(f"  sheetdesk import {DEFAULT_BOOK} {export} --map {mapping}")


def import_json(result, lang: str) -> dict:
    return {
        "file": str(result.job.source.path), "book": str(result.job.book), "dry_run": result.dry_run,
        "imported": [{"line": row.line, "id": new_id} for row, new_id in result.imported],
        "skipped": [{"line": s.row.line, "external_ref": s.ref, "repeats_line": s.repeats} for s in result.skipped],
        "rejected": [{"line": r.row.line, "reasons": [x.text(lang) for x in r.reasons]} for r in result.rejected],
        "rejected_file": str(result.rejected_file) if result.rejected_file else None,
    }


def _id_list(ids: list[str], lang: str) -> str:
    """A handful of IDs in full; a long list as its ends (in ID order, not the file's)."""
    sep = "、" if lang == "zh" else ", "
    ids = sorted(ids, key=lambda i: (i.partition("-")[0], len(i), i))
    return sep.join(ids) if len(ids) <= 12 else sep.join(ids[:5]) + " … " + sep.join(ids[-2:])


def print_import(result, lang: str) -> None:
    """The rows that did not land (line, column, value, why), then one summary line."""
    console = stdout_console()
    job = result.job
    console.print(_t(lang, f"读取 {job.source.path}：{job.size} 行（{job.source.describe(lang)}）",
                     f"read {job.source.path}: {job.size} rows ({job.source.describe(lang)})"), markup=False)
    if result.rejected:
        table = Table(title=_t(lang, "未能导入的行", "Rows not imported"))
        for head in (_t(lang, "行", "Line"), _t(lang, "列", "Column"), _t(lang, "值", "Value"), _t(lang, "原因", "Reason")):
            table.add_column(head)
        shown = 0
        for rej in result.rejected:
            for reason in rej.reasons:
                if shown < MAX_ROWS:
                    table.add_row(str(rej.row.line), escape(reason.where(lang)), escape(reason.value),
                                  escape(reason.zh if lang == "zh" else reason.en))
                shown += 1
        console.print(table)
        if shown > MAX_ROWS:
            console.print(_t(lang, f"……另有 {shown - MAX_ROWS} 条未显示，完整列表见拒绝文件",
                             f"… {shown - MAX_ROWS} more not shown; the rejected file has them all"))
    repeats = sum(1 for s in result.skipped if s.repeats is not None)
    ids = [i for _, i in result.imported if i]
    if result.dry_run:
        parts = [_t(lang, f"试运行：可导入 {len(result.imported)} 条", f"dry run: {len(result.imported)} would be imported")]
    else:
        parts = [_t(lang, f"已导入 {len(result.imported)} 条", f"imported {len(result.imported)}")
                 + (f"（{_id_list(ids, lang)}）" if ids and lang == "zh" else f" ({_id_list(ids, lang)})" if ids else "")]
    skipped = len(result.skipped) - repeats
    parts.append(_t(lang, f"跳过 {skipped} 条已导入过的", f"skipped {skipped} already imported"))
    if repeats:
        parts.append(_t(lang, f"跳过 {repeats} 条文件内重复的", f"skipped {repeats} repeated within the file"))
    parts.append(_t(lang, f"拒绝 {len(result.rejected)} 条", f"rejected {len(result.rejected)}"))
    line = _t(lang, "，", ", ").join(parts)
    if result.rejected_file:
        line += _t(lang, f"（见 {result.rejected_file}）", f" (see {result.rejected_file})")
    console.print(line, markup=False)
    if result.rejected_error:
        click.echo(_t(lang, f"注意：拒绝文件未能写入：{result.rejected_error}",
                      f"warning: could not write the rejected file: {result.rejected_error}"), err=True)
    if result.rejected and not result.dry_run:
        console.print(_t(lang, "改正拒绝文件中的行后，可用同一映射再次导入它；已导入的行不会重复",
                         "fix the rows in the rejected file and import it again with the same mapping; "
                         "rows already imported are not added twice"), markup=False)

"""``sheetdesk report [BOOK] [ID]... | --all``: per-ticket result reports, archived under
archive/YYYY/MM/ with an index."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from sheetdesk.app import desk, reports
from sheetdesk.cli.console import Steps, busy
from sheetdesk.cli.options import book_and_ids, check_book, common, if_workday_option
from sheetdesk.errors import InputError
from sheetdesk.schema import text as _t
from sheetdesk.settings import load_settings
from sheetdesk.workbook.report_writer import write_index, write_report


@click.command()
@click.argument("args", nargs=-1, metavar="[BOOK] [ID]...")
@click.option("--all", "all_", is_flag=True, help="所有已审核且尚未归档的工单 / every reviewed ticket without a report")
@click.option("--external", is_flag=True, help="另出对外版（客户与联系方式脱敏） / also a masked copy for outside")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 生成 PDF / also a PDF (needs LibreOffice)")
@common
@if_workday_option
def report(args: tuple[str, ...], all_: bool, external: bool, pdf: bool, lang: str, now: datetime | None) -> None:
    """已审核工单的处理结果报告，归档到 archive/YYYY/MM/ / per-ticket result reports into the archive."""
    book, ids = book_and_ids(args)
    check_book(book)
    if pdf:
        reports.soffice()  # the one-line install hint comes before anything is written
    with busy(lang, f"正在读取 {book}", f"reading {book}"):
        result = desk.run(book, now=now, write=False)
    built = reports.build_reports(result)
    root = reports.archive_dir(book)
    conflicts = result.plan.conflicts if result.plan else {}
    waiting = reports.awaiting_second_review(result)
    chosen, refused = reports.refuse_unsafe(reports.select(built, ids, all_, root, conflicts, waiting))
    for zh, en in refused:  # a malformed typed ID never names a file; the others are still written
        click.echo(_t(lang, "注意：", "warning: ") + _t(lang, zh, en), err=True)
    written, unchanged = [], 0
    with Steps(lang=lang, show=len(chosen) >= 20) as steps:
        steps.step("生成报告", "writing reports", total=len(chosen))
        for rep in chosen:
            copies = [rep] + ([reports.external_copy(rep)] if external else [])
            for copy in copies:
                done = reports.archive_report(root, copy, write_report, result.now)
                if done.written:
                    written.append(done.path)
                    if pdf:
                        written.append(reports.pdf_of(done.path))
                else:
                    unchanged += 1
            steps.advance()
    index = (write_index(root, reports.index_rows(root, load_settings(book).timezone), result.desk_lang)
             if root.exists() else None)
    for path in written:
        click.echo(_t(lang, f"已写入 {path}", f"wrote {path}"))
    if unchanged:
        click.echo(_t(lang, f"{unchanged} 份报告内容未变，未重复写入", f"{unchanged} report(s) unchanged; nothing rewritten"))
    if not chosen and not refused and built:
        click.echo(_t(lang, f"已审核的 {len(built)} 个工单都已归档，没有新的报告要写；报告内容有变时，指定编号重出",
                      f"all {len(built)} reviewed ticket(s) already have a report; name an ID to re-issue a changed one"))
    elif not chosen and not refused:
        click.echo(_t(lang, "没有需要出报告的工单：还没有已审核的处理结果（需填写审核人和审核日期）",
                      "no tickets to report: no result is reviewed yet (fill Reviewer and Reviewed on)"))
    if all_ and conflicts:
        skipped = sorted(conflicts)
        more_zh = f"等 {len(skipped)} 个" if len(skipped) > 20 else ""
        more_en = f" and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        click.echo(_t(lang, f"登记表中重复的编号不出报告：{'、'.join(skipped[:20])}{more_zh}（改正重复的编号后再运行）",
                      f"no report for IDs on several Register rows: {', '.join(skipped[:20])}{more_en} "
                      f"(correct them, then run again)"))
    if all_ and waiting:
        listed_zh = "、".join(f"{i}（{why[0]}）" for i, why in sorted(waiting.items()))
        listed_en = ", ".join(f"{i} ({why[1]})" for i, why in sorted(waiting.items()))
        click.echo(_t(lang, f"等待经理复核（填写复核人和复核日期后再出报告）：{listed_zh}",
                      f"waiting for the manager's second review (fill Second reviewer and Second reviewed on): {listed_en}"))
    if index is not None:
        click.echo(_t(lang, f"归档索引：{index}", f"archive index: {index}"))
    if refused and ids:  # the IDs named on the command line were not all reported
        sys.exit(InputError.exit_code)

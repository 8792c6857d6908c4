"""One print-ready report workbook per ticket, and the archive's index, written with xlsxwriter.

A4 portrait, one page wide, print titles, the ID and page numbers in the header/footer — it is
printed, signed and filed. The content hash goes into a custom document property so the archive
can tell an unchanged report without keeping any other state.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sheetdesk.rules.report import Report
from sheetdesk.workbook.cells import LINE_HEIGHT, new_workbook, wrapped_lines

FIELDS = (  # (attribute, zh, en)
    ("id", "反馈编号", "ID"), ("customer", "客户名称/单位", "Customer"), ("contact", "联系方式", "Contact"),
    ("received", "反馈日期", "Received"), ("channel", "反馈来源", "Channel"), ("product", "产品型号", "Product"),
    ("description", "问题描述", "Description"), ("expectation", "客户诉求", "Expectation"),
    ("category", "问题分类", "Category"), ("priority", "优先级", "Priority"),
    ("escalation", "升级原因", "Escalation reason"), ("department", "责任部门", "Department"),
    ("owner", "处理责任人", "Owner"), ("resolution_due", "处理时限", "Resolution due"),
)
#: fields that stay inside the team: the external copy has no row for them
INTERNAL_FIELDS = frozenset({"escalation"})
LATENESS = (("late_stages", "超时环节", "Late stages"), ("overdue_reason", "超时原因", "Overdue reason"))
CLOSING = (
    ("result", "处理结果", "Result"), ("satisfaction", "客户满意度", "Satisfaction"),
    ("comment", "客户评价", "Customer comment"), ("prepared_by", "报告编制人", "Prepared by"),
    ("prepared_on", "编制日期", "Prepared on"), ("reviewer", "审核人", "Reviewer"),
    ("reviewed_on", "审核日期", "Reviewed on"), ("second_reviewer", "复核人", "Second reviewer"),
    ("second_reviewed_on", "复核日期", "Second reviewed on"), ("remarks", "备注", "Remarks"),
)
#: shown when the ticket had the manager's second review (a major problem)
SECOND_REVIEW = frozenset({"second_reviewer", "second_reviewed_on"})


def write_report(report: Report, path: Path, digest: str, written: datetime | None = None) -> None:
    """``written``: when (desk clock) the archive writes it, kept in a custom property for the index."""
    zh = report.lang == "zh"

    def t(a: str, b: str) -> str:
        return a if zh else b

    wb = new_workbook(path, report.lang)
    title = t("售后服务反馈及处理结果报告", "After-sales feedback and result report")
    wb.set_properties({"title": f"{title} {report.id}", "author": "sheetdesk", "company": "",
                       "created": datetime.combine(report.reviewed_on, datetime.min.time())
                       if report.reviewed_on else report.received})
    wb.set_custom_property("sheetdesk_hash", digest)
    if written is not None:
        wb.set_custom_property("sheetdesk_written", written.isoformat(sep=" "))
    ws = wb.add_worksheet(t("报告", "Report"))
    ws.set_paper(9)          # A4
    ws.set_portrait()
    ws.fit_to_pages(1, 0)    # one page wide
    ws.set_margins(left=0.6, right=0.6, top=0.8, bottom=0.8)
    copy = t("外部版", "external copy") if report.external else ""
    ws.set_header(f"&L{t('反馈编号', 'ID')} {report.id}&R{copy}")
    ws.set_footer(t("&C第 &P 页 / 共 &N 页", "&CPage &P of &N"))
    ws.repeat_rows(0)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 20)
    ws.set_column(2, 2, 22)  # wide enough for "closed without this step"
    ws.set_column(3, 3, 32)
    head = wb.add_format({"bold": True, "font_size": 15, "align": "center", "valign": "vcenter"})
    label = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "valign": "top", "text_wrap": True})
    value = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    when = wb.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd hh:mm"})
    day = wb.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd"})
    section = wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1})

    ws.merge_range(0, 0, 0, 3, title, head)
    ws.set_row(0, 30)
    row = 1

    def fit(r: int, *cells: tuple[object, float]) -> None:
        """Give a row the lines its wrapped texts need: merged cells never grow by themselves, and
        LibreOffice keeps a written file's row heights, so a long note would print over the next row."""
        lines = max((wrapped_lines(text, width) for text, width in cells), default=1)
        if lines > 1:
            ws.set_row(r, LINE_HEIGHT * lines)

    def field(name: str, text: str, content) -> None:
        nonlocal row
        ws.write(row, 0, text, label)
        if isinstance(content, datetime):
            ws.merge_range(row, 1, row, 3, "", value)
            ws.write_datetime(row, 1, content, when)
        elif hasattr(content, "year"):
            ws.merge_range(row, 1, row, 3, "", value)
            ws.write_datetime(row, 1, datetime.combine(content, datetime.min.time()), day)
        else:
            ws.merge_range(row, 1, row, 3, content if content not in (None, "") else "", value)
            fit(row, (content, VALUE_WIDTH), (text, 16))
        row += 1

    for name, a, b in FIELDS:
        if report.external and name in INTERNAL_FIELDS:
            continue
        field(name, t(a, b), getattr(report, name))

    def table_head(title: str, heads: tuple[str, ...]) -> None:
        nonlocal row
        ws.merge_range(row, 0, row, 3, title, section)
        for c, h in enumerate(heads):
            ws.write(row + 1, c, h, label)
        row += 2

    table_head(t("处理过程", "Process"), (t("时间", "Time"), t("节点", "Step"), t("处理人", "By"), t("说明", "Note")))
    for s in report.steps:
        ws.write_datetime(row, 0, s.time, when)
        ws.write(row, 1, s.step, value)
        ws.write(row, 2, s.by, value)
        ws.write(row, 3, s.note, value)
        fit(row, (s.step, 20), (s.by, 22), (s.note, 32))
        row += 1

    if not report.external:  # SLA attainment and lateness stay inside the team
        table_head(t("时效", "Deadlines"), (t("环节", "Stage"), t("时限", "Due"), t("完成", "Done"), t("是否达标", "Met")))
        for st in report.stages:
            ws.write(row, 0, st.name, value)
            for c, moment in ((1, st.due), (2, st.done)):
                if c == 2 and st.with_close:  # nobody logged it: the close completed it
                    ws.write(row, c, t("随关闭（未单独记录）", "closed without this step"), value)
                elif moment is not None:
                    ws.write_datetime(row, c, moment, when)
                else:
                    ws.write_blank(row, c, None, value)
            met = "" if st.met is None else (t("达标", "met") if st.met else t("未达标", "missed"))
            ws.write(row, 3, met, value)
            row += 1
        for name, a, b in LATENESS:
            if report.late_stages or report.overdue_reason:
                field(name, t(a, b), getattr(report, name))

    ws.merge_range(row, 0, row, 3, t("结果与审核", "Result and review"), section)
    row += 1
    for name, a, b in CLOSING:
        if name in SECOND_REVIEW and not (report.second_reviewer or report.second_reviewed_on):
            continue
        field(name, t(a, b), getattr(report, name))
    ws.print_area(0, 0, row - 1, 3)
    wb.close()


#: the merged value cells' width (columns B–D) in characters
VALUE_WIDTH = 20 + 22 + 32


#: the archive's index, beside the year folders
INDEX = "index.xlsx"


def write_index(root: Path, rows, lang: str) -> Path:
    """archive/index.xlsx: every archived report with its hash, rewritten from the folder itself."""
    zh = lang == "zh"
    target = root / INDEX
    tmp = root / ".index.tmp.xlsx"
    wb = new_workbook(tmp, lang)
    ws = wb.add_worksheet("归档索引" if zh else "Archive index")
    head = wb.add_format({"bold": True, "bg_color": "#D9D9D9"})
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    headers = ("反馈编号", "版本", "文件", "内容哈希", "外部版", "写入时间") if zh else \
        ("ID", "Version", "File", "Content hash", "External", "Written")
    for c, h in enumerate(headers):
        ws.write(0, c, h, head)
    for r, (ticket_id, version, rel, digest, external, written) in enumerate(rows, 1):
        ws.write(r, 0, ticket_id)
        ws.write_number(r, 1, version)
        ws.write_url(r, 2, f"external:{rel}", string=rel)
        ws.write(r, 3, digest)
        ws.write(r, 4, ("是" if external else "否") if zh else ("yes" if external else "no"))
        ws.write_datetime(r, 5, written, when)
    ws.set_column(0, 0, 13)
    ws.set_column(2, 2, 34)
    ws.set_column(3, 3, 66)
    ws.set_column(5, 5, 17)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)
    wb.close()
    tmp.replace(target)
    return target

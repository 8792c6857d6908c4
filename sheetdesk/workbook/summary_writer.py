"""The summary workbook, written fresh with xlsxwriter so its charts are native Excel charts.

Written to a temporary file beside the target and renamed into place: a manager never opens a
half-written summary.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timezone
from pathlib import Path

from sheetdesk.rules.followup_kpis import PERCENT_KEYS as FOLLOWUP_PERCENT_KEYS
from sheetdesk.rules.kpis import SummaryData, metrics, period_name
from sheetdesk.rules.results import rating_name
from sheetdesk.schema import text as _t
from sheetdesk.settings import aware
from sheetdesk.workbook.cells import LINE_HEIGHT, new_workbook, wrapped_lines
from sheetdesk.workbook.followup_sheet import write_followup_sheet, write_kpi_rows
from sheetdesk.workbook.safesave import follow_umask

GROUP_COLUMNS = (
    ("name", None, None), ("received", "受理量", "Received"), ("share", "占比", "Share"),
    ("closed", "结案量", "Closed"), ("response_attainment", "首次响应达标率", "First-response attainment"),
    ("resolution_attainment", "解决达标率", "Resolution attainment"), ("late", "超时单数", "Late"),
)
PERCENT_KEYS = {"share", "response_attainment", "resolution_attainment", "satisfaction_rate", "received_mom",
                "received_yoy", "later_round_attainment"} | FOLLOWUP_PERCENT_KEYS
#: the trend's changes of a rate, in percentage points: (key, zh, en) after 受理量环比/同比
POINT_COLUMNS = (
    ("satisfaction_rate_mom", "满意率环比(百分点)", "Satisfaction MoM (pp)"),
    ("satisfaction_rate_yoy", "满意率同比(百分点)", "Satisfaction YoY (pp)"),
    ("response_attainment_mom", "首次响应达标率环比(百分点)", "First-response attainment MoM (pp)"),
    ("response_attainment_yoy", "首次响应达标率同比(百分点)", "First-response attainment YoY (pp)"),
    ("resolution_attainment_mom", "解决达标率环比(百分点)", "Resolution attainment MoM (pp)"),
    ("resolution_attainment_yoy", "解决达标率同比(百分点)", "Resolution attainment YoY (pp)"),
)
POINT_KEYS = {key for key, _, _ in POINT_COLUMNS}
#: xlsxwriter's chart size at scale 1, and the default row height and column width, in pixels
CHART_PX = (480, 288)
ROW_PX, DEFAULT_COLUMN_PX = 20, 64


def _utc(data: SummaryData):
    """The document's creation time: xlsxwriter writes it as UTC, ``now`` is on the desk's clock."""
    return aware(data.now, data.timezone).astimezone(timezone.utc).replace(tzinfo=None)


class _Writer:
    def __init__(self, path: Path, data: SummaryData) -> None:
        self.data, self.lang = data, data.lang
        self.wb = new_workbook(path, self.lang)
        name = period_name(data.period, self.lang)
        self.wb.set_properties({"title": _t(self.lang, f"售后反馈{name}汇总 {data.period.label}",
                                            f"After-sales {name} summary {data.period.label}"),
                                "author": "sheetdesk", "created": _utc(data)})
        self.head = self.wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True})
        self.pct = self.wb.add_format({"num_format": "0.0%"})
        self.num = self.wb.add_format({"num_format": "0.00"})
        self.points = self.wb.add_format({"num_format": "+0.0;-0.0;0.0"})
        self.dt = self.wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.title = self.wb.add_format({"bold": True, "font_size": 13})

    def t(self, zh: str, en: str) -> str:
        return _t(self.lang, zh, en)

    def printed(self, ws, title_rows: tuple[int, int] = (0, 0)) -> None:
        """Every summary sheet prints on A4 landscape, one page wide and as long as it needs, with its
        header rows on every page and the summary's name and page numbers around it."""
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
        ws.repeat_rows(*title_rows)
        name, label = period_name(self.data.period, self.lang), self.data.period.label
        ws.set_header("&L" + self.t(f"售后反馈{name}汇总 {label}", f"After-sales {name} summary {label}")
                      .replace("&", "&&") + "&R&A")
        ws.set_footer(self.t("&C第 &P 页 / 共 &N 页", "&CPage &P of &N"))

    def chart_beside(self, ws, chart, table_columns: int, table_rows: int, x_scale: float = 1.0) -> None:
        """Put the chart to the right of its table, from the first data row down. Fitted to one page
        wide, a sheet's first page holds at least ~25 default rows, and the chart is 15 rows high: it
        always prints whole on page 1 however long the table grows, which a chart below the table
        cannot promise (Excel ignores manual page breaks on a sheet fitted to a page width). It keeps
        its size when the table is filtered; the print area covers table and chart."""
        col = table_columns + 1  # one empty column between them
        # a few pixels below the header row: an object touching the repeated row would be drawn, clipped,
        # on every later page
        ws.insert_chart(1, col, chart, {"x_scale": x_scale, "y_offset": 6, "object_position": 2})
        width = CHART_PX[0] * x_scale
        last_col = col + max(1, -(-int(width) // DEFAULT_COLUMN_PX)) - 1
        last_row = max(table_rows, 1 + -(-CHART_PX[1] // ROW_PX))
        ws.print_area(0, 0, last_row, last_col)

    def write_value(self, ws, row: int, col: int, key: str, value) -> None:
        """A figure in the format its key calls for (percent, percentage points, a decimal); None: blank."""
        if value is None:
            return
        fmt = (self.pct if key in PERCENT_KEYS else self.points if key in POINT_KEYS
               else self.num if isinstance(value, float) else None)
        ws.write(row, col, value, fmt) if fmt else ws.write(row, col, value)

    def table(self, ws, first_row: int, headers: list[str], rows: list[list], keys: list[str],
              width: float | None = None) -> None:
        """``width``: the columns' width, when the headers may wrap — the header row then gets the lines
        they need (LibreOffice keeps a written file's row heights; the filter button takes ~3 characters)."""
        for c, h in enumerate(headers):
            ws.write(first_row, c, h, self.head)
        if width is not None:
            lines = max(wrapped_lines(h, width - 3) for h in headers)
            if lines > 1:
                ws.set_row(first_row, LINE_HEIGHT * lines)
        for r, row in enumerate(rows, first_row + 1):
            for c, (key, value) in enumerate(zip(keys, row)):
                self.write_value(ws, r, c, key, value)
        ws.freeze_panes(first_row + 1, 0)
        if rows:
            ws.autofilter(first_row, 0, first_row + len(rows), len(headers) - 1)

    # --- sheets ---------------------------------------------------------------------------

    def kpi_sheet(self) -> None:
        d = self.data
        ws = self.wb.add_worksheet(self.t("指标", "KPIs"))
        ws.set_column(0, 0, 28)
        ws.set_column(1, 1, 16)
        ws.write(0, 0, self.t("指标", "Metric"), self.head)
        ws.write(0, 1, self.t("数值", "Value"), self.head)
        ws.write(1, 0, self.t("统计期间", "Period"))
        ws.write(1, 1, d.period.label)
        ws.write(2, 0, self.t("统计时点", "As of"))
        ws.write_datetime(2, 1, d.now, self.dt)
        ws.write(3, 0, self.t("台账", "Desks"))
        ws.write(3, 1, "、".join(d.branches) if self.lang == "zh" else ", ".join(d.branches))
        names = metrics(d.period.kind != "month")
        for i, (key, zh, en) in enumerate(names, 4):
            ws.write(i, 0, self.t(zh, en))
            self.write_value(ws, i, 1, key, d.kpis.get(key))
        top = [r["name"] or self.t("（未填）", "(blank)") for r in d.categories[:3]]
        ws.write(len(names) + 4, 0, self.t("前三问题分类", "Top three categories"))
        ws.write(len(names) + 4, 1, ("、" if self.lang == "zh" else ", ").join(top))
        ws.write(len(names) + 5, 0, self.t("不满意前三问题分类", "Top three categories among Unsatisfied"))
        ws.write(len(names) + 5, 1, self._top_text(d.unhappy_categories))
        ws.write(len(names) + 6, 0, self.t("不满意前三子类", "Top three subcategories among Unsatisfied"))
        ws.write(len(names) + 6, 1, self._top_text(d.unhappy_subcategories))
        write_kpi_rows(self, ws, len(names) + 7, d)
        ws.freeze_panes(1, 0)
        self.printed(ws)

    def _top_text(self, top: list[tuple[str, int, float]]) -> str:
        """物流类 50%、产品质量类 25% — the seed's 物流延迟占比25%."""
        parts = [f"{name or self.t('（未填）', '(blank)')} {share:.0%}" for name, _, share in top]
        return ("、" if self.lang == "zh" else ", ").join(parts)

    def unhappy_sheet(self) -> None:
        """不满意TOP3 (seed 002's monthly review): the categories, then the subcategories, most
        frequent among the period's 不满意 ratings, with their share of them."""
        d = self.data
        ws = self.wb.add_worksheet(self.t("不满意TOP3", "Unsatisfied top 3"))
        keys = ["name", "count", "share"]
        self.table(ws, 0, [self.t("问题分类", "Category"), self.t("不满意数", "Unsatisfied"), self.t("占比", "Share")],
                   [[name or self.t("（未填）", "(blank)"), n, share] for name, n, share in d.unhappy_categories], keys)
        start = len(d.unhappy_categories) + 2
        for c, h in enumerate((self.t("子类", "Subcategory"), self.t("不满意数", "Unsatisfied"), self.t("占比", "Share"))):
            ws.write(start, c, h, self.head)
        for r, (name, n, share) in enumerate(d.unhappy_subcategories, start + 1):
            self.write_value(ws, r, 0, "name", name or self.t("（未填）", "(blank)"))
            self.write_value(ws, r, 1, "count", n)
            self.write_value(ws, r, 2, "share", share)
        ws.set_column(0, 0, 28)
        ws.set_column(1, 2, 12)
        self.printed(ws)

    def group_sheet(self, name: tuple[str, str], first: tuple[str, str], rows: list[dict], chart: bool) -> None:
        ws = self.wb.add_worksheet(self.t(*name))
        keys = [k for k, _, _ in GROUP_COLUMNS]
        headers = [self.t(*first)] + [self.t(zh, en) for _, zh, en in GROUP_COLUMNS[1:]]
        values = [[(r[k] if r[k] != "" else self.t("（未填）", "(blank)")) if k == "name" else r[k] for k in keys]
                  for r in rows]
        self.table(ws, 0, headers, values, keys)
        ws.set_column(0, 0, 16)
        ws.set_column(1, len(headers) - 1, 13)
        self.printed(ws)
        if chart and rows:
            c = self.wb.add_chart({"type": "column"})
            c.add_series({"name": self.t("受理量", "Received"), "categories": [ws.name, 1, 0, len(rows), 0],
                          "values": [ws.name, 1, 1, len(rows), 1], "data_labels": {"value": True}})
            c.set_title({"name": self.t(f"{first[0]}分布（前三位居首）", f"{first[1]} (top three first)")})
            c.set_legend({"none": True})
            self.chart_beside(ws, c, len(headers), len(rows), x_scale=1.1)

    def satisfaction_sheet(self) -> None:
        d = self.data
        ws = self.wb.add_worksheet(self.t("满意度", "Satisfaction"))
        rows = [[rating_name(k, self.lang), n] for k, n in d.satisfaction.items()]
        total = sum(n for _, n in rows)
        for row in rows:
            row.append(row[1] / total if total else None)
        self.table(ws, 0, [self.t("评价", "Rating"), self.t("数量", "Count"), self.t("占比", "Share")], rows,
                   ["name", "count", "share"])
        ws.set_column(0, 2, 14)
        c = self.wb.add_chart({"type": "pie"})
        c.add_series({"name": self.t("满意度分布", "Satisfaction"), "categories": [ws.name, 1, 0, len(rows), 0],
                      "values": [ws.name, 1, 1, len(rows), 1], "data_labels": {"percentage": True}})
        c.set_title({"name": self.t("满意度分布", "Satisfaction distribution")})
        self.printed(ws)
        self.chart_beside(ws, c, 3, len(rows))

    def reasons_sheet(self) -> None:
        ws = self.wb.add_worksheet(self.t("超时原因", "Overdue reasons"))
        rows = [[reason or self.t("（未填写原因）", "(no reason given)"), n] for reason, n in self.data.reasons]
        self.table(ws, 0, [self.t("超时原因", "Overdue reason"), self.t("单数", "Tickets")], rows, ["name", "count"])
        ws.set_column(0, 0, 30)
        self.printed(ws)

    def trend_sheet(self) -> None:
        d = self.data
        ws = self.wb.add_worksheet(self.t("趋势", "Trend"))
        keys = ["month", "received", "closed", "response_attainment", "resolution_attainment", "satisfaction_rate",
                "received_mom", "received_yoy"] + [k for k, _, _ in POINT_COLUMNS]
        headers = [self.t("月份", "Month"), self.t("受理量", "Received"), self.t("结案量", "Closed"),
                   self.t("首次响应达标率", "First-response attainment"), self.t("解决达标率", "Resolution attainment"),
                   self.t("满意率", "Satisfaction rate"), self.t("受理量环比", "Received MoM"),
                   self.t("受理量同比", "Received YoY")] + [self.t(zh, en) for _, zh, en in POINT_COLUMNS]
        self.table(ws, 0, headers, [[r[k] for k in keys] for r in d.trend], keys, width=13)
        ws.set_column(0, len(headers) - 1, 13)
        n = len(d.trend)
        c = self.wb.add_chart({"type": "line"})
        for col, name in ((1, headers[1]), (2, headers[2])):
            c.add_series({"name": name, "categories": [ws.name, 1, 0, n, 0], "values": [ws.name, 1, col, n, col],
                          "marker": {"type": "circle"}})
        c.set_title({"name": self.t("近12个月趋势", "Last 12 months")})
        self.printed(ws)
        self.chart_beside(ws, c, len(headers), n, x_scale=1.2)

    def branch_sheet(self) -> None:
        ws = self.wb.add_worksheet(self.t("分支对比", "Branches"))
        names = metrics(self.data.period.kind != "month")
        keys = ["name"] + [k for k, _, _ in names]
        headers = [self.t("台账", "Desk")] + [self.t(zh, en) for _, zh, en in names]
        rows = [[name] + [k.get(key) for key in keys[1:]] for name, k in self.data.by_branch]
        self.table(ws, 0, headers, rows, keys, width=14)
        ws.set_column(0, len(headers) - 1, 14)
        self.printed(ws)

    def monitor_sheet(self) -> None:
        """The seeds' weekly SLA monitoring sheet: attainment per level, then every late ticket."""
        d = self.data
        ws = self.wb.add_worksheet(self.t("时效监控", "SLA monitor"))
        ws.write(0, 0, self.t(f"响应时效监控周报 {d.period.label}", f"Weekly SLA monitor {d.period.label}"), self.title)
        self.table(ws, 2, [self.t("优先级", "Priority"), self.t("受理量", "Received"),
                           self.t("首次响应达标率", "First-response attainment"),
                           self.t("解决达标率", "Resolution attainment"), self.t("超时单数", "Late")],
                   [[r["name"], r["received"], r["response_attainment"], r["resolution_attainment"], r["late"]]
                    for r in d.priorities], ["name", "received", "response_attainment", "resolution_attainment", "late"])
        start = len(d.priorities) + 5
        ws.write(start - 1, 0, self.t("超时明细", "Late tickets"), self.title)
        heads = [self.t("反馈编号", "ID"), self.t("台账", "Desk"), self.t("优先级", "Priority"),
                 self.t("责任人", "Owner"), self.t("响应时限", "Response due"), self.t("首次响应", "Responded"),
                 self.t("解决时限", "Resolution due"), self.t("关闭时间", "Closed"), self.t("超时原因", "Overdue reason")]
        for c, h in enumerate(heads):
            ws.write(start, c, h, self.head)
        for r, t in enumerate(d.late, start + 1):
            ws.write(r, 0, t.id)
            ws.write(r, 1, t.branch)
            ws.write(r, 2, t.priority)
            ws.write(r, 3, t.owner)
            # a reopened ticket: the first round's resolution, as the attainment judges it
            for c, value in ((4, t.response_due), (5, t.response_done), (6, t.closed_due), (7, t.resolution_done)):
                if value is not None:
                    ws.write_datetime(r, c, value, self.dt)
            ws.write(r, 8, t.overdue_reason)
        ws.set_column(0, 8, 15)
        self.printed(ws)  # the title with its period: the late list below has its own header

    def write(self) -> None:
        d = self.data
        self.kpi_sheet()
        if d.weekly:
            self.monitor_sheet()
        self.group_sheet(("分类", "Categories"), ("问题分类", "Category"), d.categories, chart=True)
        self.group_sheet(("优先级", "Priorities"), ("优先级", "Priority"), d.priorities, chart=False)
        self.group_sheet(("部门", "Departments"), ("责任部门", "Department"), d.departments, chart=False)
        self.group_sheet(("责任人", "Owners"), ("责任人", "Owner"), d.owners, chart=False)
        self.satisfaction_sheet()
        self.unhappy_sheet()
        self.reasons_sheet()
        write_followup_sheet(self, d)
        if d.trend:
            self.trend_sheet()
        if d.by_branch:
            self.branch_sheet()
        self.wb.close()


def write_summary(data: SummaryData, target: Path) -> Path:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp.xlsx", dir=target.parent)
    os.close(fd)
    try:
        _Writer(Path(tmp), data).write()
        follow_umask(Path(tmp))  # mkstemp made it 0600: colleagues open the summary too
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target

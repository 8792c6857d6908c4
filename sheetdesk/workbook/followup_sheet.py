"""The follow-up part of the summary workbook: the figures' rows of the KPIs sheet and the 回访 sheet
(the figures per call type, then the low scores sent to the supervisor).

It writes through the summary writer it is handed (its workbook, formats and print setup), so both
parts look like the rest of the summary.
"""

from __future__ import annotations

from sheetdesk.rules.followup_kpis import FOLLOWUP_METRICS
from sheetdesk.rules.kpis import SummaryData

TYPE_COLUMNS = (
    ("type", "回访类型", "Call type"), ("calls_due", "应回访数", "Calls due"), ("calls_made", "已回访数", "Calls made"),
    ("calls_on_time", "按时回访数", "Calls on time"), ("call_coverage", "回访覆盖率", "Coverage"),
    ("mean_call_score", "平均回访评分", "Mean score"), ("high_score_share", "9分及以上占比", "Share ≥ 9"),
    ("low_scores", "低分转主管数", "Low scores"),
)
LOW_COLUMNS = (("反馈编号", "ID"), ("台账", "Desk"), ("客户名称", "Customer"), ("回访类型", "Call type"),
               ("回访时间", "Called at"), ("回访人", "Caller"), ("回访评分", "Score"), ("回访记录", "Notes"))


def write_kpi_rows(writer, ws, first_row: int, data: SummaryData) -> int:
    """The follow-up figures below the KPIs sheet's other rows; the next free row."""
    for i, (key, zh, en) in enumerate(FOLLOWUP_METRICS, first_row):
        ws.write(i, 0, writer.t(zh, en))
        writer.write_value(ws, i, 1, key, data.followups.get(key))
    return first_row + len(FOLLOWUP_METRICS)


def write_followup_sheet(writer, data: SummaryData) -> None:
    """回访 / Follow-ups: the figures per call type, then every low score of the period."""
    ws = writer.wb.add_worksheet(writer.t("回访", "Follow-ups"))
    keys = [k for k, _, _ in TYPE_COLUMNS]
    rows = [[r[k] for k in keys] for r in data.followup_types]  # type: ignore[literal-required]
    for c, (_, zh, en) in enumerate(TYPE_COLUMNS):
        ws.write(0, c, writer.t(zh, en), writer.head)
    for r, row in enumerate(rows, 1):
        for c, (key, value) in enumerate(zip(keys, row)):
            writer.write_value(ws, r, c, key, value)
    start = len(rows) + 3
    ws.write(start - 1, 0, writer.t("低分回访（转主管跟进）", "Low scores (sent to the supervisor)"), writer.title)
    for c, (zh, en) in enumerate(LOW_COLUMNS):
        ws.write(start, c, writer.t(zh, en), writer.head)
    for r, call in enumerate(data.low_calls, start + 1):
        for c, value in enumerate((call.ticket_id, call.branch, call.customer, call.type, call.called_at, call.caller,
                                   call.score, call.notes)):
            if value is None or value == "":
                continue
            ws.write_datetime(r, c, value, writer.dt) if c == 4 else ws.write(r, c, value)
    ws.set_column(0, 0, 16)
    ws.set_column(1, max(len(LOW_COLUMNS), len(TYPE_COLUMNS)) - 1, 13)
    ws.set_column(4, 4, 17)  # the low scores' 回访时间 (yyyy-mm-dd hh:mm): narrower prints ###
    ws.freeze_panes(1, 0)
    writer.printed(ws)

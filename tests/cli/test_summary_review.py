"""The summaries after the review of issue 17: subcategories of the 不满意TOP3 from the matched
keyword, 复合型 tickets under their lead category, the trend's year-on-year change, the 回访 sheet's
header and the follow-up figures of a quarter and a year — through the real CLI on real workbooks.

2026 calendar: 1–7 Oct are National Day holidays, Saturday 10 Oct is a make-up working day (调休).
"""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest

from tests.helpers import col_of, register_rows

NOW = "2026-12-04 09:00"


def ticket(id_, received, category, description, **extra):
    return {"id": id_, "received": received, "channel": "电话", "customer": "客户" + id_[-3:],
            "contact": "13812345678", "category": category, "description": description, **extra}


def handled(id_, responded, closed):
    return [{"id": id_, "time": responded, "by": "李工", "step": "首次响应"},
            {"id": id_, "time": closed, "by": "李工", "step": "问题关闭"}]


def rated(id_, at, satisfaction):
    return {"id": id_, "result": "已处理", "satisfaction": satisfaction, "rated_at": at}


def summary(cli, path, out, *period):
    result = cli("summary", path, *period, "-o", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(out)


def kpi_values(wb):
    return {r[0]: r[1] for r in wb["指标"].iter_rows(min_row=2, values_only=True)}


def table(ws, first_row=1):
    """The rows of a sheet's table from its header row down to the first empty row."""
    rows = []
    for row in ws.iter_rows(min_row=first_row + 1, values_only=True):
        if row[0] is None:
            break
        rows.append(row)
    return rows


# --- 不满意TOP3 subcategories: the keyword the description matched ---------------------------------

# The template's matrix: 物流类 子类 发货延迟、丢件、错发漏发, keywords 物流,快递,发货,配送,没收到,未收到,错发,漏发;
# no description below names a subcategory
UNHAPPY_TICKETS = [
    ticket("202611-001", datetime(2026, 11, 2, 10), "物流类", "快递一周了还没发货"),       # 快递 (no item), 发货 → 发货延迟
    ticket("202611-002", datetime(2026, 11, 3, 10), "物流类", "催了几次都不发货"),         # 发货 → 发货延迟
    ticket("202611-003", datetime(2026, 11, 4, 10), "物流类", "收到的机器被错发成别的型号"),  # 错发 → 错发漏发
    ticket("202611-004", datetime(2026, 11, 5, 10), "物流类", "又被错发了"),               # 错发 → 错发漏发
    ticket("202611-005", datetime(2026, 11, 6, 10), "技术支持类", "打开就闪退"),           # 闪退: no item holds it
    ticket("202611-006", datetime(2026, 11, 9, 10), "服务体验类", "客服态度冷淡"),          # happy: not counted
]


def test_unhappy_subcategories_come_from_the_matched_keyword(make_desk, cli, tmp_path):
    ratings = [rated(t["id"], datetime(2026, 11, 16, 10), "不满意") for t in UNHAPPY_TICKETS[:5]]
    ratings.append(rated("202611-006", datetime(2026, 11, 16, 10), "满意"))
    path = make_desk(UNHAPPY_TICKETS, results=ratings)
    wb = summary(cli, path, tmp_path / "m.xlsx", "--month", "2026-11")
    k = kpi_values(wb)
    assert k["不满意前三问题分类"] == "物流类 80%、技术支持类 20%"
    # 物流类 splits into its items; 闪退 belongs to none of 系统报错、软件兼容、配置升级: the keyword names it
    assert k["不满意前三子类"] == "物流类/发货延迟 40%、物流类/错发漏发 40%、技术支持类/闪退 20%"
    rows = list(wb["不满意TOP3"].iter_rows(values_only=True))
    assert rows[4] == ("子类", "不满意数", "占比")
    assert rows[5] == ("物流类/发货延迟", 2, pytest.approx(0.4))
    assert rows[6] == ("物流类/错发漏发", 2, pytest.approx(0.4))
    assert rows[7] == ("技术支持类/闪退", 1, pytest.approx(0.2))


# --- 复合型 tickets count under their lead category -------------------------------------------------

COMPOUND = [
    ticket("202611-001", datetime(2026, 11, 2, 10), "产品质量类,物流类", "机器故障无法开机，快递也送晚了"),
    ticket("202611-002", datetime(2026, 11, 3, 10), "产品质量类", "机器有异响"),
    ticket("202611-003", datetime(2026, 11, 4, 10), "物流类", "快递还没到"),
]


def test_a_compound_ticket_counts_under_its_lead_category(make_desk, cli, tmp_path):
    ratings = [rated("202611-001", datetime(2026, 11, 5, 10), "不满意")]
    path = make_desk(COMPOUND, results=ratings)
    refreshed = cli("refresh", path, "--now", NOW)
    assert refreshed.exit_code == 0, refreshed.output
    rows = {r["id"]: r for r in register_rows(path).values()}
    # the lead's department; the collaborators are the other category's department only (not the lead's
    # own matrix 协同部门, 技术部)
    assert (rows["202611-001"]["department"], rows["202611-001"]["collaborators"]) == ("维修部", "物流部")

    wb = summary(cli, path, tmp_path / "m.xlsx", "--month", "2026-11")
    k = kpi_values(wb)
    assert k["受理量"] == 3 and k["复合型问题数"] == 1
    assert k["前三问题分类"] == "产品质量类、物流类"
    assert [(r[0], r[1]) for r in table(wb["分类"])] == [("产品质量类", 2), ("物流类", 1)]
    assert [(r[0], r[1]) for r in table(wb["部门"])] == [("维修部", 2), ("物流部", 1)]
    assert sum(r[1] for r in table(wb["优先级"])) == 3
    assert k["不满意前三问题分类"] == "产品质量类 100%"
    assert k["不满意前三子类"] == "产品质量类/功能故障 100%"  # 故障 → 功能故障
    assert all("," not in str(r[0]) for name in ("分类", "部门", "优先级", "责任人", "不满意TOP3")
               for r in wb[name].iter_rows(values_only=True))


# --- the trend's year-on-year change -----------------------------------------------------------------

# 产品质量类 → P1: first response within 48 hours, 问题关闭 within 7 working days
LAST_YEAR = [ticket("202511-001", datetime(2025, 11, 3, 10), "产品质量类", "机器异响"),
             ticket("202511-002", datetime(2025, 11, 4, 10), "产品质量类", "机器异响")]
THIS_YEAR = [ticket(f"202611-00{n}", datetime(2026, 11, 1 + n, 10), "产品质量类", "机器异响") for n in range(1, 5)]
TREND_LOG = (handled("202511-001", datetime(2025, 11, 3, 11), datetime(2025, 11, 5, 15))      # both in time
             # answered after 48 hours, closed after 7 working days (13 Nov 10:00); reopened by the rating
             + handled("202511-002", datetime(2025, 11, 7, 10), datetime(2025, 11, 25, 15))
             + [{"id": "202511-002", "time": datetime(2025, 11, 27, 15), "by": "李工", "step": "问题关闭"}]
             + [s for n in range(1, 4) for s in handled(f"202611-00{n}", datetime(2026, 11, 1 + n, 11),
                                                          datetime(2026, 11, 3 + n, 15))]
             # Thursday 5 Nov: answered on Monday 9 Nov (late), closed Tuesday 10 Nov (due 16 Nov: in time)
             + handled("202611-004", datetime(2026, 11, 9, 10), datetime(2026, 11, 10, 15)))
TREND_RATINGS = [rated("202511-001", datetime(2025, 11, 6, 10), "满意"),
                 rated("202511-002", datetime(2025, 11, 26, 10), "不满意")] + \
                [rated(f"202611-00{n}", datetime(2026, 11, 11, 10), "满意") for n in range(1, 5)]


def test_the_trend_gives_the_change_on_the_same_month_a_year_earlier(make_desk, cli, tmp_path):
    path = make_desk(LAST_YEAR + THIS_YEAR, progress=TREND_LOG, results=TREND_RATINGS)
    wb = summary(cli, path, tmp_path / "m.xlsx", "--month", "2026-11")
    ws = wb["趋势"]
    header = [c.value for c in ws[1]]
    november = dict(zip(header, next(r for r in ws.iter_rows(values_only=True) if r[0] == "2026-11")))
    assert ws["A2"].value == "2025-12" and ws["A13"].value == "2026-11"  # Nov 2025 itself is not a row
    # Nov 2025: 2 received, 1/2 answered and 1/2 resolved in time (the first round), 1/2 satisfied;
    # Nov 2026: 4 received, 3/4 answered and 4/4 resolved in time, 4/4 satisfied
    assert (november["受理量"], november["首次响应达标率"], november["解决达标率"], november["满意率"]) == (4, 0.75, 1, 1)
    assert november["受理量同比"] == pytest.approx(1.0)                  # +100 %
    assert november["满意率同比(百分点)"] == pytest.approx(50.0)
    assert november["首次响应达标率同比(百分点)"] == pytest.approx(25.0)
    assert november["解决达标率同比(百分点)"] == pytest.approx(50.0)
    # October 2026 has no ticket: no month-on-month change of the rates
    assert november["满意率环比(百分点)"] is None and november["受理量环比"] is None
    # its long headers wrap: the header row has the lines they need (LibreOffice keeps the file's height)
    assert ws.row_dimensions[1].height >= 45


# --- follow-up figures over a quarter and a year; the 回访 sheet's header ----------------------------

def test_quarter_and_year_summaries_hold_the_follow_ups_of_the_whole_period(make_desk, cli, tmp_path):
    def only_post_close(wb):
        ws = wb["回访规则"]
        for r in range(3, 6):
            ws.cell(r, col_of(ws, "followup_rules", "enabled"), "否")

    # closed Friday 9 Oct (before the make-up Saturday: the call's window is 10–13 Oct) and Tue 10 Nov
    tickets = [ticket("202610-001", datetime(2026, 10, 9, 9), "产品质量类", "机器异响"),
               ticket("202611-001", datetime(2026, 11, 9, 9), "产品质量类", "机器异响")]
    log = (handled("202610-001", datetime(2026, 10, 9, 10), datetime(2026, 10, 9, 15))
           + handled("202611-001", datetime(2026, 11, 9, 10), datetime(2026, 11, 10, 15)))
    path = make_desk(tickets, progress=log, edit=only_post_close)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    typed = {"202610-001": (datetime(2026, 10, 13, 10), 5), "202611-001": (datetime(2026, 11, 12, 10), 4)}
    wb = openpyxl.load_workbook(path)
    ws = wb["回访计划"]
    header = [c.value for c in ws[1]]
    assert {ws.cell(r, 1).value: ws.cell(r, header.index("最晚回访") + 1).value for r in range(2, ws.max_row + 1)} == {
        "202610-001": datetime(2026, 10, 13), "202611-001": datetime(2026, 11, 13)}
    for r in range(2, ws.max_row + 1):
        called, score = typed[ws.cell(r, 1).value]
        ws.cell(r, header.index("回访人") + 1, "小周")
        ws.cell(r, header.index("回访时间") + 1, called)
        ws.cell(r, header.index("回访评分") + 1, score)
    wb.save(path)

    for period, name in ((("--quarter", "2026-Q4"), "q.xlsx"), (("--year", "2026"), "y.xlsx")):
        out = summary(cli, path, tmp_path / name, *period)
        k = kpi_values(out)
        assert (k["应回访数"], k["已回访数"], k["按时回访数"], k["低分转主管数"]) == (2, 2, 2, 2), period
        assert k["回访覆盖率"] == 1 and k["平均回访评分"] == pytest.approx(4.5)
        calls = out["回访"]
        assert [c.value for c in calls[1]] == ["回访类型", "应回访数", "已回访数", "按时回访数", "回访覆盖率",
                                               "平均回访评分", "9分及以上占比", "低分转主管数"]
        assert [c.value for c in calls[2]] == ["结案回访", 2, 2, 2, 1, 4.5, 0, 2]
        assert calls["A4"].value == "低分回访（转主管跟进）"
        assert [r[0] for r in table(calls, 5)] == ["202611-001", "202610-001"]  # lowest score first
        assert calls.column_dimensions["E"].width >= 17  # the call time prints whole, not ###

    # a month holds its own calls only
    k = kpi_values(summary(cli, path, tmp_path / "m.xlsx", "--month", "2026-11"))
    assert (k["应回访数"], k["低分转主管数"]) == (1, 1)

"""A 不满意 rating reopens a ticket for a second round (二次处理) without rewriting the first
(issue 17 item 1): through the CLI on real workbooks, both save engines, on the official calendar."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest

from tests.helpers import register_rows, sheet_rows

NOW = "2026-10-14 09:00"


def t(received, id_, customer):
    # 产品质量类 → P1: first response 48小时 (wall clock), 问题关闭 7个工作日
    return {"id": id_, "channel": "电话", "customer": customer, "contact": "13812345678", "product": "XR-200",
            "description": "机器无法开机，指示灯不亮", "category": "产品质量类", "received": received}


REGISTER = [
    t(datetime(2026, 9, 22, 10), "202609-001", "甲公司"),   # answered in 30 min, closed, rated 不满意, closed again
    t(datetime(2026, 9, 22, 9), "202609-002", "乙公司"),    # answered an hour late: the month's one miss
    t(datetime(2026, 9, 21, 9), "202609-003", "丙公司"),    # answered, closed, rated 不满意, never closed again
]
LOG = [
    {"id": "202609-001", "time": datetime(2026, 9, 22, 10, 30), "by": "李工", "step": "首次响应"},
    {"id": "202609-001", "time": datetime(2026, 9, 24, 16), "by": "李工", "step": "问题关闭"},
    {"id": "202609-001", "time": datetime(2026, 10, 12, 15), "by": "李工", "step": "问题关闭"},  # second round, in time
    {"id": "202609-002", "time": datetime(2026, 9, 24, 10), "by": "李工", "step": "首次响应"},
    {"id": "202609-002", "time": datetime(2026, 9, 24, 11), "by": "李工", "step": "问题关闭"},
    {"id": "202609-003", "time": datetime(2026, 9, 21, 9, 30), "by": "李工", "step": "首次响应"},
    {"id": "202609-003", "time": datetime(2026, 9, 22, 17), "by": "李工", "step": "问题关闭"},
]
UNHAPPY = [
    {"id": "202609-001", "result": "已更换主板", "satisfaction": "不满意", "rated_at": datetime(2026, 9, 28, 10)},
    {"id": "202609-003", "result": "已调试", "satisfaction": "不满意", "rated_at": datetime(2026, 9, 23, 10)},
]
HAPPY = [{**r, "satisfaction": "满意"} for r in UNHAPPY]


def kpi_values(path):
    ws = openpyxl.load_workbook(path)["指标"]
    return {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)}


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_a_second_round_keeps_the_first(make_desk, cli, tmp_path, engine):
    path = make_desk(REGISTER, progress=LOG, results=UNHAPPY)
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = register_rows(path)

    # 001: the first response (30 min) keeps its deadline and stays met; the second round was closed in time
    assert rows[2]["response_due"] == datetime(2026, 9, 24, 10) and rows[2]["overdue"] is None
    assert rows[2]["status"] == "问题关闭"
    # its second round: 7 working days from the rating (Mon 28 Sep 10:00) — 29, 30 Sep; 1–7 Oct 国庆;
    # 8, 9 Oct; Sat 10 Oct a make-up working day; 12, 13 Oct → Tue 13 Oct 10:00
    assert rows[2]["resolution_due"] == datetime(2026, 10, 13, 10)

    # 003: rated 不满意 on Wed 23 Sep 10:00 → 24 Sep; Fri 25 Sep 中秋 holiday; 28, 29, 30 Sep; 8, 9 Oct;
    # Sat 10 Oct make-up day → due Sat 10 Oct 10:00, open and late; the late text names the round
    assert rows[4]["status"] == "重新打开"
    assert rows[4]["response_due"] == datetime(2026, 9, 23, 9)
    assert rows[4]["resolution_due"] == datetime(2026, 10, 10, 10)
    assert rows[4]["overdue"].startswith("第2轮解决超时 ")
    assert "响应" not in rows[4]["overdue"]

    _, header, tracker = sheet_rows(path, "跟踪看板")
    assert header[-1] == "轮次"
    by_id = {r["反馈编号"]: r for r in tracker if r.get("反馈编号")}
    assert by_id["202609-001"]["轮次"] == "第2轮" and by_id["202609-003"]["轮次"] == "第2轮"
    assert by_id["202609-002"]["轮次"] == "第1轮"
    assert by_id["202609-001"]["首次响应状态"] == "按时完成"
    assert by_id["202609-003"]["首次响应状态"] == "按时完成"
    assert by_id["202609-003"]["问题关闭状态"] == "已超时"
    assert by_id["202609-003"]["问题关闭时限"] == datetime(2026, 10, 10, 10)

    again = cli("refresh", path, "--now", NOW)
    assert again.exit_code == 0
    before = path.read_bytes()
    assert cli("refresh", path, "--now", NOW).exit_code == 0 and path.read_bytes() == before


def test_the_months_first_round_attainment_does_not_move(make_desk, cli, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    unhappy = make_desk(REGISTER, progress=LOG, results=UNHAPPY, name="a/desk.xlsx")
    happy = make_desk(REGISTER, progress=LOG, results=HAPPY, name="b/desk.xlsx")
    for path in (unhappy, happy):
        result = cli("summary", path, "--month", "2026-09", "--now", NOW)
        assert result.exit_code == 0, result.output
    k = kpi_values(tmp_path / "a" / "summaries" / "2026-09.xlsx")
    calm = kpi_values(tmp_path / "b" / "summaries" / "2026-09.xlsx")
    # 001 and 003 answered in time, 002 an hour late: 2/3 whether or not two customers were unhappy
    assert k["首次响应达标率"] == calm["首次响应达标率"] == pytest.approx(2 / 3)
    assert k["解决达标率"] == calm["解决达标率"] == pytest.approx(1.0)
    # two second rounds began in September: 001's closed in time, 003's is late
    assert k["二次处理数"] == 2 and k["二次处理达标率"] == pytest.approx(0.5)
    assert calm["二次处理数"] == 0 and calm["二次处理达标率"] is None
    names = [r[0] for r in openpyxl.load_workbook(tmp_path / "a" / "summaries" / "2026-09.xlsx")["指标"]
             .iter_rows(min_row=2, values_only=True)]
    assert names.index("二次处理数") == names.index("解决达标率") + 1
    assert names.index("二次处理达标率") == names.index("二次处理数") + 1


def test_the_trend_sheet_shows_rate_changes_in_points(make_desk, cli, tmp_path):
    october = [t(datetime(2026, 10, 12, 10), "202610-001", "丁公司")]
    log = LOG + [{"id": "202610-001", "time": datetime(2026, 10, 12, 11), "by": "李工", "step": "首次响应"}]
    path = make_desk(REGISTER + october, progress=log, results=HAPPY)
    assert cli("summary", path, "--month", "2026-10", "--now", NOW).exit_code == 0
    ws = openpyxl.load_workbook(tmp_path / "summaries" / "2026-10.xlsx")["趋势"]
    header = [c.value for c in ws[1]]
    assert header[8:] == ["满意率环比(百分点)", "满意率同比(百分点)", "首次响应达标率环比(百分点)",
                          "首次响应达标率同比(百分点)", "解决达标率环比(百分点)", "解决达标率同比(百分点)"]
    october_row = {h: c for h, c in zip(header, ws[13])}
    assert october_row["月份"].value == "2026-10"
    # September 2/3 of first responses in time, October 1/1: up 33.3 points
    assert october_row["首次响应达标率环比(百分点)"].value == pytest.approx(33.3)
    assert october_row["首次响应达标率环比(百分点)"].number_format == "+0.0;-0.0;0.0"
    assert october_row["满意率环比(百分点)"].value is None  # no rating in October

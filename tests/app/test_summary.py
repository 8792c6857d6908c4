"""sheetdesk summary: KPIs computed by hand for a known register, found in the written workbook."""

from __future__ import annotations

import zipfile
from datetime import datetime

import openpyxl
import pytest

from tests.helpers import NOW, libreoffice_convert, soffice


def t(received, id_, **extra):
    return {"id": id_, "channel": "电话", "customer": "客户" + id_[-3:],
            "contact": "13800000" + id_[-3:],  # one customer each: a shared number would be a repeat complaint
            "description": extra.pop("description", "机器无法开机"), "received": received, **extra}


REGISTER = [
    t(datetime(2026, 11, 2, 10), "202611-001"),                      # P1 产品质量: response 48h, close 7wd
    t(datetime(2026, 11, 16, 9), "202611-002"),
    t(datetime(2026, 11, 3, 9), "202611-003", description="快递一直没收到", category="物流类"),  # P2
    t(datetime(2026, 10, 28, 9), "202610-001"),
]
LOG = [
    {"id": "202611-001", "time": datetime(2026, 11, 2, 11), "by": "李工", "step": "首次响应"},
    {"id": "202611-001", "time": datetime(2026, 11, 5, 10), "by": "李工", "step": "问题关闭"},
    {"id": "202611-002", "time": datetime(2026, 11, 18, 12), "by": "李工", "step": "首次响应"},   # late (due 18 Nov 09:00)
    {"id": "202610-001", "time": datetime(2026, 10, 28, 10), "by": "李工", "step": "首次响应"},
    {"id": "202610-001", "time": datetime(2026, 11, 2, 15), "by": "李工", "step": "问题关闭"},
]
RESULTS = [
    {"id": "202611-001", "satisfaction": "满意", "rated_at": datetime(2026, 11, 6, 10)},
    {"id": "202610-001", "satisfaction": 75, "rated_at": datetime(2026, 11, 3, 9), "overdue_reason": "备件缺货"},
    {"id": "202611-002", "satisfaction": "不满意", "rated_at": datetime(2026, 11, 20, 9)},  # rated while open
]


def kpi_values(path):
    ws = openpyxl.load_workbook(path)["指标"]
    assert [c.value for c in ws[1]] == ["指标", "数值"]
    return {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)}


def test_month_summary_matches_hand_computed_kpis(make_desk, cli, tmp_path):
    path = make_desk(REGISTER, progress=LOG, results=RESULTS)
    before = path.read_bytes()
    result = cli("summary", path, "--month", "2026-11", "--now", NOW)
    assert result.exit_code == 0, result.output
    out = tmp_path / "summaries" / "2026-11.xlsx"
    assert str(out) in result.output.replace("\n", "")
    assert path.read_bytes() == before  # the desk itself is only read
    k = kpi_values(out)
    assert k["统计期间"] == "2026-11"
    assert k["受理量"] == 3 and k["结案量"] == 2 and k["月末未结"] == 2
    # first response: 001 on time, 002 late, 003 (P2, 7 working days from 3 Nov) past due on 12 Nov → 1/3
    assert k["首次响应达标率"] == pytest.approx(1 / 3)
    # resolution: 001 on time; 003 (15 working days) past due 24 Nov? not yet → judged 1; 002 (7wd, due 25 Nov) not yet
    assert k["解决达标率"] == pytest.approx(1.0)
    # response hours: 001 1h, 002 21h → mean 11
    assert k["平均首次响应时长(小时)"] == pytest.approx(11.0)
    assert k["平均解决时长(小时)"] == pytest.approx(27.0)
    # ratings in November: 满意, a score of 75 (基本满意) and 不满意
    assert k["评价数"] == 3 and k["满意率"] == pytest.approx(2 / 3)
    assert k["前三问题分类"] == "产品质量类、物流类"

    wb = openpyxl.load_workbook(out)
    cats = wb["分类"]
    assert [c.value for c in cats[1]][:2] == ["问题分类", "受理量"]
    assert (cats["A2"].value, cats["B2"].value) == ("产品质量类", 2)
    trend = wb["趋势"]
    assert trend.max_row == 13 and trend["A13"].value == "2026-11" and trend["B12"].value == 1
    reasons = wb["超时原因"]
    assert reasons["A2"].value in ("备件缺货", "（未填写原因）")
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) >= 3  # categories column chart, satisfaction pie, trend line


def test_branches_merge_and_week(make_desk, cli, tmp_path):
    a = make_desk(REGISTER, progress=LOG, name="north.xlsx")
    b = make_desk(REGISTER[:2], name="south.xlsx")
    out = tmp_path / "merged.xlsx"
    result = cli("summary", a, b, "--month", "2026-11", "-o", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    k = kpi_values(out)
    assert k["受理量"] == 5
    branches = openpyxl.load_workbook(out)["分支对比"]
    assert [branches["A2"].value, branches["A3"].value] == ["north", "south"]
    assert branches["B2"].value == 3 and branches["B3"].value == 2

    week = tmp_path / "w47.xlsx"
    result = cli("summary", a, "--week", "2026-W47", "-o", week, "--now", NOW)
    assert result.exit_code == 0, result.output
    monitor = openpyxl.load_workbook(week)["时效监控"]
    values = [c for row in monitor.iter_rows(values_only=True) for c in row if c]
    assert "202611-002" in values  # the late response of that week is listed


def test_summary_bad_arguments(make_desk, cli, tmp_path):
    path = make_desk(REGISTER)
    for args in (["--month", "2026-13"], ["--month", "nov"], ["--week", "2026-47"], []):
        result = cli("summary", path, *args, "--now", NOW)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    result = cli("summary", tmp_path / "nope.xlsx", "--month", "2026-11")
    assert result.exit_code != 0 and "nope.xlsx" in result.output


@pytest.mark.libreoffice
def test_summary_opens_in_libreoffice(make_desk, cli, tmp_path):
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    path = make_desk(REGISTER, progress=LOG, results=RESULTS)
    out = tmp_path / "s.xlsx"
    assert cli("summary", path, "--month", "2026-11", "-o", out, "--now", NOW).exit_code == 0
    converted = libreoffice_convert(out, tmp_path / "lo", "ods")
    assert converted.stat().st_size > 0

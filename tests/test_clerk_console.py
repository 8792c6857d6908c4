"""The clerk's day at the console (issue 14): `log` on the default desk, BOOK arguments that cannot
be desks, `add` saying why a ticket was escalated, the weekly summary's wording, encodings, progress."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from conftest import NOW, sheet_rows

ROOT = Path(__file__).resolve().parents[1]


def ticket(ticket_id, customer="王女士", description="机器无法开机，指示灯不亮", received=datetime(2026, 11, 20, 10)):
    return {"id": ticket_id, "received": received, "channel": "电话", "customer": customer, "contact": "13812345678",
            "product": "XR-200", "description": description}


def progress_rows(path, lang="zh"):
    _, _, rows = sheet_rows(path, "进度跟踪" if lang == "zh" else "Progress")
    return [r for r in rows if any(v is not None for v in r.values())]


# --- item 7: log with the default workbook; English step names ------------------------------------

def test_log_without_book_uses_the_desk_in_the_current_folder(make_desk, cli, tmp_path, monkeypatch):
    make_desk([ticket("202611-001"), ticket("202611-002", "李先生")])
    monkeypatch.chdir(tmp_path)
    result = cli("log", "202611-001", "首次响应", "已电话联系客户", "--by", "李工", "--at", "2026-11-20 11:00", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "202611-001 首次响应" in result.output
    # English names, in any of the ways people type them; the book named explicitly still works
    for step in ("first-response", "First response", "FIRST_RESPONSE", "first response"):
        assert cli("log", "202611-002", step, "--by", "王工", "--at", "2026-11-20 12:00", "--now", NOW).exit_code == 0
    assert cli("log", "desk.xlsx", "202611-002", "update", "已寄出配件", "--by", "王工", "--at", "2026-11-20 13:00",
               "--now", NOW).exit_code == 0
    rows = progress_rows(tmp_path / "desk.xlsx")
    assert [(r["反馈编号"], r["节点"], r["说明"]) for r in rows][:1] == [("202611-001", "首次响应", "已电话联系客户")]
    assert [r["节点"] for r in rows[1:]] == ["首次响应"] * 4 + ["进展更新"]
    assert rows[-1]["说明"] == "已寄出配件"


def test_log_unknown_step_lists_the_names_in_the_message_language(make_desk, cli, tmp_path, monkeypatch):
    make_desk([ticket("202611-001")])
    monkeypatch.chdir(tmp_path)
    zh = cli("log", "202611-001", "回电", "--by", "李工", "--now", NOW)
    assert zh.exit_code == 2 and "未知节点“回电”" in zh.output and "首次响应、技术介入" in zh.output
    en = cli("log", "202611-001", "call-back", "--by", "Li", "--lang", "en", "--now", NOW)
    assert en.exit_code == 2 and "unknown step 'call-back'" in en.output
    assert "first-response" in en.output and "首次响应" not in en.output
    missing = cli("log", "202611-001", "--by", "李工", "--now", NOW)
    assert missing.exit_code == 2 and "sheetdesk log [BOOK] ID STEP" in missing.output
    assert len(progress_rows(tmp_path / "desk.xlsx")) == 0


# --- item 14: BOOK arguments that cannot be desks; generate.py --help; summary wording; add --------

BOOK_COMMANDS = [
    ["refresh"], ["validate"], ["doctor"], ["restore"], ["report"], ["summary", "--month", "2026-11"],
    ["export"], ["add", "--customer", "王", "--channel", "电话", "--description", "x"],
    ["log", "202611-001", "首次响应", "--by", "李工"], ["import", "{book}", "{csv}"],
]


@pytest.mark.parametrize("command", BOOK_COMMANDS, ids=lambda c: c[0])
def test_a_folder_or_an_xls_as_book_gets_one_clear_line(cli, tmp_path, command):
    folder = tmp_path / "desks"
    folder.mkdir()
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)  # an OLE2 header, as Excel 97-2003 writes
    csv = tmp_path / "in.csv"
    csv.write_text("反馈时间,反馈渠道,客户名称,问题描述\n2026-11-20 10:00,电话,王,x\n", encoding="utf-8")
    for book, zh, en in ((folder, "是文件夹，不是工作簿", "is a folder, not a workbook"),
                         (old, "用 Excel/WPS 另存为 .xlsx", "save as .xlsx in Excel/WPS")):
        if "{book}" in command:
            args = [a.replace("{book}", str(book)).replace("{csv}", str(csv)) for a in command]
        else:
            args = command[:1] + [str(book)] + command[1:]
        for lang, text in (("zh", zh), ("en", en)):
            result = cli(*args, "--lang", lang, "--now", NOW)
            assert result.exit_code == 2, (args, result.output)
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and text in lines[0], (args, result.output)
            assert "Traceback" not in result.output and "Usage" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desks", "in.csv", "old.xls"]  # nothing written


def test_generate_script_has_help(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--help"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout and "count" in result.stdout
    assert list(tmp_path.iterdir()) == []
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "many"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "invalid int value" in bad.stderr


def test_weekly_summary_counts_open_at_period_end(make_desk, cli, tmp_path):
    path = make_desk([ticket("202611-001"), ticket("202611-002", received=datetime(2026, 11, 17, 9))])
    week = tmp_path / "w47.xlsx"
    result = cli("summary", path, "--week", "2026-W47", "-o", week, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "期末未结 2" in result.output and "月末" not in result.output
    labels = [r[0] for r in openpyxl.load_workbook(week)["指标"].iter_rows(values_only=True)]
    assert "期末未结" in labels and "月末未结" not in labels
    en = cli("summary", path, "--week", "2026-W47", "-o", tmp_path / "w47en.xlsx", "--now", NOW, "--lang", "en")
    assert "2 open at period end" in en.output
    en_labels = [r[0] for r in openpyxl.load_workbook(tmp_path / "w47en.xlsx")["KPIs"].iter_rows(values_only=True)]
    assert "Open at period end" in en_labels
    # a month ends with its month: the monthly summary keeps 月末未结
    month = cli("summary", path, "--month", "2026-11", "-o", tmp_path / "m.xlsx", "--now", NOW)
    assert "月末未结 2" in month.output
    assert "月末未结" in [r[0] for r in openpyxl.load_workbook(tmp_path / "m.xlsx")["指标"].iter_rows(values_only=True)]


def test_add_says_when_the_new_ticket_was_escalated_and_why(make_desk, cli, tmp_path):
    path = make_desk([ticket("202611-001")])
    plain = cli("add", path, "--customer", "李先生", "--channel", "电话", "--description", "不知道怎么设置定时",
                "--now", NOW)
    assert plain.exit_code == 0 and plain.output.strip() == "202611-002"
    hot = cli("add", path, "--customer", "丙先生", "--channel", "电话", "--description", "充电时孩子手被烫伤了",
              "--now", NOW)
    assert hot.exit_code == 0, hot.output
    assert hot.output.strip().startswith("202611-003（已升级为 P0：") and "关键词“烫伤”" in hot.output
    en = cli("add", path, "--customer", "Ding", "--channel", "电话", "--description", "手被烫伤", "--lang", "en",
             "--now", NOW)
    assert en.output.strip().startswith("202611-004 (escalated to P0: ") and "keyword '烫伤'" in en.output
    data = json.loads(cli("add", path, "--customer", "戊", "--channel", "电话", "--description", "被烫伤", "--json",
                          "--now", NOW).output)
    assert data["id"] == "202611-005" and data["escalated"] is True and data["escalated_to"] == "P0"
    assert "烫伤" in data["escalation_reason"]
    data = json.loads(cli("add", path, "--customer", "己", "--channel", "电话", "--description", "无法开机", "--json",
                          "--now", NOW).output)
    assert data["escalated"] is False and data["escalated_to"] is None and data["escalation_reason"] is None

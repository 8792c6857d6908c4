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

from tests.helpers import NOW, sheet_rows

ROOT = Path(__file__).resolve().parents[2]


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


# --- item 11: a GBK console or log file never crashes the output ----------------------------------

EMOJI = "王女士😀"


def _run(args, cwd, **env):
    full = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "gbk", **env}
    full.pop("SHEETDESK_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "sheetdesk", *map(str, args)], cwd=cwd, env=full,
                          capture_output=True, timeout=600)


def test_every_command_survives_a_gbk_stdout(make_desk, tmp_path):
    """PYTHONIOENCODING=gbk is what a Chinese Windows gives redirected output; ✓, •, box lines and a
    customer's emoji are not in GBK."""
    rows = [ticket("202611-001", EMOJI, "充电时孩子手被烫伤了", datetime(2026, 11, 20, 10)),
            ticket("202611-002", "李先生✓", received=datetime(2026, 11, 12, 10))]
    log = [{"id": "202611-002", "time": datetime(2026, 11, 12, 11), "by": "李工", "step": "首次响应"},
           {"id": "202611-002", "time": datetime(2026, 11, 13, 17), "by": "李工", "step": "问题关闭"}]
    results = [{"id": "202611-002", "result": "已更换•主板🔧", "satisfaction": "满意", "prepared_by": "李工",
                "prepared_on": datetime(2026, 11, 14), "reviewer": "赵主管", "reviewed_on": datetime(2026, 11, 15)}]
    make_desk(rows, progress=log, results=results)
    (tmp_path / "in.csv").write_text(f"反馈时间,反馈渠道,客户名称,问题描述\n2026-11-21 10:00,电话,{EMOJI},底部漏水🚰\n",
                                     encoding="utf-8")
    now = ["--now", NOW]
    commands = [
        (["init", "fresh"], 0), (["demo", "demo"], 0),
        (["refresh", *now], 0), (["validate", *now], 0),
        (["add", "--customer", "赵😀", "--channel", "电话", "--description", "手被烫伤✓", *now], 0),
        (["log", "202611-001", "first-response", "已回电☎", "--by", "李工😀", "--at", "2026-11-20 11:00", *now], 0),
        (["report", "202611-002", *now], 0), (["summary", "--month", "2026-11", *now], 0),
        (["import", "in.csv", *now], 0), (["export", "--db", f"sqlite:///{tmp_path / 'desk.db'}", *now], 0),
        (["doctor", *now], 0), (["restore"], 0), (["refresh", "demo/desk.xlsx", "--json", *now], 0),
        (["log", "202611-001", "没有这个😀", "--by", "李工", *now], 2),
    ]
    for lang in ("zh", "en"):
        for args, code in commands:
            if lang == "en" and args[0] in ("init", "demo"):
                args = [args[0], args[1] + "-en"]
            result = _run([*args, "--lang", lang], tmp_path)
            err = result.stderr.decode("gbk", "replace")
            assert result.returncode == code, (args, lang, err, result.stdout.decode("gbk", "replace"))
            assert "Traceback" not in err and "UnicodeEncodeError" not in err, (args, err)
            try:  # what the console got is valid GBK
                result.stdout.decode("gbk")
            except UnicodeDecodeError as exc:
                pytest.fail(f"{args}: {exc}: {result.stdout[max(0, exc.start - 40):exc.end + 40]!r}")
    out = _run(["refresh", "--lang", "en", *now], tmp_path).stdout.decode("gbk")
    assert "202611-001" in out and "王女士?" in out  # the customer is there, the emoji replaced


def test_streams_are_set_to_replace_at_start_up(cli, monkeypatch):
    import io

    from sheetdesk.cli.console import safe_stream

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="gbk")
    assert safe_stream(stream) is stream and stream.errors == "replace"
    stream.write("✓ 王😀\n")
    stream.flush()
    assert raw.getvalue().decode("gbk") == "? 王?\n"

    class Fixed:  # a stream that cannot be reconfigured
        encoding, errors = "gbk", "strict"

        def __init__(self):
            self.got = []

        def write(self, text):
            self.got.append(text.encode(self.encoding).decode(self.encoding))

    fixed = Fixed()
    safe_stream(fixed).write("• 李")
    assert fixed.got == ["? 李"]


# --- item 15: progress for long work; doctor reads with calamine ----------------------------------

def test_doctor_reads_a_generated_desk_without_openpyxl(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    book = tmp_path / "desk.xlsx"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "3000", str(book)], env=env, check=True,
                   capture_output=True, timeout=600)
    backups = tmp_path / ".sheetdesk" / "backups"
    backups.mkdir(parents=True)
    (backups / "desk.20261120-100000-000000.xlsx").write_bytes(book.read_bytes())
    probe = ("import sys\nfrom sheetdesk.cli import main\n"
             "try:\n    main(sys.argv[1:], standalone_mode=False)\n"
             "finally:\n    print('OPENPYXL', 'openpyxl' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", probe, "doctor", str(book), "--now", NOW], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    # the generated desk's counter is behind its IDs: found, and fixable
    assert "计数表低于已用编号" in result.stdout and "--fix" in result.stdout, result.stdout + result.stderr
    assert "OPENPYXL False" in result.stdout
    assert "Traceback" not in result.stderr
    fixed = subprocess.run([sys.executable, "-m", "sheetdesk", "doctor", str(book), "--fix"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=600)
    assert fixed.returncode == 0 and "已修复并保存" in fixed.stdout, fixed.stdout + fixed.stderr
    again = subprocess.run([sys.executable, "-m", "sheetdesk", "doctor", str(book)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "未发现问题" in again.stdout


def test_doctor_finds_the_counter_in_backups_with_calamine(make_desk, cli, tmp_path):
    """The highest serial is remembered by a backup even after the register row and the counter went."""
    from sheetdesk.workbook.counter import backup_ids

    path = make_desk([ticket("202611-007")])
    backups = tmp_path / ".sheetdesk" / "backups"
    backups.mkdir(parents=True)
    (backups / "desk.20261120-100000-000000.xlsx").write_bytes(path.read_bytes())
    (backups / "desk.20261120-110000-000000.xlsx").write_bytes(b"not a zip")  # a damaged backup adds nothing
    seen = []
    assert backup_ids(path, on_backup=lambda: seen.append(1)) == ["202611-007"] and len(seen) == 2
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    make_desk([ticket("202611-001")], name="desk.xlsx")  # the row of 007 and the counter are gone
    assert cli("doctor", path, "--fix").exit_code == 0
    ids = cli("add", path, "--customer", "李", "--channel", "电话", "--description", "无法开机", "--now", NOW).output
    assert ids.strip() == "202611-008"


@pytest.mark.parametrize("tty", [False, True])
def test_progress_is_drawn_on_stderr_only_for_a_terminal(make_desk, cli, monkeypatch, tty):
    from sheetdesk.cli import console

    monkeypatch.setattr(console, "stderr_is_terminal", lambda: tty)
    path = make_desk([ticket("202611-001")])
    refreshed = cli("refresh", path, "--now", NOW)
    assert refreshed.exit_code == 0
    assert ("正在刷新" in refreshed.stderr) is tty and "正在刷新" not in refreshed.stdout
    result = cli("doctor", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "未发现问题" in result.stdout
    assert ("读取 desk.xlsx" in result.stderr) is tty  # the step names, drawn on stderr
    assert "读取" not in result.stdout and "\x1b[" not in result.stdout
    as_json = cli("refresh", path, "--json", "--now", NOW)
    json.loads(as_json.stdout)
    assert as_json.stderr == ""  # never with --json


# --- output piped into a reader that stops early (`sheetdesk validate --json | head`) ----------------

def test_a_reader_that_stops_early_gets_no_internal_error(make_desk, tmp_path):
    """`| head` closes the pipe mid-output: the command stops quietly as click does (exit 1), with no
    「内部错误」 line and no 'Exception ignored' from Python's exit."""
    path = make_desk([{**ticket(None), "channel": "传真"} for _ in range(600)])  # > 64 KB of --json
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SHEETDESK_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "sheetdesk", "validate", path, "--json", "--now", NOW],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(100)  # the first bytes, then the reader goes away with the rest unread
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=600) == 1, err
    assert "内部错误" not in err and "Exception ignored" not in err and "Traceback" not in err, err


def test_generate_script_refuses_a_missing_folder_in_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "10",
                          str(tmp_path / "missing" / "x.xlsx")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "is not a directory" in bad.stderr
    assert list(tmp_path.iterdir()) == []

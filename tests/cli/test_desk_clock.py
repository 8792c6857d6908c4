"""The desk's clock: every "now" and every stamp sheetdesk writes is on ``[desk] timezone``, whatever
the computer's time zone (TZ), and honours ``--now``.

The real clock is frozen with the test hook ``SHEETDESK_TEST_NOW_UTC`` (read in one place,
:func:`sheetdesk.settings.utc_now`) at 2026-11-30 16:30 UTC: already 1 December 00:30 on the
desk's clock (Asia/Shanghai), still 30 November on a UTC server and in New York.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import datetime
from email import message_from_bytes
from pathlib import Path

import openpyxl
import pytest

from sheetdesk.settings import TEST_NOW_ENV

ROOT = Path(__file__).resolve().parents[2]
FAKE_UTC = "2026-11-30 16:30:00"
DESK_NOW = datetime(2026, 12, 1, 0, 30)
ZONES = ("UTC", "America/New_York", "Asia/Shanghai")

REGISTER = [
    {"id": "202612-001", "received": datetime(2026, 12, 1, 0, 5), "channel": "电话", "customer": "王小明",
     "contact": "13812345678", "description": "机器无法开机"},
    {"id": "202612-002", "received": datetime(2026, 12, 1, 0, 15), "channel": "电话", "customer": "李四",
     "contact": "13912345678", "description": "机器无法开机"},
]
LOG = [{"id": "202612-001", "time": datetime(2026, 12, 1, 0, 10), "by": "李工", "step": "首次响应"},
       {"id": "202612-001", "time": datetime(2026, 12, 1, 0, 20), "by": "李工", "step": "问题关闭"}]
RESULTS = [{"id": "202612-001", "result": "已处理", "satisfaction": "满意", "rated_at": datetime(2026, 12, 1, 0, 25),
            "prepared_by": "李工", "prepared_on": datetime(2026, 12, 1), "reviewer": "赵主管",
            "reviewed_on": datetime(2026, 12, 1)}]


def sheetdesk(folder: Path, tz: str, *args: str) -> str:
    env = dict(os.environ, TZ=tz, COLUMNS="200", PYTHONIOENCODING="utf-8", **{TEST_NOW_ENV: FAKE_UTC},
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "sheetdesk", *args], cwd=folder, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def day_at_the_desk(folder: Path, tz: str) -> dict:
    """Every command that reads the clock or writes a stamp, without --now; what a user sees of it."""
    seen = {}
    seen["summary"] = sheetdesk(folder, tz, "summary", "desk.xlsx", "--month", "2026-12").replace(str(folder), "")
    ws = openpyxl.load_workbook(folder / "summaries" / "2026-12.xlsx")["指标"]
    seen["kpis"] = {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True)}
    seen["new id"] = sheetdesk(folder, tz, "add", "desk.xlsx", "--customer", "赵六", "--channel", "电话",
                               "--description", "漏水").strip()
    reg = openpyxl.load_workbook(folder / "desk.xlsx")["登记表"]
    seen["received"] = [r for r in reg.iter_rows(min_row=2, values_only=True) if r[0] == seen["new id"]][0][1]
    sheetdesk(folder, tz, "log", "desk.xlsx", "202612-002", "首次响应", "--by", "李工")
    listing = sheetdesk(folder, tz, "restore", "desk.xlsx")
    # N, backed up, made by, (version saved: the file's real time), size, tickets, file
    seen["backups"] = [(c[0], c[1], c[2], c[4], c[5], c[6]) for c in
                       (re.split(r"\s*│\s*", line.strip("│ ")) for line in listing.splitlines() if line.startswith("│"))]
    sheetdesk(folder, tz, "report", "desk.xlsx", "202612-001")
    index = openpyxl.load_workbook(folder / "archive" / "index.xlsx").active
    seen["index"] = [r for r in index.iter_rows(min_row=2, values_only=True)]
    (folder / "calls.csv").write_text("反馈时间,反馈渠道,客户名称,问题描述\n2026-11-30 10:00,电话,张三,屏幕不亮\n"
                                      "2026-11-30 11:00,电话,,没有客户名\n", encoding="utf-8")
    sheetdesk(folder, tz, "import", "desk.xlsx", "calls.csv")
    seen["rejected"] = sorted(p.name for p in folder.glob("rejected-*.csv"))
    return seen


@pytest.mark.slow
def test_every_command_reads_the_desks_clock_in_any_time_zone(make_desk, tmp_path):
    desk = make_desk(REGISTER, progress=LOG, results=RESULTS)
    seen = {}
    for tz in ZONES:
        folder = tmp_path / tz.replace("/", "-") / "shop"
        folder.mkdir(parents=True)
        (folder / "desk.xlsx").write_bytes(desk.read_bytes())
        seen[tz] = day_at_the_desk(folder, tz)
    shanghai = seen["Asia/Shanghai"]
    # at 00:30 on 1 December (desk clock) December already has its two tickets, one closed and rated
    k = shanghai["kpis"]
    assert k["统计时点"] == DESK_NOW
    assert (k["受理量"], k["结案量"], k["满意率"]) == (2, 1, 1)
    assert shanghai["new id"] == "202612-003" and shanghai["received"] == DESK_NOW
    assert [b[1:5] for b in shanghai["backups"]] == [("2026-12-01 00:30:00", "log", shanghai["backups"][0][3], "3"),
                                                     ("2026-12-01 00:30:00", "add", shanghai["backups"][1][3], "2")]
    assert all(b[5].startswith("desk.20261201-003000-") for b in shanghai["backups"])
    assert [(r[0], r[5]) for r in shanghai["index"]] == [("202612-001", DESK_NOW)]
    assert shanghai["rejected"] == ["rejected-calls-20261201-003000.csv"]
    for tz in ZONES:
        assert seen[tz] == shanghai, tz


def test_now_still_wins_over_the_clock(make_desk, cli, tmp_path, monkeypatch):
    monkeypatch.setenv(TEST_NOW_ENV, FAKE_UTC)
    path = make_desk(REGISTER, progress=LOG, results=RESULTS)
    result = cli("report", path, "202612-001", "--now", "2026-12-02 09:15")
    assert result.exit_code == 0, result.output
    index = openpyxl.load_workbook(tmp_path / "archive" / "index.xlsx").active
    assert index["F2"].value == datetime(2026, 12, 2, 9, 15)


def test_lock_marker_office_locks_and_mail_date_on_the_desks_clock(make_desk, tmp_path, monkeypatch):
    from sheetdesk.app.mailer import MailSettings, compose
    from sheetdesk.workbook.locks import DeskLock, find_office_locks

    monkeypatch.setenv(TEST_NOW_ENV, FAKE_UTC)
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        path = make_desk(REGISTER)
        with DeskLock(path):
            marker = (tmp_path / ".sheetdesk" / "desk.xlsx.owner").read_text(encoding="utf-8")
        assert "since=2026-12-01T00:30:00+08:00" in marker
        lock = tmp_path / "~$desk.xlsx"
        lock.write_bytes(b"\x02ab")
        os.utime(lock, (1796056200, 1796056200))  # 2026-11-30 16:30 UTC
        assert find_office_locks(path)[0].modified == DESK_NOW
        msg = compose(path, ["boss@example.com"], MailSettings("smtp.example.com", 25, "desk@example.com"), "s", "b")
        assert message_from_bytes(msg.as_bytes())["Date"] == "Tue, 01 Dec 2026 00:30:00 +0800"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize("text, message", [
    ('timezone = "Mars/Olympus"', "Mars/Olympus"),
    ("backup_days = -1", "backup_days"),
])
def test_bad_clock_settings_say_so(make_desk, cli, tmp_path, text, message):
    path = make_desk(REGISTER)
    (tmp_path / "sheetdesk.toml").write_text(f"[desk]\n{text}\n", encoding="utf-8")
    result = cli("refresh", path, "--lang", "en")
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1

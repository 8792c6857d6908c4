"""Shared-workbook reliability (issue 6): tampering, crashes, concurrency, restore, doctor, odd files."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import openpyxl
import pytest

from tests.helpers import NOW, register_rows

GOOD = dict(channel="电话", customer="王女士", contact="13812345678", description="机器无法开机")


def ticket(received, **extra):
    return {**GOOD, "received": received, **extra}


def sheetdesk(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "sheetdesk", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


# --- the counter ---------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["text serial", "bad month", "sheet deleted"])
def test_damaged_counter_stops_refresh_and_doctor_fixes_it(make_desk, cli, damage, tmp_path):
    path = make_desk([ticket(datetime(2026, 11, 2, 10)), ticket(datetime(2026, 11, 3, 10))])
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    # a day of work later: a second save, so the backups hold a numbered version of the desk
    assert cli("log", path, "202611-001", "首次响应", "--by", "李工", "--at", "2026-11-02 11:00", "--now", NOW).exit_code == 0
    wb = openpyxl.load_workbook(path)
    # the newest ticket is deleted: its ID 202611-002 must never come back
    wb["登记表"].delete_rows(3)
    if damage == "text serial":
        wb["_sheetdesk"]["B2"] = "二"
    elif damage == "bad month":
        wb["_sheetdesk"]["A2"] = "2026-11"
    else:
        del wb["_sheetdesk"]
    wb.save(path)
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "doctor --fix" in result.output and "Traceback" not in result.output
    assert path.read_bytes() == before

    diag = cli("doctor", path)
    assert diag.exit_code == 1 and "计数表" in diag.output
    assert path.read_bytes() == before  # diagnosing writes nothing
    fixed = cli("doctor", path, "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert openpyxl.load_workbook(path)["_sheetdesk"].sheet_state == "hidden"
    # the register only knows 202611-001 now; the backup of the first refresh still knows 202611-002
    wb = openpyxl.load_workbook(path)
    ws = wb["登记表"]
    ws.cell(3, 2, datetime(2026, 11, 20, 10))
    for key, col in (("channel", 3), ("customer", 4), ("description", 10)):
        ws.cell(3, col, GOOD[key])
    wb.save(path)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    assert register_rows(path)[3]["id"] == "202611-003"  # the deleted ticket's number is not reissued


def test_doctor_rebuilds_counter_from_the_archive(make_desk, cli, tmp_path):
    path = make_desk([ticket(datetime(2026, 11, 2, 10), id="202611-001")])
    folder = tmp_path / "archive" / "2026" / "11"
    folder.mkdir(parents=True)
    (folder / "202611-007.xlsx").write_bytes(b"a report of a ticket whose row is gone")
    wb = openpyxl.load_workbook(path)
    del wb["_sheetdesk"]
    wb.save(path)
    assert cli("doctor", path, "--fix").exit_code == 0
    counter = openpyxl.load_workbook(path)["_sheetdesk"]
    assert [tuple(r) for r in counter.iter_rows(min_row=2, values_only=True)] == [("202611", 7)]


def test_doctor_reports_missing_rules_and_renamed_headers(make_desk, cli):
    def edit(wb):
        del wb["时效标准"]
        wb["登记表"]["B1"] = "接收时间"  # 反馈时间 renamed
        del wb["回访计划"]
    path = make_desk([ticket(datetime(2026, 11, 2, 10))], edit=edit)
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "未写入" in result.output and path.read_bytes() == before
    diag = cli("doctor", path)
    assert diag.exit_code == 1
    assert "时效标准" in diag.output and "restore" in diag.output
    assert "反馈时间" in diag.output and "回访计划" in diag.output


def test_doctor_removes_leftover_temp_files_and_adds_missing_optional_sheets(make_desk, cli, tmp_path):
    path = make_desk([ticket(datetime(2026, 11, 2, 10))], edit=lambda wb: wb.remove(wb["回访计划"]))
    leftover = tmp_path / ".desk.xlsx.sheetdesk-abc123.tmp.xlsx"
    leftover.write_bytes(b"half a file")
    old = leftover.stat().st_mtime - 3600
    os.utime(leftover, (old, old))
    assert "临时文件" in cli("doctor", path).output
    assert cli("doctor", path, "--fix").exit_code == 0
    assert not leftover.exists()
    assert "回访计划" in openpyxl.load_workbook(path).sheetnames
    assert cli("doctor", path).exit_code == 0


# --- crashes and restore ----------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("point", ["after_tmp", "after_backup", "before_replace"])
def test_refresh_killed_mid_save_leaves_the_original(make_desk, tmp_path, point):
    path = make_desk([ticket(datetime(2026, 11, 2, 10))])
    before = path.read_bytes()
    proc = sheetdesk("refresh", path, "--now", NOW, env={"SHEETDESK_TEST_CRASH_AT": point})
    assert proc.returncode == 77
    assert path.read_bytes() == before
    openpyxl.load_workbook(path)  # still a valid workbook
    ok = sheetdesk("refresh", path, "--now", NOW)
    assert ok.returncode == 0, ok.stderr
    assert register_rows(path)[2]["id"] == "202611-001"


def test_restore_lists_and_restores(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10))])
    original = path.read_bytes()
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    refreshed = path.read_bytes()
    listing = cli("restore", path)
    assert listing.exit_code == 0 and "desk." in listing.output
    result = cli("restore", path, "--pick", 1)
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == original
    # the refreshed version was itself backed up, so the restore can be undone
    assert cli("restore", path, "--pick", 1).exit_code == 0
    assert path.read_bytes() == refreshed
    assert cli("restore", path, "--pick", 9).exit_code == 2


# --- concurrency ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_parallel_adds_and_logs_queue_and_lose_nothing(make_desk, tmp_path):
    path = make_desk([ticket(datetime(2026, 11, 2, 10), id="202611-001")])
    n = 6

    def add(i):
        # a model of its own each: six of one model in a week would be a batch (and `add` would say so)
        return sheetdesk("add", path, "--customer", f"客户{i}", "--channel", "电话", "--description", f"第{i}台无法开机",
                         "--product", f"XR-{i}",
                         "--received", f"2026-11-2{i % 3} 10:0{i}", "--now", NOW)

    def log(i):
        return sheetdesk("log", path, "202611-001", "进展更新", f"第{i}次进展", "--by", f"工程师{i}",
                         "--at", f"2026-11-1{i} 10:00", "--now", NOW)

    def refresh(_):
        return sheetdesk("refresh", path, "--now", NOW)

    with ThreadPoolExecutor(max_workers=3 * n) as pool:
        adds = list(pool.map(add, range(n)))
        logs = list(pool.map(log, range(n)))
        refreshes = list(pool.map(refresh, range(3)))
    for proc in adds + logs + refreshes:
        assert proc.returncode == 0, proc.stderr
    ids = [p.stdout.strip() for p in adds]
    assert len(set(ids)) == n and all(i.startswith("202611-") for i in ids)
    rows = register_rows(path)
    assert sorted(r["id"] for r in rows.values()) == sorted(["202611-001", *ids])
    notes = [r[4] for r in openpyxl.load_workbook(path)["进度跟踪"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert sorted(notes) == sorted(f"第{i}次进展" for i in range(n))


# --- files from other clients ---------------------------------------------------------------------

def test_1904_date_system(make_desk, cli):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    def edit(wb):
        wb.epoch = CALENDAR_MAC_1904
    path = make_desk([ticket(datetime(2026, 11, 2, 10))], edit=edit)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    wb = openpyxl.load_workbook(path)
    assert wb.epoch == CALENDAR_MAC_1904
    row = register_rows(path)[2]
    assert row["id"] == "202611-001" and row["received"] == datetime(2026, 11, 2, 10)
    assert row["response_due"] == datetime(2026, 11, 4, 10)


def test_xlsm_keeps_its_macros(make_desk, cli, tmp_path):
    src = make_desk([ticket(datetime(2026, 11, 2, 10))])
    path = tmp_path / "desk.xlsm"
    vba = b"\xd0\xcf\x11\xe0 fake vba project " * 50
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
                data = data.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/'
                                    b'vnd.ms-office.vbaProject"/></Types>')
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdVBA" Type="http://schemas.microsoft.com/'
                                    b'office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
            zout.writestr(item, data)
        zout.writestr("xl/vbaProject.bin", vba)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/vbaProject.bin") == vba
    assert register_rows(path)[2]["id"] == "202611-001"


def test_strict_ooxml_gets_a_clear_message(make_desk, cli, tmp_path):
    src = make_desk([ticket(datetime(2026, 11, 2, 10))])
    path = tmp_path / "strict.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            data = data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                                b"http://purl.oclc.org/ooxml/spreadsheetml/main")
            data = data.replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                                b"http://purl.oclc.org/ooxml/officeDocument/relationships")
            zout.writestr(item, data)
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "Strict" in result.output or "严格" in result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_file(make_desk, cli, cut):
    path = make_desk([ticket(datetime(2026, 11, 2, 10))])
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "Traceback" not in result.output and "desk.xlsx" in result.output
    assert path.read_bytes() == before
    assert "restore" in cli("doctor", path).output


def test_shared_formulas_and_inline_strings(make_desk, cli, tmp_path):
    """Excel writes shared formulas (one master, dependants pointing at it) and some tools inline strings."""
    src = make_desk([ticket(datetime(2026, 11, 2, 10)), ticket(datetime(2026, 11, 3, 10), customer="李先生")])
    path = tmp_path / "shared.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text = text.replace('<row r="2"', '<row r="2"', 1)
                text = text.replace("</row><row r=\"3\"",
                                    '<c r="Z2"><f t="shared" ref="Z2:Z3" si="0">LEN(D2)</f><v>3</v></c></row><row r="3"', 1)
                end = text.index("</row>", text.index('<row r="3"'))
                text = text[:end] + '<c r="Z3"><f t="shared" si="0"/><v>3</v></c>' + text[end:]
                text = text.replace('<c r="Z1"', '<c r="Z1"')
                data = text.encode()
            zout.writestr(item, data)
    wb = openpyxl.load_workbook(path)
    assert wb["登记表"]["Z3"].value == "=LEN(D3)"  # the dependant is read as its own formula
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(path)["登记表"]
    assert (ws["Z2"].value, ws["Z3"].value) == ("=LEN(D2)", "=LEN(D3)")
    assert register_rows(path)[3]["customer"] == "李先生" and register_rows(path)[3]["id"] == "202611-002"

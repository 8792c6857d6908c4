"""Office lock files written byte-exactly as Excel, WPS and LibreOffice write them, and the desk lock
contended from a real second process."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sheetdesk.errors import BookBusy, BookLocked
from sheetdesk.workbook.locks import (
    DeskLock,
    OfficeLock,
    check_not_open,
    find_office_locks,
    parse_libreoffice_owner,
    parse_mso_owner,
)

ROOT = Path(__file__).resolve().parents[2]
LIBRE = "李四,lisi,pc01,23.11.2026 09:12,file:///C:/Users/lisi/AppData/Roaming/LibreOffice/4;"


def excel_owner_file(name: str, pad: bytes = b"\x00", legacy: bytes | None = None) -> bytes:
    """``~$`` owner file: byte length + legacy-codepage name, pad to 55, u16 length + UTF-16LE name, pad to 165."""
    legacy = name.encode("gbk") if legacy is None else legacy
    data = bytes([len(legacy)]) + legacy
    data += pad * (55 - len(data))
    data += len(name).to_bytes(2, "little") + name.encode("utf-16-le")
    return data + pad * (165 - len(data))


def make_book(folder: Path, name: str = "desk.xlsx") -> Path:
    path = folder / name
    path.write_bytes(b"PK not really a workbook")
    return path


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


# --- parsing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("pad", [b"\x00", b" "])
def test_excel_owner_file_layout(pad):
    data = excel_owner_file("张三", pad)
    assert len(data) == 165 and data[0] == 4 and data[55:57] == b"\x02\x00"
    assert parse_mso_owner(data) == "张三"


def test_unicode_copy_wins_over_a_lossy_legacy_name():
    # Excel on a non-Chinese code page writes "??" as the legacy name
    assert parse_mso_owner(excel_owner_file("张三", legacy=b"??")) == "张三"


def test_legacy_gbk_name_when_the_unicode_copy_is_cut_off():
    assert parse_mso_owner(excel_owner_file("张三")[:40]) == "张三"
    assert parse_mso_owner(excel_owner_file("Zhang San")[:56]) == "Zhang San"


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff\x00garbage", b"\x01" * 165, b"\x05\x01\x02\x03\x04\x05",
                                  bytes(random.Random(7).randrange(256) for _ in range(165))])
def test_garbage_owner_file_gives_no_name(data):
    assert parse_mso_owner(data) is None


def test_libreoffice_fields_and_escapes():
    assert parse_libreoffice_owner(LIBRE) == "李四"
    assert parse_libreoffice_owner(r"Zhao\, Liu,zl,host,23.11.2026 09:12,file:///x;") == "Zhao, Liu"
    assert parse_libreoffice_owner(",lisi,pc01,23.11.2026 09:12,file:///x;") == "lisi"  # no office name set
    assert parse_libreoffice_owner("") is None


# --- finding -------------------------------------------------------------------------------------

def test_no_lock_files_means_not_open(tmp_path):
    path = make_book(tmp_path)
    assert find_office_locks(path) == [] and check_not_open(path) == []


def test_each_client_naming_is_found(tmp_path):
    path = make_book(tmp_path)
    (tmp_path / "~$desk.xlsx").write_bytes(excel_owner_file("张三"))
    (tmp_path / ".~lock.desk.xlsx#").write_text(LIBRE, encoding="utf-8")
    (tmp_path / ".~desk.xlsx").write_bytes(excel_owner_file("王五"))
    found = {(lock.path.name, lock.app, lock.owner) for lock in find_office_locks(path)}
    assert found == {("~$desk.xlsx", "excel", "张三"), (".~lock.desk.xlsx#", "libreoffice", "李四"),
                     (".~desk.xlsx", "wps", "王五")}


@pytest.mark.parametrize("lock_name", ["~$arterly-desk.xlsx", "~$uarterly-desk.xlsx", ".~arterly-desk.xlsx"])
def test_truncated_long_names_are_found(tmp_path, lock_name):
    path = make_book(tmp_path, "quarterly-desk.xlsx")
    (tmp_path / lock_name).write_bytes(excel_owner_file("张三"))
    assert [lock.path.name for lock in find_office_locks(path)] == [lock_name]


def test_a_shorter_workbook_keeps_its_own_lock(tmp_path):
    path = make_book(tmp_path, "ab-desk.xlsx")
    make_book(tmp_path, "b-desk.xlsx")
    (tmp_path / "~$b-desk.xlsx").write_bytes(excel_owner_file("张三"))
    assert find_office_locks(path) == []
    assert len(find_office_locks(tmp_path / "b-desk.xlsx")) == 1


def test_describe_in_both_languages(tmp_path):
    path = make_book(tmp_path)
    lock_file = tmp_path / "~$desk.xlsx"
    lock_file.write_bytes(excel_owner_file("张三"))
    age(lock_file, 190)
    [lock] = find_office_locks(path)
    assert isinstance(lock, OfficeLock) and 180 <= lock.age_seconds < 300
    zh, en = lock.describe(), lock.describe("en")
    assert zh.startswith("张三 正在用 Excel") and "~$desk.xlsx" in zh and "3 分钟前" in zh
    assert en.startswith("张三 has it open in Excel") and "~$desk.xlsx" in en and "3 min ago" in en


# --- refusing ------------------------------------------------------------------------------------

def test_excel_lock_refuses_naming_owner_file_and_remedy(tmp_path):
    path = make_book(tmp_path)
    (tmp_path / "~$desk.xlsx").write_bytes(excel_owner_file("张三"))
    with pytest.raises(BookLocked) as info:
        check_not_open(path)
    zh, en = info.value.zh, info.value.en
    assert "张三" in zh and "Excel" in zh and "~$desk.xlsx" in zh
    assert "请 张三 保存并关闭后重试" in zh and "--force" in zh and "删除锁文件" in zh
    assert "张三" in en and "~$desk.xlsx" in en and "--force" in en
    assert info.value.render("en") == en


def test_libreoffice_lock_refuses(tmp_path):
    path = make_book(tmp_path)
    (tmp_path / ".~lock.desk.xlsx#").write_text(LIBRE, encoding="utf-8")
    with pytest.raises(BookLocked) as info:
        check_not_open(path)
    assert "李四" in info.value.zh and "LibreOffice" in info.value.zh and ".~lock.desk.xlsx#" in info.value.zh


def test_force_returns_the_locks(tmp_path):
    path = make_book(tmp_path)
    (tmp_path / "~$desk.xlsx").write_bytes(excel_owner_file("张三"))
    [lock] = check_not_open(path, force=True)
    assert lock.owner == "张三" and lock.app == "excel"


def test_stale_lock_is_still_refused_but_says_so(tmp_path):
    path = make_book(tmp_path)
    lock_file = tmp_path / "~$desk.xlsx"
    lock_file.write_bytes(excel_owner_file("张三"))
    age(lock_file, 3 * 86400)
    with pytest.raises(BookLocked) as info:
        check_not_open(path)
    assert "崩溃" in info.value.zh and "过期" in info.value.zh and str(lock_file) in info.value.zh
    assert "stale" in info.value.en and "--force" in info.value.en
    age(lock_file, 60)
    with pytest.raises(BookLocked) as info:
        check_not_open(path)
    assert "崩溃" not in info.value.zh


def test_one_fresh_lock_outweighs_a_stale_one(tmp_path):
    path = make_book(tmp_path)
    stale = tmp_path / "~$desk.xlsx"
    stale.write_bytes(excel_owner_file("张三"))
    age(stale, 3 * 86400)
    (tmp_path / ".~lock.desk.xlsx#").write_text(LIBRE, encoding="utf-8")
    with pytest.raises(BookLocked) as info:
        check_not_open(path)
    assert "崩溃" not in info.value.zh and "张三" in info.value.zh and "李四" in info.value.zh


@pytest.mark.parametrize("data", [b"", b"\xff\x00garbage", bytes(random.Random(3).randrange(256) for _ in range(40))])
def test_garbage_lock_is_refused_with_owner_unknown(tmp_path, data):
    path = make_book(tmp_path)
    (tmp_path / "~$desk.xlsx").write_bytes(data)
    with pytest.raises(BookLocked) as info:
        check_not_open(path)
    assert "没有姓名" in info.value.zh and "~$desk.xlsx" in info.value.zh
    assert "someone" in info.value.en
    assert check_not_open(path, force=True)[0].owner is None


# --- the desk lock -------------------------------------------------------------------------------

HOLDER = """
import sys
from sheetdesk.workbook.locks import DeskLock
with DeskLock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()  # hold until the test closes stdin
"""


def hold(path: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLDER), str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_marker_names_the_holder_and_goes_away(tmp_path):
    path = make_book(tmp_path)
    marker = tmp_path / ".sheetdesk" / "desk.xlsx.owner"
    with DeskLock(path):
        text = marker.read_text(encoding="utf-8")
        assert f"pid={os.getpid()}" in text and "user=" in text and "host=" in text and "since=" in text
        assert check_not_open(path) == []  # our own lock files are not an office program's
    assert not marker.exists()


def test_second_run_gets_busy_naming_the_holder(tmp_path):
    path = make_book(tmp_path)
    proc = hold(path)
    try:
        started = time.monotonic()
        with pytest.raises(BookBusy) as info:
            with DeskLock(path, timeout=0.2):
                pytest.fail("two writers held the desk at once")
        assert time.monotonic() - started < 5
        assert f"pid={proc.pid}" in info.value.zh and "user=" in info.value.zh
        assert f"pid={proc.pid}" in info.value.en and "desk.xlsx" in info.value.en
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    assert not (tmp_path / ".sheetdesk" / "desk.xlsx.owner").exists()
    with DeskLock(path, timeout=0.2):
        pass
    assert not (tmp_path / ".sheetdesk" / "desk.xlsx.owner").exists()


def test_a_killed_holder_does_not_block_the_desk(tmp_path):
    path = make_book(tmp_path)
    proc = hold(path)
    proc.kill()
    proc.wait(timeout=10)
    marker = tmp_path / ".sheetdesk" / "desk.xlsx.owner"
    assert f"pid={proc.pid}" in marker.read_text(encoding="utf-8")  # a crash leaves the marker behind...
    with DeskLock(path, timeout=2):  # ...but the OS lock died with the process
        assert f"pid={os.getpid()}" in marker.read_text(encoding="utf-8")
    assert not marker.exists()

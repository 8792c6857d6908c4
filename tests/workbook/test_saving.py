"""Safe saving and lock files, exercised on real files (and real subprocesses for crashes and contention)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sheetdesk.errors import BookBusy, BookChanged, BookLocked, WriteFailed
from sheetdesk.workbook.locks import DeskLock, check_not_open, find_office_locks, parse_mso_owner
from sheetdesk.workbook.safesave import atomic_write, list_backups, restore_backup, snapshot

ROOT = Path(__file__).resolve().parents[2]


def excel_owner_file(name: str) -> bytes:
    """~$ file as Excel writes it: legacy-codepage name, 0x20 pad to 55, UTF-16LE copy, pad to 165."""
    legacy = name.encode("gbk")
    data = bytes([len(legacy)]) + legacy
    data += b" " * (55 - len(data))
    data += len(name).to_bytes(2, "little") + name.encode("utf-16-le")
    return data + b"\x00" * (165 - len(data))


def book(tmp_path: Path, content: bytes = b"old") -> Path:
    path = tmp_path / "desk.xlsx"
    path.write_bytes(content)
    return path


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".tmp" in p.name]


def test_excel_and_wps_owner_is_named(tmp_path):
    path = book(tmp_path)
    (tmp_path / "~$desk.xlsx").write_bytes(excel_owner_file("张三"))
    with pytest.raises(BookLocked) as info:
        check_not_open(path)
    assert "张三" in info.value.zh and "~$desk.xlsx" in info.value.zh and "--force" in info.value.zh
    assert "张三" in info.value.en


def test_libreoffice_owner_is_named(tmp_path):
    path = book(tmp_path)
    (tmp_path / ".~lock.desk.xlsx#").write_text(
        "李四,lisi,pc01,23.11.2026 09:12,file:///C:/Users/lisi/AppData/Roaming/LibreOffice/4;", encoding="utf-8")
    with pytest.raises(BookLocked) as info:
        check_not_open(path)
    assert "李四" in info.value.zh and "LibreOffice" in info.value.zh


def test_wps_dot_tilde_and_escaped_libreoffice_names(tmp_path):
    path = book(tmp_path)
    (tmp_path / ".~desk.xlsx").write_bytes(excel_owner_file("王五"))
    locks = find_office_locks(path)
    assert [(lock.app, lock.owner) for lock in locks] == [("wps", "王五")]
    (tmp_path / ".~desk.xlsx").unlink()
    (tmp_path / ".~lock.desk.xlsx#").write_text(r"Zhao\, Liu,zl,host,23.11.2026 09:12,file:///x;", encoding="utf-8")
    assert find_office_locks(path)[0].owner == "Zhao, Liu"


def test_garbage_lock_still_refuses_and_force_overrides(tmp_path):
    path = book(tmp_path)
    (tmp_path / "~$desk.xlsx").write_bytes(b"\xff\x00garbage")
    with pytest.raises(BookLocked):
        check_not_open(path)
    assert parse_mso_owner(b"\xff\x00garbage") is None
    assert len(check_not_open(path, force=True)) == 1


def test_stale_lock_says_how_to_clear_it(tmp_path):
    path = book(tmp_path)
    lock = tmp_path / "~$desk.xlsx"
    lock.write_bytes(excel_owner_file("张三"))
    old = lock.stat().st_mtime - 3 * 86400
    os.utime(lock, (old, old))
    with pytest.raises(BookLocked) as info:
        check_not_open(path, stale_after=3600)
    assert "崩溃" in info.value.zh and str(lock) in info.value.zh


def test_second_writer_waits_then_gets_busy_naming_the_holder(tmp_path):
    path = book(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time, sys
        from sheetdesk.workbook.locks import DeskLock
        with DeskLock(r"{path}"):
            print("held", flush=True)
            time.sleep(5)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(BookBusy) as info:
            with DeskLock(path, timeout=0.3):
                pass
        assert f"pid={holder.pid}" in info.value.zh
    finally:
        holder.kill()
        holder.wait()
    with DeskLock(path, timeout=2):  # the lock dies with its process
        pass
    assert not (tmp_path / ".sheetdesk" / "desk.xlsx.owner").exists()


def test_atomic_write_replaces_and_backs_up(tmp_path):
    path = book(tmp_path, b"version 1")
    snap = snapshot(path)
    backup = atomic_write(path, lambda tmp: tmp.write_bytes(b"version 2"), expected=snap)
    assert path.read_bytes() == b"version 2"
    assert backup is not None and backup.read_bytes() == b"version 1"
    assert backup.parent == tmp_path / ".sheetdesk" / "backups"
    assert leftovers(tmp_path) == []


def test_backups_rotate(tmp_path):
    path = book(tmp_path, b"v0")
    for i in range(1, 6):
        atomic_write(path, lambda tmp, i=i: tmp.write_bytes(f"v{i}".encode()), backups=3)
    kept = list_backups(path)
    assert [p.read_bytes() for p in kept] == [b"v4", b"v3", b"v2"]
    restore_backup(path, kept[-1])
    assert path.read_bytes() == b"v2"
    assert list_backups(path)[0].read_bytes() == b"v5"  # the version replaced by the restore is kept too


def test_failed_verification_writes_nothing(tmp_path):
    path = book(tmp_path, b"original")

    def verify(tmp):
        raise ValueError("cell A1 differs")

    with pytest.raises(WriteFailed) as info:
        atomic_write(path, lambda tmp: tmp.write_bytes(b"broken"), verify=verify)
    assert "A1" in info.value.en
    assert path.read_bytes() == b"original" and leftovers(tmp_path) == []
    assert list_backups(path) == []


def test_someone_else_saved_meanwhile(tmp_path):
    path = book(tmp_path, b"original")
    snap = snapshot(path)

    def write(tmp):
        path.write_bytes(b"a colleague's save")
        tmp.write_bytes(b"ours")

    with pytest.raises(BookChanged):
        atomic_write(path, write, expected=snap)
    assert path.read_bytes() == b"a colleague's save" and leftovers(tmp_path) == []


@pytest.mark.parametrize("point", ["after_tmp", "after_backup", "before_replace"])
def test_a_crash_never_tears_the_book(tmp_path, point):
    path = book(tmp_path, b"original bytes")
    script = textwrap.dedent(f"""
        from pathlib import Path
        from sheetdesk.workbook.safesave import atomic_write
        atomic_write(Path(r"{path}"), lambda tmp: tmp.write_bytes(b"new bytes"))
    """)
    env = dict(os.environ, SHEETDESK_TEST_CRASH_AT=point)
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT)
    assert proc.returncode == 77
    assert path.read_bytes() == b"original bytes"
    if point != "after_tmp":
        assert list_backups(path)[0].read_bytes() == b"original bytes"


def test_stale_lock_age_comes_from_the_settings(tmp_path):
    from click.testing import CliRunner

    from sheetdesk.cli import main
    from sheetdesk.workbook.template import build_template

    path = tmp_path / "desk.xlsx"
    build_template("zh").save(path)
    lock = tmp_path / "~$desk.xlsx"
    lock.write_bytes(excel_owner_file("张三"))
    old = lock.stat().st_mtime - 2 * 3600
    os.utime(lock, (old, old))
    runner = CliRunner()
    fresh = runner.invoke(main, ["refresh", str(path)])
    assert fresh.exit_code == 1 and "张三" in fresh.output and "崩溃" not in fresh.output
    (tmp_path / "sheetdesk.toml").write_text("[desk]\nstale_lock_hours = 1\n", encoding="utf-8")
    stale = runner.invoke(main, ["refresh", str(path)])
    assert stale.exit_code == 1 and "崩溃" in stale.output

"""A backup is never a broken file; kills leave nothing behind for long; a colleague's save meanwhile is
reported as what it is. Full disks are simulated at the write, kills are real (SIGKILL of a subprocess)."""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from sheetdesk.workbook import safesave
from sheetdesk.workbook.safesave import list_backups, temp_files
from tests.helpers import NOW, register_rows

ROOT = Path(__file__).resolve().parents[2]
TICKETS = [{"received": datetime(2026, 11, 20, 9), "channel": "电话", "customer": f"客户{i}",
            "contact": "13812345678", "description": "机器无法开机"} for i in range(2)]


@pytest.fixture(autouse=True)
def no_crash_hook(monkeypatch):
    monkeypatch.delenv(safesave.CRASH_ENV, raising=False)


def add(cli, path, n: int, *extra):
    return cli("add", path, "--customer", f"新客户{n}", "--channel", "电话", "--description", f"第{n}台漏水",
               "--received", "2026-11-22 10:00", "--now", NOW, *extra)


def desk_with_backups(make_desk, cli, tmp_path, saves: int = 3) -> Path:
    """A desk saved ``saves`` + 1 times under a policy of ``saves`` backups: the folder is full."""
    path = make_desk(TICKETS)
    (tmp_path / "sheetdesk.toml").write_text(f"[desk]\nbackups = {saves}\nbackup_days = 0\n", encoding="utf-8")
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    for n in range(saves):
        result = add(cli, path, n)
        assert result.exit_code == 0, result.output
    assert len(list_backups(path)) == saves
    return path


def strays(folder: Path) -> list[str]:
    """Temporary files anywhere under the desk's folder."""
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def backups_as_they_are(path: Path) -> dict[str, bytes]:
    return {b.name: b.read_bytes() for b in list_backups(path)}


def listing(output: str) -> list[list[str]]:
    import re

    return [re.split(r"\s*│\s*", line.strip("│ ")) for line in output.splitlines() if line.startswith("│")]


class _FullDisk(io.RawIOBase):
    """A file on a disk that fills up after ``room`` bytes: ``enospc`` says so, ``short`` (a sync client,
    a network share) silently keeps only what fitted."""

    def __init__(self, path, room: int, how: str):
        self.fh = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.room, self.how = room, how

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        fits = data[:max(self.room, 0)]
        self.fh.write(fits)
        self.room -= len(fits)
        if len(fits) < len(data) and self.how == "enospc":
            raise OSError(errno.ENOSPC, "No space left on device")
        return len(data)

    def fileno(self):
        return self.fh.fileno()

    def close(self):
        self.fh.close()
        super().close()


def fill_disk_at_the_backup(monkeypatch, room: int, how: str) -> None:
    """Every file written into .sheetdesk/backups meets a full disk after ``room`` bytes."""
    real_open = open

    def opener(file, mode="r", *args, **kwargs):
        if "w" in mode and Path(file).parent.name == "backups":
            return _FullDisk(file, room, how)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(safesave, "open", opener, raising=False)


# --- item 2: the backup step on a full disk ------------------------------------------------------

@pytest.mark.parametrize("how", ["enospc", "short"])
@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_a_full_disk_during_the_backup_leaves_desk_and_backups_as_they_were(make_desk, cli, tmp_path,
                                                                            monkeypatch, how, engine):
    path = desk_with_backups(make_desk, cli, tmp_path)
    with open(tmp_path / "sheetdesk.toml", "a", encoding="utf-8") as fh:
        fh.write(f'engine = "{engine}"\n')
    desk_before, backups_before = path.read_bytes(), backups_as_they_are(path)
    fill_disk_at_the_backup(monkeypatch, room=len(desk_before) // 2, how=how)

    result = add(cli, path, 9)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "备份" in lines[0] and "原文件未改动" in lines[0], result.output
    if how == "enospc":
        assert "磁盘空间不足" in lines[0]
    assert path.read_bytes() == desk_before  # the desk is untouched
    assert backups_as_they_are(path) == backups_before  # every good backup is still there, no new broken one
    assert strays(tmp_path) == []  # no partial file, in the desk's folder or in .sheetdesk

    monkeypatch.undo()  # room on the disk again: the same command goes through, and the backups rotate
    assert add(cli, path, 9).exit_code == 0
    assert len(list_backups(path)) == 3 and list_backups(path)[0].read_bytes() == desk_before


def test_the_english_line_for_a_full_disk(make_desk, cli, tmp_path, monkeypatch):
    path = desk_with_backups(make_desk, cli, tmp_path, saves=1)
    fill_disk_at_the_backup(monkeypatch, room=1000, how="enospc")
    result = add(cli, path, 9, "--lang", "en")
    assert result.exit_code == 1
    assert result.output.strip() == (f"error: could not back up {path.name}: the disk is full; nothing was written, "
                                     "the original is untouched")


def plant(path: Path, stamp: str, content: bytes) -> Path:
    planted = path.parent / ".sheetdesk" / "backups" / f"{path.stem}.{stamp}{path.suffix}"
    planted.write_bytes(content)
    return planted


def corrupt_a_part(data: bytes, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """The zip directory intact, one byte of a part's compressed data flipped."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(part)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    at = start + info.compress_size // 2
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


def test_restore_marks_a_truncated_backup_damaged_and_picks_a_good_one(make_desk, cli, tmp_path):
    path = desk_with_backups(make_desk, cli, tmp_path)
    good = list_backups(path)
    # what a full disk left with the earlier sheetdesk: the newest "backup" is half a file
    broken = plant(path, "20991231-235959-000000", good[0].read_bytes()[:5000])

    shown = cli("restore", path)
    assert shown.exit_code == 0, shown.output
    rows = listing(shown.output)
    assert [(r[0], r[6]) for r in rows] == [("损坏", broken.name)] + [(str(i), b.name) for i, b in enumerate(good, 1)]
    assert f"损坏：{broken.name} 不是可读的工作簿" in shown.output
    assert "damaged" in cli("restore", path, "--lang", "en").output

    desk_before = path.read_bytes()
    result = cli("restore", path, "--pick", 1)
    assert result.exit_code == 0, result.output
    assert good[0].name in result.output and broken.name not in result.output
    assert path.read_bytes() == good[0].read_bytes()  # the newest good backup, not the broken one
    assert openpyxl.load_workbook(path)  # a desk
    assert list_backups(path)[0].read_bytes() == desk_before  # the replaced version is kept
    assert cli("restore", path, "--pick", 5).exit_code == 2  # 4 good backups now, the broken one no number


def test_rotation_never_gives_a_good_backup_up_for_a_broken_one(make_desk, cli, tmp_path):
    path = desk_with_backups(make_desk, cli, tmp_path)
    good = list_backups(path)
    broken = plant(path, "20991231-235959-000000", b"PK\x03\x04 cut short by a full disk")
    assert add(cli, path, 9).exit_code == 0
    kept = list_backups(path)
    # the new backup and the two newest good ones: three readable versions, as the policy says
    assert len(kept) == 3 and kept[1:] == good[:2] and broken not in kept
    assert all(zipfile.ZipFile(b).testzip() is None for b in kept)


def test_pick_refuses_a_backup_whose_content_is_damaged(make_desk, cli, tmp_path):
    path = desk_with_backups(make_desk, cli, tmp_path)
    newest = list_backups(path)[0]
    flipped = plant(path, "20991231-235959-000000", corrupt_a_part(newest.read_bytes()))
    assert zipfile.ZipFile(flipped).namelist()  # its directory reads: it lists as number 1
    assert listing(cli("restore", path).output)[0][:1] == ["1"]
    desk_before = path.read_bytes()
    result = cli("restore", path, "--pick", 1)
    assert result.exit_code == 1
    assert result.output.strip() == (f"错误：备份 {flipped.name} 已损坏（部件 xl/worksheets/sheet1.xml 已损坏），"
                                     f"不能用它恢复；{path} 未改动，请另选一个备份")
    assert path.read_bytes() == desk_before and strays(tmp_path) == []
    assert cli("restore", path, "--pick", 2).exit_code == 0  # the next one is fine
    assert path.read_bytes() == newest.read_bytes()


def test_a_backup_that_does_not_match_its_label_is_damaged(make_desk, cli, tmp_path):
    path = desk_with_backups(make_desk, cli, tmp_path)
    newest = list_backups(path)[0]
    with open(newest, "ab") as fh:  # trailing bytes: still a zip, but not the bytes that were backed up
        fh.write(b"\0" * 10)
    rows = listing(cli("restore", path).output)
    assert rows[0][0] == "损坏" and rows[1][0] == "1"


def test_a_broken_desk_can_still_be_restored(make_desk, cli, tmp_path):
    """The version a restore replaces is backed up as it is, even when it is no workbook: a damaged desk
    is what restore is for. That copy is listed as damaged, the good ones stay numbered."""
    path = desk_with_backups(make_desk, cli, tmp_path)
    good = list_backups(path)
    path.write_bytes(path.read_bytes()[:3000])  # the desk itself cut short
    result = cli("restore", path, "--pick", 1)
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == good[0].read_bytes() and openpyxl.load_workbook(path)
    rows = listing(cli("restore", path).output)
    assert [r[0] for r in rows] == ["损坏", "1", "2", "3"]  # the cut-short desk, kept as it was, and the good ones


# --- item 4: what a kill leaves is cleaned by the next successful run ---------------------------

STALL = """
import sys, time
from pathlib import Path
from sheetdesk.workbook import safesave
real = safesave._fsync_file
def stall(path):
    real(path)
    if {where}:
        print("in the save", flush=True)
        time.sleep(120)
safesave._fsync_file = stall
from sheetdesk.cli import main
main(sys.argv[1:])
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
@pytest.mark.parametrize("moment", ["new desk written", "backup written"])
def test_leftovers_of_a_killed_save_are_removed_by_the_next_run(make_desk, cli, tmp_path, moment):
    path = make_desk(TICKETS)
    other = make_desk(TICKETS, name="desk.old.xlsx")  # another desk in the same folder
    where = {"new desk written": "'.sheetdesk-' in path.name",
             "backup written": "path.parent.name == 'backups' and '.json.' not in path.name"}[moment]
    script = textwrap.dedent(STALL.format(where=where))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-c", script, "refresh", str(path), "--now", NOW], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "in the save", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)  # kill -9 in the middle of the save
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    left = temp_files(path)
    expected = 2 if moment == "backup written" else 1  # the new desk, and the backup being written
    assert len(left) == expected, strays(tmp_path)
    assert any(p.parent.name == "backups" for p in left) == (moment == "backup written")

    # a minute later (the clocks are not waited for: the files are made older)
    old = time.time() - 5 * 60
    for p in left:
        os.utime(p, (old, old))
    theirs = tmp_path / ".desk.old.xlsx.sheetdesk-k1lled.tmp.xlsx"  # another desk's leftover: not ours to judge
    theirs.write_bytes(b"half")
    os.utime(theirs, (old, old))
    # a concurrent run's file, being written right now (on another machine, where our lock does not reach)
    fresh = tmp_path / ".desk.xlsx.sheetdesk-n0w0n0w0.tmp.xlsx"
    fresh.write_bytes(b"being written")

    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert not any(p.exists() for p in left)
    assert fresh.exists() and theirs.exists()
    assert temp_files(path) == [fresh] and other.exists()
    assert register_rows(path)[2]["id"]  # the refresh itself did its work


def test_doctor_names_a_backup_left_half_written(make_desk, cli, tmp_path):
    path = make_desk(TICKETS)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    backup = list_backups(path)[0]
    leftover = backup.with_name(f".{backup.name}.x7y8z9ab.tmp")
    leftover.write_bytes(b"half a backup")
    assert temp_files(path) == [leftover]
    assert leftover.name in cli("doctor", path).output
    assert list_backups(path) == [backup]  # never taken for a backup


# --- a colleague's save while sheetdesk works ---------------------------------------------------

@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_colleagues_save_meanwhile_is_said_plainly(make_desk, cli, tmp_path, monkeypatch, engine, lang):
    path = make_desk(TICKETS)
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    real = safesave._fsync_file

    def colleague_saves(tmp: Path) -> None:
        real(tmp)
        if ".sheetdesk-" in tmp.name and not (tmp_path / "saved").exists():
            wb = openpyxl.load_workbook(path)  # between our read and our write: their save, by Excel say
            wb["登记表"]["J3"] = "客户补充：夜间也漏水"
            wb.save(path)
            (tmp_path / "saved").touch()

    monkeypatch.setattr(safesave, "_fsync_file", colleague_saves)
    result = cli("refresh", path, "--now", NOW, "--lang", lang)
    assert result.exit_code == 1
    theirs = path.read_bytes()
    if lang == "zh":
        assert result.output.strip() == ("错误：desk.xlsx 在 sheetdesk 处理期间被其他人修改过；未写入任何内容，"
                                         "请重新运行命令")
    else:
        assert result.output.strip() == ("error: desk.xlsx was changed by someone else while sheetdesk was working "
                                         "on it; nothing was written; run the command again")
    assert "app.xml" not in result.output and "verification" not in result.output
    assert register_rows(path)[3]["description"] == "客户补充：夜间也漏水" and path.read_bytes() == theirs
    assert list_backups(path) == [] and strays(tmp_path) == []
    monkeypatch.undo()
    assert cli("refresh", path, "--now", NOW).exit_code == 0  # run again: it goes through, their edit kept
    assert register_rows(path)[3]["description"] == "客户补充：夜间也漏水"

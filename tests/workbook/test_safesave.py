"""Atomic save: temp file, verify, backup, change check, rename; crashes exercised in real subprocesses."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest

from sheetdesk.errors import BookChanged, UnsupportedContent, WriteFailed
from sheetdesk.workbook import safesave
from sheetdesk.workbook.safesave import Snapshot, atomic_write, changed_since, list_backups, restore_backup, snapshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_crash_hook(monkeypatch):
    monkeypatch.delenv(safesave.CRASH_ENV, raising=False)


def make_book(folder: Path, content: bytes = b"original bytes", name: str = "desk.xlsx") -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".sheetdesk-" in p.name)


def writing(content: bytes):
    return lambda tmp: tmp.write_bytes(content)


def bump_mtime(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


# --- snapshots -----------------------------------------------------------------------------------

def test_snapshot_and_changed_since(tmp_path):
    path = make_book(tmp_path, b"aaaa")
    snap = snapshot(path)
    assert isinstance(snap, Snapshot) and snap.size == 4 and len(snap.sha256) == 64
    assert not changed_since(snap)
    bump_mtime(path)  # touched but the same bytes: not a change
    assert not changed_since(snap)
    path.write_bytes(b"bbbb")
    bump_mtime(path)  # same size, new bytes
    assert changed_since(snap)
    path.write_bytes(b"longer")
    assert changed_since(snap)
    path.unlink()
    assert changed_since(snap)


# --- the normal path -----------------------------------------------------------------------------

def test_real_workbook_is_replaced_and_backed_up(tmp_path):
    path = tmp_path / "desk.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "old"
    wb.save(path)
    old_bytes = path.read_bytes()
    snap = snapshot(path)
    wb.active["A1"] = "new"
    seen = []

    def save(tmp: Path) -> None:
        seen.append(tmp)
        wb.save(tmp)  # openpyxl insists on an .xlsx suffix

    backup = atomic_write(path, save, expected=snap, verify=lambda tmp: openpyxl.load_workbook(tmp))
    [tmp] = seen
    assert tmp.parent == tmp_path and tmp.name.startswith(".desk.xlsx.sheetdesk-") and tmp.name.endswith(".tmp.xlsx")
    assert openpyxl.load_workbook(path).active["A1"].value == "new"
    assert backup is not None and backup.read_bytes() == old_bytes
    assert backup.parent == tmp_path / ".sheetdesk" / "backups"
    assert backup.name.startswith("desk.") and backup.suffix == ".xlsx"
    assert temps(tmp_path) == []


def test_new_book_has_no_backup(tmp_path):
    path = tmp_path / "desk.xlsx"
    assert atomic_write(path, writing(b"first")) is None
    assert path.read_bytes() == b"first" and list_backups(path) == [] and temps(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_permissions_survive_the_swap(tmp_path):
    path = make_book(tmp_path)
    path.chmod(0o664)
    atomic_write(path, writing(b"new"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o664  # not mkstemp's 0600


def test_rotation_keeps_the_newest(tmp_path):
    path = make_book(tmp_path, b"v0")
    made = [atomic_write(path, writing(f"v{i}".encode()), backups=3) for i in range(1, 7)]
    kept = list_backups(path)
    assert [p.read_bytes() for p in kept] == [b"v5", b"v4", b"v3"]
    assert kept[0] == made[-1]
    assert path.read_bytes() == b"v6"


def test_list_backups_ignores_other_books_and_strays(tmp_path):
    path = make_book(tmp_path, b"v0")
    other = make_book(tmp_path, b"o0", name="desk.old.xlsx")
    atomic_write(path, writing(b"v1"))
    atomic_write(other, writing(b"o1"))
    folder = tmp_path / ".sheetdesk" / "backups"
    (folder / "desk.notes.xlsx").write_bytes(b"stray")
    assert [p.read_bytes() for p in list_backups(path)] == [b"v0"]
    assert [p.read_bytes() for p in list_backups(other)] == [b"o0"]
    assert list_backups(tmp_path / "nothing.xlsx") == []


# --- failures leave the book and the folder as they were -----------------------------------------

def test_failed_verification_writes_nothing(tmp_path):
    path = make_book(tmp_path)

    def verify(tmp: Path) -> None:
        assert tmp.read_bytes() == b"broken"
        raise ValueError("cell A1 differs")

    with pytest.raises(WriteFailed) as info:
        atomic_write(path, writing(b"broken"), verify=verify)
    assert "A1" in info.value.zh and "A1" in info.value.en
    assert path.read_bytes() == b"original bytes" and temps(tmp_path) == [] and list_backups(path) == []


def test_verification_can_refuse_with_its_own_error(tmp_path):
    path = make_book(tmp_path)

    def verify(tmp: Path) -> None:
        raise UnsupportedContent("含有图表", "has charts")

    with pytest.raises(UnsupportedContent):
        atomic_write(path, writing(b"new"), verify=verify)
    assert path.read_bytes() == b"original bytes" and temps(tmp_path) == []


def test_failing_writer_leaves_no_temp(tmp_path):
    path = make_book(tmp_path)

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_write(path, write)
    assert path.read_bytes() == b"original bytes" and temps(tmp_path) == []


def test_someone_else_saved_meanwhile(tmp_path):
    path = make_book(tmp_path)
    snap = snapshot(path)

    def write(tmp: Path) -> None:
        path.write_bytes(b"a colleague's save")
        bump_mtime(path)
        tmp.write_bytes(b"ours")

    with pytest.raises(BookChanged) as info:
        atomic_write(path, write, expected=snap)
    assert "未写入" in info.value.zh and "nothing was written" in info.value.en
    assert path.read_bytes() == b"a colleague's save" and temps(tmp_path) == []


def test_book_deleted_meanwhile(tmp_path):
    path = make_book(tmp_path)
    snap = snapshot(path)

    def write(tmp: Path) -> None:
        path.unlink()
        tmp.write_bytes(b"ours")

    with pytest.raises(BookChanged):
        atomic_write(path, write, expected=snap)
    assert not path.exists() and temps(tmp_path) == []


def test_replace_retries_a_transient_sharing_violation(tmp_path, monkeypatch):
    path = make_book(tmp_path)
    real_replace, calls = os.replace, []

    def flaky(src, dst):
        calls.append(src)
        if len(calls) < 3:
            raise PermissionError(13, "The process cannot access the file")
        real_replace(src, dst)

    monkeypatch.setattr(safesave.os, "replace", flaky)
    monkeypatch.setattr(safesave.time, "sleep", lambda s: None)
    atomic_write(path, writing(b"new"))
    assert len(calls) == 3 and path.read_bytes() == b"new" and temps(tmp_path) == []


def test_replace_gives_up_when_the_book_stays_held_open(tmp_path, monkeypatch):
    path = make_book(tmp_path)
    calls = []

    def held(src, dst):
        calls.append(src)
        raise PermissionError(13, "The process cannot access the file")

    monkeypatch.setattr(safesave.os, "replace", held)
    monkeypatch.setattr(safesave.time, "sleep", lambda s: None)
    with pytest.raises(WriteFailed) as info:
        atomic_write(path, writing(b"new"))
    assert len(calls) == 5
    assert "占用" in info.value.zh and "holds it open" in info.value.en
    assert path.read_bytes() == b"original bytes" and temps(tmp_path) == []


# --- crashes -------------------------------------------------------------------------------------

CRASHER = """
import sys
from pathlib import Path
from sheetdesk.workbook.safesave import atomic_write
atomic_write(Path(sys.argv[1]), lambda tmp: tmp.write_bytes(b"new bytes"))
print("survived")
"""


@pytest.mark.parametrize("point", ["after_tmp", "after_backup", "before_replace"])
def test_a_crash_never_tears_the_book(tmp_path, point):
    path = make_book(tmp_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env[safesave.CRASH_ENV] = point
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(CRASHER), str(path)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 77, proc.stderr
    assert "survived" not in proc.stdout
    assert path.read_bytes() == b"original bytes"
    [tmp] = temps(tmp_path)  # the crash leaves the temp file (doctor reports it), complete
    assert (tmp_path / tmp).read_bytes() == b"new bytes"
    backups = list_backups(path)
    if point == "after_tmp":
        assert backups == []
    else:
        assert [p.read_bytes() for p in backups] == [b"original bytes"]


def test_crash_hook_is_off_without_the_variable(tmp_path):
    path = make_book(tmp_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop(safesave.CRASH_ENV, None)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(CRASHER), str(path)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "survived" in proc.stdout
    assert path.read_bytes() == b"new bytes" and temps(tmp_path) == []


# --- restore -------------------------------------------------------------------------------------

def test_restore_round_trip(tmp_path):
    path = make_book(tmp_path, b"v1")
    first = atomic_write(path, writing(b"v2"))
    assert first is not None and first.read_bytes() == b"v1"
    saved = restore_backup(path, first)
    assert path.read_bytes() == b"v1"
    assert saved is not None and saved.read_bytes() == b"v2" and list_backups(path)[0] == saved
    assert first.exists() and first.read_bytes() == b"v1"  # restoring does not consume the backup
    assert temps(tmp_path) == []


def test_restore_of_a_missing_backup_fails_cleanly(tmp_path):
    path = make_book(tmp_path, b"v1")
    with pytest.raises(WriteFailed):
        restore_backup(path, tmp_path / ".sheetdesk" / "backups" / "desk.20000101-000000-000000.xlsx")
    assert path.read_bytes() == b"v1" and temps(tmp_path) == [] and list_backups(path) == []

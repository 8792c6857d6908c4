"""Replacing the team's only copy safely: temp file, verify, backup, change check, atomic rename.

The recipe of workbook-engineering.md §5.3. The original is never opened for writing: either the
old bytes or the complete new file is at the path, whatever happens mid-way. A backup of each
replaced version is kept in ``.sheetdesk/backups/`` beside the workbook, newest ``backups`` kept.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sheetdesk.errors import BookChanged, SheetdeskError, WriteFailed

BACKUP_DIR = Path(".sheetdesk") / "backups"
#: test hook: exit abruptly at a named point of the save, to prove a crash never tears the file
CRASH_ENV = "SHEETDESK_TEST_CRASH_AT"


@dataclass(frozen=True)
class Snapshot:
    path: Path
    mtime_ns: int
    size: int
    sha256: str


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def snapshot(path: Path) -> Snapshot:
    path = Path(path)
    st = path.stat()
    return Snapshot(path, st.st_mtime_ns, st.st_size, _digest(path))


def changed_since(snap: Snapshot) -> bool:
    try:
        st = snap.path.stat()
    except FileNotFoundError:
        return True
    if st.st_size != snap.size:
        return True
    if st.st_mtime_ns == snap.mtime_ns:
        return False
    return _digest(snap.path) != snap.sha256


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os._exit(77)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def backup_dir(book: Path) -> Path:
    return Path(book).parent / BACKUP_DIR


def list_backups(book: Path) -> list[Path]:
    """Backups of ``book``, newest first."""
    book = Path(book)
    folder = backup_dir(book)
    if not folder.is_dir():
        return []
    # exact pattern: the backups of "desk.old.xlsx" share the folder and the "desk." prefix
    pattern = re.compile(re.escape(book.stem) + r"\.\d{8}-\d{6}-\d{6}" + re.escape(book.suffix))
    found = [p for p in folder.iterdir() if pattern.fullmatch(p.name) and p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


def _make_backup(book: Path, keep: int) -> Path:
    folder = backup_dir(book)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{book.stem}.{datetime.now():%Y%m%d-%H%M%S-%f}{book.suffix}"
    while target.exists():  # two saves inside one microsecond
        time.sleep(0.001)
        target = folder / f"{book.stem}.{datetime.now():%Y%m%d-%H%M%S-%f}{book.suffix}"
    shutil.copy2(book, target)
    for old in list_backups(book)[max(keep, 1):]:
        try:
            old.unlink()
        except OSError:
            pass
    return target


def _replace(tmp: Path, book: Path) -> None:
    for attempt in range(5):
        try:
            os.replace(tmp, book)
            return
        except PermissionError:
            if attempt == 4:
                raise WriteFailed(
                    f"无法替换 {book.name}：文件正被其他程序占用（多为 Excel 或同步软件），原文件未改动；请关闭后重试",
                    f"cannot replace {book.name}: another program holds it open (usually Excel or a sync client); "
                    "the original is untouched, close it and retry") from None
            time.sleep(0.2)


def atomic_write(book: Path, write: Callable[[Path], None], *, expected: Snapshot | None = None,
                 verify: Callable[[Path], None] | None = None, backups: int = 5) -> Path | None:
    """Write via ``write(tmp)``, check it, back up the original, and swap it in; returns the backup."""
    book = Path(book)
    fd, name = tempfile.mkstemp(prefix=f".{book.name}.sheetdesk-", suffix=f".tmp{book.suffix}", dir=book.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            write(tmp)
            _fsync_file(tmp)
        except SheetdeskError:
            raise
        except OSError as exc:
            raise WriteFailed(f"写入临时文件失败：{exc}；原文件未改动", f"could not write the new file: {exc}; "
                              "the original is untouched") from exc
        _crash_point("after_tmp")
        if verify is not None:
            try:
                verify(tmp)
            except SheetdeskError:
                raise
            except Exception as exc:
                raise WriteFailed(f"新文件校验失败：{exc}；原文件未改动",
                                  f"the new file failed verification: {exc}; the original is untouched") from exc
        backup = None
        if book.exists():
            if expected is not None and changed_since(expected):
                raise BookChanged(
                    f"{book.name} 在 sheetdesk 运行期间被其他人保存过；为免覆盖对方的修改，未写入任何内容，请重新运行",
                    f"{book.name} was saved by someone else while sheetdesk was running; nothing was written so "
                    "their changes are not overwritten; run again")
            try:
                backup = _make_backup(book, backups)
            except OSError as exc:
                raise WriteFailed(f"无法备份 {book.name}：{exc}；原文件未改动",
                                  f"could not back up {book.name}: {exc}; the original is untouched") from exc
            _crash_point("after_backup")
            try:  # mkstemp made it 0600: without this a shared desk becomes private to whoever saved last
                shutil.copymode(book, tmp)
            except OSError:  # file systems without modes (SMB, FAT) refuse chmod; nothing to keep there
                pass
        if expected is not None and changed_since(expected):  # the last moment we can still say no
            raise BookChanged(f"{book.name} 在 sheetdesk 运行期间被其他人保存过；未写入任何内容，请重新运行",
                              f"{book.name} was saved by someone else while sheetdesk was running; nothing was written")
        _crash_point("before_replace")
        _replace(tmp, book)
        _fsync_dir(book.parent)
        return backup
    finally:
        if tmp.exists():
            try:
                tmp.unlink()
            except OSError:
                pass


def restore_backup(book: Path, backup: Path, *, backups: int = 5) -> Path | None:
    """Put a backup back in place (the current version is itself backed up first)."""
    book = Path(book)
    return atomic_write(book, lambda tmp: shutil.copyfile(backup, tmp), backups=backups + 1)

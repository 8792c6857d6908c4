"""Replacing the team's only copy safely: temp file, verify, backup, change check, atomic rename.

The recipe of workbook-engineering.md §5.3. The original is never opened for writing: either the
old bytes or the complete new file is at the path, whatever happens mid-way. A backup of each
replaced version is kept in ``.sheetdesk/backups/`` beside the workbook (:class:`BackupPolicy` says
which), each with a small JSON sidecar saying what made it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sheetdesk.errors import BookChanged, SheetdeskError, WriteFailed
from sheetdesk.settings import DEFAULT_TIMEZONE, desk_time, utc_now, zone

#: sheetdesk's own folder beside the workbook: backups, the run lock
STATE_DIR = Path(".sheetdesk")
BACKUP_DIR = STATE_DIR / "backups"
STAMP = "%Y%m%d-%H%M%S-%f"
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


def state_dir(book: Path, create: bool = False) -> Path:
    """``.sheetdesk/`` beside ``book``; created on demand (hidden on Windows, where a dot does not hide)."""
    folder = Path(book).parent / STATE_DIR
    if create and not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        if os.name == "nt":  # pragma: no cover - Windows only
            try:
                import ctypes

                ctypes.windll.kernel32.SetFileAttributesW(str(folder), 0x2)  # FILE_ATTRIBUTE_HIDDEN
            except Exception:
                pass
    return folder


def backup_dir(book: Path) -> Path:
    return Path(book).parent / BACKUP_DIR


def _umask() -> int:
    try:  # Linux says it without changing it (os.umask can only be read by setting it)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(path: Path, like: Path | None = None) -> None:
    """Give a file made by ``mkstemp`` (always 0600) the mode a plain new file would have: that of
    ``like`` when it exists (the file it replaces), else 0666 minus the user's umask. Without this
    a summary, a report or a shared desk becomes private to whoever wrote it last."""
    try:
        if like is not None and Path(like).exists():
            shutil.copymode(like, path)
        else:
            os.chmod(path, 0o666 & ~_umask())
    except OSError:  # file systems without modes (SMB, FAT) refuse chmod; nothing to keep there
        pass


@dataclass(frozen=True)
class BackupPolicy:
    """The last ``saves`` backups, plus the first backup of each of the last ``days`` days (so the
    morning's version survives a busy day of ``log`` entries), days on the desk's clock."""
    saves: int = 10
    days: int = 7
    timezone: str = DEFAULT_TIMEZONE


@dataclass(frozen=True)
class BackupInfo:
    """One backup as ``restore`` lists it; what the sidecar does not say is None."""
    path: Path
    taken: datetime | None      # when the backup was made, desk clock
    command: str | None         # the command whose save made it: refresh, add, log, import, doctor, restore
    size: int
    tickets: int | None         # register rows of the backed-up version
    saved: datetime             # when the backed-up version itself was saved (its mtime), desk clock


def _pattern(book: Path) -> re.Pattern:
    # exact pattern: the backups of "desk.old.xlsx" share the folder and the "desk." prefix
    return re.compile(re.escape(book.stem) + r"\.(\d{8}-\d{6}-\d{6})" + re.escape(book.suffix))


def list_backups(book: Path) -> list[Path]:
    """Backups of ``book``, newest first."""
    book = Path(book)
    folder = backup_dir(book)
    if not folder.is_dir():
        return []
    pattern = _pattern(book)
    found = [p for p in folder.iterdir() if pattern.fullmatch(p.name) and p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


def _stamp_of(backup: Path) -> datetime | None:
    try:
        return datetime.strptime(backup.name[len(backup.name) - len(backup.suffix) - 22:-len(backup.suffix)], STAMP)
    except ValueError:
        return None


def _sidecar(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def backup_info(backup: Path, timezone: str = DEFAULT_TIMEZONE) -> BackupInfo:
    """What made ``backup``, from its sidecar; a backup without one (or with a damaged one) still lists."""
    st = backup.stat()
    meta: dict = {}
    try:
        meta = json.loads(_sidecar(backup).read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            meta = {}
    except (OSError, ValueError):
        pass
    taken = None
    if isinstance(meta.get("taken"), str):
        try:
            taken = datetime.fromisoformat(meta["taken"])
        except ValueError:
            pass
    tickets = meta.get("tickets")
    command = meta.get("command")
    return BackupInfo(backup, taken or _stamp_of(backup), command if isinstance(command, str) else None,
                      st.st_size, tickets if isinstance(tickets, int) and not isinstance(tickets, bool) else None,
                      desk_time(st.st_mtime, timezone))


def _write_atomic(target: Path, fill: Callable[[Path], None]) -> None:
    """``fill(tmp)`` then fsync and rename to ``target``, a new name: it is either absent or complete."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        fill(tmp)
        _fsync_file(tmp)
        os.rename(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _to_keep(backups: list[Path], policy: BackupPolicy, today: datetime) -> set[Path]:
    keep = set(backups[:max(policy.saves, 1)])
    if policy.days > 0:
        first = today.date() - timedelta(days=policy.days - 1)
        first_of_day: dict = {}
        for b in backups:  # newest first: the last one seen of a day is its first
            stamp = _stamp_of(b)
            if stamp is not None and stamp.date() >= first:
                first_of_day[stamp.date()] = b
        keep.update(first_of_day.values())
    return keep


def _make_backup(book: Path, policy: BackupPolicy, note: dict | None = None) -> Path:
    folder = backup_dir(book)
    if not folder.is_dir():
        state_dir(book, create=True)
        folder.mkdir(parents=True, exist_ok=True)
    now = utc_now().astimezone(zone(policy.timezone)).replace(tzinfo=None)
    stamp = now
    newest = list_backups(book)[:1]
    last = _stamp_of(newest[0]) if newest else None
    if last is not None and last >= stamp:  # same microsecond, or a clock set back: the order must hold
        stamp = last + timedelta(microseconds=1)
    target = folder / f"{book.stem}.{stamp:{STAMP}}{book.suffix}"
    now = now.replace(microsecond=0)
    _write_atomic(target, lambda tmp: shutil.copy2(book, tmp))
    meta = {"command": None, "tickets": None, **(note or {}), "taken": now.isoformat(sep=" "),
            "timezone": policy.timezone, "size": target.stat().st_size}
    try:  # the sidecar is a label: a backup without one still lists and restores
        _write_atomic(_sidecar(target), lambda tmp: (tmp.write_text(json.dumps(meta, ensure_ascii=False),
                                                                   encoding="utf-8"), follow_umask(tmp)))
    except OSError:
        pass
    _fsync_dir(folder)
    # rotation only after the new backup is complete, and never the new one
    existing = list_backups(book)
    keep = _to_keep(existing, policy, now) | {target}
    for old in existing:
        if old not in keep:
            for path in (old, _sidecar(old)):
                try:
                    path.unlink(missing_ok=True)
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


def _policy(backups: int | BackupPolicy) -> BackupPolicy:
    """A bare number keeps that many backups and nothing by day."""
    return backups if isinstance(backups, BackupPolicy) else BackupPolicy(backups, 0)


def atomic_write(book: Path, write: Callable[[Path], None], *, expected: Snapshot | None = None,
                 verify: Callable[[Path], None] | None = None, backups: int | BackupPolicy = BackupPolicy(),
                 note: dict | None = None) -> Path | None:
    """Write via ``write(tmp)``, check it, back up the original, and swap it in; returns the backup.

    ``note`` goes into the backup's sidecar: ``command`` (what is saving) and ``tickets`` (register
    rows of the version being replaced), for ``restore`` to list."""
    book = Path(book)
    policy = _policy(backups)
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
                backup = _make_backup(book, policy, note)
            except OSError as exc:
                raise WriteFailed(f"无法备份 {book.name}：{exc}；原文件未改动",
                                  f"could not back up {book.name}: {exc}; the original is untouched") from exc
            _crash_point("after_backup")
        follow_umask(tmp, like=book)  # mkstemp made it 0600: the replaced file's mode, or the umask's
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


def restore_backup(book: Path, backup: Path, *, backups: int | BackupPolicy = BackupPolicy(),
                   tickets: int | None = None) -> Path | None:
    """Put a backup back in place (the current version is itself backed up first, one more kept)."""
    book = Path(book)
    policy = _policy(backups)
    policy = BackupPolicy(policy.saves + 1, policy.days, policy.timezone)
    return atomic_write(book, lambda tmp: shutil.copyfile(backup, tmp), backups=policy,
                        note={"command": "restore", "tickets": tickets})

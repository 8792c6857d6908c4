"""Replacing the team's only copy safely: temp file, verify, backup, change check, atomic rename.

The recipe of workbook-engineering.md §5.3. The original is never opened for writing: either the
old bytes or the complete new file is at the path, whatever happens mid-way. A backup of each
replaced version is kept in ``.sheetdesk/backups/`` beside the workbook (:class:`BackupPolicy` says
which), each with a small JSON sidecar saying what made it. A backup is written the same way (temp
file, fsync, rename) and read back before it counts: a full disk or a kill leaves no half backup for
``restore`` to offer, and rotation never removes a good backup to keep a damaged one.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sheetdesk.errors import BookChanged, SheetdeskError, WriteFailed
from sheetdesk.settings import DEFAULT_TIMEZONE, BackupPolicy, desk_time, utc_now, zone

#: sheetdesk's own folder beside the workbook: backups, the run lock
STATE_DIR = Path(".sheetdesk")
BACKUP_DIR = STATE_DIR / "backups"
STAMP = "%Y%m%d-%H%M%S-%f"
#: test hook: exit abruptly at a named point of the save, to prove a crash never tears the file
CRASH_ENV = "SHEETDESK_TEST_CRASH_AT"
#: the part every workbook package has: a copy without it (or without a zip directory) is no desk
WORKBOOK_PART = "xl/workbook.xml"
#: a temporary file of ours is left alone until it is this old (seconds, on the folder's own clock)
LEFTOVER_AGE = 60


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
                import ctypes  # deferred: Windows only

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


def _write_atomic(target: Path, fill: Callable[[Path], None], check: Callable[[Path], None] | None = None) -> None:
    """``fill(tmp)``, fsync, ``check(tmp)``, then rename to ``target``, a new name: it is either absent
    or complete and checked. Whatever fails (a full disk, a refused check), no temporary file stays."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        fill(tmp)
        _fsync_file(tmp)
        if check is not None:
            check(tmp)
        os.rename(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def desk_problem(path: Path, *, thorough: bool = False) -> tuple[str, str] | None:
    """Why ``path`` is not a readable workbook package, as (zh, en), or None when it is one.

    The quick check reads the zip directory and ``xl/workbook.xml``: a copy cut short by a full disk
    or a kill has no directory at its end. ``thorough`` also inflates every part against its CRC, as
    putting the file back as the desk would need."""
    broken = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
              NotImplementedError, RuntimeError)
    try:
        with zipfile.ZipFile(path) as z:
            try:
                z.getinfo(WORKBOOK_PART)
            except KeyError:
                return "不是工作簿（缺少 xl/workbook.xml）", "not a workbook (no xl/workbook.xml)"
            for info in z.infolist() if thorough else [z.getinfo(WORKBOOK_PART)]:
                try:
                    with z.open(info) as fh:  # inflated to the end: the CRC is checked there
                        while fh.read(1 << 20):
                            pass
                except broken:
                    return f"部件 {info.filename} 已损坏", f"part {info.filename} is damaged"
    except broken:
        return "不是完整的 xlsx 文件（zip 结构损坏或被截断）", "not a complete xlsx file (zip damaged or truncated)"
    return None


def backup_problem(backup: Path, *, thorough: bool = False) -> tuple[str, str] | None:
    """Why ``backup`` cannot be restored, as (zh, en), or None. Besides :func:`desk_problem`, its
    sidecar's size (and with ``thorough`` its SHA-256) must match what was verified when it was made."""
    problem = desk_problem(backup, thorough=thorough)
    if problem is not None:
        return problem
    try:
        meta = json.loads(_sidecar(backup).read_text(encoding="utf-8"))
        size = backup.stat().st_size
    except (OSError, ValueError):
        return None  # no label, or a damaged one: the package itself decides
    if not isinstance(meta, dict):
        return None
    if isinstance(meta.get("size"), int) and meta["size"] != size:
        return (f"大小 {size:,} 字节，与备份时的 {meta['size']:,} 字节不符",
                f"{size:,} bytes where {meta['size']:,} were backed up")
    if thorough and isinstance(meta.get("sha256"), str) and meta["sha256"] != _digest(backup):
        return "内容与备份时的校验和不符", "content differs from the checksum taken when it was backed up"
    return None


def _to_keep(backups: list[Path], policy: BackupPolicy, today: datetime, damaged: set[Path] = frozenset()) -> set[Path]:
    """Readable backups fill the ``saves`` places first: a damaged one never pushes a good one out,
    and is no day's first version."""
    ranked = [b for b in backups if b not in damaged] + [b for b in backups if b in damaged]
    keep = set(ranked[:max(policy.saves, 1)])
    if policy.days > 0:
        first = today.date() - timedelta(days=policy.days - 1)
        first_of_day: dict = {}
        for b in backups:  # newest first: the last one seen of a day is its first
            stamp = _stamp_of(b)
            if stamp is not None and stamp.date() >= first and b not in damaged:
                first_of_day[stamp.date()] = b
        keep.update(first_of_day.values())
    return keep


def _copy_into(book: Path, tmp: Path, times: bool = True) -> tuple[int, str]:
    """Copy ``book`` to ``tmp`` (with its ``times``: restore lists when a backed-up version was
    saved); returns the size and SHA-256 of the bytes read."""
    h, size = hashlib.sha256(), 0
    with open(book, "rb") as src, open(tmp, "wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    if times:
        shutil.copystat(book, tmp)
    return size, h.hexdigest()


def _read_back(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of ``path`` as stored: its (already fsynced) pages are dropped from the cache
    first where the system allows, so the bytes come from the disk rather than from memory."""
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        if hasattr(os, "posix_fadvise"):
            try:
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def _make_backup(book: Path, policy: BackupPolicy, note: dict | None = None,
                 expected: Snapshot | None = None) -> Path:
    """Copy ``book`` into the backups, proven: the stored copy has the very bytes of the version
    read (``expected``) or else of the file copied, and is a readable workbook whenever that file
    is one. Only then does it get its name, and only then are old backups rotated out."""
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
    copied: dict[str, tuple[int, str]] = {}

    def check(tmp: Path) -> None:
        if expected is not None and copied["read"][1] != expected.sha256:
            raise _changed(book)  # the bytes copied are not the version this run read
        size, digest = _read_back(tmp)
        if (size, digest) != copied["read"]:
            raise WriteFailed(f"{book.name} 的备份写入后读回不一致（{size:,} 字节，应为 {copied['read'][0]:,}）；"
                              "未写入任何内容，原文件未改动",
                              f"the backup of {book.name} did not read back as written ({size:,} bytes of "
                              f"{copied['read'][0]:,}); nothing was written, the original is untouched")
        problem = desk_problem(tmp)
        if problem is not None and desk_problem(book) is None:
            raise WriteFailed(f"{book.name} 的备份不是可读的工作簿：{problem[0]}；未写入任何内容，原文件未改动",
                              f"the backup of {book.name} is not a readable workbook: {problem[1]}; nothing was "
                              "written, the original is untouched")
        # (a desk that is itself no readable workbook is still copied as it is: restoring a good backup
        # over it must not be stopped; restore lists such a copy as damaged)

    _write_atomic(target, lambda tmp: copied.update(read=_copy_into(book, tmp)), check)
    meta = {"command": None, "tickets": None, **(note or {}), "taken": now.isoformat(sep=" "),
            "timezone": policy.timezone, "size": target.stat().st_size, "sha256": copied["read"][1]}
    try:  # the sidecar is a label: a backup without one still lists and restores
        _write_atomic(_sidecar(target), lambda tmp: (tmp.write_text(json.dumps(meta, ensure_ascii=False),
                                                                   encoding="utf-8"), follow_umask(tmp)))
    except OSError:
        pass
    _fsync_dir(folder)
    # rotation only after the new backup is verified and in place, and never the new one
    existing = list_backups(book)
    damaged = {b for b in existing if b != target and backup_problem(b) is not None}
    keep = _to_keep(existing, policy, now, damaged) | {target}
    for old in existing:
        if old not in keep:
            for path in (old, _sidecar(old)):
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    pass
    return target


def temp_files(book: Path) -> list[Path]:
    """The temporary files sheetdesk makes for ``book`` and a kill can leave behind: the new desk
    being written (``.NAME.sheetdesk-*.tmp*`` beside it) and a backup or its label being written
    (``.STEM.<stamp>SUFFIX[.json].*.tmp`` in the backups folder). Named exactly, so another desk's
    files in the same folder are never taken for this one's."""
    book = Path(book)
    found = sorted(p for p in book.parent.glob(f".{glob.escape(book.name)}.sheetdesk-*.tmp*") if p.is_file())
    folder = backup_dir(book)
    if folder.is_dir():
        pattern = re.compile(r"\." + re.escape(book.stem) + r"\.\d{8}-\d{6}-\d{6}" + re.escape(book.suffix)
                             + r"(?:\.json)?\.[A-Za-z0-9_]+\.tmp")
        found += sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name) and p.is_file())
    return found


def _folder_now(book: Path) -> float:
    """The time on the clock of the file system holding the desk (a share's server may be minutes
    off this machine's clock): the mtime of the run marker :class:`DeskLock` wrote when this run
    took the lock (a little early, so a file only looks younger); this machine's clock without one."""
    try:
        return (Path(book).parent / STATE_DIR / f"{Path(book).name}.owner").stat().st_mtime
    except OSError:
        return time.time()


def remove_leftovers(book: Path, min_age: float = LEFTOVER_AGE) -> list[Path]:
    """Remove what :func:`temp_files` finds that no run is still writing; returns what was removed.

    Call it holding the :class:`~sheetdesk.workbook.locks.DeskLock`: every sheetdesk run that saves
    the desk holds that lock, so no other run on this machine is writing one of these files. A run
    on another computer (where the lock may not reach across the share) or an older sheetdesk is
    covered by the age: a file is removed only when ``min_age`` seconds have passed since it was
    last written, measured on the folder's own clock; a save in progress keeps writing its file."""
    now = _folder_now(book)
    removed = []
    for path in temp_files(book):
        try:
            if now - path.stat().st_mtime > min_age:
                path.unlink()
                removed.append(path)
        except OSError:  # gone meanwhile, or held open (Windows): the next run tries again
            pass
    return removed


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


def _changed(book: Path) -> BookChanged:
    return BookChanged(f"{book.name} 在 sheetdesk 处理期间被其他人修改过；未写入任何内容，请重新运行命令",
                       f"{book.name} was changed by someone else while sheetdesk was working on it; nothing was "
                       "written; run the command again")


def _raise_if_changed(book: Path, expected: Snapshot | None, exc: BaseException) -> None:
    """A failure while the desk changed under us is reported as that change: plain, and true."""
    if expected is not None and not isinstance(exc, BookChanged) and changed_since(expected):
        raise _changed(book) from exc


def _os_reason(exc: OSError, lang: str) -> str:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "磁盘空间不足" if lang == "zh" else "the disk is full"
    return str(exc)


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
        except Exception as exc:
            _raise_if_changed(book, expected, exc)
            if isinstance(exc, OSError):
                raise WriteFailed(f"写入临时文件失败：{_os_reason(exc, 'zh')}；原文件未改动",
                                  f"could not write the new file: {_os_reason(exc, 'en')}; the original is untouched") from exc
            raise
        _crash_point("after_tmp")
        if verify is not None:
            try:
                verify(tmp)
            except Exception as exc:
                # the new file is checked against the desk on disk: a colleague's save in between makes
                # any part differ, which is their change, not a fault of the new file
                _raise_if_changed(book, expected, exc)
                if isinstance(exc, SheetdeskError):
                    raise
                raise WriteFailed(f"新文件校验失败：{exc}；原文件未改动",
                                  f"the new file failed verification: {exc}; the original is untouched") from exc
        backup = None
        if book.exists():
            if expected is not None and changed_since(expected):
                raise _changed(book)
            try:
                backup = _make_backup(book, policy, note, expected)
            except OSError as exc:
                raise WriteFailed(f"无法备份 {book.name}：{_os_reason(exc, 'zh')}；未写入任何内容，原文件未改动",
                                  f"could not back up {book.name}: {_os_reason(exc, 'en')}; nothing was written, "
                                  "the original is untouched") from exc
            _crash_point("after_backup")
        follow_umask(tmp, like=book)  # mkstemp made it 0600: the replaced file's mode, or the umask's
        if expected is not None and changed_since(expected):  # the last moment we can still say no
            raise _changed(book)
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
    """Put a backup back in place (the current version is itself backed up first, one more kept);
    the new desk must read back with the backup's very bytes. Whether the backup is a readable desk
    is for the caller to check first (:func:`backup_problem`)."""
    book = Path(book)
    policy = _policy(backups)
    policy = BackupPolicy(policy.saves + 1, policy.days, policy.timezone)
    copied: dict[str, tuple[int, str]] = {}

    def same_bytes(tmp: Path) -> None:
        if _read_back(tmp) != copied["read"]:
            raise WriteFailed(f"从 {Path(backup).name} 复制出的文件读回不一致；原文件未改动",
                              f"the copy of {Path(backup).name} did not read back as written; the original is untouched")

    return atomic_write(book, lambda tmp: copied.update(read=_copy_into(backup, tmp, times=False)),
                        verify=same_bytes, backups=policy, note={"command": "restore", "tickets": tickets})

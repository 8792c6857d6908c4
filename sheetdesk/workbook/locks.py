"""Who has the desk open: office lock files, and the lock that serialises sheetdesk runs.

Excel and WPS write ``~$<name>`` (owner in the legacy code page at byte 1 and again in UTF-16LE at
offset 55), LibreOffice ``.~lock.<name>#`` (``user,sysuser,host,dd.mm.yyyy hh:mm,url;``), WPS on
Linux ``.~<name>``. Saving under any of them would lose that person's edits, so a refresh refuses
and names them. sheetdesk's own runs queue on an OS lock plus a marker file that tells a waiting
colleague who is writing, both in ``.sheetdesk/`` beside the workbook (a file beside every workbook
would show in every colleague's folder view).
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from sheetdesk.errors import BookBusy, BookLocked
from sheetdesk.settings import aware, desk_clock
from sheetdesk.workbook.safesave import STATE_DIR, state_dir

APP_NAMES = {"excel": ("Excel/WPS", "Excel/WPS"), "libreoffice": ("LibreOffice", "LibreOffice"),
             "wps": ("WPS", "WPS"), "sheetdesk": ("sheetdesk", "sheetdesk")}
STALE_AFTER = 12 * 3600


@dataclass(frozen=True)
class OfficeLock:
    path: Path
    app: str                 # excel | wps | libreoffice | sheetdesk
    owner: str | None
    modified: datetime       # the desk's clock
    age_seconds: float

    def describe(self, lang: str = "zh") -> str:
        app = APP_NAMES.get(self.app, (self.app, self.app))[0 if lang == "zh" else 1]
        minutes = max(int(self.age_seconds // 60), 0)
        if lang == "zh":
            who = self.owner or "某位同事（锁文件中没有姓名）"
            age = f"{minutes} 分钟前" if minutes < 120 else f"{minutes // 60} 小时前"
            return f"{who} 正在用 {app} 编辑（锁文件 {self.path.name}，{age}）"
        who = self.owner or "someone (no name in the lock file)"
        age = f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago"
        return f"{who} has it open in {app} (lock file {self.path.name}, {age})"


def _clean(name: str) -> str | None:
    """The name if it looks like one; garbage (control characters, U+FFFD) gives None, not mojibake."""
    name = name.strip(" \x00")
    if not name or "\ufffd" in name or not all(ch.isprintable() for ch in name):
        return None
    return name


def parse_mso_owner(data: bytes) -> str | None:
    """Owner name of an Excel/WPS ``~$`` file; prefers the UTF-16 copy, falls back to the legacy one."""
    if len(data) >= 57:
        n = int.from_bytes(data[55:57], "little")
        if 0 < n <= 54 and len(data) >= 57 + 2 * n:
            try:
                name = _clean(data[57:57 + 2 * n].decode("utf-16-le"))
                if name:
                    return name
            except UnicodeDecodeError:
                pass
    if data:
        n = data[0]
        if 0 < n <= 54 and len(data) > n:
            raw = data[1:1 + n]
            for encoding in ("gbk", "latin-1"):
                try:
                    name = _clean(raw.decode(encoding))
                except UnicodeDecodeError:
                    continue
                if name:
                    return name
    return None


def parse_libreoffice_owner(text: str) -> str | None:
    """First field of ``user,sysuser,host,time,url;`` (``\\`` escapes ``,`` ``;`` and itself)."""
    fields, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",;":
            fields.append("".join(current))
            current = []
            if ch == ";":
                break
        else:
            current.append(ch)
    if current:
        fields.append("".join(current))
    if not fields:
        return None
    return _clean(fields[0]) or (_clean(fields[1]) if len(fields) > 1 else None)


def _candidates(book: Path) -> list[tuple[Path, str]]:
    name, folder = book.name, book.parent
    out = [(folder / f"~${name}", "excel"), (folder / f".~lock.{name}#", "libreoffice"), (folder / f".~{name}", "wps")]
    for cut in (1, 2):
        short = name[cut:]
        # a shortened name that is itself a workbook here owns that lock (``~$b.xlsx`` is b.xlsx's, not ab.xlsx's)
        if len(short) > 5 and not (folder / short).exists():
            out.append((folder / f"~${short}", "excel"))
            out.append((folder / f".~{short}", "wps"))
    return out


def find_office_locks(book: Path) -> list[OfficeLock]:
    """Lock files beside ``book``; an unreadable owner is None (the lock still counts)."""
    book = Path(book)
    locks, seen = [], set()
    now = time.time()
    clock = None
    for path, app in _candidates(book):
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        try:
            data = path.read_bytes()[:4096]
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if app == "libreoffice":
            owner = parse_libreoffice_owner(data.decode("utf-8", errors="replace"))
        else:
            owner = parse_mso_owner(data)
        clock = clock or desk_clock(book)
        locks.append(OfficeLock(path, app, owner, clock.time_of(mtime), now - mtime))
    return locks


def check_not_open(book: Path, *, force: bool = False, stale_after: float = STALE_AFTER) -> list[OfficeLock]:
    """Refuse (BookLocked) while an office program holds the book; ``force`` returns the locks instead.

    A stale lock is refused too: a crashed Excel leaves one behind, but so does a colleague who left
    the file open over the weekend, and only a person can tell which.
    """
    locks = find_office_locks(book)
    if not locks or force:
        return locks
    who_zh = "；".join(lock.describe("zh") for lock in locks)
    who_en = "; ".join(lock.describe("en") for lock in locks)
    names = "、".join(lock.path.name for lock in locks)
    names_en = ", ".join(lock.path.name for lock in locks)
    if all(lock.age_seconds > stale_after for lock in locks):
        hours = int(min(lock.age_seconds for lock in locks) // 3600)
        paths = "、".join(str(lock.path) for lock in locks)
        paths_en = ", ".join(str(lock.path) for lock in locks)
        raise BookLocked(
            f"{who_zh}；该锁文件已存在 {hours} 小时，看起来是过期的（对方的程序可能已崩溃）。"
            f"确认无人打开后删除 {paths} 或加 --force 重试；未写入任何内容",
            f"{who_en}; the lock file is {hours} h old and looks stale (the owner's program may have crashed). "
            f"If nobody has the file open, delete {paths_en} or retry with --force; nothing was written")
    owners = "、".join(dict.fromkeys(lock.owner for lock in locks if lock.owner)) or "对方"
    owners_en = ", ".join(dict.fromkeys(lock.owner for lock in locks if lock.owner)) or "them"
    raise BookLocked(
        f"{who_zh}；请 {owners} 保存并关闭后重试；如确认无人打开，可删除锁文件 {names} 或加 --force；未写入任何内容",
        f"{who_en}; ask {owners_en} to save and close it, then retry; if nobody has it open, delete the lock "
        f"file {names_en} or use --force; nothing was written")


def legacy_lock_files(book: Path) -> list[Path]:
    """The run lock and marker earlier sheetdesk versions left beside the workbook."""
    book = Path(book)
    return [p for p in (book.parent / f".~sheetdesk.{book.name}.lock", book.parent / f".~sheetdesk.{book.name}.owner")
            if p.is_file()]


class DeskLock:
    """One sheetdesk writer per desk at a time; others wait up to ``timeout`` seconds, then BookBusy."""

    def __init__(self, book: Path, timeout: float = 30.0) -> None:
        book = Path(book)
        self.book = book
        self.lock_path = book.parent / STATE_DIR / f"{book.name}.lock"
        self.owner_path = book.parent / STATE_DIR / f"{book.name}.owner"
        self.timeout = timeout
        self._lock = FileLock(str(self.lock_path), timeout=timeout)

    def _holder(self) -> str:
        try:
            return self.owner_path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""

    def __enter__(self) -> DeskLock:
        try:
            state_dir(self.book, create=True)
        except OSError:
            pass  # a read-only folder: the lock itself says so
        try:
            self._lock.acquire()
        except Timeout:
            holder = self._holder()
            raise BookBusy(f"另一个 sheetdesk 正在写入 {self.book.name}（{holder or '持有者未知'}），"
                           f"等待 {self.timeout:g} 秒后放弃；请稍后重试",
                           f"another sheetdesk run is writing {self.book.name} ({holder or 'holder unknown'}); "
                           f"gave up after {self.timeout:g} s, try again shortly") from None
        try:
            user = getpass.getuser()
        except Exception:  # no user name in some service accounts
            user = "?"
        clock = desk_clock(self.book)
        since = aware(clock.now(), clock.timezone).isoformat(timespec="seconds")
        marker = f"user={user} host={socket.gethostname()} pid={os.getpid()} since={since}"
        try:
            self.owner_path.write_text(marker, encoding="utf-8")
        except OSError:
            pass
        self._drop_legacy()
        return self

    def _drop_legacy(self) -> None:
        """Remove the lock files earlier versions left beside the workbook, unless one of them is
        writing right now (its marker exists)."""
        legacy = legacy_lock_files(self.book)
        if any(p.suffix == ".owner" for p in legacy):
            return
        for path in legacy:
            try:
                path.unlink()
            except OSError:  # held open on Windows: doctor names it
                pass

    def __exit__(self, *exc) -> None:
        try:
            self.owner_path.unlink(missing_ok=True)
        except OSError:
            pass
        # the (empty) lock file stays: unlinking it would let a waiter and a newcomer both hold a lock
        self._lock.release()

"""Refuse zip bombs before any reader inflates a package.

calamine (a Rust reader) and openpyxl inflate whatever a member's stream produces: a few hundred
kilobytes of crafted deflate data can expand to gigabytes of XML and take minutes and gigabytes of
memory to parse, or abort inside the Rust reader. So every member of a workbook is checked here
first: the central directory must be sane (a bounded number of members, no member overlapping
another's bytes, declared sizes within the limits), and each deflated member is inflated once into
nothing, counting bytes, stopping as soon as it is out of bounds — so a bomb costs milliseconds,
not minutes, and a lying size header is caught.

The limits are far above any real desk: a refreshed register of 50,000 tickets inflates to about
170 MB in all at a ratio of 10–17:1 (XML compresses well, but not 100:1 over tens of megabytes);
deflate's own ceiling is about 1,030:1, the ratio bombs are made with. Inflating a 50k desk here
takes about 0.2 s.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from sheetdesk.errors import BookUnreadable

#: no real workbook has this many parts (a desk has ~20; a big one with pictures, a few hundred)
MAX_MEMBERS = 20_000
#: one part, inflated
MAX_MEMBER_BYTES = 2 << 30
#: all parts together, inflated
MAX_TOTAL_BYTES = 4 << 30
#: above this many inflated bytes (a part, or all parts together) ...
RATIO_FLOOR_BYTES = 64 << 20
#: ... the inflated size may be at most this many times the stored size
MAX_RATIO = 100

_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


@dataclass
class _Bomb(Exception):
    member: str
    zh: str
    en: str


def check_package(path: Path) -> None:
    """Raise :class:`BookUnreadable` (one line, nothing read) when the package at ``path`` is a zip bomb."""
    try:
        with zipfile.ZipFile(path) as z, open(path, "rb") as raw:
            _check(z, raw)
    except _Bomb as bomb:
        raise BookUnreadable(
            f"{path.name} 不像正常的工作簿：部件 {bomb.member} {bomb.zh}（疑似“压缩炸弹”），未读取、未写入任何内容",
            f"{path.name} does not look like a real workbook: part {bomb.member} {bomb.en} (a 'zip bomb'?); "
            "nothing was read or written") from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise BookUnreadable(f"{path.name} 已损坏或被截断（{exc}）；可用 sheetdesk restore 恢复备份",
                             f"{path.name} is damaged or truncated ({exc}); sheetdesk restore can bring back a backup") from None


def _check(z: zipfile.ZipFile, raw) -> None:
    members = z.infolist()
    if len(members) > MAX_MEMBERS:
        raise _Bomb("*", f"共 {len(members):,} 个部件，超过上限 {MAX_MEMBERS:,}",
                    f"is one of {len(members):,} parts, more than the limit of {MAX_MEMBERS:,}")
    starts = sorted((m.header_offset, m.filename) for m in members)
    total_in = total_out = 0
    ends: dict[str, int] = {}
    for info in members:
        _check_declared(info)
        data_start = _data_offset(raw, info)
        ends[info.filename] = data_start + info.compress_size
        produced = _inflated_size(raw, info, data_start)
        total_in += info.compress_size
        total_out += produced
        if total_out > MAX_TOTAL_BYTES or (total_out > RATIO_FLOOR_BYTES and total_out > MAX_RATIO * max(total_in, 1)):
            raise _Bomb(info.filename, f"使全部部件解压后达 {total_out:,} 字节（压缩前 {total_in:,}）",
                        f"brings the inflated parts to {total_out:,} bytes (from {total_in:,} stored)")
    # members sharing bytes: the classic way to multiply one deflate stream into gigabytes
    for (_, name), (next_start, next_name) in zip(starts, starts[1:]):
        if ends[name] > next_start:
            raise _Bomb(next_name, f"与部件 {name} 的数据重叠", f"overlaps the data of part {name}")


def _check_declared(info: zipfile.ZipInfo) -> None:
    if info.file_size > MAX_MEMBER_BYTES:
        raise _Bomb(info.filename, f"声明解压后 {info.file_size:,} 字节，超过上限 {MAX_MEMBER_BYTES:,}",
                    f"declares {info.file_size:,} inflated bytes, more than the limit of {MAX_MEMBER_BYTES:,}")
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise _Bomb(info.filename, f"声明由 {info.compress_size:,} 字节解压为 {info.file_size:,} 字节",
                    f"declares {info.compress_size:,} stored bytes inflating to {info.file_size:,}")


def _data_offset(raw, info: zipfile.ZipInfo) -> int:
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    fields = _LOCAL_HEADER.unpack(header)
    return info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]


def _inflated_size(raw, info: zipfile.ZipInfo, data_start: int) -> int:
    """The bytes the member's stream really produces, counted without keeping them; stops past a limit."""
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size
    if info.compress_type != zipfile.ZIP_DEFLATED:
        return info.file_size  # an exotic method: the readers refuse it themselves
    limit = min(MAX_MEMBER_BYTES, max(RATIO_FLOOR_BYTES, MAX_RATIO * info.compress_size), info.file_size)
    inflater = zlib.decompressobj(-15)
    raw.seek(data_start)
    left, produced = info.compress_size, 0
    while left and not inflater.eof:
        chunk = raw.read(min(left, _CHUNK))
        if not chunk:
            break
        left -= len(chunk)
        while chunk:
            produced += len(inflater.decompress(chunk, _CHUNK))
            chunk = inflater.unconsumed_tail
            if produced > limit:
                raise _Bomb(info.filename, _lie_zh(info, produced), _lie_en(info, produced))
    return produced


def _lie_zh(info: zipfile.ZipInfo, produced: int) -> str:
    if produced > info.file_size:
        return f"实际解压出的数据超过其声明的 {info.file_size:,} 字节"
    return f"由 {info.compress_size:,} 字节解压出超过 {produced:,} 字节"


def _lie_en(info: zipfile.ZipInfo, produced: int) -> str:
    if produced > info.file_size:
        return f"inflates to more than the {info.file_size:,} bytes it declares"
    return f"inflates from {info.compress_size:,} stored bytes to more than {produced:,}"

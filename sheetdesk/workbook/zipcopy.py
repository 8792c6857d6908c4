"""Writing a package without inflating and deflating what did not change.

``zipfile`` has no public way to copy a compressed member, so a refresh that rewrites three sheets
of a 14 MB desk would otherwise decompress and recompress all of it (a second at deflate level 6).
Here the untouched members' compressed bytes are copied as they are (same CRC, same sizes: the
part is byte for byte what it was), and the new parts are deflated in threads — zlib releases the
GIL, so a multi-core machine compresses them side by side.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_LOCAL_SIGNATURE = b"PK\003\004"


def read_raw(source, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes as stored (compressed), found from its local header."""
    source.seek(info.header_offset)
    header = source.read(_LOCAL_HEADER.size)
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != _LOCAL_SIGNATURE:
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_length, extra_length = fields[-2], fields[-1]
    source.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    data = source.read(info.compress_size)
    if len(data) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.filename} is truncated")
    return data


def write_raw(target: zipfile.ZipFile, info: zipfile.ZipInfo, raw: bytes, crc: int, size: int,
              compress_type: int) -> None:
    """Add a member whose compressed bytes are already known."""
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = compress_type
    new.external_attr = info.external_attr
    new.create_system = info.create_system
    new.comment = info.comment
    new.extra = b""
    new.CRC = crc
    new.file_size = size
    new.compress_size = len(raw)
    new.flag_bits = 0x800 if not info.filename.isascii() else 0  # UTF-8 names, no data descriptor
    zip64 = size > zipfile.ZIP64_LIMIT or len(raw) > zipfile.ZIP64_LIMIT
    fp = target.fp
    new.header_offset = fp.tell()
    fp.write(new.FileHeader(zip64))
    fp.write(raw)
    target.filelist.append(new)
    target.NameToInfo[new.filename] = new
    target.start_dir = fp.tell()
    target._didModify = True


def deflate(data: bytes, level: int = 6) -> tuple[bytes, int]:
    """(raw deflate stream, CRC-32) as a zip member stores them."""
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(), zlib.crc32(data)


def write_package(source_path, target_path, new_parts: dict[str, bytes], level: int = 6) -> None:
    """``source_path`` with ``new_parts`` (part name -> bytes) replaced; every other member copied
    compressed, as it is. Member order is kept."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        packed = {name: pool.submit(deflate, data, level) for name, data in new_parts.items()}
        with zipfile.ZipFile(source_path) as zin, open(source_path, "rb") as source, \
                zipfile.ZipFile(target_path, "w") as zout:
            for item in zin.infolist():
                if item.filename in packed:
                    raw, crc = packed[item.filename].result()
                    write_raw(zout, item, raw, crc, len(new_parts[item.filename]), zipfile.ZIP_DEFLATED)
                else:
                    write_raw(zout, item, read_raw(source, item), item.CRC, item.file_size, item.compress_type)

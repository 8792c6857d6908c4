"""Writing a package without inflating and deflating what did not change.

``zipfile`` has no public way to copy a compressed member, so a refresh that rewrites three sheets
of a 14 MB desk would otherwise decompress and recompress all of it (a second at deflate level 6).
Here the untouched members' compressed bytes are copied as they are (same CRC, same sizes: the
part is byte for byte what it was), and the new parts are deflated in threads — zlib releases the
GIL, so a multi-core machine compresses them side by side.
"""

from __future__ import annotations

import queue
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_LOCAL_SIGNATURE = b"PK\003\004"


def _seek_data(source, info: zipfile.ZipInfo) -> None:
    source.seek(info.header_offset)
    fields = _LOCAL_HEADER.unpack(source.read(_LOCAL_HEADER.size))
    if fields[0] != _LOCAL_SIGNATURE:
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_length, extra_length = fields[-2], fields[-1]
    source.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)


def same_raw(a, a_info: zipfile.ZipInfo, b, b_info: zipfile.ZipInfo, chunk: int = 1 << 20) -> bool:
    """Two members store the same compressed bytes (compared a megabyte at a time: a picture or a
    pivot cache is never held twice)."""
    if a_info.compress_size != b_info.compress_size:
        return False
    _seek_data(a, a_info)
    a_at = a.tell()
    _seek_data(b, b_info)
    b_at = b.tell()
    left = a_info.compress_size
    while left:
        n = min(chunk, left)
        a.seek(a_at)
        b.seek(b_at)
        if a.read(n) != b.read(n):
            return False
        a_at, b_at, left = a_at + n, b_at + n, left - n
    return True


def write_raw(target: zipfile.ZipFile, info: zipfile.ZipInfo, raw: bytes | Iterable[bytes], crc: int, size: int,
              compress_type: int, compress_size: int | None = None) -> None:
    """Add a member whose compressed bytes are already known: one bytes object, or pieces written
    one after the other, never joined (then ``compress_size``, their total, must be given)."""
    if isinstance(raw, (bytes, bytearray)):
        raw, compress_size = (raw,), len(raw)
    if compress_size is None:
        raise TypeError("write_raw: compress_size is needed with pieces")
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = compress_type
    new.external_attr = info.external_attr
    new.create_system = info.create_system
    new.comment = info.comment
    new.extra = b""
    new.CRC = crc
    new.file_size = size
    new.compress_size = compress_size
    new.flag_bits = 0x800 if not info.filename.isascii() else 0  # UTF-8 names, no data descriptor
    zip64 = size > zipfile.ZIP64_LIMIT or compress_size > zipfile.ZIP64_LIMIT
    fp = target.fp
    new.header_offset = fp.tell()
    fp.write(new.FileHeader(zip64))
    written = 0
    for piece in raw:
        fp.write(piece)
        written += len(piece)
    if written != compress_size:
        raise zipfile.BadZipFile(f"{info.filename}: {written} bytes written, {compress_size} expected")
    target.filelist.append(new)
    target.NameToInfo[new.filename] = new
    target.start_dir = fp.tell()
    target._didModify = True


def raw_chunks(source, info: zipfile.ZipInfo, chunk: int = 1 << 20) -> Iterator[bytes]:
    """The member's stored bytes a megabyte at a time (a picture or a pivot cache is copied without
    being held whole)."""
    _seek_data(source, info)
    left = info.compress_size
    while left:
        data = source.read(min(chunk, left))
        if not data:
            raise zipfile.BadZipFile(f"{info.filename} is truncated")
        left -= len(data)
        yield data


def _packed(data: bytes | Packed, level: int) -> Packed:
    if isinstance(data, Packed):
        return data
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Packed([packer.compress(data), packer.flush()], zlib.crc32(data), len(data))


@dataclass(frozen=True)
class Packed:
    """A part already deflated: what a zip member stores (in pieces, as the compressor gave them),
    and the size and CRC of its content."""
    pieces: list[bytes]
    crc: int
    size: int

    @property
    def compress_size(self) -> int:
        return sum(len(piece) for piece in self.pieces)


_BATCH = 1 << 20


def pack(chunks: Iterable[bytes | memoryview], level: int = 6) -> Packed:
    """Deflate a part while it is being produced: a worker thread compresses each piece (zlib
    releases the GIL) as the caller makes the next, and only the compressed bytes are kept. An error
    on either side stops both and is raised here: a part is packed whole or not at all."""
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    pieces: list[bytes] = []
    crc = size = 0
    failure: list[BaseException] = []
    todo: queue.Queue = queue.Queue(maxsize=4)

    def work() -> None:
        nonlocal crc
        while (chunk := todo.get()) is not None:
            if failure:
                continue  # keep taking pieces so the producer never blocks; they are dropped
            try:
                pieces.append(packer.compress(chunk))
                crc = zlib.crc32(chunk, crc)
            except BaseException as exc:  # MemoryError included: reported to the caller below
                failure.append(exc)
        if not failure:
            try:
                pieces.append(packer.flush())
            except BaseException as exc:
                failure.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        batch: list = []
        batched = 0
        for chunk in chunks:  # small pieces (spliced rows) are handed over a megabyte at a time
            if failure:
                break
            size += len(chunk)
            batch.append(chunk)
            batched += len(chunk)
            if batched >= _BATCH:
                todo.put(batch[0] if len(batch) == 1 else b"".join(batch))
                batch, batched = [], 0
        if batch and not failure:
            todo.put(b"".join(batch))
    finally:
        todo.put(None)
        worker.join()
    if failure:
        raise failure[0]
    return Packed(pieces, crc, size)


def write_package(source_path, target_path, new_parts: dict[str, bytes | Packed], level: int = 6) -> None:
    """``source_path`` with ``new_parts`` (part name -> content, or content already packed)
    replaced or, when the source has no such part, added at the end; every other member copied
    compressed, as it is. Member order is kept."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        packed = {name: pool.submit(_packed, data, level) for name, data in new_parts.items()}
        with zipfile.ZipFile(source_path) as zin, open(source_path, "rb") as source, \
                zipfile.ZipFile(target_path, "w") as zout:
            for item in zin.infolist():
                if item.filename in packed:
                    done = packed[item.filename].result()
                    write_raw(zout, item, done.pieces, done.crc, done.size, zipfile.ZIP_DEFLATED, done.compress_size)
                else:
                    write_raw(zout, item, raw_chunks(source, item), item.CRC, item.file_size, item.compress_type,
                              item.compress_size)
            known = set(zin.namelist())
            stamp = zin.infolist()[0].date_time if zin.infolist() else (1980, 1, 1, 0, 0, 0)
            for name in new_parts:  # parts the source does not have (a generated sheet added): after the others
                if name not in known:
                    done = packed[name].result()
                    info = zipfile.ZipInfo(name, date_time=stamp)
                    info.external_attr = 0o600 << 16
                    write_raw(zout, info, done.pieces, done.crc, done.size, zipfile.ZIP_DEFLATED, done.compress_size)

"""The patch engine's post-condition: the new package differs from the desk only where it wrote.

Parts it did not touch are compared as stored bytes; in the sheets it spliced, everything outside
the written cells is compared byte for byte, which is stricter than comparing values and costs a
fraction of re-reading the sheet. A sheet whose rows cannot be located that way is re-read.
"""

from __future__ import annotations

import functools
import re
import xml.parsers.expat
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from sheetdesk.errors import WriteFailed
from sheetdesk.workbook.engines.patch.cells import ATTR_R, CELL_ATTRS, column_of, letters_of
from sheetdesk.workbook.engines.patch.splice import DIMENSION, SPANS, locate_rows, sheet_body
from sheetdesk.workbook.engines.patch.unsupported import PatchUnsupported
from sheetdesk.workbook.fastread import FastWorkbook
from sheetdesk.workbook.opc import sheet_parts
from sheetdesk.workbook.reader import Book
from sheetdesk.workbook.zipcopy import Packed, same_raw

if TYPE_CHECKING:  # the plan imports this module to check what it splices
    from sheetdesk.workbook.engines.patch.plan import Patch

def verify_patch(tmp: Path, book: Book, written: set[tuple[str, int, int]], generated: set[str],
                 patch: Patch) -> None:
    """Check the new package before it replaces the desk.

    Parts the patch did not touch must be stored exactly as before (same CRC, same compressed
    bytes). Every part it wrote must inflate whole to the CRC of what was planned (checked in
    worker threads while the rest runs). In the sheets it patched, every byte outside the spliced
    rows must be as it was, and in those rows every cell sheetdesk did not write — and the row's
    own attributes — byte for byte as well; the spliced rows must parse as XML. That is stricter
    than comparing values and costs a fraction of re-reading the sheet. A sheet whose rows cannot
    be found that way (not stored in order) is re-read with calamine and compared cell by cell.
    """
    def failed(zh: str, en: str) -> WriteFailed:
        return WriteFailed(f"校验失败：{zh}，原文件未改动", f"verification failed: {en}; original untouched")

    patched = patch.parts
    reread = []
    written_in: dict[str, set[tuple[int, int]]] = {}
    for name, r, c in written:
        written_in.setdefault(name, set()).add((r, c))
    with zipfile.ZipFile(book.path) as old_zip, zipfile.ZipFile(tmp) as new_zip, \
            ThreadPoolExecutor(max_workers=2) as inflating:
        whole = {part: inflating.submit(_inflates_whole, tmp, part) for part in patched}
        parts = sheet_parts(old_zip)
        new_names = set(sheet_parts(new_zip))
        new_infos = {i.filename: i for i in new_zip.infolist()}

        def holds_planned(part: str) -> bool:  # the saved member's CRC is that of what was planned
            planned = patched[part]
            crc = planned.crc if isinstance(planned, Packed) else zlib.crc32(planned)
            return part in new_infos and new_infos[part].CRC == crc
        with open(book.path, "rb") as old_fh, open(tmp, "rb") as new_fh:
            for item in old_zip.infolist():
                if item.filename in patched:
                    continue
                # copied as stored: the compressed bytes themselves must be the original's
                new = new_infos.get(item.filename)
                if new is None or new.CRC != item.CRC or not same_raw(old_fh, item, new_fh, new):
                    raise failed(f"部件 {item.filename} 本应原样保留却不一致",
                                 f"part {item.filename} was not kept byte for byte")
        for part in patched:  # what sheetdesk wrote: whole, and exactly what was planned
            if part not in patch.sequences and part not in patch.streamed and not holds_planned(part):
                raise failed(f"部件 {part} 与计划写入的内容不一致", f"part {part} is not what was written")
        for name in book.wb.sheetnames:
            if name in generated:
                continue
            if name not in new_names:
                raise failed(f"新文件缺少工作表“{name}”", f"sheet '{name}' missing from the new file")
            part = parts.get(name)
            if part not in patched:
                continue  # byte-identical, checked above
            rows = patch.rows.get(part)
            if part in patch.streamed and holds_planned(part):  # checked block by block as it was spliced
                problem = patch.streamed[part]
            else:  # spliced whole (rows out of order), or the file does not hold the plan: compare with the original
                old = patch.originals.get(part) or old_zip.read(part)
                if part in patch.sequences and holds_planned(part):
                    saved = patch.sequences[part]  # the file holds exactly what was planned (as for the parts above)
                else:  # look at what it holds: a failure, found precisely
                    saved = _as_sequence(new_zip.read(part), sorted(rows or ()))
                problem = None if rows is None or saved is None else spliced_only(
                    old, saved, sorted(rows), written_in.get(name, set()))
                if problem == () and part in patch.streamed:
                    problem = ("与计划写入的内容不一致", "is not what was written")
            if problem is None:
                reread.append(name)
            elif problem:
                raise failed(f"工作表“{name}”{problem[0]}", f"sheet '{name}' {problem[1]}")
        for part, done in whole.items():
            if not done.result():
                raise failed(f"部件 {part} 写入后已损坏", f"part {part} is damaged in the saved copy")
    if reread:
        _compare_reread(tmp, book, reread, written, failed)


def _inflates_whole(path: Path, part: str) -> bool:
    """The member decompresses to the end and matches its CRC (read through, nothing kept)."""
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as fh:
            while fh.read(1 << 16):
                pass
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError):
        return False
    return True


def _as_sequence(new: bytes, rows: list[int]) -> list | None:
    """A saved sheet cut as :func:`patched_sequence` builds one, or None when its rows cannot be
    located in order."""
    try:
        open_end, end = sheet_body(new)
        located = locate_rows(new, (open_end, end), rows)
    except (PatchUnsupported, ValueError):
        return None
    if located is None:
        return None
    view, out, pos = memoryview(new), [new[:open_end]], open_end
    for _, start, stop, _ in located:
        out += [view[pos:start], view[start:stop]]
        pos = stop
    return out + [view[pos:end], view[end:]]


def spliced_only(old: bytes, new: list, rows: list[int], written: set[tuple[int, int]]
                  ) -> tuple[str, str] | tuple[()] | None:
    """() when the new sheet (a sequence as :func:`patched_sequence` gives it) differs from ``old``
    only in the written cells of ``rows``; (zh, en) saying where it differs otherwise; None when
    the old rows cannot be located in order."""
    try:
        open_end, end = sheet_body(old)
        old_rows = locate_rows(old, (open_end, end), rows, missing_ok=True)  # appended rows did not exist
    except (PatchUnsupported, ValueError):
        return None
    if old_rows is None:
        return None
    if len(new) != 2 * len(rows) + 3:
        return ("改写后的行数与计划不符", "the rewritten rows are not the ones planned")
    if DIMENSION.sub(b"", old[:open_end]) != DIMENSION.sub(b"", bytes(new[0])):
        return ("的表头部分在保存后不一致", "changed before its first row")
    if memoryview(old)[end:] != new[-1]:
        return ("的表尾部分在保存后不一致", "changed after its last row")
    lists: dict[int, list[bytes]] = {}
    for r, c in written:
        lists.setdefault(r, []).append(letters_of(c))
    written_letters = {r: tuple(sorted(letters)) for r, letters in lists.items()}
    old_view, pos = memoryview(old), open_end
    for i, (r, o_start, o_end, o_head) in enumerate(old_rows + [(0, end, 0, b"")]):
        gap = new[1 + 2 * i]
        if old_view[pos:o_start] != gap:
            where = _row_before(bytes(gap), _first_difference(old[pos:o_start], bytes(gap)))
            return (f"第{where}行在保存后不一致（该行本不应改动）", f"row {where} changed although it was not edited")
        if not r:
            break
        new_row = bytes(new[2 + 2 * i])
        if not new_row.startswith(b'<row r="%d"' % r):
            return (f"第{r}行没有按计划改写", f"row {r} was not rewritten as planned")
        n_head = new_row[:new_row.index(b">") + 1]
        if o_head and SPANS.sub(b"", o_head).replace(b"/>", b">") != SPANS.sub(b"", n_head):
            return (f"第{r}行的行属性在保存后不一致", f"row {r}'s attributes changed")
        old_row = old[o_start:o_end]
        letters = written_letters.get(r, ())
        if not o_head:  # a row appended: every cell in it was written by sheetdesk
            unwritten = [c for c in _cells_by_column(new_row, len(n_head)) if (r, c) not in written]
            if unwritten:
                return (f"第{r}行第{unwritten[0]}列多出了值", f"row {r} column {unwritten[0]} holds a value nobody wrote")
        elif _without_cells(old_row, letters, r) != _without_cells(new_row, letters, r):
            before, after = _cells_by_column(old_row, len(o_head)), _cells_by_column(new_row, len(n_head))
            for c in sorted(set(before) | set(after)):
                if (r, c) not in written and before.get(c) != after.get(c):
                    return (f"第{r}行第{c}列的值在保存后不一致", f"row {r} column {c} changed in the saved copy")
        pos = o_end
    parser = xml.parsers.expat.ParserCreate()
    try:  # the spliced rows are well-formed XML (everything else is the old bytes); fed row by row
        parser.Parse(b"<rows>", False)
        for row in new[2:-2:2]:
            parser.Parse(bytes(row), False)
        parser.Parse(b"</rows>", True)
    except xml.parsers.expat.ExpatError as exc:
        return (f"改写的行不是合法的 XML（{exc}）", f"rewritten rows are not well-formed XML ({exc})")
    return ()


def _first_difference(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # bisect on prefix equality: C comparisons, no Python loop over the bytes
        mid = (lo + hi) // 2
        if a[lo:mid + 1] == b[lo:mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _row_before(xml: bytes, offset: int) -> str:
    start = xml.rfind(b"<row ", 0, offset + 1)
    m = ATTR_R.search(xml, start, xml.find(b">", start)) if start >= 0 else None
    return m.group(2).decode() if m else "?"


def _without_cells(row_xml: bytes, letters: tuple[bytes, ...], r: int) -> bytes:
    """The row's cells without those in columns ``letters`` (the row tag too: compared on its own)."""
    cells = row_xml[row_xml.index(b">") + 1:]
    return _cells_in_columns(letters).sub(b"", cells) if letters else cells


@functools.lru_cache(maxsize=256)
def _cells_in_columns(letters: tuple[bytes, ...]) -> re.Pattern:
    return re.compile(rb'<c r="(?:' + b"|".join(letters) + rb')\d+"[^>]*?(?:/>|>.*?</c>)', re.S)


def _cells_by_column(row_xml: bytes, head_length: int) -> dict[int, bytes]:
    out = {}
    for m in CELL_ATTRS.finditer(row_xml, head_length):
        ref = ATTR_R.search(m.group(1))
        out[column_of(ref.group(1)) if ref and ref.group(1) else -m.start()] = m.group(0)
    return out


def _compare_reread(tmp: Path, book: Book, names: list[str], written: set[tuple[str, int, int]], failed) -> None:
    """Re-read ``names`` from the new file with calamine: every cell not written holds what it held."""
    new = FastWorkbook(tmp)
    try:
        for name in names:
            before = book.wb[name]._rows
            after = new[name]._rows
            for r, row in enumerate(before, 1):
                other = after[r - 1] if r - 1 < len(after) else ()
                if row == other:
                    continue
                for c, value in enumerate(row, 1):
                    if (name, r, c) in written:
                        continue
                    theirs = other[c - 1] if c - 1 < len(other) else ""
                    if value != theirs and not (value in (None, "") and theirs in (None, "")):
                        raise failed(f"工作表“{name}”第{r}行第{c}列的值在保存后不一致",
                                     f"sheet '{name}' row {r} column {c} changed in the saved copy")
            for r in range(len(before) + 1, len(after) + 1):  # rows below the old end: only written cells
                for c, value in enumerate(after[r - 1], 1):
                    if value not in (None, "") and (name, r, c) not in written:
                        raise failed(f"工作表“{name}”第{r}行第{c}列多出了值", f"sheet '{name}' row {r} column {c} "
                                     "holds a value nobody wrote")
    finally:
        new.close()

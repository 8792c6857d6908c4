"""Read-only desks through python-calamine: ~25× faster than an openpyxl load on a large register.

``validate``, ``summary``, ``report`` and ``import``'s first pass never save, so they need values,
not styles. This adapter gives the reader the small part of openpyxl's interface it uses
(``sheetnames``, ``wb[name].iter_rows(..., values_only=True)``, ``epoch``), filled by calamine.
Calamine's quirks are smoothed here: whole numbers arrive as floats (the reader prints them without
``.0``), error cells as ``''`` (treated as empty), and rows are addressed from A1 so messages keep
Excel's row numbers.
"""

from __future__ import annotations

import contextlib
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from xml.sax.saxutils import unescape

from sheetdesk.errors import BookUnreadable
from sheetdesk.workbook.cells import CELL_REF, EPOCH_1900, EPOCH_1904, column_index
from sheetdesk.workbook.opc import sheet_parts


class FastReadUnsupported(Exception):
    """calamine cannot read this file faithfully (it panics on some out-of-range dates): use openpyxl."""


class FastSheet:
    def __init__(self, title: str, rows: list[list[object]], state: str,
                 merged: list[tuple[int, int, int, int]] | None = None) -> None:
        self.title = title
        self._rows = rows
        self.sheet_state = state
        #: merged ranges as (first row, first column, last row, last column), 1-based
        self.merged = merged or []

    @property
    def max_row(self) -> int:
        return len(self._rows)

    @property
    def max_column(self) -> int:
        return max((len(r) for r in self._rows), default=0)

    def iter_rows(self, min_row: int = 1, max_row: int | None = None, min_col: int = 1, max_col: int | None = None,
                  values_only: bool = True):
        last = len(self._rows) if max_row is None else min(max_row, len(self._rows))
        for r in range(min_row - 1, last):
            row = self._rows[r]
            stop = len(row) if max_col is None else max_col
            values = [None if v == "" else v for v in row[min_col - 1:stop]]
            if max_col is not None and len(values) < max_col - min_col + 1:
                values += [None] * (max_col - min_col + 1 - len(values))
            yield tuple(values)


class FastWorkbook:
    """Just enough of an openpyxl Workbook for reading records."""

    def __init__(self, path: Path, *, formulas_of: frozenset[str] = frozenset()) -> None:
        self._book = book = _open(path)
        self.sheetnames: list[str] = list(book.sheet_names)
        self._states = {m.name: ("visible" if str(m.visible).endswith("Visible") else "hidden")
                        for m in book.sheets_metadata}
        self._cache: dict[str, FastSheet] = {}
        self._path = path
        self._part_map: dict[str, str] | None = None
        #: sheets whose formula cells are noted while their XML is at hand (the patch engine's register)
        self._formulas_of = formulas_of
        self._formulas: dict[str, list[tuple[int, int]]] = {}
        self._texts: dict[str, str] = {}
        self.epoch = EPOCH_1904 if _is_1904(path) else EPOCH_1900

    def __getitem__(self, name: str) -> FastSheet:
        if name not in self._cache:
            try:
                with quiet_stderr():
                    if self._book is None:  # released after load_all: a lazy sheet opens it again
                        self._book = _open(self._path)
                    sheet = self._book.get_sheet_by_name(name)
                    rows = sheet.to_python(skip_empty_area=False)
                    merged = [(r1 + 1, c1 + 1, r2 + 1, c2 + 1) for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or ()]
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # pyo3's PanicException is a BaseException
                raise FastReadUnsupported(f"{name}: {exc}") from None
            self._restore_errors(name, rows)
            _share_texts(rows, self._texts)
            self._cache[name] = FastSheet(name, rows, self._states.get(name, "visible"), merged)
        return self._cache[name]

    def _restore_errors(self, name: str, rows: list[list[object]]) -> None:
        """calamine returns '' for error cells (#N/A, #VALUE!) and for formulas nobody calculated yet;
        put the error text / the formula back, so they are values (reported, never overwritten as if
        they were blank)."""
        part = self._parts().get(name)
        if part is None:
            return
        found: list[tuple[bytes, str]] = []
        formulas: list[tuple[int, int]] = []
        with zipfile.ZipFile(self._path) as z:
            for body in sheet_data_blocks(z, part):  # a large register's XML is never held whole
                if name in self._formulas_of:
                    formulas += _formula_cells(body)
                if b't="e"' not in body and b"<f" not in body:
                    continue
                found += [(m.group(1), m.group(2).decode("utf-8", "replace")) for m in _ERROR_CELL.finditer(body)]
                found += [(m.group(1), "=" + unescape(m.group(2).decode("utf-8", "replace")))
                          for m in _UNCACHED_FORMULA.finditer(body)]
        if name in self._formulas_of:
            self._formulas[name] = formulas
        for head, value in found:
            ref = re.search(rb'\br="([A-Z]+)(\d+)"', head)
            if not ref:
                continue
            r, c = int(ref.group(2)), column_index(ref.group(1).decode())
            while len(rows) < r:
                rows.append([])
            row = rows[r - 1]
            if len(row) < c:
                row.extend([""] * (c - len(row)))
            row[c - 1] = value

    def _parts(self) -> dict[str, str]:
        if self._part_map is None:
            try:
                with zipfile.ZipFile(self._path) as z:
                    self._part_map = sheet_parts(z)
            except (KeyError, OSError, zipfile.BadZipFile):
                self._part_map = {}
        return self._part_map

    def formula_cells(self, name: str) -> list[tuple[int, int]]:
        """(row, column) of the cells holding formulas (for the sheets named in ``formulas_of``)."""
        return self._formulas.get(name, [])

    def load_all(self, *, lazy: set[str] = frozenset()) -> None:
        """Read every sheet now (so a sheet calamine cannot read is known before any work), except
        ``lazy`` ones, read on first use."""
        for name in self.sheetnames:
            if name not in lazy:
                self[name]
        self.close()  # calamine's own copy (shared strings, the open file) is not needed any more

    def forget(self, names: Iterable[str] | None = None) -> None:
        """Drop the grids of ``names`` (all, by default) once their records are made; a sheet asked
        for again is read from the file again."""
        for name in list(self._cache) if names is None else names:
            self._cache.pop(name, None)
        if names is None:
            self._texts.clear()

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
            self._book = None


def _open(path: Path):
    from python_calamine import CalamineError, CalamineWorkbook  # deferred: a native reader, loaded on first read

    try:
        return CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise BookUnreadable(f"无法读取 {path.name}：{exc}", f"cannot read {path.name}: {exc}") from exc


def _formula_cells(body: bytes) -> list[tuple[int, int]]:
    """(row, column) of the cells holding formulas in a stretch of whole rows of ``<sheetData>``."""
    found, pos = [], body.find(b"<f")
    while pos >= 0:
        m = CELL_REF.match(body, body.rfind(b'<c r="', 0, pos))
        if m:
            found.append((int(m.group(2)), column_index(m.group(1).decode())))
        pos = body.find(b"<f", pos + 2)
    return found


#: how much of a sheet's XML is inflated at a time when it is only scanned
BLOCK = 1 << 20


def sheet_xml_blocks(z: zipfile.ZipFile, part: str) -> Iterator[tuple[str, bytes]]:
    """The part's XML inflated a block at a time: ("head", everything up to and including the
    ``<sheetData ...>`` tag), then ("rows", ...) blocks cut before a ``<row`` — whole rows, so no row
    or cell is split —, then ("tail", from ``</sheetData>`` to the end). A part without
    ``<sheetData`` is all head; an empty ``<sheetData/>`` has a head and a tail and no rows; rows
    not closed by ``</sheetData>`` come without a tail."""
    with z.open(part) as fh:
        def tail(first: bytes) -> Iterator[tuple[str, bytes]]:
            yield "tail", first
            while more := fh.read(BLOCK):
                yield "tail", more

        buf = b""
        while True:
            block = fh.read(BLOCK)
            buf += block
            start = buf.find(b"<sheetData")
            open_end = buf.find(b">", start) + 1 if start >= 0 else 0
            if open_end:
                break
            if not block:
                yield "head", buf
                return
        head, buf, eof = buf[:open_end], buf[open_end:], False
        yield "head", head
        if head.endswith(b"/>"):  # <sheetData/>: no rows
            yield from tail(buf)
            return
        while True:
            end = buf.find(b"</sheetData>")
            if end >= 0 or eof:
                if end > 0 or (eof and buf):
                    yield "rows", buf[:end] if end >= 0 else buf
                if end >= 0:
                    yield from tail(buf[end:])
                return
            cut = buf.rfind(b"<row")
            if cut > 0:
                yield "rows", buf[:cut]
                buf = buf[cut:]
            block = fh.read(BLOCK)
            eof = not block
            buf += block


def sheet_data_blocks(z: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """The content of the part's ``<sheetData>``, a block of whole rows at a time (see
    :func:`sheet_xml_blocks`)."""
    for kind, data in sheet_xml_blocks(z, part):
        if kind == "tail":
            return
        if kind == "rows":
            yield data


def _share_texts(rows: list[list[object]], texts: dict[str, str]) -> None:
    """One object per distinct text: calamine makes a new string for every cell, and a register
    repeats its channels, tiers, categories, owners and states tens of thousands of times."""
    share = texts.setdefault
    for row in rows:
        row[:] = [share(v, v) if v.__class__ is str else v for v in row]


_ERROR_CELL = re.compile(rb'(<c\b[^>]*\bt="e"[^>]*>)(?:<f\b[^>]*?(?:/>|>.*?</f>))?<v>([^<]*)</v>', re.S)


_UNCACHED_FORMULA = re.compile(rb'(<c\b[^>]*>)<f\b[^>]*>([^<]*)</f>(?:<v\s*/>)?</c>')


@contextlib.contextmanager
def quiet_stderr():
    """A Rust panic inside calamine prints its backtrace straight to fd 2; the user must not see it
    (we fall back to openpyxl instead)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _is_1904(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            head = z.read("xl/workbook.xml")[:4000]
    except (KeyError, OSError, zipfile.BadZipFile):
        return False
    return re.search(rb'date1904="(1|true)"', head) is not None

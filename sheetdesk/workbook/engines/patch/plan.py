"""Planning a patch: which cells change, sheetdesk's own sheets, and splicing the edits in.

:func:`plan_patch` decides every edit while the rules' objects exist; :meth:`Patch.splice` streams
the edited sheets and splices the edits in after they are gone, checking each block against the
block it came from; :meth:`Patch.save` writes the package, copying every other part as it is.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import zipfile
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sheetdesk.workbook.engines.patch.verify as verify  # as a module: tests replace its check
from sheetdesk.schema import COUNTER, SHEETS_BY_KEY
from sheetdesk.workbook import counter as counter_sheet
from sheetdesk.workbook.edits import KEEP, NUMBER_FORMATS, CellWrite, Change, GeneratedSheet, may_refill, same_value
from sheetdesk.workbook.engines.patch.cells import ATTR_R, ATTR_S, Edit, column_of, letters_of
from sheetdesk.workbook.engines.patch.generated import (
    counter_xml,
    generated_chunks,
    same_values_or_unreadable,
    still_ours,
    with_print_titles,
    written_by_us,
)
from sheetdesk.workbook.engines.patch.splice import (
    DIMENSION,
    NOT_R_FIRST,
    ROW_HEAD,
    NotStreamable,
    ascending_rows,
    grown_dimension,
    locate_rows,
    patched_sequence,
    styles_streamed,
)
from sheetdesk.workbook.engines.patch.styles import Styles
from sheetdesk.workbook.engines.patch.unsupported import PatchUnsupported
from sheetdesk.workbook.fastread import sheet_data_blocks, sheet_xml_blocks
from sheetdesk.workbook.marks import marked_sheets, with_marks
from sheetdesk.workbook.opc import UnexpectedPackage, add_worksheet, attr, comment_drawing, sheet_parts
from sheetdesk.workbook.reader import Book
from sheetdesk.workbook.zipcopy import Packed, pack, write_package


class StreamedSplice:
    """The new sheet as :func:`~sheetdesk.workbook.engines.patch.splice.patched_sequence` would give
    it, made while the old one is inflated a block of whole rows at a time
    (:func:`~sheetdesk.workbook.fastread.sheet_xml_blocks`): the register's XML is never held whole.

    Iterate it once. Each block's spliced rows are checked against the block they came from as
    they are made (:func:`~sheetdesk.workbook.engines.patch.verify.spliced_only`); afterwards
    ``problem`` holds the first problem found — () for none, (zh, en) saying where, None when a
    block's rows could not be located that way — and ``changes`` the changes made. Iterating raises
    NotStreamable, before any edit is decided, when the rows are not in order."""

    def __init__(self, z: zipfile.ZipFile, part: str, edits: dict[int, dict[int, Edit]], styles: Styles,
                 date1904: bool) -> None:
        self.z, self.part, self.edits, self.styles, self.date1904 = z, part, edits, styles, date1904
        self.changes: list[Change] = []
        self.problem: tuple[str, str] | tuple[()] | None = ()

    def __iter__(self) -> Iterator[bytes | memoryview]:
        edits = self.edits
        rows = sorted(edits)
        last, at, ended = 0, 0, False
        for kind, data in sheet_xml_blocks(self.z, self.part):
            if kind == "head":
                if b"<sheetData" not in data:
                    raise PatchUnsupported("no sheetData")
                if data.endswith(b"/>"):
                    raise PatchUnsupported("empty sheetData")
                grown = grown_dimension(data, rows[-1], max(c for row in edits.values() for c in row))
                if DIMENSION.sub(b"", data) != DIMENSION.sub(b"", grown):
                    self.problem = ("的表头部分在保存后不一致", "changed before its first row")
                yield grown
            elif kind == "rows":
                last = ascending_rows(data, (0, len(data)), after=last)
                if last is None:
                    raise NotStreamable(self.part)
                stop = bisect.bisect_right(rows, last, at)
                if stop > at:
                    yield from self._spliced_block(data, {r: edits[r] for r in rows[at:stop]})
                    at = stop
                else:
                    yield data
            else:  # the tail; rows below the last one (appended by add or log) go just before it
                if at < len(rows):
                    yield from self._spliced_block(b"", {r: edits[r] for r in rows[at:]})
                    at = len(rows)
                ended = True
                yield data
        if not ended:
            raise PatchUnsupported("no </sheetData>")

    def _spliced_block(self, body: bytes, edits: dict[int, dict[int, Edit]]) -> list:
        """One block of whole rows with its edits spliced in, checked against the block itself."""
        xml = b"<sheetData>" + body + b"</sheetData>"
        sequence, found = patched_sequence(xml, edits, self.styles, self.date1904)
        columns = {(r, e.change_col): e.col for r, row in edits.items() for e in row.values()}
        written = {(c.row, columns[(c.row, c.column)]) for c in found if (c.row, c.column) in columns}
        problem = verify.spliced_only(xml, sequence, sorted(edits), written)
        if self.problem == () and problem != ():
            self.problem = problem
        self.changes += found
        return sequence[1:-1]


@dataclass
class Patch:
    """Everything one refresh writes. Planned in two steps: :func:`plan_patch` decides the edits
    and builds sheetdesk's own sheets while the rules' objects exist; :meth:`splice` then reads the
    edited sheets' XML and splices the edits in — after the caller has let the rules' objects go,
    so the register's XML and the per-ticket picture are never in memory together."""
    source: Path
    parts: dict[str, bytes | Packed]   # part name -> new content (everything else is copied)
    changes: list[Change]
    #: part name -> the rows spliced into it (every other byte of the part is as it was)
    rows: dict[str, set[int]] = field(default_factory=dict)
    #: part name -> its bytes before (for verification, so the large register is not inflated again)
    originals: dict[str, bytes] = field(default_factory=dict)
    #: part name -> the spliced sheet as :func:`patched_sequence` gives it
    sequences: dict[str, list] = field(default_factory=dict)
    styles: Styles | None = None
    date1904: bool = False
    #: part name -> row -> column -> edit, until :meth:`splice`
    pending: dict[str, dict[int, dict[int, Edit]]] | None = None
    #: parts spliced as they streamed (their XML was never held whole) -> what checking them found,
    #: block by block as they were spliced: () when only sheetdesk's cells changed, (zh, en) saying
    #: where something else did, None when rows could not be located (compare by re-reading)
    streamed: dict[str, tuple[str, str] | tuple[()] | None] = field(default_factory=dict)

    def splice(self, *, pack_parts: bool = True) -> None:
        """Splice the planned edits into their sheets (the changes are known after this); with
        ``pack_parts`` the new sheets are deflated, ready to save. Raises PatchUnsupported when a
        sheet's rows cannot be spliced."""
        if self.pending is None:
            return
        spliced: list[Change] = []
        with zipfile.ZipFile(self.source) as z:
            for part, edits in self.pending.items():
                self.rows[part] = set(edits)
                stream = StreamedSplice(z, part, edits, self.styles, self.date1904)
                try:
                    if pack_parts:  # inflated, spliced, checked and deflated a block at a time
                        self.parts[part] = pack(stream)
                    else:
                        for _ in stream:
                            pass
                    self.streamed[part] = stream.problem
                    found = stream.changes
                except NotStreamable:  # rows not spelled or stored in order: splice the whole sheet
                    self.originals[part] = xml = z.read(part)
                    self.sequences[part], found = patched_sequence(xml, edits, self.styles, self.date1904)
                    if pack_parts:  # never joined: a register's XML is tens of megabytes
                        self.parts[part] = pack(self.sequences[part])
                spliced += found
        self.changes[:0] = spliced
        if self.styles is not None and self.styles.changed and self.parts:
            self.parts["xl/styles.xml"] = self.styles.to_xml()
        self.pending = None

    def save(self, target: Path) -> None:
        self.splice()
        write_package(self.source, target, self.parts)  # other parts: their compressed bytes, as they are


class _SheetEdits:
    """Decides write by write which cells change a value or a fill. A steady-state refresh touches
    few cells; deciding as the writes arrive, before any other object is built, keeps a 50k-row
    register cheap, and the writes themselves are never held as a list."""

    def __init__(self, sheet_key: str, table, styles: Styles, scan, edits: dict[int, dict[int, Edit]],
                 appended: dict[int, list[object]] | None = None) -> None:
        # a cell's current value comes from the table's records (the grid calamine read is let go
        # once they are made); a row that is not a record holds nothing in the columns sheetdesk
        # writes, and a row being appended holds what the file has there (``appended``: its cells)
        self.sheet_key, self.columns, self.records = sheet_key, table.columns, table.rows  # in row order
        self.numbers = array("l", (r.row for r in table.rows))  # found by bisection: no dict of 100k rows
        self.appended = appended or {}
        self.rows = max(table.header_row, self.numbers[-1] if self.numbers else 0)
        self.styles, self.scan, self.edits = styles, scan, edits
        schema = SHEETS_BY_KEY[sheet_key]
        self.formats = {c.key: NUMBER_FORMATS[c.kind] for c in schema.columns if c.kind in ("datetime", "date")}
        self.owned = {table.columns[c.key] for c in schema.columns if c.owned and c.key in table.columns}
        self.fill_keys: dict[int, str | None] = {}
        self.styles_at: dict[int, array] = {}  # scanned on the first fill to compare
        self.scanned: set[int] = set()
        #: cell (see _COL_BITS) -> "error" | "warning": the problem marks asked for (see finish_marks)
        self.marks: dict[int, str] = {}
        self.header_row = table.header_row
        self.people = {col: key for key, col in table.columns.items() if col not in self.owned}

    def _old(self, r: int, key: str, col: int) -> object:
        cells = self.appended.get(r)
        if cells is not None:
            old = cells[col - 1] if col <= len(cells) else None
            return None if old == "" else old
        i = bisect.bisect_left(self.numbers, r)
        return self.records[i].get(key) if i < len(self.numbers) and self.numbers[i] == r else None

    def add(self, w: CellWrite) -> None:
        col = self.columns[w.column]
        r = w.row
        if w.mark:
            if w.fill:
                self.marks[r << _COL_BITS | col] = w.fill
            return
        old = self._old(r, w.column, col)
        new = w.value
        if w.only_if_blank and old is not None and not (old.__class__ is str and not old.strip()):
            return
        if new is KEEP or old == new or same_value(old, new):
            if w.fill is KEEP:
                return
            if col not in self.scanned:
                self.scanned |= self.owned | {col}
                self.styles_at = self.scan(self.scanned, self.rows)
            styles = self.styles_at[col]
            style = styles[r] if r < len(styles) else 0
            current = self.fill_keys.get(style, KEEP)
            if current is KEEP:
                current = self.fill_keys[style] = self.styles.fill_key(style)
            if current == "other" or current == w.fill:
                return
        self.edits.setdefault(r, {})[col] = Edit(
            col=col, value=new, fill=w.fill, numfmt=self.formats.get(w.column), only_if_blank=w.only_if_blank,
            change_sheet=self.sheet_key, change_col=w.column, old=old, header_font=w.header)

    def finish_marks(self, z: zipfile.ZipFile, part: str) -> None:
        """The problem marks: each asked-for mark a cell lacks, and no fill again where a mark is no
        longer asked for. One streamed pass over the sheet finds the cells that carry a mark now and
        the fills of the cells to be marked; nothing is read when the desk has no marks at all."""
        marked_styles = self.styles.mark_styles()
        if not marked_styles and not self.marks:
            return
        to_mark, to_clear = _marks_in(z, part, self.styles, marked_styles, self.marks)
        for key in to_mark:
            self._mark(key >> _COL_BITS, key & _COL_MASK, self.marks[key])
        for key in to_clear:
            r, col = key >> _COL_BITS, key & _COL_MASK
            if r > self.header_row and col in self.people:
                self._mark(r, col, None)

    def _mark(self, r: int, col: int, level: str | None) -> None:
        row = self.edits.setdefault(r, {})
        edit = row.get(col)
        if edit is not None:  # a value sheetdesk fills into the same cell (an appended row's, say)
            if edit.fill is KEEP:
                edit.fill, edit.mark = level, True
            return
        key = self.people[col]
        old = self._old(r, key, col)
        row[col] = Edit(col=col, value=old, fill=level, numfmt=None, only_if_blank=False,
                        change_sheet=self.sheet_key, change_col=key, old=old, mark=True)


#: a cell as one int (row << 14 | column: a sheet has at most 16384 columns), lean for 50k-row sheets
_COL_BITS, _COL_MASK = 14, (1 << 14) - 1


def _marks_in(z: zipfile.ZipFile, part: str, styles: Styles, marked_styles: dict[int, str],
              wanted: dict[int, str]) -> tuple[list[int], list[int]]:
    """(the ``wanted`` cells whose mark must be set — decided when spliced where the cell could
    not be found for sure —, the cells that carry a mark nobody wants any more), read a block of
    whole rows at a time: a search for the few mark formats, and the wanted rows located."""
    to_mark: list[int] = []
    to_clear: list[int] = []
    rows = sorted({key >> _COL_BITS for key in wanted})
    columns: dict[int, list[int]] = {}
    for key in wanted:
        columns.setdefault(key >> _COL_BITS, []).append(key & _COL_MASK)
    handled: set[int] = set()
    pattern = re.compile(rb'\bs="(' + b"|".join(str(i).encode() for i in sorted(marked_styles)) + rb')"') \
        if marked_styles else None
    for block in sheet_data_blocks(z, part):
        settled: set[int] = set()  # wanted cells marked so already (a block holds whole rows)
        if pattern is not None:
            for m in pattern.finditer(block):
                start = block.rfind(b"<", 0, m.start())
                if block.startswith(b"<c ", start):  # (a row's own format, or text, is not a cell's)
                    ref = ATTR_R.search(block, start, block.index(b">", m.end()))
                    if ref and ref.group(1):
                        key = int(ref.group(2)) << _COL_BITS | column_of(ref.group(1))
                        level = marked_styles[int(m.group(1))]
                        if wanted.get(key) == level:
                            settled.add(key)
                        elif key not in wanted:
                            to_clear.append(key)
        head = ROW_HEAD.search(block)
        tail = block.rfind(b'<row r="')
        if head is None or tail < 0 or not rows:
            continue
        first, last = int(head.group(1)), int(ROW_HEAD.match(block, tail).group(1))
        inside = rows[bisect.bisect_left(rows, first):bisect.bisect_right(rows, last)]
        if not inside or NOT_R_FIRST.search(block):  # cells spelled otherwise: decided when spliced
            continue
        for r, at, end, row_head in locate_rows(block, (0, len(block)), inside, missing_ok=True) or ():
            handled.add(r)
            row_style = int(attr(row_head, b"s") or 0) if attr(row_head, b"customFormat") in (b"1", b"true") else 0
            for col in columns[r]:
                key = r << _COL_BITS | col
                if key in settled:
                    continue
                cell = block.find(b'<c r="%s%d"' % (letters_of(col), r), at, end) if row_head else -1
                if cell >= 0:
                    own = ATTR_S.search(block, cell, block.index(b">", cell))
                    current = styles.fill_key(int(own.group(1)) if own else 0)
                else:
                    current = styles.fill_key(row_style) if row_style else None
                if may_refill(current, wanted[key], True):  # not marked so yet, and not a person's colour
                    to_mark.append(key)
    for r in rows:  # not found for sure (or below the last row): decided when spliced
        if r not in handled:
            to_mark += [r << _COL_BITS | col for col in columns[r]]
    return to_mark, to_clear


def plan_patch(book: Book, writes: Iterable[CellWrite], counter: dict[str, int], generated: list[GeneratedSheet],
               appended: dict[str, dict[int, list[object]]] | None = None, *,
               filled: dict[str, str] | None = None, marks: Iterable[str] = ()) -> Patch:
    """The edits for ``writes`` (values and fills), the counter and sheetdesk's own sheets (built and
    deflated here); the edited sheets are spliced by :meth:`Patch.splice`. ``appended``: sheet key ->
    the rows add/log/import put below the others (read with the records) -> the cells the file holds there.
    ``filled``: the categories sheetdesk filled, to remember beside the counter (None: they are already).
    ``marks``: sheet keys whose problem marks ``writes`` carries in full (any other mark is cleared)."""
    appended = appended or {}
    with zipfile.ZipFile(book.path) as z:
        parts = sheet_parts(z)
        names = set(z.namelist())
        styles = Styles(z.read("xl/styles.xml")) if "xl/styles.xml" in names else None
        if styles is None:
            raise PatchUnsupported("no styles part")
        changes: list[Change] = []
        new_parts: dict[str, bytes | Packed] = {}
        pending: dict[str, dict[int, dict[int, Edit]]] = {}
        by_sheet: dict[str, dict[int, dict[int, Edit]]] = {}
        for sheet_key, col_key in book.added_columns:
            table = book.tables[sheet_key]
            col = table.columns[col_key]
            column = SHEETS_BY_KEY[sheet_key].column(col_key)
            by_sheet.setdefault(table.name, {}).setdefault(table.header_row, {})[col] = Edit(
                col=col, value=column.name(book.lang), fill=KEEP, numfmt=None, only_if_blank=True,
                change_sheet=sheet_key, change_col=col_key, old=None, header_font=True)
        planners: dict[str, _SheetEdits] = {}

        def planner_of(sheet_key: str) -> _SheetEdits:
            planner = planners.get(sheet_key)
            if planner is None:
                table = book.tables[sheet_key]
                part = parts.get(table.name)
                if part is None or part not in names:
                    raise PatchUnsupported(f"no part for {table.name}")
                scan = functools.partial(styles_streamed, z, part)  # only when fills must be compared
                planner = planners[sheet_key] = _SheetEdits(sheet_key, table, styles, scan,
                                                            by_sheet.setdefault(table.name, {}),
                                                            appended.get(sheet_key))
            return planner

        for w in writes:
            (planners.get(w.sheet) or planner_of(w.sheet)).add(w)
        for sheet_key in marks:
            if sheet_key in book.tables:
                planner_of(sheet_key).finish_marks(z, parts[book.tables[sheet_key].name])
        for sheet_name, edits in by_sheet.items():
            part = parts.get(sheet_name)
            if part is None or part not in names:
                raise PatchUnsupported(f"no part for {sheet_name}")
            if edits:
                pending[part] = edits
        counter_name = COUNTER.name(book.lang)
        if counter_name not in parts:
            raise PatchUnsupported("no counter sheet")
        current = counter_sheet.stored(book)
        wanted = dict(sorted(counter.items()))
        crcs = {i.filename: i.CRC for i in z.infolist()}
        sizes = {i.filename: i.file_size for i in z.infolist()}
        printed: list[str] = []
        workbook_xml = original_workbook = z.read("xl/workbook.xml")
        package_edits: dict[str, bytes] = {}
        marks: dict[str, str] = {}
        had_marks = marked_sheets(workbook_xml)
        for gen in generated:
            name = book.generated_name(gen.sheet)  # by its mark: never a person's sheet
            if had_marks.get(gen.sheet) != name:
                marks[gen.sheet] = name
                changes.append(Change(gen.sheet, 0, "(mark)", None, name))
            part = parts.get(name)
            added = part is None
            if added:  # the desk has none (deleted, or only a person's sheet of that name): one is added
                try:
                    workbook_xml, part = add_worksheet(z, workbook_xml, name, package_edits)
                except UnexpectedPackage as exc:
                    raise PatchUnsupported(str(exc)) from exc
            chunks = generated_chunks(gen, styles, book.date1904, None if added else comment_drawing(z, part))
            head = next(chunks)
            packed = pack(itertools.chain([head], chunks))  # deflated as it is made: never held whole
            if not added:
                if packed.crc == crcs.get(part) and packed.size == sizes.get(part):
                    continue  # exactly what is there: not read, not rewritten
                if not still_ours(z, part, head):  # another program saved the file: compare what it holds
                    if written_by_us(z.read(part)) and same_values_or_unreadable(book, name, gen):
                        continue  # its colours follow from its values (states, 逾期 notes): nothing to rebuild
            new_parts[part] = packed
            changes.append(Change(gen.sheet, 1, "(sheet)", None, f"{gen.count} rows"))
            printed.append(name)
        # the rebuilt sheets' header row prints on every page; each generated sheet carries its mark
        workbook_xml = with_print_titles(workbook_xml, printed)
        if marks:
            workbook_xml = with_marks(workbook_xml, marks)
        if workbook_xml != original_workbook:
            new_parts["xl/workbook.xml"] = workbook_xml
        new_parts.update(package_edits)
        if counter_sheet.differs(current, wanted) or filled is not None:
            memory = counter_sheet.filled_categories(book) if filled is None else filled
            new_parts[parts[counter_name]] = counter_xml(book, counter, memory)
            if counter_sheet.differs(current, wanted):
                changes.append(Change("counter", 2, "last_serial", current, wanted))
            if filled is not None:
                changes.append(Change("counter", 2, "filled_category", None, f"{len(filled)} IDs"))
    # relationships of patched sheets are untouched: comments, drawings and tables stay linked
    return Patch(book.path, new_parts, changes, styles=styles, date1904=book.date1904, pending=pending)

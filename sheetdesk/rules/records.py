"""Plain records the workbook layer hands to the domain: a sheet as rows of values by column key.

The rules never see a workbook object, only these: whichever reader (calamine or openpyxl) and
whichever save engine a run uses, the rules that consume records stay the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sheetdesk.schema import Sheet


class Values(Mapping[str, object]):
    """A row's cells by column key, read-only: one tuple per row plus the table's shared
    key -> position map, instead of a dict per row (a 50k-row register saved ~45 MB this way).
    Empty cells are absent, as in a dict holding only the filled cells."""
    __slots__ = ("_index", "_cells")

    def __init__(self, index: dict[str, int], cells: tuple[object, ...]) -> None:
        self._index, self._cells = index, cells

    def get(self, key: str, default: object = None) -> object:
        i = self._index.get(key)
        if i is None:
            return default
        value = self._cells[i]
        return default if value is None else value

    def __getitem__(self, key: str) -> object:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return (k for k, i in self._index.items() if self._cells[i] is not None)

    def __len__(self) -> int:
        return sum(v is not None for v in self._cells)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class Row:
    """One record of a sheet: its Excel row number (1-based, used in every message) and its cells."""
    __slots__ = ("row", "_index", "_cells")

    def __init__(self, row: int, values: Mapping[str, object] | None = None, *,
                 index: dict[str, int] | None = None, cells: tuple[object, ...] = ()) -> None:
        self.row = row
        if values is not None:
            index, cells = {k: i for i, k in enumerate(values)}, tuple(values.values())
        self._index, self._cells = index or {}, cells

    @property
    def values(self) -> Values:
        """Column key -> raw cell value as read; empty cells are absent (use get / text)."""
        return Values(self._index, self._cells)

    def get(self, key: str) -> object:
        i = self._index.get(key)
        return None if i is None else self._cells[i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return NotImplemented
        return self.row == other.row and dict(self.values.items()) == dict(other.values.items())

    def __repr__(self) -> str:
        return f"Row({self.row}, {self.values!r})"

    def text(self, key: str) -> str:
        """The cell as stripped text ('' when empty); numbers without a spurious '.0'."""
        i = self._index.get(key)
        value = None if i is None else self._cells[i]
        if value is None:
            return ""
        if type(value) is str:
            return value.strip()
        if type(value) is float and value.is_integer():
            return str(int(value))
        if isinstance(value, datetime):  # one spelling whichever reader produced it
            if value.time() == datetime.min.time():
                return value.strftime("%Y-%m-%d")
            return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")
        if isinstance(value, date):
            return value.strftime("%Y-%m-%d")
        return str(value).strip()


@dataclass
class Table:
    sheet: Sheet
    #: the sheet's name in this workbook (zh or en)
    name: str
    header_row: int
    #: column key -> 1-based column index, for the contract's columns found (or added) in the header
    columns: dict[str, int]
    rows: list[Row] = field(default_factory=list)

    def has(self, key: str) -> bool:
        return key in self.columns

"""Plain records the workbook layer hands to the domain: a sheet as rows of values by column key.

The domain never sees a workbook object, only these; a faster reader (calamine) or a package
patcher can replace the openpyxl layer without touching anything that consumes them.
"""

from __future__ import annotations

from datetime import date, datetime
from dataclasses import dataclass, field

from sheetdesk.schema import Sheet


@dataclass(slots=True)
class Row:
    #: the Excel row number (1-based), used in every message
    row: int
    #: column key -> raw cell value as read; empty cells may be absent (use get / text)
    values: dict[str, object]

    def get(self, key: str) -> object:
        return self.values.get(key)

    def text(self, key: str) -> str:
        """The cell as stripped text ('' when empty); numbers without a spurious '.0'."""
        value = self.values.get(key)
        if value is None:
            return ""
        cls = value.__class__
        if cls is str:
            return value.strip()
        if cls is float and value.is_integer():
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

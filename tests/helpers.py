"""Helpers the tests share: the fixed clock, header lookups, rows read back with openpyxl, LibreOffice.

Imported as ``tests.helpers``; the fixtures built on them live in ``tests/conftest.py``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from sheetdesk.schema import REGISTER, SHEETS_BY_KEY, normalise_header

NOW = "2026-11-23 09:00"


def header_map(ws, header_row: int = 1) -> dict[str, int]:
    return {normalise_header(c.value): c.column for c in ws[header_row] if c.value is not None}


def col_of(ws, sheet_key: str, key: str, lang: str = "zh", header_row: int = 1) -> int:
    return header_map(ws, header_row)[normalise_header(SHEETS_BY_KEY[sheet_key].column(key).name(lang))]


def fill_rows(ws, sheet_key: str, rows: list[dict], lang: str = "zh", header_row: int = 1) -> None:
    for i, row in enumerate(rows, start=header_row + 1):
        for key, value in row.items():
            ws.cell(i, col_of(ws, sheet_key, key, lang, header_row), value)


def sheet_rows(path, name):
    """(worksheet, header without '*', rows as header -> value) of a sheet, read by openpyxl."""
    ws = openpyxl.load_workbook(path)[name]
    header = [c.value.rstrip("*") if isinstance(c.value, str) else c.value for c in ws[1]]
    return ws, header, [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]


def register_rows(path: Path, lang: str = "zh", header_row: int = 1) -> dict[int, dict[str, object]]:
    """row number -> {column key: value} of the register, read back with openpyxl."""
    wb = openpyxl.load_workbook(path)
    ws = wb[REGISTER.name(lang)]
    cols = {key: col_of(ws, "register", key, lang, header_row) for key in (c.key for c in REGISTER.columns)
            if normalise_header(REGISTER.column(key).name(lang)) in header_map(ws, header_row)}
    out = {}
    for r in range(header_row + 1, ws.max_row + 1):
        values = {k: ws.cell(r, c).value for k, c in cols.items()}
        if any(v is not None for v in values.values()):
            out[r] = values
    return out


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_convert(src: Path, outdir: Path, fmt: str = "xlsx") -> Path:
    """Round-trip a file through LibreOffice headless, with a private profile."""
    exe = soffice()
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / "lo-profile"
    subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                    "--outdir", str(outdir), str(src)], check=True, capture_output=True, timeout=180)
    out = outdir / (src.stem + "." + fmt)
    assert out.exists(), f"LibreOffice did not write {out}"
    return out

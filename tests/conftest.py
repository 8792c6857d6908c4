"""Shared fixtures: build real desk workbooks in tmp_path and drive the real CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sheetdesk.cli import main
from sheetdesk.schema import REGISTER, SHEETS_BY_KEY
from sheetdesk.workbook.template import build_template
from tests.helpers import fill_rows


@pytest.fixture
def make_desk(tmp_path):
    """make_desk(rows, lang=..., preset=..., progress=[...], results=[...]) -> path of a saved desk."""

    def make(rows=(), *, lang="zh", preset="p0p1p2", progress=(), results=(), name="desk.xlsx", edit=None):
        wb = build_template(lang, preset)
        fill_rows(wb[REGISTER.name(lang)], "register", list(rows), lang)
        if progress:
            fill_rows(wb[SHEETS_BY_KEY["progress"].name(lang)], "progress", list(progress), lang)
        if results:
            fill_rows(wb[SHEETS_BY_KEY["results"].name(lang)], "results", list(results), lang)
        if edit:
            edit(wb)
        path = tmp_path / name
        wb.save(path)
        return path

    return make


@pytest.fixture
def cli():
    """cli(*args) -> click Result; the real command, in-process."""
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return run

"""The patch→openpyxl fallback is decided in one place: whatever part of the calamine path gives up
(calamine's read, the patch engine's plan or its splice), the run starts again with openpyxl and
ends as a run on the openpyxl engine would."""

from __future__ import annotations

from datetime import datetime

import pytest

from sheetdesk.app import desk
from sheetdesk.settings import load_settings
from sheetdesk.workbook.engines.patch import Patch, PatchUnsupported
from sheetdesk.workbook.fastread import FastReadUnsupported
from tests.helpers import register_rows

NOW = datetime(2026, 11, 23, 9)
TICKET = {"received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王女士",
          "description": "热水器漏水", "priority": "P2"}
NEW = {"received": datetime(2026, 11, 20, 9), "channel": "电话", "customer": "李先生", "description": "无法开机",
       "priority": "P1"}


def _refuse_plan(*args, **kwargs):
    raise PatchUnsupported("planned refusal")


def _refuse_splice(self, *, pack_parts=True):
    raise PatchUnsupported("spliced refusal")


def _calamine_refuses(monkeypatch):
    real = desk.open_book

    def open_book(path, *, fast=False, **kwargs):
        if fast:
            raise FastReadUnsupported("calamine refusal")
        return real(path, fast=fast, **kwargs)

    monkeypatch.setattr(desk, "open_book", open_book)


def _modes(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = desk._run_with

    def spy(mode, *args, **kwargs):
        seen.append(mode)
        return real(mode, *args, **kwargs)

    monkeypatch.setattr(desk, "_run_with", spy)
    return seen


def _summary(result: desk.RunResult):
    return ([(c.sheet, c.row, c.column, c.new) for c in result.changes], [p.cell_text("en") for p in result.problems],
            result.new_ids, result.appended.row_numbers if result.appended else None)


@pytest.mark.parametrize("refuse", ["plan", "splice", "read"])
def test_a_save_the_patch_engine_cannot_do_is_done_by_openpyxl(make_desk, monkeypatch, tmp_path, refuse):
    expected_path = make_desk([TICKET], name="expected.xlsx")
    settings = load_settings(expected_path)
    settings.engine = "openpyxl"
    expected = desk.run(expected_path, now=NOW, settings=settings, append=desk.Append("register", NEW))

    path = make_desk([TICKET])
    if refuse == "plan":
        monkeypatch.setattr(desk, "plan_patch", _refuse_plan)
    elif refuse == "splice":
        monkeypatch.setattr(Patch, "splice", _refuse_splice)
    else:
        _calamine_refuses(monkeypatch)
    modes = _modes(monkeypatch)
    result = desk.run(path, now=NOW, append=desk.Append("register", NEW))
    assert modes == [desk.PATCH, desk.OPENPYXL]
    assert result.written and result.new_id == "202611-002" and result.appended.row == 3
    assert _summary(result) == _summary(expected)
    assert register_rows(path) == register_rows(expected_path)


def test_a_validate_calamine_cannot_read_is_read_by_openpyxl(make_desk, monkeypatch):
    path = make_desk([TICKET])
    before = path.read_bytes()
    settings = load_settings(path)
    settings.engine = "openpyxl"
    expected = desk.run(path, now=NOW, dry_run=True, settings=settings)

    _calamine_refuses(monkeypatch)
    modes = _modes(monkeypatch)
    result = desk.run(path, now=NOW, write=False)
    assert modes == [desk.READ, desk.OPENPYXL]
    assert not result.written and path.read_bytes() == before
    assert _summary(result) == _summary(expected)


def test_an_append_request_is_not_changed_by_the_run(make_desk):
    path = make_desk([TICKET])
    append = desk.Append("register", dict(NEW))
    result = desk.run(path, now=NOW, append=append)
    assert append == desk.Append("register", NEW)
    assert isinstance(result.appended, desk.Appended) and result.appended.row_numbers == [3]

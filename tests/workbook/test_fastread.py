"""calamine's reading, with what it gets wrong put back from the sheet XML — read a block at a time."""

from __future__ import annotations

import zipfile

import pytest

from sheetdesk.workbook import fastread


def _sheet_xml(rows: int) -> bytes:
    body = []
    for r in range(1, rows + 1):
        if r % 50 == 7:  # an error value, and a formula nobody calculated
            body.append(b'<row r="%d"><c r="A%d" t="e"><v>#N/A</v></c><c r="B%d"><f>SUM(X1:X2)</f></c></row>' % (r, r, r))
        else:
            body.append(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>row %d</t></is></c></row>' % (r, r, r))
    return (b'<worksheet><dimension ref="A1:B%d"/><sheetData>' % rows + b"".join(body)
            + b'</sheetData><dataValidations count="1"><dataValidation sqref="C2"><formula1>"a,b"</formula1>'
              b'</dataValidation></dataValidations></worksheet>')


@pytest.mark.parametrize("block", [16, 333, 1 << 22])
def test_sheet_data_is_read_in_blocks_of_whole_rows(tmp_path, monkeypatch, block):
    xml = _sheet_xml(400)
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sheet.xml", xml)
    monkeypatch.setattr(fastread, "BLOCK", block)
    with zipfile.ZipFile(path) as z:
        blocks = list(fastread.sheet_data_blocks(z, "sheet.xml"))
    whole = xml[xml.index(b"<sheetData>") + len(b"<sheetData>"):xml.index(b"</sheetData>")]
    assert b"".join(blocks) == whole
    assert all(b.startswith(b"<row") for b in blocks if b)
    # formulas are found in the rows only (not the dropdown's <formula1> after them)
    found = [cell for b in blocks for cell in fastread._formula_cells(b)]
    assert found == [(r, 2) for r in range(7, 401, 50)]


def test_an_empty_sheet_has_no_blocks(tmp_path):
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("sheet.xml", b"<worksheet><sheetData/><dataValidations><formula1>1</formula1></dataValidations></worksheet>")
    with zipfile.ZipFile(path) as z:
        assert list(fastread.sheet_data_blocks(z, "sheet.xml")) == []


def test_the_last_record_is_found_from_the_bottom_as_the_full_read_finds_it():
    """add/log/import only need where the records end: found without making every record."""
    from sheetdesk.workbook.reader import _fast_rows, _last_record_at

    columns, people = {"id": 1, "customer": 2, "status": 3}, ["customer"]
    grid = [["编号", "客户", "状态"], ["A", "王", ""], ["B", "", "处理中"], ["", "  ", ""], ["", "李", ""],
            ["", "", "已关闭"], [], ["", "\t", ""]]
    everything = _fast_rows(grid, 1, columns, people)
    assert [r.row for r in everything] == [2, 5]
    at = _last_record_at(grid, 1, columns, people)
    assert [r.row for r in _fast_rows(grid, 1, columns, people, at)] == [5]
    assert _last_record_at(grid[:1], 1, columns, people) == 1 and _fast_rows(grid[:1], 1, columns, people, 1) == []

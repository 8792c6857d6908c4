"""LibreOffice as the second real client: files it saved are read, files we saved open in it."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest

from tests.helpers import NOW, libreoffice_convert, register_rows, soffice

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow,
              pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")]

ROWS = [
    dict(received=datetime(2026, 11, 2, 10), channel="电话", customer="王女士", contact="13812345678",
         description="机器无法开机"),
    dict(received="2026/11/03 09:30", channel="传真", customer="李先生", description="快递没收到"),
]


def test_refresh_a_workbook_saved_by_libreoffice(tmp_path, make_desk, cli):
    src = make_desk(ROWS, name="typed.xlsx")
    converted = libreoffice_convert(src, tmp_path / "lo")
    result = cli("refresh", converted, "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = register_rows(converted)
    assert rows[2]["id"] == "202611-001" and rows[3]["id"] == "202611-002"
    assert rows[2]["department"] == "维修部"
    assert "传真" in rows[3]["check"]
    # LibreOffice kept the dropdowns in a form the next save keeps too
    wb = openpyxl.load_workbook(converted)
    assert wb["登记表"].data_validations.dataValidation


def test_our_output_opens_in_libreoffice(tmp_path, make_desk, cli):
    path = make_desk(ROWS)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    reopened = libreoffice_convert(path, tmp_path / "lo2")
    wb = openpyxl.load_workbook(reopened)
    ws = wb["登记表"]
    ids = [c.value for c in ws["A"][1:3]]
    assert ids == ["202611-001", "202611-002"]


def test_a_refreshed_desk_full_of_bad_cells_opens_in_libreoffice(tmp_path, make_desk, cli):
    nasty = [
        dict(received="上周三", channel="传真", customer="=HYPERLINK(\"x\")", contact="1381234", description="x" * 5000),
        dict(received=datetime(2026, 11, 2, 10), channel="电话", customer="#N/A", description="\t换行\n测试", priority="超急"),
        dict(received=-1.5, channel=True, customer=3.14, description=datetime(2026, 1, 1), id="11-5"),
        dict(received=datetime(2026, 11, 3, 10), channel="电话", customer="王女士", description="充电时烫伤"),
    ]

    def edit(wb):
        ws = wb["登记表"]
        ws.merge_cells("A8:D8")
        ws["A8"] = "合计"
        ws.row_dimensions[3].hidden = True
    path = make_desk(nasty, edit=edit)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    converted = libreoffice_convert(path, tmp_path / "lo3")
    wb = openpyxl.load_workbook(converted)
    assert wb["登记表"]["A8"].value == "合计"
    assert "跟踪看板" in wb.sheetnames


def test_rows_added_and_logged_by_the_patch_engine_open_in_libreoffice(tmp_path, make_desk, cli):
    path = make_desk(ROWS)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    result = cli("add", path, "--customer", "新客户", "--channel", "电话", "--description", "扫地机异响",
                 "--received", "2026-11-20 10:00", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert cli("log", path, "202611-003", "首次响应", "--by", "李工", "--at", "2026-11-20 11:00",
               "--now", NOW).exit_code == 0
    reopened = libreoffice_convert(path, tmp_path / "lo3")
    rows = register_rows(reopened)
    assert (rows[4]["id"], rows[4]["customer"], rows[4]["received"]) == ("202611-003", "新客户",
                                                                       datetime(2026, 11, 20, 10))
    assert rows[4]["status"] == "首次响应"


def test_dates_written_into_a_libreoffice_desk_show_as_dates(tmp_path, make_desk, cli):
    """LibreOffice saves its default cell format as a custom "General" (numFmtId 164): the dates
    sheetdesk writes into such cells still get a date format, or Excel would show bare serials."""
    def bare_log(wb):  # no pre-formatted rows: the logged row's cells take LibreOffice's default format
        wb["进度跟踪"].delete_rows(2, wb["进度跟踪"].max_row)

    converted = libreoffice_convert(make_desk(ROWS, name="typed.xlsx", edit=bare_log), tmp_path / "lo4")
    assert cli("refresh", converted, "--now", NOW).exit_code == 0
    assert cli("add", converted, "--customer", "新客户", "--channel", "电话", "--description", "扫地机异响",
               "--received", "2026-11-20 10:00", "--now", NOW).exit_code == 0
    assert cli("log", converted, "202611-003", "首次响应", "--by", "李工", "--at", "2026-11-20 11:00",
               "--now", NOW).exit_code == 0
    rows = register_rows(converted)
    assert isinstance(rows[2]["response_due"], datetime) and isinstance(rows[4]["received"], datetime)
    assert rows[4]["received"] == datetime(2026, 11, 20, 10)
    log = openpyxl.load_workbook(converted)["进度跟踪"]
    assert log.cell(2, 2).value == datetime(2026, 11, 20, 11)

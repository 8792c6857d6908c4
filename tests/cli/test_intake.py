"""Intake on time through the real commands on real workbooks: add and import stamp 登记时间 with the
desk's clock and are judged against the channel's 登记时限; a typed row is stamped on the first refresh
that sees it and never judged; written channels get one working day on the official calendar (2026:
国庆 Oct 1–7 off, Saturday Oct 10 a make-up working day). Both save engines."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import openpyxl
import pytest

from tests.helpers import col_of, register_rows

ENGINES = ("patch", "openpyxl")


def use_engine(path, engine: str) -> None:
    (path.parent / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")


def ticket(received, channel="电话", **extra):
    return {"received": received, "channel": channel, "customer": extra.pop("customer", "王女士"),
            "contact": "13812345678", "description": "机器无法开机", "category": "产品质量类", **extra}


def checks(result) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for p in json.loads(result.output)["problems"]:
        if p["sheet"] == "登记表":
            out.setdefault(p["row"], []).append((p["column"], p["level"]))
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_add_stamps_entered_with_the_desk_clock(make_desk, cli, engine):
    path = make_desk()
    use_engine(path, engine)

    on_time = cli("add", path, "--customer", "王女士", "--channel", "电话", "--description", "无法开机",
                  "--category", "产品质量类", "--received", "2026-10-09 10:00", "--now", "2026-10-09 10:08")
    late = cli("add", path, "--customer", "李先生", "--channel", "电话", "--description", "无法开机",
               "--category", "产品质量类", "--received", "2026-10-09 10:00", "--now", "2026-10-09 10:30")

    assert on_time.exit_code == 0 and late.exit_code == 0, on_time.output + late.output
    # the clerk hears it at once: the new ID on stdout, what its 校验 says on stderr
    assert on_time.stdout.strip() == "202610-001" and on_time.stderr.strip() == ""
    assert late.stdout.strip() == "202610-002" and "登记不及时：电话渠道应在反馈后10分钟内登记" in late.stderr
    rows = register_rows(path)
    assert rows[2]["entered"] == datetime(2026, 10, 9, 10, 8) and rows[3]["entered"] == datetime(2026, 10, 9, 10, 30)
    assert not (rows[2]["check"] or "")
    assert rows[3]["check"] == ("注意：登记时间：登记不及时：电话渠道应在反馈后10分钟内登记（2026-10-09 10:10 前），"
                                "实际登记于 2026-10-09 10:30")
    ws = openpyxl.load_workbook(path)["登记表"]
    column = col_of(ws, "register", "entered")
    assert column == ws.max_column  # the last column: nobody's columns moved
    assert ws.cell(2, column).number_format.startswith("yyyy-mm-dd")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_typed_row_is_stamped_on_first_refresh_and_never_judged(make_desk, cli, engine):
    path = make_desk([ticket(datetime(2026, 10, 1, 9, 0))])  # typed a week after the call
    use_engine(path, engine)

    first = cli("refresh", path, "--now", "2026-10-09 11:00", "--json")
    second = cli("refresh", path, "--now", "2026-10-12 09:00", "--json")

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert 2 not in checks(first) and json.loads(first.output)["first_seen"] == 1
    assert 2 not in checks(second) and json.loads(second.output)["first_seen"] == 0  # remembered: still not judged
    third = cli("refresh", path, "--now", "2026-10-12 09:00")
    assert "无需修改" in third.output  # nothing flaps
    plain = make_desk([ticket(datetime(2026, 10, 1, 9, 0))], name="other.xlsx")
    use_engine(plain, engine)
    assert "1 行手工录入的登记按 sheetdesk 首次看到的时间填写" in cli("refresh", plain, "--now", "2026-10-09 11:00").output
    assert register_rows(path)[2]["entered"] == datetime(2026, 10, 9, 11, 0)
    hidden = openpyxl.load_workbook(path)["_sheetdesk"]
    assert ["entered:" + register_rows(path)[2]["id"], "2026-10-09 11:00"] in [
        [c.value for c in row[3:5]] for row in hidden.iter_rows(min_row=2)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_person_typed_entered_time_is_judged(make_desk, cli, engine):
    path = make_desk([ticket(datetime(2026, 10, 9, 10, 0), entered=datetime(2026, 10, 9, 10, 5)),
                      ticket(datetime(2026, 10, 9, 10, 0), entered=datetime(2026, 10, 9, 14, 0))])
    use_engine(path, engine)
    result = cli("refresh", path, "--now", "2026-10-12 09:00", "--json")
    assert result.exit_code == 0, result.output
    assert 2 not in checks(result) and checks(result)[3] == [("登记时间", "warning")]
    assert register_rows(path)[3]["entered"] == datetime(2026, 10, 9, 14, 0)  # kept as typed


def test_an_imported_phone_call_entered_two_days_later_gets_a_warning(make_desk, cli, tmp_path):
    path = make_desk()
    source = tmp_path / "calls.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([
        ["工单号", "来电时间", "客户", "内容", "渠道"],
        ["A1", "2026/10/10 09:00", "王建国", "空调外机异响", "电话"],     # two days before the import
        ["A2", "2026/10/12 08:55", "李梅", "快递没收到", "电话"]])        # five minutes before
    source.write_text(buffer.getvalue(), encoding="utf-8")
    mapping = tmp_path / "calls.toml"
    mapping.write_text('[import]\nexternal_ref = "工单号"\n\n[columns]\nreceived = "来电时间"\n"客户名称" = "客户"\n'
                       'description = "内容"\nchannel = "渠道"\n', encoding="utf-8")

    result = cli("import", path, source, "--map", mapping, "--now", "2026-10-12 09:00")

    assert result.exit_code == 0, result.output
    rows = register_rows(path)
    assert [r["entered"] for r in rows.values()] == [datetime(2026, 10, 12, 9, 0)] * 2
    assert "登记不及时" in rows[2]["check"] and "登记不及时" not in (rows[3]["check"] or "")


def test_an_import_may_bring_the_source_systems_registration_time(make_desk, cli, tmp_path):
    """A call-centre export of old calls carries when each call was logged there: mapped to 登记时间,
    that time is kept and judged instead of the moment of the import."""
    path = make_desk()
    source = tmp_path / "calls.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([
        ["工单号", "来电时间", "创建时间", "客户", "内容", "渠道"],
        ["A1", "2026/10/10 09:00", "2026/10/10 09:06", "王建国", "空调外机异响", "电话"],   # logged in time
        ["A2", "2026/10/10 09:00", "2026/10/10 11:00", "李梅", "快递没收到", "电话"],       # two hours later
        ["A3", "2026/10/10 09:00", "", "张伟", "遥控器失灵", "电话"]])                      # no time: the import's
    source.write_text(buffer.getvalue(), encoding="utf-8")
    mapping = tmp_path / "calls.toml"
    mapping.write_text('[import]\nexternal_ref = "工单号"\n\n[columns]\nreceived = "来电时间"\n"登记时间" = "创建时间"\n'
                       '"客户名称" = "客户"\ndescription = "内容"\nchannel = "渠道"\n', encoding="utf-8")

    result = cli("import", path, source, "--map", mapping, "--now", "2026-10-12 09:00")

    assert result.exit_code == 0, result.output
    rows = register_rows(path)
    assert [r["entered"] for r in rows.values()] == [datetime(2026, 10, 10, 9, 6), datetime(2026, 10, 10, 11, 0),
                                                     datetime(2026, 10, 12, 9, 0)]
    assert "登记不及时" not in (rows[2]["check"] or "")
    assert "登记不及时" in rows[3]["check"] and "2026-10-10 11:00" in rows[3]["check"]
    assert "登记不及时" in rows[4]["check"]


@pytest.mark.parametrize("received, entered, late", [
    (datetime(2026, 9, 30, 16, 0), datetime(2026, 10, 8, 15, 0), False),   # across 国庆: due Oct 8 16:00
    (datetime(2026, 9, 30, 16, 0), datetime(2026, 10, 9, 9, 30), True),
    (datetime(2026, 10, 9, 16, 0), datetime(2026, 10, 10, 15, 0), False),  # Saturday Oct 10 is a working day
    (datetime(2026, 10, 9, 16, 0), datetime(2026, 10, 12, 9, 30), True),   # so Monday morning is late
])
def test_written_channels_have_one_working_day_on_the_official_calendar(make_desk, cli, received, entered, late):
    path = make_desk([ticket(received, channel="邮件", contact="wang@example.com", entered=entered)])
    result = cli("refresh", path, "--now", "2026-10-12 11:00", "--json")
    assert result.exit_code == 0, result.output
    assert (checks(result).get(2) == [("登记时间", "warning")]) is late


def test_managers_edit_the_limits_in_the_lists_sheet(make_desk, cli):
    def limits(wb):
        ws = wb["选项"]
        channel, limit = col_of(ws, "lists", "channel"), col_of(ws, "lists", "intake_limit")
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, channel).value == "电话":
                ws.cell(r, limit).value = "2小时"
            if ws.cell(r, channel).value == "邮件":
                ws.cell(r, limit).value = "两天"

    path = make_desk([ticket(datetime(2026, 10, 9, 10, 0), entered=datetime(2026, 10, 9, 11, 0))], edit=limits)
    result = cli("refresh", path, "--now", "2026-10-12 09:00", "--json")
    assert result.exit_code == 0, result.output
    assert 2 not in checks(result)  # within the edited 2 hours
    bad = [p for p in json.loads(result.output)["problems"] if p["sheet"] == "选项"]
    assert [(p["column"], p["level"]) for p in bad] == [("登记时限", "error")] and "两天" in bad[0]["message"]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_old_desk_gets_the_column_last(make_desk, cli, engine):
    def old(wb):
        ws = wb["登记表"]
        ws.delete_cols(col_of(ws, "register", "entered"))

    path = make_desk([ticket(datetime(2026, 10, 9, 10, 0))], edit=old)
    use_engine(path, engine)
    result = cli("refresh", path, "--now", "2026-10-09 11:00")
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(path)["登记表"]
    assert ws.cell(1, ws.max_column).value == "登记时间"
    assert ws.cell(1, ws.max_column - 1).value == "校验"
    assert ws.cell(2, ws.max_column).value == datetime(2026, 10, 9, 11, 0)


def test_wechat_contacts_on_the_wechat_channel(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 10, 9, 10, 0), channel="微信", contact="abc_123"),
                      ticket(datetime(2026, 10, 9, 10, 0), channel="抖音", contact="微信：wang_li88"),
                      ticket(datetime(2026, 10, 9, 10, 0), channel="电话", contact="abc_123")])
    result = cli("refresh", path, "--now", "2026-10-09 10:05", "--json")
    assert result.exit_code == 0, result.output
    problems = checks(result)
    assert 2 not in problems and 3 not in problems and problems[4] == [("联系方式", "error")]
    assert "微信号" in register_rows(path)[4]["check"]

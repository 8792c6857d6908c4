"""refresh / validate through the real CLI on real workbooks, checked by reading the file back."""

from __future__ import annotations

import json
from datetime import datetime

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from tests.helpers import NOW, col_of, register_rows

GOOD = dict(channel="电话", customer="王女士", contact="13812345678", product="XR-200",
            description="机器无法开机，指示灯不亮", expectation="上门维修")


def ticket(received, **extra):
    return {**GOOD, "received": received, **extra}


def test_numbers_blank_ids_in_received_order_and_keeps_typed_ones(make_desk, cli):
    path = make_desk([
        ticket(datetime(2026, 11, 20, 10, 0)),
        ticket(datetime(2026, 11, 3, 9, 30)),
        ticket(datetime(2026, 11, 5, 14, 0), id="202611-007"),
        ticket(datetime(2026, 10, 30, 16, 0)),
        ticket("2026/11/10 08:15"),
    ])
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = register_rows(path)
    assert rows[4]["id"] == "202611-007"           # typed, kept
    assert rows[3]["id"] == "202611-008"           # continues above the typed serial
    assert rows[6]["id"] == "202611-009"           # text date parsed
    assert rows[2]["id"] == "202611-010"
    assert rows[5]["id"] == "202610-001"           # its own month
    assert rows[6]["received"] == "2026/11/10 08:15"  # what the clerk typed is never rewritten


def test_routing_fills_blanks_only(make_desk, cli):
    path = make_desk([
        ticket(datetime(2026, 11, 2, 10)),                                   # keyword 无法开机 → 产品质量类
        ticket(datetime(2026, 11, 2, 11), owner="老周", priority="P0"),      # typed values win
        ticket(datetime(2026, 11, 2, 12), description="快递三天了还没收到，物流信息不更新"),
        ticket(datetime(2026, 11, 2, 13), description="客户来电咨询"),       # no keyword: left blank
        ticket(datetime(2026, 11, 2, 14), category="服务体验类", description="客服态度差"),
    ])
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    rows = register_rows(path)
    assert (rows[2]["category"], rows[2]["department"], rows[2]["owner"], rows[2]["priority"]) == \
        ("产品质量类", "维修部", "李工", "P1")
    assert rows[2]["collaborators"] == "技术部"
    assert "建议" in rows[2]["check"] and "无法开机" in rows[2]["check"]
    assert (rows[3]["owner"], rows[3]["priority"], rows[3]["department"]) == ("老周", "P0", "维修部")
    assert rows[4]["category"] == "物流类" and rows[4]["department"] == "物流部"
    assert rows[5]["category"] is None and rows[5]["department"] is None
    assert rows[6]["department"] == "客户服务部" and rows[6]["owner"] == "赵主管"


BAD_ROWS = {
    "missing customer": (ticket(datetime(2026, 11, 2, 10), customer=None), "customer", "必填项为空"),
    "bad date": (ticket("上周三"), "received", "无法识别的时间“上周三”"),
    "unknown channel": (ticket(datetime(2026, 11, 2, 10), channel="传真"), "channel", "未知渠道“传真”"),
    "bad phone": (ticket(datetime(2026, 11, 2, 10), contact="1381234"), "contact", "1381234"),
    "future": (ticket(datetime(2026, 12, 1, 10)), "received", "晚于当前时间"),
    "unknown category": (ticket(datetime(2026, 11, 2, 10), category="售前类"), "category", "不在分类矩阵中"),
    "unknown priority": (ticket(datetime(2026, 11, 2, 10), priority="超急"), "priority", "未知优先级“超急”"),
    "wrong month": (ticket(datetime(2026, 11, 2, 10), id="202610-005"), "id", "月份"),
    "malformed id": (ticket(datetime(2026, 11, 2, 10), id="11-5"), "id", "格式不对"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_each_bad_cell_gets_a_message_in_its_row_and_on_the_console(make_desk, cli, case):
    row, column, text = BAD_ROWS[case]
    path = make_desk([ticket(datetime(2026, 11, 1, 9)), row])
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = register_rows(path)
    assert rows[2]["check"] is None or "提示" in rows[2]["check"]   # the good row has no error
    assert text in rows[3]["check"]
    wb = openpyxl.load_workbook(path)
    header = wb["登记表"].cell(1, col_of(wb["登记表"], "register", column)).value.rstrip("*")
    assert rows[3]["check"].count(header) >= 1                        # names the column
    assert "第3行" in result.output and text.split("“")[0] in result.output


def test_aliases_and_numeric_phone_are_accepted(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10), priority="紧急", contact=13812345678)])
    cli("refresh", path, "--now", NOW)
    row = register_rows(path)[2]
    assert row["check"] is None or "错误" not in row["check"] and "优先级" not in row["check"]
    assert row["contact"] == 13812345678   # never rewritten


def test_duplicate_ids_are_reported_not_renumbered(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10), id="202611-001"),
                      ticket(datetime(2026, 11, 3, 10), id="202611-001")])
    cli("refresh", path, "--now", NOW)
    rows = register_rows(path)
    assert rows[2]["id"] == rows[3]["id"] == "202611-001"
    assert "与第2行重复" in rows[3]["check"]


def test_message_is_cleared_when_the_row_is_fixed(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10), channel="传真")])
    cli("refresh", path, "--now", NOW)
    assert "传真" in register_rows(path)[2]["check"]
    wb = openpyxl.load_workbook(path)
    ws = wb["登记表"]
    ws.cell(2, col_of(ws, "register", "channel")).value = "电话"
    wb.save(path)
    cli("refresh", path, "--now", NOW)
    check = register_rows(path)[2]["check"]
    assert check is None or "传真" not in check


def test_second_refresh_changes_nothing(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10)), ticket("上周三"), ticket(datetime(2026, 11, 3, 8))])
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0
    assert "无需修改" in result.output
    assert path.read_bytes() == before


def test_deleted_rows_never_free_their_id(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10)), ticket(datetime(2026, 11, 3, 10))])
    cli("refresh", path, "--now", NOW)
    wb = openpyxl.load_workbook(path)
    wb["登记表"].delete_rows(3)             # 202611-002 is deleted
    ws = wb["登记表"]
    for key, value in ticket(datetime(2026, 11, 4, 10)).items():
        ws.cell(3, col_of(ws, "register", key)).value = value
    wb.save(path)
    cli("refresh", path, "--now", NOW)
    assert register_rows(path)[3]["id"] == "202611-003"
    assert openpyxl.load_workbook(path)["_sheetdesk"].sheet_state == "hidden"


def test_no_id_without_received_time(make_desk, cli):
    path = make_desk([ticket(None)])
    cli("refresh", path, "--now", NOW)
    row = register_rows(path)[2]
    assert row["id"] is None and "未编号" in row["check"]


def test_dry_run_lists_changes_and_writes_nothing(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10))])
    before = path.read_bytes()
    result = cli("refresh", path, "--dry-run", "--now", NOW)
    assert result.exit_code == 0
    assert "试运行" in result.output and "202611-001" in result.output
    assert path.read_bytes() == before


def test_validate_is_read_only(make_desk, cli):
    path = make_desk([ticket("上周三")])
    before = path.read_bytes()
    result = cli("validate", path, "--now", NOW)
    assert result.exit_code == 0
    assert "上周三" in result.output
    assert path.read_bytes() == before


def test_json_output(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10)), ticket("上周三")])
    result = cli("refresh", path, "--json", "--now", NOW, "--lang", "en")
    data = json.loads(result.output)
    assert data["written"] is True and data["issued"] == {"2": "202611-001"}
    assert any(p["row"] == 3 and p["column"] == "Received" for p in data["problems"])


def test_backup_is_kept(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10))])
    original = path.read_bytes()
    cli("refresh", path, "--now", NOW)
    backups = list((path.parent / ".sheetdesk" / "backups").glob("*.xlsx"))  # each has a .json label beside it
    assert len(backups) == 1 and backups[0].read_bytes() == original


def test_people_formatting_and_extras_survive(make_desk, cli):
    def decorate(wb):
        ws = wb["登记表"]
        ws["Z1"] = "我的备注列"
        ws["Z2"] = "客户很急"
        ws.column_dimensions["J"].width = 55
        ws["D2"].comment = Comment("老客户", "小李")
        ws["B2"].fill = PatternFill("solid", fgColor="FF00B050")
        ws.conditional_formatting.add("D2:D100", CellIsRule(operator="equal", formula=['"王女士"'],
                                                            fill=PatternFill("solid", bgColor="FFFFFF00")))
        dv = DataValidation(type="whole", operator="between", formula1="1", formula2="10")
        ws.add_data_validation(dv)
        dv.add("Z2:Z50")
        extra = wb.create_sheet("周报草稿")
        extra["A1"] = "本周重点"

    path = make_desk([ticket(datetime(2026, 11, 2, 10))], edit=decorate)
    before = openpyxl.load_workbook(path)
    n_dv = len(before["登记表"].data_validations.dataValidation)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    wb = openpyxl.load_workbook(path)
    ws = wb["登记表"]
    assert ws["Z2"].value == "客户很急" and ws["Z1"].value == "我的备注列"
    assert ws.column_dimensions["J"].width == 55
    assert ws["D2"].comment.text == "老客户"
    assert ws["B2"].fill.fgColor.rgb == "FF00B050"
    assert len(ws.conditional_formatting) == 1
    assert len(ws.data_validations.dataValidation) == n_dv
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert wb["周报草稿"]["A1"].value == "本周重点"
    assert wb.sheetnames[:len(before.sheetnames)] == before.sheetnames


def test_header_under_title_rows_reordered_english_and_extra_columns(tmp_path, cli):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "登记表"
    ws["A1"] = "2026年售后反馈登记表"
    ws.merge_cells("A1:F1")
    headers = ["  description* ", "客户名称", "Received *", "CHANNEL", "联系方式", "我的列", "ID"]
    for i, h in enumerate(headers, 1):
        ws.cell(3, i, h)
    ws.append(["按钮无响应，错误代码为E03", "李先生", "2026年11月17日 9:30", "邮件", "021-62345678", "x", None])
    ws.append([None] * 7)
    ws.cell(6, 1).fill = PatternFill("solid", fgColor="FFDDDDDD")  # formatted but empty
    src = openpyxl.load_workbook(__import__("sheetdesk.app.templates", fromlist=["x"]).template_file("zh", "p0p1p2"))
    for name in ("分类矩阵", "时效标准", "选项"):
        target = wb.create_sheet(name)
        for row in src[name].iter_rows(values_only=True):
            target.append(row)
    path = tmp_path / "desk.xlsx"
    wb.save(path)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(path)["登记表"]
    assert ws["G4"].value == "202611-001"
    assert ws["F4"].value == "x"
    assert ws["A1"].value == "2026年售后反馈登记表"
    headers_after = [c.value for c in ws[3]]
    assert "校验" in headers_after and "责任部门" not in headers_after[:7]
    assert ws.max_row == 6 or ws.cell(5, 7).value is None


@pytest.mark.parametrize("removed, text", [("时效标准", "缺少工作表“时效标准”"), ("登记表", "缺少工作表“登记表”")])
def test_missing_sheet_stops_with_nothing_written(make_desk, cli, removed, text):
    path = make_desk([ticket(datetime(2026, 11, 2, 10))], edit=lambda wb: wb.remove(wb[removed]))
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0
    assert text in result.output and "Traceback" not in result.output
    assert path.read_bytes() == before


def test_missing_required_header_stops(make_desk, cli):
    def rename(wb):
        ws = wb["登记表"]
        ws.cell(1, col_of(ws, "register", "description")).value = "问题"
    path = make_desk([ticket(datetime(2026, 11, 2, 10))], edit=rename)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "缺少必需的列：问题描述" in result.output


def test_office_lock_refuses_and_names_the_owner(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10))])
    name = "张三"
    ansi = name.encode("gbk")
    data = bytes([len(ansi)]) + ansi
    data += b" " * (55 - len(data)) + len(name).to_bytes(2, "little") + name.encode("utf-16-le")
    data += b" " * (165 - len(data))
    (path.parent / "~$desk.xlsx").write_bytes(data)
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "张三" in result.output
    assert path.read_bytes() == before
    assert cli("validate", path, "--now", NOW).exit_code == 0   # reading is fine


def test_libreoffice_lock_refuses(make_desk, cli):
    path = make_desk([ticket(datetime(2026, 11, 2, 10))])
    (path.parent / ".~lock.desk.xlsx#").write_text("李四,lisi,PC-01,23.11.2026 08:55,file:///home/lisi;",
                                                     encoding="utf-8")
    result = cli("refresh", path, "--now", NOW, "--lang", "en")
    assert result.exit_code != 0 and "李四" in result.output


def test_refuses_to_drop_a_chart(tmp_path, make_desk, cli):
    import xlsxwriter

    path = tmp_path / "chart.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    for name in ("登记表", "分类矩阵", "时效标准"):
        wb.add_worksheet(name)
    ws = wb.get_worksheet_by_name("登记表")
    ws.write_row(0, 0, ["反馈编号", "反馈时间", "反馈渠道", "客户名称", "问题描述"])
    ws.write_row(1, 0, ["", "2026-11-02 10:00", "电话", "王女士", "无法开机"])
    wb.get_worksheet_by_name("时效标准").write_row(0, 0, ["优先级", "首次响应", "问题关闭"])
    wb.get_worksheet_by_name("时效标准").write_row(1, 0, ["P1", "2小时", "3个工作日"])
    wb.get_worksheet_by_name("分类矩阵").write_row(0, 0, ["问题分类", "责任部门"])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=登记表!$A$1:$A$2"})
    ws.insert_chart("H2", chart)
    wb.close()
    before = path.read_bytes()
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "图表" in result.output
    assert path.read_bytes() == before


def test_corrupt_file_is_a_one_line_error(tmp_path, cli):
    path = tmp_path / "desk.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_book(tmp_path, cli):
    result = cli("refresh", tmp_path / "nope.xlsx", "--now", NOW)
    assert result.exit_code != 0 and "找不到工作簿" in result.output


def test_english_desk(make_desk, cli):
    path = make_desk([dict(received=datetime(2026, 11, 2, 10), channel="Email", customer="ACME Ltd",
                           description="The unit is broken and will not power on")], lang="en")
    result = cli("refresh", path, "--now", NOW, "--lang", "en")
    assert result.exit_code == 0, result.output
    row = register_rows(path, lang="en")[2]
    assert row["id"] == "202611-001"
    assert "saved" in result.output


def test_bad_now_option(make_desk, cli):
    path = make_desk([])
    result = cli("refresh", path, "--now", "tomorrow")
    assert result.exit_code == 2 and "--now" in result.output


def test_empty_string_cells_do_not_block_the_save(make_desk, cli):
    """Files written by other tools hold '' in cells; openpyxl drops them on save — that is not a loss."""
    def edit(wb):
        ws = wb["登记表"]
        ws.cell(2, col_of(ws, "register", "batch"), "")
        ws.cell(3, col_of(ws, "register", "expectation"), "")
    path = make_desk([ticket(datetime(2026, 11, 2, 10)), ticket("上周三")], edit=edit)
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert register_rows(path)[2]["id"] == "202611-001"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fast_read_only_path_agrees_with_the_saving_path(tmp_path, cli, lang):
    """validate reads with calamine, a dry run on the openpyxl engine with openpyxl: same problems, same
    stand-up, on the demo data."""
    from sheetdesk.app.sampledata import fill_demo
    from sheetdesk.workbook.template import build_template

    wb = build_template(lang)
    fill_demo(wb, lang=lang)
    path = tmp_path / "desk.xlsx"
    wb.save(path)
    fast = json.loads(cli("validate", path, "--json", "--now", NOW).output)
    (tmp_path / "sheetdesk.toml").write_text('[desk]\nengine = "openpyxl"\n', encoding="utf-8")
    slow = json.loads(cli("refresh", path, "--json", "--dry-run", "--now", NOW).output)
    assert fast["problems"] == slow["problems"]
    assert fast["standup"] == slow["standup"]
    assert fast["rows"] == slow["rows"] and fast["issued"] == slow["issued"]


def test_category_of_only_separators_is_not_a_crash(make_desk, cli):
    """Found by the property suite: a 问题分类 of "," names no category."""
    path = make_desk([ticket(datetime(2026, 11, 2, 10), category="，")])
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert register_rows(path)[2]["id"] == "202611-001"


def test_a_dry_run_lists_the_same_changes_on_both_engines(tmp_path, cli):
    """The patch engine plans a dry run too (fast on a big desk); what it lists is what the openpyxl
    engine would change, cell for cell."""
    from sheetdesk.app.sampledata import fill_demo
    from sheetdesk.workbook.template import build_template

    wb = build_template("zh")
    fill_demo(wb, lang="zh")
    listed = {}
    for engine in ("patch", "openpyxl"):
        folder = tmp_path / engine
        folder.mkdir()
        wb.save(folder / "desk.xlsx")
        (folder / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
        before = (folder / "desk.xlsx").read_bytes()
        out = json.loads(cli("refresh", folder / "desk.xlsx", "--json", "--dry-run", "--now", NOW).output)
        assert out["dry_run"] and not out["written"] and (folder / "desk.xlsx").read_bytes() == before
        listed[engine] = sorted((c["sheet"], c["row"], c["column"], str(c["new"])) for c in out["changes"])
    assert len(listed["patch"]) > 100 and listed["patch"] == listed["openpyxl"]

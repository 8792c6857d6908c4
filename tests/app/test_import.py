"""`sheetdesk import`: real exports (GBK, UTF-8 with BOM, xlsx) into real desks, end to end through the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from sheetdesk.app.import_files import Mapping, load_mapping, read_source
from tests.helpers import NOW, register_rows

EXAMPLES = Path(__file__).resolve().parents[2] / "sheetdesk" / "examples" / "import"

CALLS_HEADER = ["工单号", "来电时间", "来电号码", "客户姓名", "业务类型", "问题内容", "渠道"]
CALLS = [
    ["A001", "2026/11/02 09:15", "13812345678", "王建国", "售后维修", "空调外机异响", "400电话"],
    ["A002", "2026/11/03 10:42", "13998765432", "李梅", "", "下单一周快递还没收到", "在线"],
    ["A003", "2026/11/04 14:02", "021-62345678", "某某餐饮", "技术问题", "冰柜显示屏报错", ""],
]
CALLS_MAP = """
[import]
external_ref = "工单号"

[columns]
received = "来电时间"
contact = "来电号码"
"客户名称" = "客户姓名"
category = "业务类型"
description = "问题内容"
channel = "渠道"

[values.channel]
"400电话" = "400热线"
"在线" = "在线客服"

[values.category]
"售后维修" = "产品质量类"
"技术问题" = "技术支持类"

[defaults]
channel = "电话"
"""


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str, delimiter: str = ",") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def calls_setup(tmp_path: Path, rows=CALLS, encoding="gbk") -> tuple[Path, Path]:
    src = write_csv(tmp_path / "calls.csv", CALLS_HEADER, rows, encoding)
    mapping = tmp_path / "calls.toml"
    mapping.write_text(CALLS_MAP, encoding="utf-8")
    return src, mapping


def rejected_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("rejected-*.csv"))


def read_rejected(path: Path) -> list[list[str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_gbk_export_lands_with_ids_mapped_channels_and_routed_categories(make_desk, cli, tmp_path):
    desk = make_desk()
    src, mapping = calls_setup(tmp_path)
    assert src.read_bytes().decode("gbk") and b"\xef\xbb\xbf" not in src.read_bytes()[:3]

    result = cli("import", desk, src, "--map", mapping, "--now", NOW)

    assert result.exit_code == 0, result.output
    assert "GBK" in result.output and "已导入 3 条" in result.output
    rows = list(register_rows(desk).values())
    assert [r["id"] for r in rows] == ["202611-001", "202611-002", "202611-003"]
    assert [r["channel"] for r in rows] == ["400热线", "在线客服", "电话"]   # mapped, mapped, default
    assert rows[0]["received"] == datetime(2026, 11, 2, 9, 15)
    assert rows[0]["category"] == "产品质量类" and rows[0]["department"] == "维修部"   # mapped value, routed
    assert rows[1]["category"] == "物流类" and rows[1]["owner"] == "孙工"             # blank: keyword routing
    assert rows[2]["category"] == "技术支持类" and rows[2]["contact"] == "021-62345678"
    # notes only, and the registration warning: calls of Nov 2–4 registered by the import on Nov 23
    assert all(part.startswith(("提示", "注意：登记时间：登记不及时")) for r in rows
               for part in (r["check"] or "提示").split("；"))
    ws = openpyxl.load_workbook(desk)["登记表"]
    header = [c.value for c in ws[1]]
    assert header[-1] == "外部编号" and header.count("外部编号") == 1
    assert [ws.cell(r, len(header)).value for r in (2, 3, 4)] == ["A001", "A002", "A003"]
    assert "202611-001" in result.output and not rejected_files(tmp_path)


def test_reimporting_the_same_file_adds_nothing(make_desk, cli, tmp_path):
    desk = make_desk()
    src, mapping = calls_setup(tmp_path)
    assert cli("import", desk, src, "--map", mapping, "--now", NOW).exit_code == 0
    before = desk.read_bytes()

    again = cli("import", desk, src, "--map", mapping, "--now", NOW)

    assert again.exit_code == 0, again.output
    assert "已导入 0 条" in again.output and "跳过 3 条已导入过的" in again.output
    assert desk.read_bytes() == before
    # a later export overlapping the first adds only the new record
    more = write_csv(tmp_path / "calls2.csv", CALLS_HEADER,
                     CALLS + [["A004", "2026/11/05 08:00", "13700003333", "陈静", "售后维修", "热水器漏水", "400电话"]], "gbk")
    third = cli("import", desk, more, "--map", mapping, "--now", NOW)
    assert "已导入 1 条（202611-004）" in third.output
    assert len(register_rows(desk)) == 4


def test_utf8_bom_export_without_map_matches_register_headers_and_dedupes_by_content(make_desk, cli, tmp_path):
    desk = make_desk()
    header = ["反馈时间", "反馈渠道", "客户名称", "问题描述", "联系方式", "别的列"]
    rows = [["2026-11-10 09:00", "邮件", "甲公司", "设备无法开机", "wang@example.com", "x"],
            ["2026-11-11 10:30", "APP", "乙", "APP 闪退", "", "y"]]
    src = write_csv(tmp_path / "chat.csv", header, rows, "utf-8-sig", delimiter="\t")

    first = cli("import", desk, src, "--now", NOW)
    second = cli("import", desk, src, "--now", NOW)

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "UTF-8 (BOM)" in first.output and "制表符" in first.output
    got = list(register_rows(desk).values())
    assert [(r["id"], r["channel"], r["customer"]) for r in got] == [("202611-001", "邮件", "甲公司"),
                                                                      ("202611-002", "APP", "乙")]
    assert "跳过 2 条已导入过的" in second.output and len(got) == 2


def test_xlsx_export_with_title_rows_and_a_named_sheet(make_desk, cli, tmp_path):
    desk = make_desk()
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    ws = wb.create_sheet("工单")
    ws.append(["客服系统工单导出 2026-11"])
    ws.append(["工单号", "创建时间", "电话", "客户", "内容", "渠道"])
    ws.append([1001, datetime(2026, 11, 2, 9, 30), 13812345678, "王五", "物流一直没收到", "在线"])
    ws.append([1002, datetime(2026, 11, 3, 15, 0), 13998765432, "赵六", "屏幕有裂纹，功能故障", "电话"])
    ws.append([1003, "不是时间", 13611112222, "钱七", "没人理", "电话"])
    src = tmp_path / "tickets.xlsx"
    wb.save(src)
    mapping = tmp_path / "tickets.toml"
    mapping.write_text("""
[import]
sheet = "工单"
skip_rows = 1
external_ref = "工单号"
prefix = "KF-"
[columns]
received = "创建时间"
contact = "电话"
customer = "客户"
description = "内容"
channel = "渠道"
[values.channel]
"在线" = "在线客服"
""", encoding="utf-8")

    result = cli("import", desk, src, "--map", mapping, "--now", NOW)

    assert result.exit_code == 0, result.output
    assert "已导入 2 条" in result.output and "拒绝 1 条" in result.output
    rows = list(register_rows(desk).values())
    assert [r["received"] for r in rows] == [datetime(2026, 11, 2, 9, 30), datetime(2026, 11, 3, 15, 0)]
    assert [r["contact"] for r in rows] == ["13812345678", "13998765432"]   # text, no '.0'
    assert [r["category"] for r in rows] == ["物流类", "产品质量类"] and rows[0]["channel"] == "在线客服"
    reg = openpyxl.load_workbook(desk)["登记表"]
    assert reg.cell(2, reg.max_column).value == "KF-1001"
    (rejected,) = rejected_files(tmp_path)
    table = read_rejected(rejected)
    assert table[0] == ["客服系统工单导出 2026-11"]            # the title row is kept: the same map fits
    assert table[1] == ["工单号", "创建时间", "电话", "客户", "内容", "渠道", "拒绝原因"]
    assert table[2][0] == "1003" and "创建时间“不是时间”" in table[2][-1]
    assert re.search(r"│\s*5\s*│\s*创建时间\s*│\s*不是时间", result.output)  # the sheet row, as Excel numbers it


def test_bad_rows_are_rejected_with_reasons_and_good_rows_still_land(make_desk, cli, tmp_path):
    desk = make_desk()
    rows = CALLS + [
        ["B001", "2026-11-31 10:00", "13512340000", "孙丽", "", "洗衣机无法开机", "400电话"],   # no such day
        ["B002", "2026/11/05 10:00", "13512340001", "周强", "", "", "400电话"],                # no description
        ["B003", "2026/11/05 11:00", "13512340002", "吴敏", "", "客服没人接", "传真"],           # unknown channel
        ["B004", "2026/11/05 12:00", "13512340003", "郑浩", "乱写的类", "漏水", "400电话"],        # unknown category
        ["", "2026/11/05 13:00", "13512340004", "冯芳", "", "漏水", "400电话"],                  # no reference
        ["B005", "2026/11/30 13:00", "13512340005", "何军", "", "漏水", "400电话"],                # in the future
    ]
    src, mapping = calls_setup(tmp_path, rows)

    result = cli("import", desk, src, "--map", mapping, "--now", NOW)

    assert result.exit_code == 0, result.output
    assert "已导入 3 条" in result.output and "拒绝 6 条" in result.output
    assert [r["customer"] for r in register_rows(desk).values()] == ["王建国", "李梅", "某某餐饮"]
    (rejected,) = rejected_files(tmp_path)
    assert rejected.name.startswith("rejected-calls-20261123-0900") and str(rejected) in result.output
    table = read_rejected(rejected)
    assert table[0] == CALLS_HEADER + ["拒绝原因"]
    reasons = {row[0]: row[-1] for row in table[1:]}
    assert "来电时间“2026-11-31 10:00”" in reasons["B001"] and "无法识别的时间" in reasons["B001"]
    assert reasons["B002"].startswith("问题内容：必填项为空")
    assert "渠道“传真”" in reasons["B003"] and "未知渠道" in reasons["B003"]
    assert "业务类型“乱写的类”" in reasons["B004"] and "不在分类矩阵中" in reasons["B004"]
    assert "外部编号为空" in reasons[""]
    assert "晚于当前时间" in reasons["B005"]
    assert [row[:7] for row in table[1:]] == [r for r in rows[3:]]   # the source cells, untouched
    # the console names line, column and value of each
    assert "传真" in result.output and "乱写的类" in result.output

    # fix the rejected file and import it again with the same map: the fixed rows land, nothing twice
    fixed = [row[:7] for row in table[1:]]
    fixed[0][1], fixed[1][5], fixed[2][6], fixed[3][4] = "2026-11-20 10:00", "门锁失灵", "400电话", "售后维修"
    write_csv(rejected, table[0], [row + [""] for row in fixed], "utf-8-sig")
    again = cli("import", desk, rejected, "--map", mapping, "--now", NOW)
    assert again.exit_code == 0, again.output
    assert "已导入 4 条" in again.output and "拒绝 2 条" in again.output
    assert len(register_rows(desk)) == 7


def test_repeated_reference_within_one_file_lands_once(make_desk, cli, tmp_path):
    desk = make_desk()
    src, mapping = calls_setup(tmp_path, CALLS + [CALLS[0]])
    result = cli("import", desk, src, "--map", mapping, "--now", NOW)
    assert "已导入 3 条" in result.output and "跳过 1 条文件内重复的" in result.output
    assert len(register_rows(desk)) == 3


BAD_MAPS = [
    ("[columns\nreceived = 1", "不是有效的 TOML"),
    ("[columns]\nreceived = \"来电时间\"\nwhatever = \"渠道\"", "不是登记表的列"),
    ("[columns]\nstatus = \"渠道\"", "这一列由 sheetdesk 填写"),
    ("[colums]\nreceived = \"来电时间\"", "未知的节"),
    ("[import]\nexternal_ref = \"单号\"\n[columns]\nreceived = \"来电时间\"\nchannel = \"渠道\"\n"
     "customer = \"客户姓名\"\ndescription = \"问题内容\"", "没有这一列"),
    ("[columns]\nreceived = \"来电时间\"\ncustomer = \"客户姓名\"\ndescription = \"问题内容\"", "没有为必填列 反馈渠道"),
    ("[import]\nencoding = \"klingon\"", "未知的编码"),
]


@pytest.mark.parametrize("text, message", BAD_MAPS)
def test_bad_map_file_stops_with_one_line_and_touches_nothing(make_desk, cli, tmp_path, text, message):
    desk = make_desk()
    src, mapping = calls_setup(tmp_path)
    mapping.write_text(text, encoding="utf-8")
    before = desk.read_bytes()

    result = cli("import", desk, src, "--map", mapping, "--now", NOW)

    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert desk.read_bytes() == before and not rejected_files(tmp_path)


@pytest.mark.parametrize("content, message", [
    (b"\x81\x20\xff\xfe\x00\x01" * 20, "无法识别"),                    # neither UTF-8 nor GB18030
    (b"PK\x03\x04 not really a zip", "无法读取"),
    (b"<html><table><tr><td>1</td></tr></table></html>", "网页"),
    (b"", "空文件"),
    (None, "找不到要导入的文件"),
])
def test_unreadable_file_stops_with_one_line_and_touches_nothing(make_desk, cli, tmp_path, content, message):
    desk = make_desk()
    src = tmp_path / "export.xls"
    if content is not None:
        src.write_bytes(content)
    before = desk.read_bytes()

    result = cli("import", desk, src, "--now", NOW)

    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert desk.read_bytes() == before


def test_headers_that_do_not_match_without_a_map_say_so(make_desk, cli, tmp_path):
    desk = make_desk()
    src, _ = calls_setup(tmp_path)
    result = cli("import", desk, src, "--now", NOW)
    assert result.exit_code != 0 and "--map" in result.output and "来电时间" in result.output


def test_missing_desk_is_one_line(cli, tmp_path):
    src, mapping = calls_setup(tmp_path)
    result = cli("import", tmp_path / "nope.xlsx", src, "--map", mapping, "--now", NOW)
    assert result.exit_code != 0 and "找不到工作簿" in result.output and "Traceback" not in result.output


def test_one_argument_is_the_file_and_the_book_is_desk_xlsx(make_desk, cli, tmp_path, monkeypatch):
    make_desk()
    src, mapping = calls_setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = cli("import", "calls.csv", "--map", "calls.toml", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert len(register_rows(tmp_path / "desk.xlsx")) == 3


def test_no_file_argument_is_one_line(make_desk, cli, tmp_path, monkeypatch):
    make_desk()
    monkeypatch.chdir(tmp_path)
    before = (tmp_path / "desk.xlsx").read_bytes()
    result = cli("import", "--now", NOW)
    assert result.exit_code == 2 and "缺少要导入的文件" in result.output
    assert len(result.output.strip().splitlines()) == 1 and (tmp_path / "desk.xlsx").read_bytes() == before


def test_english_desk_gets_an_english_reference_column_and_messages(make_desk, cli, tmp_path):
    desk = make_desk(lang="en")
    header = ["Received", "Channel", "Customer", "Description", "Order no."]
    src = write_csv(tmp_path / "shop.csv", header, [["2026-11-10 09:00", "E-commerce review", "Ann", "arrived broken", "9001"],
                                                     ["2026-11-10 10:00", "Fax", "Bob", "late", "9002"]], "utf-8")
    mapping = tmp_path / "shop.toml"
    mapping.write_text('[import]\nexternal_ref = "Order no."\n', encoding="utf-8")

    result = cli("import", desk, src, "--map", mapping, "--now", NOW)

    assert result.exit_code == 0, result.output
    assert "imported 1 (202611-001)" in result.output and "rejected 1" in result.output
    ws = openpyxl.load_workbook(desk)["Register"]
    assert ws.cell(1, ws.max_column).value == "External ref" and ws.cell(2, ws.max_column).value == "9001"
    table = read_rejected(rejected_files(tmp_path)[0])
    assert table[0][-1] == "Reason" and "Channel 'Fax'" in table[1][-1]


def test_dry_run_writes_nothing(make_desk, cli, tmp_path):
    desk = make_desk()
    src, mapping = calls_setup(tmp_path, CALLS + [["X", "bad", "13812345678", "a", "", "b", "400电话"]])
    before = desk.read_bytes()
    result = cli("import", desk, src, "--map", mapping, "--now", NOW, "--dry-run")
    assert result.exit_code == 0 and "可导入 3 条" in result.output and "拒绝 1 条" in result.output
    assert desk.read_bytes() == before and not rejected_files(tmp_path)


def test_large_file_imports_in_one_write(make_desk, cli, tmp_path):
    desk = make_desk()
    rows = [[f"L{i:05d}", f"2026-11-{1 + i % 20:02d} {9 + i % 8:02d}:{i % 60:02d}", "13812345678", f"客户{i}", "",
             "快递没收到", "400电话"] for i in range(1500)]
    src, mapping = calls_setup(tmp_path, rows)
    result = cli("import", desk, src, "--map", mapping, "--now", NOW, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["imported"]) == 1500 and not data["rejected"]
    ids = [item["id"] for item in data["imported"]]
    assert len(set(ids)) == 1500 and all(i.startswith("202611-") for i in ids)


@pytest.mark.parametrize("encoding, delimiter", [("gbk", ","), ("gb18030", ";"), ("utf-8", "|"), ("utf-8-sig", "\t"),
                                                  ("utf-16", "\t")])
def test_encodings_and_delimiters_are_detected(tmp_path, encoding, delimiter):
    src = write_csv(tmp_path / "x.csv", ["反馈时间", "问题描述"], [["2026-11-02 09:00", "有“引号”, 逗号；分号"]],
                    encoding, delimiter)
    source = read_source(src, Mapping())
    assert source.header == ["反馈时间", "问题描述"]
    assert source.rows[0].cells == ["2026-11-02 09:00", "有“引号”, 逗号；分号"] and source.rows[0].line == 2


def test_multiline_cells_keep_their_starting_line(tmp_path):
    src = tmp_path / "x.csv"
    src.write_text('单号,内容\r\n1,"第一行\r\n第二行"\r\n2,下一条\r\n', encoding="utf-8")
    source = read_source(src, Mapping())
    assert [r.line for r in source.rows] == [2, 4]


def test_load_mapping_accepts_header_names_and_lists(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[columns]\n"问题描述" = ["内容", "备注"]\n"Received" = "时间"\n[values."反馈渠道"]\n"400 电话" = "400热线"\n',
                    encoding="utf-8")
    m = load_mapping(path)
    assert m.columns == {"description": ["内容", "备注"], "received": ["时间"]}
    assert m.values == {"channel": {"400电话": "400热线"}}


def test_samples_import_cleanly_into_a_fresh_desk(cli, tmp_path):
    assert cli("init", tmp_path / "desk").exit_code == 0
    desk = tmp_path / "desk" / "desk.xlsx"
    work = tmp_path / "samples"
    written = cli("import", "--example", work)   # the shipped examples, as a user gets them
    assert written.exit_code == 0, written.output
    assert f"sheetdesk import desk.xlsx {work / 'callcenter-export.csv'} --map {work / 'callcenter.toml'}" in written.output
    assert sorted(p.name for p in work.iterdir()) == sorted(p.name for p in EXAMPLES.iterdir())
    assert (work / "callcenter-export.csv").read_bytes().decode("gbk")
    assert (work / "shop-reviews.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    calls = cli("import", desk, work / "callcenter-export.csv", "--map", work / "callcenter.toml", "--now", NOW, "--json")
    shop = cli("import", desk, work / "shop-reviews.csv", "--map", work / "shop-reviews.toml", "--now", NOW, "--json")

    for result, imported, rejected_lines in ((calls, 11, [11, 14, 15]), (shop, 8, [7, 9, 10])):
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert len(data["imported"]) == imported and all(item["id"] for item in data["imported"])
        assert [r["line"] for r in data["rejected"]] == rejected_lines   # only the deliberately bad rows
        assert Path(data["rejected_file"]).parent == work
    assert len(json.loads(calls.output)["skipped"]) == 1            # the repeated 工单号
    rows = list(register_rows(desk).values())
    assert len(rows) == 19 and all(r["id"] for r in rows)
    assert {r["channel"] for r in rows} == {"400热线", "在线客服", "公众号", "电话", "电商平台评价"}
    assert all(r["department"] for r in rows if r["category"])
    refresh = cli("refresh", desk, "--now", NOW)
    assert refresh.exit_code == 0 and "错误 0" in refresh.output, refresh.output


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_the_reference_column_never_takes_over_a_colleagues_unlabelled_column(make_desk, cli, tmp_path, engine):
    def notes(wb):
        wb["登记表"]["Z3"] = "回访过两次"  # a colleague's own column, no header

    desk = make_desk([dict(received=datetime(2026, 11, 1, 9), channel="电话", customer="赵女士", description="漏水")],
                     edit=notes)
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    src, mapping = calls_setup(tmp_path)
    result = cli("import", desk, src, "--map", mapping, "--now", NOW)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(desk)["登记表"]
    assert ws["Z1"].value is None and ws["Z3"].value == "回访过两次"
    assert ws["AA1"].value == "外部编号" and [ws.cell(r, 27).value for r in (3, 4, 5)] == ["A001", "A002", "A003"]


def test_the_reference_column_goes_past_formulas_whose_result_is_empty(make_desk, cli, tmp_path):
    """Calamine reads a formula that evaluates to "" as an empty cell; the column is still taken."""
    import zipfile

    def formulas(wb):
        for r in (2, 3, 4):
            wb["登记表"].cell(r, 26, f'=IF(A{r}="","","有")')  # Z: a colleague's helper column, no header

    desk = make_desk([dict(received=datetime(2026, 11, 1, 9), channel="电话", customer="赵女士", description="漏水")],
                     edit=formulas)
    cached = desk.with_suffix(".tmp")  # as Excel saves them: an empty cached result
    with zipfile.ZipFile(desk) as z, zipfile.ZipFile(cached, "w", zipfile.ZIP_DEFLATED) as out:
        for item in z.infolist():
            data = z.read(item)
            out.writestr(item, data.replace(b"<v />", b"<v></v>") if item.filename == "xl/worksheets/sheet1.xml" else data)
    cached.replace(desk)
    src, mapping = calls_setup(tmp_path)
    result = cli("import", desk, src, "--map", mapping, "--now", NOW)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(desk)["登记表"]
    assert ws["AA1"].value == "外部编号" and ws["Z1"].value is None
    assert [ws.cell(r, 26).value for r in (2, 3, 4)] == ['=IF(A2="","","有")', '=IF(A3="","","有")', '=IF(A4="","","有")']
    assert sorted(ws.cell(r, 4).value for r in (3, 4, 5)) == sorted(["王建国", "李梅", "某某餐饮"])


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_add_goes_below_a_row_that_still_holds_an_import_reference(make_desk, cli, tmp_path, engine):
    """A ticket whose cells were cleared but whose 外部编号 stayed still belongs to that reference: a new
    ticket must not land in its row (it would carry CRM-9, and a later import of CRM-9 would be skipped)."""
    def reference_left(wb):
        ws = wb["登记表"]
        ws.cell(1, 26, "外部编号")
        ws.cell(2, 26, "CRM-1")
        ws.cell(3, 26, "CRM-9")  # the ticket of row 3 was cleared, its reference was not

    desk = make_desk([dict(received=datetime(2026, 11, 1, 9), channel="电话", customer="赵女士", description="漏水")],
                     edit=reference_left)
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    result = cli("add", desk, "--customer", "李先生", "--channel", "电话", "--description", "无法开机",
                 "--received", "2026-11-20 10:00", "--now", NOW)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(desk)["登记表"]
    assert (ws["D3"].value, ws["Z3"].value) == (None, "CRM-9")
    assert (ws["D4"].value, ws["Z4"].value) == ("李先生", None)


def test_example_never_overwrites_an_edited_map(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("import", "--example").exit_code == 0              # default folder: import-examples
    folder = tmp_path / "import-examples"
    assert (folder / "shop-reviews.toml").read_bytes() == (EXAMPLES / "shop-reviews.toml").read_bytes()
    assert cli("import", "--example").exit_code == 0              # the same files again: nothing to refuse
    (folder / "callcenter.toml").write_text("# ours\n", encoding="utf-8")
    (folder / "shop-reviews.csv").unlink()
    again = cli("import", "--example", "--lang", "en")
    assert again.exit_code == 2 and "callcenter.toml already exists with other content" in again.output
    assert (folder / "callcenter.toml").read_text(encoding="utf-8") == "# ours\n"
    assert not (folder / "shop-reviews.csv").exists()            # nothing written
    both = cli("import", "desk.xlsx", "calls.csv", "--example")
    assert both.exit_code == 2 and "--example" in both.output


def test_the_examples_are_package_data():
    """A non-editable install carries only the package: pyproject's package-data must cover the examples."""
    import fnmatch

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    root = EXAMPLES.parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["sheetdesk"]
    files = [p.relative_to(root / "sheetdesk").as_posix() for p in EXAMPLES.iterdir()]
    assert len(files) == 4
    assert all(any(fnmatch.fnmatch(f, pat) for pat in patterns) for f in files), (files, patterns)


BIG5_ROWS = [["B001", "2026/11/02 09:15", "13812345678", "王建國", "售後維修", "機器無法開機，指示燈不亮", "電話"]]
SJIS_ROWS = [["J001", "2026/11/02 09:15", "13912345678", "山田太郎", "修理", "電源が入らない、ランプが点灯しない", "電話"]]


@pytest.mark.parametrize("encoding, rows, hint", [("big5", BIG5_ROWS, "big5"), ("shift_jis", SJIS_ROWS, "shift_jis")])
def test_big5_and_shift_jis_are_refused_not_imported_as_garbled_text(make_desk, cli, tmp_path, encoding, rows, hint):
    desk = make_desk()
    header = ["No", "Time", "Phone", "Name", "Type", "Text", "Channel"]
    src = tmp_path / "calls.csv"
    src.write_bytes(("\r\n".join(",".join(r) for r in [header, *rows]) + "\r\n").encode(encoding))
    mapping = tmp_path / "calls.toml"
    mapping.write_text('[import]\nexternal_ref = "No"\n[columns]\nreceived = "Time"\ncontact = "Phone"\n'
                       'customer = "Name"\ndescription = "Text"\n[defaults]\nchannel = "电话"\n', encoding="utf-8")
    before = desk.read_bytes()
    result = cli("import", desk, src, "--map", mapping, "--now", "2026-11-23 09:00")
    assert result.exit_code == 2, result.output
    assert "第 2 行" in result.output and "--encoding" in result.output and "Traceback" not in result.output
    assert desk.read_bytes() == before
    # told the encoding, the same file lands with its real text
    result = cli("import", desk, src, "--map", mapping, "--encoding", hint, "--now", "2026-11-23 09:00")
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(desk)["登记表"]
    assert rows[0][5] in [c.value for row in ws.iter_rows() for c in row], result.output


def test_a_gbk_file_with_one_utf8_row_names_the_line(make_desk, cli, tmp_path):
    desk = make_desk()
    src, mapping = calls_setup(tmp_path)
    data = src.read_bytes() + "A009,2026/11/06 10:00,13700001111,赵敏,,热水器不加热,电话\r\n".encode("utf-8")
    src.write_bytes(data)
    result = cli("import", desk, src, "--map", mapping, "--now", "2026-11-23 09:00", "--lang", "en")
    assert result.exit_code == 2
    assert "line 5" in result.output and "--encoding" in result.output


def test_a_forced_encoding_is_strict_and_names_the_line(make_desk, cli, tmp_path):
    desk = make_desk()
    src, mapping = calls_setup(tmp_path)  # GBK bytes
    result = cli("import", desk, src, "--map", mapping, "--encoding", "utf-8", "--now", "2026-11-23 09:00", "--lang", "en")
    assert result.exit_code == 2 and "line 1 is not utf-8" in result.output
    result = cli("import", desk, src, "--map", mapping, "--encoding", "klingon", "--now", "2026-11-23 09:00")
    assert result.exit_code == 2 and "未知的编码" in result.output


def test_rare_name_characters_and_traditional_text_typed_in_gbk_still_import(tmp_path):
    src = write_csv(tmp_path / "x.csv", ["反馈时间", "客户名称", "问题描述"],
                    [["2026-11-02 09:00", "王喆", "客戶说机器坏了，張先生很着急"], ["2026-11-02 10:00", "刘堃", "漏水"]], "gbk")
    source = read_source(src, Mapping())
    assert source.rows[0].cells[1] == "王喆" and source.rows[1].cells[1] == "刘堃"

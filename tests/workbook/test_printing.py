"""Printing: the desk's sheets and the summary print landscape, one page wide, the header row on every
page; summary charts never straddle a page break (checked on LibreOffice's PDF)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from datetime import datetime

import openpyxl
import pytest

from tests.helpers import NOW, soffice

ROWS = [
    dict(received=datetime(2026, 11, 2, 10), channel="电话", customer="王女士", contact="13812345678",
         description="机器无法开机"),
    dict(received=datetime(2026, 11, 3, 9, 30), channel="邮件", customer="李先生", description="快递没收到"),
]
LOG = [{"id": "202611-001", "time": datetime(2026, 11, 2, 11), "by": "李工", "step": "首次响应"},
       {"id": "202611-001", "time": datetime(2026, 11, 5, 10), "by": "李工", "step": "问题关闭"}]


def assert_printed(ws, freeze: str) -> None:
    """Landscape A4, fitted to one page wide and as many long as needed, row 1 on every page."""
    setup = ws.page_setup
    assert setup.orientation == "landscape", ws.title
    assert int(setup.paperSize) == 9, ws.title
    assert ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    # an absent fitToWidth is 1 (xlsxwriter leaves the default out); an absent fitToHeight would be 1 too
    assert (1 if setup.fitToWidth is None else int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0), ws.title
    assert ws.print_title_rows == "$1:$1", ws.title
    assert ws.freeze_panes == freeze, ws.title


def print_titles(path) -> dict[str, str]:
    """sheet name -> its _xlnm.Print_Titles, as workbook.xml holds them."""
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/workbook.xml").decode("utf-8")
    names = re.findall(r'<sheet\b[^>]*\bname="([^"]+)"', xml)
    out = {}
    for local, ref in re.findall(r'<definedName name="_xlnm.Print_Titles" localSheetId="(\d+)">([^<]+)<', xml):
        out[names[int(local)]] = ref.replace("&apos;", "'")
    return out


def strip_print_titles(path, sheet: str) -> None:
    """Take a sheet's print titles out of workbook.xml, as a desk written before sheetdesk set them has it."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    xml = parts["xl/workbook.xml"].decode("utf-8")
    names = re.findall(r'<sheet\b[^>]*\bname="([^"]+)"', xml)
    xml = re.sub(rf'<definedName name="_xlnm.Print_Titles" localSheetId="{names.index(sheet)}">[^<]*</definedName>',
                 "", xml)
    parts["xl/workbook.xml"] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_a_new_desk_prints_its_sheets_landscape_one_page_wide(cli, tmp_path):
    assert cli("init", tmp_path / "d").exit_code == 0
    book = tmp_path / "d" / "desk.xlsx"
    wb = openpyxl.load_workbook(book)
    for name in ("登记表", "进度跟踪", "处理结果", "回访计划"):
        assert_printed(wb[name], "A2")
    assert print_titles(book)["登记表"] == "'登记表'!$1:$1"


def use_engine(folder, engine: str) -> None:
    (folder / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_refresh_gives_the_tracker_and_follow_ups_their_print_setup(make_desk, cli, tmp_path, engine):
    path = make_desk(ROWS, progress=LOG)
    use_engine(tmp_path, engine)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    wb = openpyxl.load_workbook(path)
    for name in ("跟踪看板", "回访计划"):
        assert wb[name].max_row >= 2, name  # rebuilt with rows
        assert_printed(wb[name], "B2")
    titles = print_titles(path)
    assert titles["跟踪看板"] == "'跟踪看板'!$1:$1" and titles["回访计划"] == "'回访计划'!$1:$1"
    assert_printed(wb["登记表"], "A2")  # the register keeps the template's

    # a desk written before sheetdesk set up printing: its tracker is rebuilt once with the layout
    ws = wb["跟踪看板"]
    ws.page_setup.orientation, ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = None, None, None
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    wb.save(path)
    strip_print_titles(path, "跟踪看板")
    assert "跟踪看板" not in print_titles(path)
    result = cli("refresh", path, "--now", NOW, "--json")
    assert result.exit_code == 0, result.output
    assert [c["sheet"] for c in json.loads(result.output)["changes"]] == ["跟踪看板"]
    assert_printed(openpyxl.load_workbook(path)["跟踪看板"], "B2")
    assert print_titles(path)["跟踪看板"] == "'跟踪看板'!$1:$1"
    again = cli("refresh", path, "--now", NOW, "--json")
    assert json.loads(again.output)["changes"] == []  # and then it is stable


@pytest.mark.parametrize("engine", ["patch", "openpyxl"])
def test_refresh_never_changes_the_page_setup_people_chose(make_desk, cli, tmp_path, engine):
    """The register belongs to the team: a portrait register stays portrait."""
    def portrait(wb):
        ws = wb["登记表"]
        ws.page_setup.orientation = "portrait"
        ws.print_title_rows = "1:2"
    path = make_desk(ROWS, edit=portrait)
    use_engine(tmp_path, engine)
    assert cli("refresh", path, "--now", NOW).exit_code == 0
    ws = openpyxl.load_workbook(path)["登记表"]
    assert ws.page_setup.orientation == "portrait" and ws.print_title_rows == "$1:$2"
    assert print_titles(path)["登记表"] == "'登记表'!$1:$2"


def test_summary_sheets_print_landscape_one_page_wide(make_desk, cli, tmp_path):
    path = make_desk(ROWS, progress=LOG)
    out = tmp_path / "s.xlsx"
    assert cli("summary", path, "--month", "2026-11", "-o", out, "--now", NOW).exit_code == 0
    wb = openpyxl.load_workbook(out)
    for ws in wb:
        assert_printed(ws, "A4" if ws.title == "时效监控" else "A2")
    week = tmp_path / "w.xlsx"
    assert cli("summary", path, "--week", "2026-W45", "-o", week, "--now", NOW).exit_code == 0
    monitor = openpyxl.load_workbook(week)["时效监控"]
    assert monitor.page_setup.orientation == "landscape" and monitor.sheet_properties.pageSetUpPr.fitToPage
    assert monitor.page_setup.fitToWidth in (None, 1) and monitor.page_setup.fitToHeight == 0


# --- the summary on paper, as LibreOffice prints it ------------------------------------------------

_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def pdf_pages(xlsx, outdir) -> list[list[tuple[float, float, float, float, str]]]:
    """The words of each page of LibreOffice's PDF of ``xlsx``, with their boxes (points, y downwards)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run([soffice(), f"-env:UserInstallation=file://{outdir / 'lo-profile'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(outdir), str(xlsx)],
                   check=True, capture_output=True, timeout=180)
    pdf = outdir / (xlsx.stem + ".pdf")
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True).stdout.decode()
    pages = []
    for page in html.split("<page ")[1:]:
        pages.append([(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in _WORD.findall(page)])
    return pages


def header(page):
    """The page header's words: the top line."""
    top = min(w[1] for w in page)
    return [w for w in page if w[1] < top + 2]


def sheet_of(page) -> str:
    """Each page's header names its sheet at the right (``&A``)."""
    return max(header(page), key=lambda w: w[2])[4]


def chart_words(page, last_headers: tuple[str, str]):
    """Words right of the table, whose last two header cells read ``last_headers``: the chart's.
    The table's right edge is its last column's, as wide as the one before it."""
    below = max(w[3] for w in header(page))
    found = [min((w for w in page if w[4] == text and w[1] > below), key=lambda w: w[1]) for text in last_headers]
    right = found[1][0] + (found[1][0] - found[0][0])
    return [w for w in page if w[0] > right + 2 and w[1] > below]


def assert_chart_whole(pages, sheet: str, title: str, table_edge: tuple[str, str]) -> None:
    """The chart's title is on the sheet's first page, and every bit of the chart's text (title,
    axis and data labels) is on that one page: a chart cut by a page break would leave its lower
    labels on the next page, a chart placed below a long table would start on a later page."""
    own = [p for p in pages if sheet_of(p) == sheet]
    assert own, f"no page of {sheet}"
    first = chart_words(own[0], table_edge)
    assert title in "".join(w[4] for w in first), f"{sheet}: chart title not on its first page"
    title_top = min(w[1] for w in first if w[4] and w[4] in title)
    below = [w for w in first if w[1] > title_top + 15]
    assert len(below) >= 5, f"{sheet}: the chart's axis labels are not under its title on the same page"
    for later in own[1:]:
        assert chart_words(later, table_edge) == [], f"{sheet}: part of the chart is on a later page"


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_summary_charts_print_whole_on_one_page(make_desk, cli, tmp_path):
    categories = [f"类别{i:02d}" for i in range(1, 61)]  # a table longer than a page

    def many_categories(wb):
        ws = wb["分类矩阵"]
        for name in categories:
            ws.append([name, "", "客户服务部", "赵主管", "", "P2", ""])
    rows = [dict(received=datetime(2026, 11, 2 + i % 20, 10), channel="电话", customer=f"客户{i}",
                 description="请回电", category=name) for i, name in enumerate(categories)] + ROWS
    results = [{"id": "202611-001", "satisfaction": "满意", "rated_at": datetime(2026, 11, 6, 10)}]
    path = make_desk(rows, progress=LOG, results=results, edit=many_categories)
    out = tmp_path / "s.xlsx"
    assert cli("summary", path, "--month", "2026-11", "-o", out, "--now", NOW).exit_code == 0
    pages = pdf_pages(out, tmp_path / "pdf")
    sheets = openpyxl.load_workbook(out).sheetnames
    # each sheet is one page wide: its pages follow each other and nothing spills to a page to the right
    # (a sheet wider than a page would print its right-hand columns on pages without the first column)
    order = [sheet_of(p) for p in pages]
    assert [s for i, s in enumerate(order) if i == 0 or order[i - 1] != s] == sheets
    assert order.count("分类") >= 2 and all(order.count(s) == 1 for s in sheets if s != "分类")
    for page in pages:
        assert any(w[4] == "受理量" or w[4] in ("指标", "评价", "超时原因", "不满意数", "回访类型") for w in page)
    assert_chart_whole(pages, "分类", "问题分类分布（前三位居首）", ("解决达标率", "超时单数"))
    assert_chart_whole(pages, "满意度", "满意度分布", ("数量", "占比"))
    assert_chart_whole(pages, "趋势", "近12个月趋势", ("受理量环比", "受理量同比"))

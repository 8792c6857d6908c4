"""The desk workbook a team starts from: every sheet of the contract, styled, with the seeds' defaults.

``workbook_templates/build.py`` writes the checked-in files with this module; ``init`` copies them.
Dropdowns point at workbook-level defined names (``sd_channels`` …) rather than straight at another
sheet: Excel stores a cross-sheet list as an x14 extension that openpyxl drops on save, but keeps a
defined-name list as a plain validation (workbook-engineering.md §1). They only warn, so aliases
such as 紧急 for P0 can still be typed.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from sheetdesk.rules.intake import default_limit
from sheetdesk.schema import (
    COUNTER,
    DEFAULT_CHANNELS,
    DEFAULT_EMOTIONS,
    DEFAULT_TIERS,
    EN_LIST_VALUES,
    ESCALATION,
    FOLLOWUP_RULES,
    LISTS,
    MATRIX,
    SATISFACTION,
    SHEETS,
    SLA,
    STAFF,
    STEPS,
    TRACKER,
    Sheet,
)
from sheetdesk.workbook.engines.openpyxl import print_setup
from sheetdesk.workbook.marks import MARKS, mark_openpyxl

PRESETS = ("p0p1p2", "four-stage")
LANGS = ("zh", "en")
PEOPLE_FILL = PatternFill("solid", fgColor="FFDDEBF7")
OWNED_FILL = PatternFill("solid", fgColor="FFD9D9D9")
OWNED_NOTE = ("由 sheetdesk 填写，请勿手工修改", "Filled by sheetdesk; do not edit")
ENTERED_NOTE = ("由 sheetdesk 填写：add/import 登记时的时间；手工录入的行为 sheetdesk 首次看到它的时间"
                "（不一定是录入时间，不判断是否及时登记）",
                "Filled by sheetdesk: when add/import registered the row; for a typed row, when sheetdesk first "
                "saw it (not necessarily when it was typed; not judged for late registration)")
FIXED_TIME = datetime(2026, 1, 1)
#: how far down the dropdowns and date formats reach in a new desk
VALIDATION_ROWS = 5000
FORMAT_ROWS = 200
LIST_ROWS = 50

# (category, subcategory, department, owner, collaborators, priority, keywords) — from the seeds
MATRIX_ZH = (
    ("产品质量类", "外观破损、功能故障、性能不达标", "维修部", "李工", "技术部", "P1",
     "损坏,破损,裂,故障,不工作,无法开机,异响,漏水,漏电,变形,质量"),
    ("功能使用类", "操作咨询、设置指导", "产品技术支持", "王工", "", "P2", "怎么用,如何使用,设置,操作,说明书"),
    ("技术支持类", "系统报错、软件兼容、配置升级", "技术部", "张工", "产品技术支持", "P1",
     "错误代码,报错,兼容,系统,软件,配置,升级,闪退,死机,连不上"),
    ("服务体验类", "服务态度、响应速度、流程", "客户服务部", "赵主管", "", "P2",
     "态度,服务差,响应慢,没人理,不耐烦,推诿,流程繁琐"),
    ("物流类", "发货延迟、丢件、错发漏发", "物流部", "孙工", "客户服务部", "P2",
     "物流,快递,发货,配送,没收到,未收到,错发,漏发"),
    ("其他类", "发票、退换货等", "客户服务部", "赵主管", "", "P2", "发票,退款,退货,换货"),
)
MATRIX_EN = (
    ("Product quality", "damage, malfunction, poor performance", "Repairs", "Li", "Engineering", "P1",
     "broken,damaged,crack,fault,not working,won't turn on,noise,leak,deformed,quality"),
    ("How-to", "usage questions, settings", "Product support", "Wang", "", "P2",
     "how to,how do i,settings,setup,manual"),
    ("Technical support", "error codes, compatibility, upgrades", "Engineering", "Zhang", "Product support", "P1",
     "error code,error,compatible,compatibility,system,software,config,upgrade,crash,freezes,can't connect"),
    ("Service experience", "attitude, response speed, process", "Customer service", "Zhao", "", "P2",
     "rude,attitude,slow response,no reply,impatient,runaround"),
    ("Logistics", "late delivery, lost or wrong items", "Logistics", "Sun", "Customer service", "P2",
     "delivery,courier,shipping,shipped,not received,never arrived,wrong item,missing item"),
    ("Other", "invoices, returns, exchanges", "Customer service", "Zhao", "", "P2", "invoice,refund,return,exchange"),
)
# (level, aliases, first response, tech engaged, solution, closed, update every). p0p1p2 is seed 000's
# table (response, resolution, "P0 starts within 2 hours"), with the solution times seeds 003/004 give the
# same levels (紧急: 24小时内给出初步方案; 重大, i.e. impaired use: 48小时内给出解决方案); the update cadence
# is seed 003's every 2 working days, daily for the most urgent level (seed 004 updates daily).
# 紧急 and 高 name different levels (紧急 the most urgent, 高 the second), and 中/低 the least urgent:
# a team that speaks of 紧急/高/中/低 gets four words on three levels, and 高 never reads as the top
SLA_P0P1P2 = {
    "zh": (("P0", "紧急,一级", "24小时", "2小时", "24小时", "48小时", "1个工作日"),
           ("P1", "重要,二级,高", "48小时", None, "48小时", "7个工作日", "2个工作日"),
           ("P2", "一般,三级,常规,中,低", "7个工作日", None, None, "15个工作日", "2个工作日")),
    "en": (("P0", "urgent,critical", "24h", "2h", "24h", "48h", "1wd"),
           ("P1", "important,high", "48h", None, "48h", "7wd", "2wd"),
           ("P2", "normal,medium,low,routine", "7wd", None, None, "15wd", "2wd")),
}
SLA_FOUR_STAGE = {
    "zh": (("一级", "P0,紧急", "30分钟", "1小时", "4小时", "24小时", "1个工作日"),
           ("二级", "P1,重要,高", "2小时", "3小时", "12小时", "72小时", "2个工作日"),
           ("三级", "P2,一般,常规,中,低", "4小时", "6小时", "24小时", "5个工作日", "2个工作日")),
    "en": (("Level 1", "P0,urgent,critical", "30m", "1h", "4h", "24h", "1wd"),
           ("Level 2", "P1,important,high", "2h", "3h", "12h", "72h", "2wd"),
           ("Level 3", "P2,normal,medium,low,routine", "4h", "6h", "24h", "5wd", "2wd")),
}
#: the matrix's default priorities under the four-stage preset, by the matrix row (seed 002: 二级 is
#: 非核心功能故障或服务体验问题 — 物流延迟, 操作咨询 —; 三级 is suggestions and non-urgent questions)
FOUR_STAGE_PRIORITY = {"zh": ("二级", "二级", "二级", "二级", "二级", "三级"),
                       "en": ("Level 2", "Level 2", "Level 2", "Level 2", "Level 2", "Level 3")}
ESCALATION_ROWS = {
    "zh": (("关键词", "烫伤,烧伤,过敏,起火,着火,冒烟,爆炸,触电,漏电伤人,人身,受伤,安全隐患",
            0, "是", "涉及人身安全的反馈一律按最高级别处理"),
           ("财产损失", "财产损失,财物损失,财产受损,连带损失,家具损坏,泡坏,被淹,烧毁,殃及", 0, "是",
            "客户出现财产损失直接按最高级别处理（种子：“客户出现人身财产损失”直接标紧急）"),
           ("舆情", "欺诈,诈骗,骗子,骗人,虚假宣传,315,12315,消协,消费者协会,媒体,记者,曝光,黑猫投诉,发微博", 0, "是",
            "公开指控或扬言曝光、投诉到315/12315的反馈按最高级别处理（纯数字的词只按独立数字匹配，不会匹配电话号码）"),
           ("重复投诉", "天数=30", 1, "是",
            "同一客户（按联系方式）在上一单未关闭或关闭后30天内再次反馈，至少按第二级处理"),
           ("情绪", "情绪=愤怒; 关键词=第N次,多次投诉,再次投诉,反复投诉,又投诉,屡次", 1, "是",
            "客户情绪为愤怒且描述说明多次投诉（第N次 = 第二次、第3次 …），至少按第二级处理"),
           ("批量", "数量=5; 天数=7; 键=型号或关键词", 1, "是",
            "同一问题分类+产品型号（无型号时按分类矩阵中命中的那一行）在任意7天内达到5单，至少按第二级处理，并标记批量问题"),
           ("VIP", "客户等级=VIP", 1, "否", "VIP客户至少按第二级处理（默认停用）")),
    # matched as substrings, so no short words that hide inside others ("fire" in firmware, "media" in
    # immediately, "press" in express)
    "en": (("Keyword", "burn,scald,allergic,allergy,caught fire,on fire,smoke,explosion,exploded,electric shock,"
                       "injury,injured,safety hazard", 0, "Yes",
            "anything about personal safety goes to the top level"),
           ("Property damage", "property damage,damaged my,flooded,ruined my,water damage,burnt down", 0, "Yes",
            "damage to the customer's property goes to the top level"),
           ("Publicity", "fraud,scam,cheated,false advertising,consumer association,journalist,social media,newspaper,"
                         "go public,reporter", 0, "Yes",
            "public accusations and threats to go public go to the top level"),
           ("Repeat complaint", "days=30", 1, "Yes",
            "the same customer (by contact) again while an earlier ticket is open or closed within 30 days: "
            "at least the second level"),
           ("Emotion", "emotion=Angry; words=again,third time,many times,complained before,keep complaining", 1, "Yes",
            "an angry customer who says they complain again: at least the second level"),
           ("Batch", "count=5; days=7; key=model or keyword", 1, "Yes",
            "5 or more of one category + product model (without a model: the matrix row matched) inside any "
            "7 days: at least the second level, marked as a batch"),
           ("VIP", "tier=VIP", 1, "No", "VIP customers at least the second level (off by default)")),
}
#: (call type, from, window start, window end, days, call hours, target, enabled, note) — seed 004
FOLLOWUP_RULE_ROWS = {
    "zh": (("结案回访", "结案", 1, 3, "工作日", "09:00-12:00,14:00-18:00", "90%", "是",
            "问题关闭后3个工作日内回访，确认处理效果及满意度（每轮处理各一次）"),
           ("购买后7-15天回访", "购买日期", 7, 15, "自然日", "09:00-12:00,14:00-18:00", "90%", "是",
            "使用初期：交付后7–15天；无购买日期时从结案起算"),
           ("购买后30天回访", "购买日期", 30, 37, "自然日", "09:00-12:00,14:00-18:00", "90%", "是",
            "稳定期：约30天，留一周窗口"),
           ("购买后90天回访", "购买日期", 90, 97, "自然日", "09:00-12:00,14:00-18:00", "90%", "是",
            "长期体验：约90天，留一周窗口")),
    "en": (("Post-close call", "Close", 1, 3, "Working", "09:00-12:00,14:00-18:00", "90%", "Yes",
            "within 3 working days of the close: was it fixed, is the customer satisfied (once per round)"),
           ("7-15 day call", "Purchase", 7, 15, "Calendar", "09:00-12:00,14:00-18:00", "90%", "Yes",
            "early use: 7-15 days after delivery; from the close when there is no purchase date"),
           ("30-day call", "Purchase", 30, 37, "Calendar", "09:00-12:00,14:00-18:00", "90%", "Yes",
            "settled use: about 30 days, with a week's window"),
           ("90-day call", "Purchase", 90, 97, "Calendar", "09:00-12:00,14:00-18:00", "90%", "Yes",
            "long-term use: about 90 days, with a week's window")),
}
#: defined name -> (sheet key, column key) of the list it names
LIST_NAMES = {
    "sd_channels": ("lists", "channel"), "sd_tiers": ("lists", "tier"), "sd_emotions": ("lists", "emotion"),
    "sd_steps": ("lists", "step"), "sd_satisfaction": ("lists", "satisfaction"),
    "sd_categories": ("matrix", "category"), "sd_priorities": ("sla", "priority"),
}
#: (sheet key, column key) -> defined name of its dropdown
DROPDOWNS = {
    ("register", "channel"): "sd_channels", ("register", "tier"): "sd_tiers",
    ("register", "emotion"): "sd_emotions", ("register", "category"): "sd_categories",
    ("register", "priority"): "sd_priorities", ("progress", "step"): "sd_steps",
    ("results", "satisfaction"): "sd_satisfaction", ("matrix", "priority"): "sd_priorities",
}


def _check(lang: str, preset: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; expected one of {', '.join(PRESETS)}")


def _header(ws, sheet: Sheet, lang: str) -> None:
    bold = Font(bold=True)
    owned_font = Font(bold=True, italic=True, color="FF595959")
    for c, col in enumerate(sheet.columns, 1):
        cell = ws.cell(1, c, col.header(lang))
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        if col.owned:
            cell.fill, cell.font = OWNED_FILL, owned_font
            note = ENTERED_NOTE if (sheet.key, col.key) == ("register", "entered") else OWNED_NOTE
            cell.comment = Comment(note[0] if lang == "zh" else note[1], "sheetdesk", width=220,
                                   height=40 if note is OWNED_NOTE else 90)
        else:
            cell.fill, cell.font = PEOPLE_FILL, bold
        ws.column_dimensions[get_column_letter(c)].width = col.width
        if col.kind in ("datetime", "date"):
            fmt = "yyyy-mm-dd hh:mm" if col.kind == "datetime" else "yyyy-mm-dd"
            for r in range(2, FORMAT_ROWS + 1):
                ws.cell(r, c).number_format = fmt
        elif col.kind == "text":
            for r in range(2, FORMAT_ROWS + 1):
                ws.cell(r, c).number_format = "@"
    if sheet.columns:
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}1"
        print_setup(ws)
    ws.row_dimensions[1].height = 30


def _rows(ws, sheet: Sheet, rows, keys: tuple[str, ...]) -> None:
    index = {col.key: i for i, col in enumerate(sheet.columns, 1)}
    for r, values in enumerate(rows, 2):
        for key, value in zip(keys, values):
            if value not in (None, ""):
                ws.cell(r, index[key], value)


def _lists(ws, lang: str) -> None:
    zh = lang == "zh"
    columns = {
        "channel": DEFAULT_CHANNELS if zh else EN_LIST_VALUES["channel"],
        "intake_limit": tuple(default_limit(c, lang) for c in DEFAULT_CHANNELS),
        "tier": DEFAULT_TIERS if zh else EN_LIST_VALUES["tier"],
        "emotion": DEFAULT_EMOTIONS if zh else EN_LIST_VALUES["emotion"],
        "step": tuple(s[1] if zh else s[2] for s in STEPS),
        "satisfaction": tuple(s[1] if zh else s[2] for s in SATISFACTION),
    }
    index = {col.key: i for i, col in enumerate(LISTS.columns, 1)}
    for key, values in columns.items():
        for r, value in enumerate(values, 2):
            ws.cell(r, index[key], value)


def _column_range(wb: Workbook, sheet: Sheet, key: str, lang: str) -> str:
    col = get_column_letter([c.key for c in sheet.columns].index(key) + 1)
    return f"{quote_sheetname(sheet.name(lang))}!${col}$2:${col}${LIST_ROWS}"


def build_template(lang: str = "zh", preset: str = "p0p1p2") -> Workbook:
    """A new desk workbook in memory."""
    _check(lang, preset)
    wb = Workbook()
    wb.remove(wb.active)
    sheets = {}
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name(lang))
        sheets[sheet.key] = ws
        if sheet.key == COUNTER.key:
            for c, col in enumerate(COUNTER.columns, 1):
                ws.cell(1, c, col.name(lang))
            ws.sheet_state = "hidden"
            continue
        if sheet.key == TRACKER.key:
            ws.cell(1, 1, "此表由 sheetdesk refresh 每次重新生成，请勿在此输入" if lang == "zh"
                    else "sheetdesk refresh regenerates this sheet every time; do not type here")
            ws.cell(1, 1).font = Font(italic=True, color="FF595959")
            print_setup(ws)  # refresh rebuilds it with the same print layout
            continue
        _header(ws, sheet, lang)

    for key in MARKS:  # sheetdesk's own sheets carry its mark: a title alone never makes a sheet its own
        mark_openpyxl(wb, key, sheets[key].title)

    matrix = MATRIX_ZH if lang == "zh" else MATRIX_EN
    if preset == "four-stage":
        matrix = tuple(row[:5] + (level,) + row[6:] for row, level in zip(matrix, FOUR_STAGE_PRIORITY[lang]))
    _rows(sheets["matrix"], MATRIX, matrix,
          ("category", "subcategory", "department", "owner", "collaborators", "priority", "keywords"))
    sla = (SLA_P0P1P2 if preset == "p0p1p2" else SLA_FOUR_STAGE)[lang]
    _rows(sheets["sla"], SLA, sla, ("priority", "aliases", "first_response", "tech_engaged", "solution", "closed",
                                      "update_every"))
    levels = [row[0] for row in sla]
    rules = [(name, params, levels[min(rank, len(levels) - 1)], on, note)
             for name, params, rank, on, note in ESCALATION_ROWS[lang]]
    _rows(sheets["escalation"], ESCALATION, rules, ("rule", "parameters", "level", "enabled", "note"))
    _rows(sheets["followup_rules"], FOLLOWUP_RULES, FOLLOWUP_RULE_ROWS[lang],
          ("type", "basis", "start", "end", "unit", "hours", "target", "enabled", "note"))
    _lists(sheets["lists"], lang)
    # the matrix's default owners, so mentions only need each app's id filled in
    people = {row[3]: row[2] for row in reversed(matrix)}  # each owner once, at their first department
    _rows(sheets["staff"], STAFF, [(name, people[name], "是" if lang == "zh" else "yes")
                                   for name in dict.fromkeys(row[3] for row in matrix)], ("name", "department", "active"))
    for ws in (sheets["matrix"], sheets["escalation"], sheets["followup_rules"]):
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")

    by_key = {s.key: s for s in SHEETS}
    for name, (sheet_key, col_key) in LIST_NAMES.items():
        wb.defined_names[name] = DefinedName(name, attr_text=_column_range(wb, by_key[sheet_key], col_key, lang))
    for (sheet_key, col_key), name in DROPDOWNS.items():
        sheet = by_key[sheet_key]
        col = get_column_letter([c.key for c in sheet.columns].index(col_key) + 1)
        dv = DataValidation(type="list", formula1=f"={name}", allow_blank=True, showErrorMessage=False,
                            showInputMessage=False)
        dv.add(f"{col}2:{col}{VALIDATION_ROWS}")
        sheets[sheet_key].add_data_validation(dv)

    wb.active = 0
    props = wb.properties
    props.creator = props.lastModifiedBy = "sheetdesk"
    props.created = props.modified = FIXED_TIME
    props.title = "售后客户问题反馈处理及跟踪台" if lang == "zh" else "After-sales feedback desk"
    return wb


def write_template(path: Path, *, lang: str = "zh", preset: str = "p0p1p2") -> Path:
    """Save a new desk, byte for byte the same on every run, so a rebuild of the checked-in
    templates shows up in git only when their content changed."""
    path = Path(path)
    buffer = io.BytesIO()
    build_template(lang, preset).save(buffer)
    path.write_bytes(_reproducible(buffer.getvalue()))
    return path


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _reproducible(data: bytes) -> bytes:
    """openpyxl stamps the save time into docProps/core.xml and into every zip entry; pin both."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                body = _MODIFIED.sub(lambda m: m.group(1) + stamp + m.group(2), body)
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # the same bytes whichever OS builds them
            info.external_attr = item.external_attr
            dst.writestr(info, body)
    return out.getvalue()

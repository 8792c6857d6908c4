"""The workbook contract of PRODUCT.md §2: sheet and column names in both languages.

Everything that names a sheet or a header goes through this module, so the zh and en spellings
live in exactly one place. Headers match ignoring case, spaces and a trailing ``*``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False
    #: written by sheetdesk (the header is styled differently and people should not type here)
    owned: bool = False
    width: float = 14
    #: "datetime", "date", "text", "int", or "" for general
    kind: str = ""

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def header(self, lang: str) -> str:
        return self.name(lang) + ("*" if self.required else "")


@dataclass(frozen=True)
class Sheet:
    key: str
    zh: str
    en: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    @property
    def required_keys(self) -> list[str]:
        return [c.key for c in self.columns if c.required]


C = Column

REGISTER = Sheet("register", "登记表", "Register", (
    C("id", "反馈编号", "ID", width=13, kind="text"),
    C("received", "反馈时间", "Received", required=True, width=17, kind="datetime"),
    C("channel", "反馈渠道", "Channel", required=True, width=12),
    C("customer", "客户名称", "Customer", required=True, width=16),
    C("tier", "客户等级", "Tier", width=9),
    C("contact", "联系方式", "Contact", width=16, kind="text"),
    C("product", "产品型号", "Product", width=12),
    C("batch", "批次", "Batch", width=10),
    C("purchase_date", "购买日期", "Purchase date", width=12, kind="date"),
    C("description", "问题描述", "Description", required=True, width=36),
    C("expectation", "客户诉求", "Expectation", width=20),
    C("emotion", "客户情绪", "Emotion", width=9),
    C("category", "问题分类", "Category", width=12),
    C("priority", "优先级", "Priority", width=8),
    C("department", "责任部门", "Department", width=12),
    C("owner", "责任人", "Owner", width=10),
    C("collaborators", "协同部门", "Collaborators", width=14),
    C("effective_priority", "生效优先级", "Effective priority", owned=True, width=10),
    C("escalation_reason", "升级原因", "Escalation reason", owned=True, width=16),
    C("status", "状态", "Status", owned=True, width=10),
    C("response_due", "响应时限", "Response due", owned=True, width=17, kind="datetime"),
    C("resolution_due", "解决时限", "Resolution due", owned=True, width=17, kind="datetime"),
    C("overdue", "超时", "Overdue", owned=True, width=18),
    C("check", "校验", "Check", owned=True, width=40),
    #: when the row was registered (add/import, or when a refresh first saw a typed row): last, so a
    #: desk made before it keeps its columns where they were
    C("entered", "登记时间", "Entered", owned=True, width=17, kind="datetime"),
))

MATRIX = Sheet("matrix", "分类矩阵", "Matrix", (
    C("category", "问题分类", "Category", required=True, width=12),
    C("subcategory", "子类", "Subcategory", width=24),
    C("department", "责任部门", "Department", width=14),
    C("owner", "默认责任人", "Default owner", width=12),
    C("collaborators", "协同部门", "Collaborators", width=16),
    C("priority", "默认优先级", "Default priority", width=12),
    C("keywords", "关键词", "Keywords", width=40),
    C("check", "校验", "Check", owned=True, width=40),
))

SLA = Sheet("sla", "时效标准", "SLA", (
    C("priority", "优先级", "Priority", required=True, width=10),
    C("aliases", "别名", "Aliases", width=22),
    C("first_response", "首次响应", "First response", width=12),
    C("tech_engaged", "技术介入", "Tech engaged", width=12),
    C("solution", "方案提供", "Solution", width=12),
    C("closed", "问题关闭", "Closed", width=12),
    # how often an open ticket needs a progress row (seed 003: every 2 working days); blank = not checked
    C("update_every", "进展更新", "Update every", width=12),
    C("check", "校验", "Check", owned=True, width=40),
))

LISTS = Sheet("lists", "选项", "Lists", (
    C("channel", "反馈渠道", "Channel", width=14),
    C("intake_limit", "登记时限", "Intake limit", width=11),
    C("tier", "客户等级", "Tier", width=10),
    C("emotion", "客户情绪", "Emotion", width=10),
    C("step", "节点", "Step", width=12),
    C("satisfaction", "客户满意度", "Satisfaction", width=12),
    C("scale", "评分制", "Rating scale", width=10),
))

PROGRESS = Sheet("progress", "进度跟踪", "Progress", (
    C("id", "反馈编号", "ID", required=True, width=13, kind="text"),
    C("time", "时间", "Time", required=True, width=17, kind="datetime"),
    C("by", "处理人", "By", width=10),
    C("step", "节点", "Step", required=True, width=12),
    C("note", "说明", "Note", width=40),
    C("check", "校验", "Check", owned=True, width=40),
))

RESULTS = Sheet("results", "处理结果", "Results", (
    C("id", "反馈编号", "ID", required=True, width=13, kind="text"),
    C("result", "处理结果", "Result", width=30),
    C("satisfaction", "客户满意度", "Satisfaction", width=11),
    C("comment", "客户评价", "Customer comment", width=24),
    C("rated_at", "评价时间", "Rated at", width=17, kind="datetime"),
    C("prepared_by", "报告编制人", "Prepared by", width=11),
    C("prepared_on", "编制日期", "Prepared on", width=12, kind="date"),
    C("reviewer", "审核人", "Reviewer", width=10),
    C("reviewed_on", "审核日期", "Reviewed on", width=12, kind="date"),
    # seed 003: a major problem (the most urgent level, 批量问题) is reviewed again by the service manager
    C("second_reviewer", "复核人", "Second reviewer", width=10),
    C("second_reviewed_on", "复核日期", "Second reviewed on", width=12, kind="date"),
    C("overdue_reason", "超时原因", "Overdue reason", width=20),
    C("remarks", "备注", "Remarks", width=20),
    C("check", "校验", "Check", owned=True, width=40),
))

ESCALATION = Sheet("escalation", "升级规则", "Escalation", (
    C("rule", "规则", "Rule", required=True, width=12),
    C("parameters", "参数", "Parameters", width=48),
    C("level", "目标级别", "Target level", width=10),
    C("enabled", "启用", "Enabled", width=8),
    C("note", "说明", "Note", width=40),
    C("check", "校验", "Check", owned=True, width=40),
))

FOLLOWUPS = Sheet("followups", "回访计划", "Follow-ups", (
    C("id", "反馈编号", "ID", owned=True, width=13, kind="text"),
    C("customer", "客户名称", "Customer", owned=True, width=14),
    C("type", "回访类型", "Type", owned=True, width=12),
    C("due", "应回访日期", "Due", owned=True, width=12, kind="date"),
    C("latest", "最晚回访", "Latest", owned=True, width=12, kind="date"),
    C("caller", "回访人", "Caller", width=10),
    C("called_at", "回访时间", "Called at", width=17, kind="datetime"),
    C("score", "回访评分", "Score", width=9),
    C("notes", "回访记录", "Notes", width=36),
    C("check", "校验", "Check", owned=True, width=30),
))

#: the follow-up call types (seed 004): when each call is due, counted from 购买日期 or the close
FOLLOWUP_RULES = Sheet("followup_rules", "回访规则", "Follow-up rules", (
    C("type", "回访类型", "Call type", required=True, width=16),
    C("basis", "起算", "From", width=10),
    C("start", "窗口开始", "Window start", width=10),
    C("end", "窗口结束", "Window end", width=10),
    C("unit", "计日方式", "Days", width=10),
    C("hours", "回访时段", "Call hours", width=24),
    C("target", "目标(≥9分占比)", "Target (share ≥9)", width=12),
    C("enabled", "启用", "Enabled", width=8),
    C("note", "说明", "Note", width=40),
    C("check", "校验", "Check", owned=True, width=40),
))

TRACKER = Sheet("tracker", "跟踪看板", "Tracker", ())

#: who can be @-mentioned in a group message (``sheetdesk notify``): one row per person, matched to
#: 责任人 by name; the platform ids are the ones each app's bot mentions with
STAFF = Sheet("staff", "人员", "Staff", (
    C("name", "姓名", "Name", required=True, width=10),
    C("department", "部门", "Department", width=12),
    C("mobile", "手机", "Mobile", width=14, kind="text"),
    C("wecom_id", "企业微信账号", "WeCom user ID", width=16, kind="text"),
    C("dingtalk_mobile", "钉钉手机号", "DingTalk mobile", width=14, kind="text"),
    C("feishu_id", "飞书 open_id", "Feishu open ID", width=22, kind="text"),
    C("email", "邮箱", "E-mail", width=22),
    C("active", "在职", "Active", width=8),
    C("check", "校验", "Check", owned=True, width=40),
))

#: the hidden sheet that remembers the last serial issued per month (PRODUCT.md §3, IDs)
COUNTER = Sheet("counter", "_sheetdesk", "_sheetdesk", (
    C("month", "月份", "Month", kind="text"),
    C("last_serial", "已用流水号", "Last serial", kind="int"),
))

#: the order sheets appear in a new desk
SHEETS: tuple[Sheet, ...] = (
    REGISTER, PROGRESS, RESULTS, FOLLOWUPS, TRACKER, MATRIX, SLA, ESCALATION, FOLLOWUP_RULES, LISTS, STAFF, COUNTER,
)
SHEETS_BY_KEY = {s.key: s for s in SHEETS}

#: SLA stages in the order of the SLA table, and the progress step that completes each
STAGES: tuple[str, ...] = ("first_response", "tech_engaged", "solution", "closed")

#: progress steps (节点) as (key, zh, en)
STEPS: tuple[tuple[str, str, str], ...] = (
    ("accepted", "受理", "Accepted"),
    ("first_response", "首次响应", "First response"),
    ("tech_engaged", "技术介入", "Tech engaged"),
    ("update", "进展更新", "Update"),
    ("waiting", "等待客户", "Waiting on customer"),
    ("solution", "方案提供", "Solution"),
    ("closed", "问题关闭", "Closed"),
    ("reopened", "重新打开", "Reopened"),
)

SATISFACTION = (("satisfied", "满意", "Satisfied"), ("fair", "基本满意", "Fairly satisfied"),
                ("unsatisfied", "不满意", "Unsatisfied"))

DEFAULT_CHANNELS = ("电话", "400热线", "在线客服", "邮件", "官网留言", "APP", "公众号", "电商平台评价",
                    "微博", "小红书", "门店", "上门服务", "微信", "企业微信", "抖音", "快手", "京东", "淘宝/天猫",
                    "拼多多")
DEFAULT_TIERS = ("VIP", "普通")
DEFAULT_EMOTIONS = ("平静", "焦急", "激动", "愤怒")

#: English spellings accepted for the Chinese list values (an en desk shows these)
EN_LIST_VALUES = {
    "channel": ("Phone", "400 hotline", "Online chat", "Email", "Website form", "APP", "WeChat account",
                "E-commerce review", "Weibo", "Xiaohongshu", "Store", "On-site service", "WeChat", "WeCom",
                "Douyin", "Kuaishou", "JD.com", "Taobao/Tmall", "Pinduoduo"),
    "tier": ("VIP", "Regular"),
    "emotion": ("Calm", "Anxious", "Agitated", "Angry"),
}


_NORMALISE_RE = re.compile(r"[\s\u3000*＊]+")


def normalise_header(text: object) -> str:
    """Header key used for matching: no spaces (incl. full-width), no ``*``, lower case."""
    if text is None:
        return ""
    try:
        return _normalised(text)
    except TypeError:  # unhashable: not worth remembering
        return _NORMALISE_RE.sub("", str(text)).lower()


@functools.lru_cache(maxsize=8192, typed=True)  # typed: 1 and 1.0 are different texts
def _normalised(text: object) -> str:
    """Categories, priorities, steps and products repeat on every row of a register."""
    return _NORMALISE_RE.sub("", str(text)).lower()


def column_lookup(sheet: Sheet) -> dict[str, str]:
    """normalised zh/en header -> column key."""
    lookup: dict[str, str] = {}
    for col in sheet.columns:
        lookup[normalise_header(col.zh)] = col.key
        lookup[normalise_header(col.en)] = col.key
    return lookup


#: the register column import keeps its source references in (outside the contract's columns: added on
#: the first import), in Chinese and English
EXTERNAL_REF_HEADERS = ("外部编号", "External ref")


def desk_language(sheet_names: Iterable[str]) -> str:
    """An English desk has a Register and no 登记表; every other desk talks Chinese."""
    names = list(sheet_names)
    return "en" if REGISTER.en in names and REGISTER.zh not in names else "zh"


def text(lang: str, zh: str, en: str) -> str:
    """The message in the reader's language."""
    return zh if lang == "zh" else en


def find_sheet(names: list[str], sheet: Sheet) -> str | None:
    """The workbook's actual name for ``sheet`` (zh or en, case/space-insensitive)."""
    wanted = {normalise_header(sheet.zh), normalise_header(sheet.en)}
    for name in names:
        if normalise_header(name) in wanted:
            return name
    return None


def _step_form(text: object) -> str:
    """A step name as matched: case, spaces, hyphens and underscores do not matter (first-response)."""
    return normalise_header(text).replace("-", "").replace("_", "")


STEP_KEYS = {_step_form(word): key for key, zh, en in STEPS for word in (key, zh, en)}
STEP_NAMES = {key: (zh, en) for key, zh, en in STEPS}


def step_key(text: str) -> str | None:
    """The step key of a step name in either language (None: not a step)."""
    return STEP_KEYS.get(_step_form(text)) if text else None


def step_name(key: str, lang: str) -> str:
    zh, en = STEP_NAMES[key]
    return zh if lang == "zh" else en

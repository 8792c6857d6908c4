"""SLA durations as people write them: 30分钟, 4h, 8工作小时, 5个工作日, 5wd.

Wall-clock units (minutes, hours, days) run around the clock from the received time; business
units (business hours, working days) run only inside the working calendar's business hours and
start at the next business moment. A bare number is refused: "24" could be hours or days, and an
SLA that is silently wrong is worse than a message on the cell.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sheetdesk.rules.workdays import WorkCalendar

MINUTES, HOURS, DAYS, BUSINESS_HOURS, WORKING_DAYS = "minutes", "hours", "days", "business_hours", "working_days"
WALL_CLOCK = (MINUTES, HOURS, DAYS)

_UNITS = {
    MINUTES: ("分钟", "分", "m", "min", "mins", "minute", "minutes"),
    HOURS: ("小时", "个小时", "钟头", "个钟头", "h", "hr", "hrs", "hour", "hours"),
    DAYS: ("天", "日", "自然日", "个自然日", "d", "day", "days", "calendarday", "calendardays"),
    BUSINESS_HOURS: ("工作小时", "个工作小时", "bh", "businesshour", "businesshours", "workinghour", "workinghours"),
    WORKING_DAYS: ("工作日", "个工作日", "wd", "workingday", "workingdays", "businessday", "businessdays", "bd"),
}
_UNIT_OF = {word: unit for unit, words in _UNITS.items() for word in words}
_BLANK = {"", "-", "—", "–", "无", "不计时", "不适用", "/", "n/a", "na", "none"}
_PATTERN = re.compile(r"^(\d+(?:\.\d+)?)([^\d.]+)$")
_TEXT = {
    MINUTES: ("{}分钟", "{}m"), HOURS: ("{}小时", "{}h"), DAYS: ("{}天", "{}d"),
    BUSINESS_HOURS: ("{}工作小时", "{}bh"), WORKING_DAYS: ("{}个工作日", "{}wd"),
}
#: the longest SLA that makes sense; beyond it a typo (500个工作日) is likelier than intent
_MAX_SECONDS = 366 * 86400


class DurationError(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def _number(amount: float) -> str:
    return str(int(amount)) if float(amount).is_integer() else f"{amount:g}"


@dataclass(frozen=True)
class Duration:
    amount: float
    unit: str

    def text(self, lang: str = "zh") -> str:
        zh, en = _TEXT[self.unit]
        return (zh if lang == "zh" else en).format(_number(self.amount))

    @property
    def business(self) -> bool:
        return self.unit not in WALL_CLOCK

    def wall_seconds(self) -> float:
        return self.amount * {MINUTES: 60, HOURS: 3600, DAYS: 86400}[self.unit]


def _expected() -> tuple[str, str]:
    return ("请写成 30分钟、4小时、8工作小时 或 5个工作日（也可 30m、4h、8bh、5wd），不计时请留空",
            "write it like 30m, 4h, 8bh or 5wd (also 30分钟, 4小时, 8工作小时, 5个工作日); leave blank for untimed")


def parse_duration(value: object) -> Duration | None:
    """Cell value → Duration; None for blank or 无/—; DurationError with both languages otherwise."""
    if value is None:
        return None
    zh_hint, en_hint = _expected()
    if isinstance(value, bool) or isinstance(value, (int, float)):
        raise DurationError(f"“{_number(value)}”缺少单位，请写明单位：{zh_hint}",
                            f"'{_number(value)}' has no unit; {en_hint}")
    raw = str(value)
    text = unicodedata.normalize("NFKC", raw).strip().lower().replace(" ", "")
    for suffix in ("以内", "之内", "内"):
        text = text.removesuffix(suffix)
    if text in _BLANK:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        raise DurationError(f"“{raw.strip()}”缺少单位，请写明单位：{zh_hint}", f"'{raw.strip()}' has no unit; {en_hint}")
    m = _PATTERN.match(text)
    unit = _UNIT_OF.get(m.group(2)) if m else None
    if not m or unit is None:
        raise DurationError(f"无法识别时限“{raw.strip()}”：{zh_hint}",
                            f"cannot read the duration '{raw.strip()}': {en_hint}")
    amount = float(m.group(1))
    duration = Duration(int(amount) if amount.is_integer() else amount, unit)
    if amount <= 0:
        raise DurationError(f"“{raw.strip()}”应大于 0；{zh_hint}", f"'{raw.strip()}' must be more than 0; {en_hint}")
    approx = duration.wall_seconds() if not duration.business else amount * (3600 if unit == BUSINESS_HOURS else 86400)
    if approx > _MAX_SECONDS:
        raise DurationError(f"“{raw.strip()}”超过一年，请检查是否写错", f"'{raw.strip()}' is longer than a year; check for a typo")
    return duration


def due_time(cal: WorkCalendar, start: datetime, duration: Duration) -> datetime:
    """The deadline of a stage that starts at ``start``, to the second."""
    start = start.replace(microsecond=0)
    if not duration.business:
        return start + timedelta(seconds=round(duration.wall_seconds()))
    if duration.unit == BUSINESS_HOURS:
        return cal.add_business_seconds(start, duration.amount * 3600)
    return cal.add_working_days(start, duration.amount)


def format_business_seconds(seconds: float, cal: WorkCalendar, lang: str = "zh") -> str:
    """An amount of business time as a person says it: 45分钟, 3.5工作小时, 2.5个工作日."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    day = cal.hours.day_seconds
    if seconds < 3600:
        minutes = max(int(round(seconds / 60)), 0)
        return sign + (f"{minutes}分钟" if lang == "zh" else f"{minutes} min")
    if seconds < day:
        hours = _number(round(seconds / 3600, 1))
        return sign + (f"{hours}工作小时" if lang == "zh" else f"{hours} business hours")
    days = _number(round(seconds / day, 1))
    return sign + (f"{days}个工作日" if lang == "zh" else f"{days} working days")


def format_wall_seconds(seconds: float, lang: str = "zh") -> str:
    """Clock time for wall-clock SLAs (24小时): 45分钟, 3.5小时, 2.5天."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 3600:
        minutes = int(round(seconds / 60))
        return sign + (f"{minutes}分钟" if lang == "zh" else f"{minutes} min")
    if seconds < 48 * 3600:
        hours = _number(round(seconds / 3600, 1))
        return sign + (f"{hours}小时" if lang == "zh" else f"{hours} h")
    days = _number(round(seconds / 86400, 1))
    return sign + (f"{days}天" if lang == "zh" else f"{days} days")


def format_amount(seconds: float, wall: bool, cal: WorkCalendar, lang: str = "zh") -> str:
    return format_wall_seconds(seconds, lang) if wall else format_business_seconds(seconds, cal, lang)

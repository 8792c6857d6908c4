"""The working calendar: PRC official working days, business hours, team overrides.

SOPs say "5个工作日内结案"; that only means something on the official calendar with its
holidays and 调休 make-up days, which ``chinese_calendar`` publishes one year at a time. A year
it does not cover yet is computed on plain weekends and flagged *provisional*, never guessed
silently and never fatal.

Business time is arithmetic on a cumulative index — business seconds elapsed before each day —
so converting a moment to a position and back is a lookup and a bisection, with no per-minute
or per-day loops per ticket. That keeps 50k tickets × 4 stages negligible next to file I/O.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import chinese_calendar

#: the first day of the index; workbook dates before it are clamped (they are data errors anyway)
_BASE = date(1900, 1, 1)
#: and the last; later dates (typos like 2926) are clamped to it rather than failing a refresh
_MAX_INDEX = (date(2300, 1, 1) - _BASE).days

_OFFICIAL_HOLIDAYS: frozenset[date] = frozenset(chinese_calendar.holidays)
_OFFICIAL_WORKDAYS: frozenset[date] = frozenset(chinese_calendar.workdays)
OFFICIAL_YEARS = range(min(d.year for d in _OFFICIAL_HOLIDAYS), max(d.year for d in _OFFICIAL_HOLIDAYS) + 1)

_INTERVAL = re.compile(r"^\s*(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(\d{1,2})[:：](\d{2})\s*$")


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True)
class BusinessHours:
    """Working intervals of a day, e.g. 09:00–12:00 and 13:30–18:00."""

    intervals: tuple[tuple[time, time], ...] = ((time(9), time(18)),)

    def __post_init__(self) -> None:
        if not self.intervals:
            raise ValueError("business_hours is empty / 营业时间为空")
        previous = -1
        for start, end in self.intervals:
            if _seconds(end) <= _seconds(start):
                raise ValueError(f"{start:%H:%M}-{end:%H:%M}: end must be after start / 结束须晚于开始")
            if _seconds(start) < previous:
                raise ValueError("business_hours intervals overlap or are out of order / 营业时段重叠或顺序颠倒")
            previous = _seconds(end)

    @property
    def day_seconds(self) -> int:
        return sum(_seconds(e) - _seconds(s) for s, e in self.intervals)

    @classmethod
    def parse(cls, value: str | list[str]) -> BusinessHours:
        items = [value] if isinstance(value, str) else list(value)
        intervals = []
        for item in items:
            for piece in re.split(r"[,，;；]", str(item)):
                if not piece.strip():
                    continue
                m = _INTERVAL.match(piece)
                if not m:
                    raise ValueError(f"'{piece.strip()}' is not like 09:00-18:00 / 应写成 09:00-18:00")
                h1, m1, h2, m2 = map(int, m.groups())
                if h2 == 24 and m2 == 0:
                    h2, m2 = 23, 59
                try:
                    intervals.append((time(h1, m1), time(h2, m2)))
                except ValueError as exc:
                    raise ValueError(f"'{piece.strip()}': {exc}") from exc
        return cls(tuple(sorted(intervals)))

    def offsets(self) -> list[tuple[int, int]]:
        return [(_seconds(s), _seconds(e)) for s, e in self.intervals]


def _as_date(value: object, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{where}: '{value}' is not a date like 2027-01-01 / 不是形如 2027-01-01 的日期") from None


def _dates(values: object, where: str) -> set[date]:
    if values is None:
        return set()
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"{where} must be a list of dates / 应为日期列表")
    return {_as_date(v, where) for v in values}


class WorkCalendar:
    """Which days are worked and how business time adds up; see the module docstring."""

    def __init__(self, hours: BusinessHours | None = None, *, extra_holidays: Iterable[date] = (),
                 extra_workdays: Iterable[date] = (), complete_years: Iterable[int] = ()) -> None:
        self.hours = hours or BusinessHours()
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        clash = self.extra_holidays & self.extra_workdays
        if clash:
            raise ValueError(f"{min(clash)} is both a holiday and a workday / 既是假日又是工作日")
        self.complete_years = frozenset(complete_years)
        self._offsets = self.hours.offsets()
        self._day_seconds = self.hours.day_seconds
        self._cum: list[int] = [0]  # _cum[i] = business seconds before day _BASE + i
        self._work: list[bool] = []
        self._touches: dict[tuple[int, int], bool] = {}  # four stages on every ticket ask this

    @classmethod
    def from_settings(cls, cfg: Mapping[str, Any] | None) -> WorkCalendar:
        """The ``[calendar]`` table of sheetdesk.toml; ValueError names the bad key."""
        cfg = dict(cfg or {})
        known = {"business_hours", "holidays", "workdays", "years"}
        unknown = sorted(set(cfg) - known)
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)} / 未知设置项；可用: {', '.join(sorted(known))}")
        hours = BusinessHours.parse(cfg["business_hours"]) if "business_hours" in cfg else BusinessHours()
        holidays = _dates(cfg.get("holidays"), "holidays")
        workdays = _dates(cfg.get("workdays"), "workdays")
        complete: set[int] = set()
        years = cfg.get("years", {}) or {}
        if not isinstance(years, dict):
            raise ValueError("years must be a table like [calendar.years.2027] / 应写成 [calendar.years.2027]")
        for key, table in years.items():
            if not str(key).isdigit() or not isinstance(table, dict):
                raise ValueError(f"years.{key}: expected [calendar.years.YYYY] / 应为 [calendar.years.YYYY]")
            year = int(key)
            for name, bucket in (("holidays", holidays), ("workdays", workdays)):
                days = _dates(table.get(name), f"years.{key}.{name}")
                wrong = [d for d in days if d.year != year]
                if wrong:
                    raise ValueError(f"years.{key}.{name}: {wrong[0]} is not in {year} / 不在 {year} 年")
                bucket |= days
            if table.get("complete", False):
                complete.add(year)
        return cls(hours, extra_holidays=holidays, extra_workdays=workdays, complete_years=complete)

    # --- days -----------------------------------------------------------------------------

    def _official_workday(self, d: date) -> bool:
        if d.year in OFFICIAL_YEARS and d.year not in self.complete_years:
            return d in _OFFICIAL_WORKDAYS or (d.weekday() < 5 and d not in _OFFICIAL_HOLIDAYS)
        return d.weekday() < 5

    def _compute_workday(self, d: date) -> bool:
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        return self._official_workday(d)

    def _extend(self, index: int) -> None:
        """Grow the day index so that day ``index`` (and the day after it) are known."""
        index = min(index, _MAX_INDEX + 400)
        day = _BASE + timedelta(days=len(self._work))
        step = self._day_seconds
        while len(self._work) <= index + 1:
            worked = self._compute_workday(day)
            self._work.append(worked)
            self._cum.append(self._cum[-1] + (step if worked else 0))
            day += timedelta(days=1)

    def _index(self, d: date) -> int:
        i = min(max((d - _BASE).days, 0), _MAX_INDEX)
        if i + 1 >= len(self._work):
            self._extend(i + 366)
        return i

    def is_workday(self, d: date) -> bool:
        if isinstance(d, datetime):
            d = d.date()
        return self._work[self._index(d)]

    def is_provisional(self, d: date) -> bool:
        """True when neither the official data nor the team's settings cover the year."""
        year = d.year
        return year not in OFFICIAL_YEARS and year not in self.complete_years

    def touches_provisional(self, a: datetime | date, b: datetime | date) -> bool:
        lo, hi = sorted((a.year, b.year))
        key = (lo, hi)
        cache = self._touches
        if key not in cache:
            cache[key] = any(self.is_provisional(date(y, 1, 1)) for y in range(lo, hi + 1))
        return cache[key]

    def provisional_hint(self, year: int, lang: str = "zh") -> str:
        snippet = (f'[calendar.years.{year}]\\ncomplete = true\\n'
                   f'holidays = ["{year}-01-01", ...]\\nworkdays = ["{year}-02-20", ...]')
        snippet = snippet.replace("\\n", "\n    ")
        if lang == "en":
            return (f"{year}: the official holiday schedule is not in chinese-calendar {chinese_calendar.__version__} "
                    f"yet, so deadlines in {year} are computed on plain weekends and marked provisional. "
                    f"When the State Council publishes it, run `pip install -U chinese-calendar`, or add the days "
                    f"to sheetdesk.toml beside the workbook:\n    {snippet}")
        return (f"{year} 年的官方节假日安排尚未收录（chinese-calendar {chinese_calendar.__version__}），"
                f"{year} 年的时限按普通周末推算并标注为“仅供参考”。国务院公布后请运行 "
                f"`pip install -U chinese-calendar`，或在工作簿旁的 sheetdesk.toml 中写入当年的假日和调休上班日：\n"
                f"    {snippet}")

    # --- business time --------------------------------------------------------------------

    def _position(self, t: datetime) -> int:
        """Business seconds from _BASE to ``t``."""
        i = self._index(t.date())
        pos = self._cum[i]
        if self._work[i]:
            s = t.hour * 3600 + t.minute * 60 + t.second
            for start, end in self._offsets:
                if s <= start:
                    break
                pos += min(s, end) - start
        return pos

    def _moment(self, pos: int, late: bool) -> datetime:
        """The moment at business position ``pos``; ``late`` picks an interval's end over the next start."""
        while self._cum[-1] < pos + (1 if not late else 0):
            if len(self._work) > _MAX_INDEX:
                return datetime.combine(_BASE + timedelta(days=_MAX_INDEX), time())
            self._extend(len(self._work) + 366)
        if late:
            j = bisect.bisect_left(self._cum, pos)  # first day whose start-cum >= pos
            i = max(j - 1, 0)
            if self._cum[i] == pos and not self._work[i]:
                i = j
        else:
            i = bisect.bisect_right(self._cum, pos) - 1
            while not self._work[i]:
                i += 1
        rest = pos - self._cum[i]
        day = datetime.combine(_BASE + timedelta(days=i), time())
        for start, end in self._offsets:
            length = end - start
            if rest < length or (late and rest == length):
                return day + timedelta(seconds=start + rest)
            rest -= length
        start, end = self._offsets[-1]
        return day + timedelta(seconds=end)

    def next_business_moment(self, t: datetime) -> datetime:
        """``t`` itself inside business hours, else the start of the next interval."""
        t = t.replace(microsecond=0)
        return self._moment(self._position(t), late=False) if not self._inside(t) else t

    def _inside(self, t: datetime) -> bool:
        if not self.is_workday(t.date()):
            return False
        s = t.hour * 3600 + t.minute * 60 + t.second
        return any(start <= s < end for start, end in self._offsets)

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The moment ``seconds`` of business time after ``start``; a deadline at an interval's end stays there."""
        start = start.replace(microsecond=0)
        if seconds <= 0:
            return self.next_business_moment(start)
        return self._moment(self._position(start) + round(seconds), late=True)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        return self.add_business_seconds(start, days * self._day_seconds)

    def business_seconds_between(self, a: datetime, b: datetime) -> float:
        """Signed business seconds from ``a`` to ``b``."""
        return float(self._position(b) - self._position(a))

"""Machine settings from ``sheetdesk.toml`` beside the workbook (PRODUCT.md §2).

What managers own lives in sheets; this file holds what a machine needs: time zone, backups,
business hours and calendar overrides. Every key is optional.

```toml
[desk]
timezone = "Asia/Shanghai"   # the desk's clock, whatever the computer's time zone
backups = 10                 # the last N saves kept in .sheetdesk/backups/ ...
backup_days = 7              # ... plus the first version of each of the last D days (0: none)
stale_lock_hours = 12        # an office lock file older than this is reported as probably stale

[followups]
periodic = [7, 30, 90]       # desks without a 回访规则 sheet only: calls N days after 购买日期

[results]
scale = 100                  # scores are 1–100 (a 10 is 不满意); 10: 1–10; unset: 10 or less is 1–10
                             # (选项's 评分制 entry, when there is one, wins)

[sla]
pause_steps = ["等待客户"]     # steps that stop the SLA clock until the next step; none unless set
default_level = "P2"          # untriaged tickets are timed at this level; default: the SLA sheet's last row

[calendar]
business_hours = ["09:00-12:00", "13:30-18:00"]
holidays = ["2026-12-31"]
workdays = []

[notify]                     # group messages: see sheetdesk.app.notify and docs/notify.md
[[notify.targets]]
type = "wecom"
url_env = "SHEETDESK_WECOM_URL"
```
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sheetdesk.errors import SettingsError
from sheetdesk.schema import step_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FILE_NAME = "sheetdesk.toml"
DEFAULT_TIMEZONE = "Asia/Shanghai"
#: test hook: the real clock's instant as "YYYY-MM-DD HH:MM[:SS]" in UTC. Read only by :func:`utc_now`,
#: so a test can prove that nothing depends on the computer's time zone (TZ=...) without waiting
#: for a month end; ``--now`` is the user's way to move the clock.
TEST_NOW_ENV = "SHEETDESK_TEST_NOW_UTC"
#: zones with one fixed offset, usable without a time zone database (Windows without tzdata)
_FIXED_ZONES = {"Asia/Shanghai": 8, "Asia/Chongqing": 8, "Asia/Harbin": 8, "PRC": 8, "Asia/Hong_Kong": 8,
                "Asia/Macau": 8, "Asia/Taipei": 8, "Asia/Singapore": 8, "Asia/Tokyo": 9, "Asia/Seoul": 9,
                "UTC": 0, "Etc/UTC": 0}


def utc_now() -> datetime:
    """The real instant, timezone-aware: the one place sheetdesk reads the computer's clock."""
    fake = os.environ.get(TEST_NOW_ENV)
    if fake:
        return datetime.fromisoformat(fake).replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)


def zone(name: str) -> tzinfo:
    """The tzinfo of an IANA name; a few fixed-offset zones work even without a tz database."""
    try:
        return ZoneInfo(name)
    except Exception:  # unknown name, or no tz database on this machine
        if name in _FIXED_ZONES:
            return timezone(timedelta(hours=_FIXED_ZONES[name]), name)
        raise


def desk_now(tz: str = DEFAULT_TIMEZONE) -> datetime:
    """Now on the desk's clock: naive, whole seconds, like every time in the workbook."""
    return utc_now().astimezone(zone(tz)).replace(tzinfo=None, microsecond=0)


def desk_time(timestamp: float, tz: str = DEFAULT_TIMEZONE) -> datetime:
    """A file time (``st_mtime``) on the desk's clock, naive, whole seconds."""
    return datetime.fromtimestamp(timestamp, zone(tz)).replace(tzinfo=None, microsecond=0)


def aware(moment: datetime, tz: str = DEFAULT_TIMEZONE) -> datetime:
    """A naive desk-clock time made timezone-aware (mail headers, UTC document properties)."""
    return moment.replace(tzinfo=zone(tz))

#: what each value may be: (a check, what is expected in Chinese, in English)
KeyRule = tuple[Callable[[object], bool], str, str]
_STR: KeyRule = (lambda v: isinstance(v, str), "文字（加引号）", "a quoted string")
_BOOL: KeyRule = (lambda v: isinstance(v, bool), "true 或 false", "true or false")
_POS_INT: KeyRule = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "正整数", "a positive integer")
_NON_NEG_INT: KeyRule = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "非负整数", "a whole number, 0 or more")
_POS_NUM: KeyRule = (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0, "正数", "a positive number")
_LIST: KeyRule = (lambda v: isinstance(v, list), "列表，如 [...]", "a list like [...]")
_TABLE: KeyRule = (lambda v: isinstance(v, dict), "表（[节]）", "a table ([section])")
#: every section and key sheetdesk.toml may hold; [calendar.years.YYYY] tables are checked by their own rule
SCHEMA: dict[str, dict[str, KeyRule]] = {
    "desk": {"timezone": _STR, "backups": _POS_INT, "backup_days": _NON_NEG_INT, "stale_lock_hours": _POS_NUM,
             "engine": _STR},
    "calendar": {"business_hours": _LIST, "holidays": _LIST, "workdays": _LIST, "years": _TABLE},
    "sla": {"pause_steps": _LIST, "default_level": _STR},
    "followups": {"periodic": _LIST},
    "mail": {"host": _STR, "port": _POS_INT, "from": _STR, "user": _STR, "password_env": _STR, "password": _STR,
             "starttls": _BOOL, "ssl": _BOOL, "timeout": _POS_NUM, "cafile": _STR},
    "database": {"url": _STR, "branch": _STR},
    "notify": {"show_names": _BOOL, "timeout": _POS_NUM, "retries": _NON_NEG_INT, "backoff": _POS_NUM,
               "targets": _LIST},
    "results": {"scale": (lambda v: v in (10, 100) and not isinstance(v, bool), "10 或 100", "10 or 100")},
}
#: the keys of one [[notify.targets]] table (which of them a type needs: :func:`_check_targets`)
_TARGET_KEYS: dict[str, KeyRule] = {"type": _STR, "name": _STR, "url_env": _STR, "secret_env": _STR, "style": _STR,
                                    "to": _LIST}
TARGET_TYPES = ("wecom", "dingtalk", "feishu", "mail")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_YEAR_KEYS: dict[str, KeyRule] = {"complete": _BOOL, "holidays": _LIST, "workdays": _LIST}


@dataclass(frozen=True)
class BackupPolicy:
    """The last ``saves`` backups, plus the first backup of each of the last ``days`` days (so the
    morning's version survives a busy day of ``log`` entries), days on the desk's clock."""
    saves: int = 10
    days: int = 7
    timezone: str = DEFAULT_TIMEZONE


@dataclass
class Settings:
    timezone: str = DEFAULT_TIMEZONE
    #: the last N saves kept in .sheetdesk/backups/, plus the first version of each of the last
    #: ``backup_days`` days on the desk's clock
    backups: int = 10
    backup_days: int = 7
    stale_lock_hours: float = 12
    #: "patch" rewrites only sheetdesk's cells and copies every other part; "openpyxl" rebuilds the file
    engine: str = "patch"
    calendar: dict[str, Any] = field(default_factory=dict)
    periodic_calls: list[int] = field(default_factory=list)
    pause_steps: frozenset[str] = frozenset()
    #: the SLA level untriaged tickets are timed at (checked against the SLA sheet when it is read);
    #: None: the least urgent level
    default_level: str | None = None
    #: [results] scale: ratings are scored 1–10 or 1–100; None: not said (10 or less reads as 1–10)
    rating_scale: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def now(self) -> datetime:
        """The desk's wall-clock time, naive (all workbook times are naive desk-clock times)."""
        return desk_now(self.timezone)

    def time_of(self, timestamp: float) -> datetime:
        """A file's ``st_mtime`` on the desk's clock."""
        return desk_time(timestamp, self.timezone)

    def backup_policy(self) -> BackupPolicy:
        return BackupPolicy(self.backups, self.backup_days, self.timezone)


def desk_clock(book: Path) -> Settings:
    """The settings beside ``book`` for reading its clock where a broken sheetdesk.toml must not
    stop the work (a lock marker, doctor): the defaults then, and the command that reads the
    settings properly says what is wrong."""
    try:
        return load_settings(Path(book))
    except SettingsError:
        return Settings()


def load_settings(book: Path) -> Settings:
    path = book.parent / FILE_NAME
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} 格式错误：{exc}", f"{path} is not valid TOML: {exc}") from exc
    _check_schema(raw, path)
    desk = raw.get("desk", {})
    settings = Settings(raw=raw, path=path, calendar=raw.get("calendar", {}))
    if "timezone" in desk:
        settings.timezone = str(desk["timezone"])
        try:
            zone(settings.timezone)
        except Exception:
            raise SettingsError(
                f"{path}：[desk] timezone 无法识别：{settings.timezone!r}，应为时区名，如 \"Asia/Shanghai\""
                "（若名称无误，请安装时区数据：pip install tzdata）",
                f"{path}: [desk] timezone {settings.timezone!r} is not a known time zone; expected a name like "
                "\"Asia/Shanghai\" (if the name is right, install the time zone data: pip install tzdata)") from None
    if "backups" in desk:
        if not isinstance(desk["backups"], int) or desk["backups"] < 1:
            raise SettingsError(f"{path}：[desk] backups 应为正整数，实际为 {desk['backups']!r}",
                                f"{path}: [desk] backups must be a positive integer, got {desk['backups']!r}")
        settings.backups = desk["backups"]
    if "backup_days" in desk:
        value = desk["backup_days"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SettingsError(f"{path}：[desk] backup_days 应为 0 或正整数（天数），实际为 {value!r}",
                                f"{path}: [desk] backup_days must be 0 or a positive number of days, got {value!r}")
        settings.backup_days = value
    if "engine" in desk:
        if desk["engine"] not in ("patch", "openpyxl"):
            raise SettingsError(f"{path}：[desk] engine 应为 \"patch\" 或 \"openpyxl\"，实际为 {desk['engine']!r}",
                                f"{path}: [desk] engine must be \"patch\" or \"openpyxl\", got {desk['engine']!r}")
        settings.engine = desk["engine"]
    if "stale_lock_hours" in desk:
        value = desk["stale_lock_hours"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise SettingsError(f"{path}：[desk] stale_lock_hours 应为正数，实际为 {value!r}",
                                f"{path}: [desk] stale_lock_hours must be a positive number, got {value!r}")
        settings.stale_lock_hours = float(value)
    periodic = raw.get("followups", {}).get("periodic", [])
    if not isinstance(periodic, list) or not all(isinstance(d, int) and 0 < d <= 3650 for d in periodic):
        raise SettingsError(f"{path}：[followups] periodic 应为天数列表，如 [7, 30, 90]，实际为 {periodic!r}",
                            f"{path}: [followups] periodic must be a list of days like [7, 30, 90], got {periodic!r}")
    settings.periodic_calls = sorted(set(periodic))
    pause = raw.get("sla", {}).get("pause_steps", [])
    keys = [step_key(str(p)) for p in pause] if isinstance(pause, list) else [None]
    if None in keys or any(k in ("closed", "reopened") for k in keys):
        raise SettingsError(f"{path}：[sla] pause_steps 应为进度节点列表，如 [\"等待客户\"]，实际为 {pause!r}",
                            f"{path}: [sla] pause_steps must list progress steps like [\"Waiting on customer\"], got {pause!r}")
    settings.pause_steps = frozenset(k for k in keys if k)
    if "default_level" in raw.get("sla", {}):
        level = raw["sla"]["default_level"]
        if not isinstance(level, str) or not level.strip():
            raise SettingsError(f"{path}：[sla] default_level 应为时效标准表中的级别名称，如 \"P2\"，实际为 {level!r}",
                                f"{path}: [sla] default_level must name a level of the SLA sheet, like \"P2\", got {level!r}")
        settings.default_level = level.strip()
    settings.rating_scale = raw.get("results", {}).get("scale")  # checked by the schema: 10 or 100
    return settings


def _check_schema(raw: dict[str, Any], path: Path) -> None:
    """Unknown sections and keys, and values of the wrong type, stop the command with the file, the
    key, the value and what is expected: a misspelt key would otherwise be ignored in silence."""
    for section, table in raw.items():
        keys = SCHEMA.get(section)
        if keys is None:
            raise SettingsError(f"{path}：未知的设置节 [{section}]；可用：{'、'.join(f'[{s}]' for s in SCHEMA)}",
                                f"{path}: unknown section [{section}]; expected one of: {', '.join(f'[{s}]' for s in SCHEMA)}")
        if not isinstance(table, dict):
            raise SettingsError(f"{path}：{section} 应为一节设置 [{section}]，实际为 {table!r}",
                                f"{path}: {section} must be a section [{section}], got {table!r}")
        if section == "notify" and isinstance(table.get("targets"), dict):
            raise SettingsError(f"{path}：群消息目标应写成 [[notify.targets]]（两层方括号，每个目标一节）",
                                f"{path}: write each target as [[notify.targets]] (double brackets, one table per target)")
        _check_keys(table, keys, f"[{section}]", path)
        if section == "calendar" and isinstance(table.get("years"), dict):
            for year, entry in table["years"].items():
                where = f"[calendar.years.{year}]"
                if not str(year).isdigit() or not isinstance(entry, dict):
                    raise SettingsError(f"{path}：{where} 应为 [calendar.years.YYYY] 一节",
                                        f"{path}: {where} must be a [calendar.years.YYYY] section")
                _check_keys(entry, _YEAR_KEYS, where, path)
        if section == "notify" and isinstance(table.get("targets"), list):
            _check_targets(table["targets"], path)


def _check_targets(targets: list[Any], path: Path) -> None:
    """Each [[notify.targets]] table: a known type, the environment variables it needs named (never a
    URL or a secret written in the file: those values are not repeated in the message)."""
    for i, target in enumerate(targets, 1):
        where = f"[[notify.targets]] 第{i}个"
        where_en = f"[[notify.targets]] #{i}"

        def bad(zh: str, en: str, where: str = where, where_en: str = where_en) -> SettingsError:
            return SettingsError(f"{path}：{where}：{zh}", f"{path}: {where_en}: {en}")

        if not isinstance(target, dict):
            raise bad("应为一个 [[notify.targets]] 表", "must be a [[notify.targets]] table")
        for key in ("url", "secret", "webhook", "token"):
            if key in target:
                raise bad(f"不要把 {key} 写在配置文件里：删除它，把值放进环境变量，并用 {key.replace('webhook', 'url').replace('token', 'secret')}_env 指明变量名",
                          f"do not write {key} in the file: remove it, put the value in an environment variable and "
                          f"name that variable with {key.replace('webhook', 'url').replace('token', 'secret')}_env")
        _check_keys(target, _TARGET_KEYS, where, path)
        kind = target.get("type")
        if kind not in TARGET_TYPES:
            raise bad(f"type 应为 {' | '.join(TARGET_TYPES)} 之一，实际为 {kind!r}",
                      f"type must be one of {' | '.join(TARGET_TYPES)}, got {kind!r}")
        for key in ("url_env", "secret_env"):
            if key in target and not _ENV_NAME.fullmatch(target[key]):
                raise bad(f"{key} 应为环境变量名（如 SHEETDESK_WECOM_URL），而不是网址或密钥本身",
                          f"{key} must name an environment variable (e.g. SHEETDESK_WECOM_URL), not hold the URL or secret")
        if kind == "mail":
            to = target.get("to")
            if not to or not all(isinstance(a, str) and "@" in a for a in to):
                raise bad("type = \"mail\" 需要收件人：to = [\"someone@example.com\"]（邮件服务器见 [mail]）",
                          "type = \"mail\" needs recipients: to = [\"someone@example.com\"] (the server is [mail])")
            for key in ("url_env", "secret_env", "style"):
                if key in target:
                    raise bad(f"type = \"mail\" 不用 {key}", f"type = \"mail\" takes no {key}")
            continue
        if "url_env" not in target:
            raise bad(f"type = \"{kind}\" 需要 url_env：存放机器人 Webhook 地址的环境变量名",
                      f"type = \"{kind}\" needs url_env: the environment variable holding the bot's webhook URL")
        if kind == "wecom" and "secret_env" in target:
            raise bad("企业微信群机器人没有签名密钥：删除 secret_env", "a WeCom group bot has no signing secret: remove secret_env")
        if "to" in target:
            raise bad(f"type = \"{kind}\" 不用 to（发到群里）", f"type = \"{kind}\" takes no to (it posts to the group)")
        styles = {"feishu": ("post", "card")}.get(kind, ("markdown",))
        if "style" in target and target["style"] not in styles:
            raise bad(f"style 应为 {' | '.join(styles)} 之一，实际为 {target['style']!r}",
                      f"style must be one of {' | '.join(styles)}, got {target['style']!r}")


def _check_keys(table: dict[str, Any], keys: dict[str, KeyRule], where: str, path: Path) -> None:
    for key, value in table.items():
        rule = keys.get(key)
        if rule is None:
            raise SettingsError(f"{path}：{where} 中未知的设置项 {key}；可用：{'、'.join(keys)}",
                                f"{path}: unknown key {key} in {where}; expected one of: {', '.join(keys)}")
        check, zh, en = rule
        if not check(value):
            raise SettingsError(f"{path}：{where} {key} 应为{zh}，实际为 {value!r}",
                                f"{path}: {where} {key} must be {en}, got {value!r}")


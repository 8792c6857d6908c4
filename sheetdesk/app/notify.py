"""``sheetdesk notify`` and ``refresh --notify``: the stand-up posted to the team's group bots and mailed.

Targets are ``[[notify.targets]]`` tables of sheetdesk.toml; a webhook's URL and its signing secret
come from environment variables named there, never from the file or the workbook, and never appear
in what sheetdesk prints: every message about a target names the variable, and any text that could
hold the URL or the secret is passed through :func:`redact`.

```toml
[notify]
show_names = false     # customer names masked (王**) unless true
timeout = 10           # seconds per request
retries = 3            # more attempts after a 5xx, a rate limit or a network failure
backoff = 2            # seconds before the first retry, doubled for each next one

[[notify.targets]]
type = "wecom"                       # 企业微信
url_env = "SHEETDESK_WECOM_URL"

[[notify.targets]]
type = "dingtalk"                    # 钉钉, with 加签
url_env = "SHEETDESK_DINGTALK_URL"
secret_env = "SHEETDESK_DINGTALK_SECRET"

[[notify.targets]]
type = "feishu"                      # 飞书, with 签名校验
style = "post"                       # or "card"
url_env = "SHEETDESK_FEISHU_URL"
secret_env = "SHEETDESK_FEISHU_SECRET"

[[notify.targets]]
type = "mail"                        # through [mail]
to = ["lead@example.com"]
```

Sending tolerates a slow or busy server: a timeout per request, retries with a doubling wait on
5xx, HTTP 429, a platform's rate-limit code (企业微信 45009, 钉钉 130101, 飞书 11232) and network
failures; the platform's error code and message make the one line a failed target reports.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetdesk.app import mailer
from sheetdesk.app.desk import RunResult
from sheetdesk.errors import SettingsError, SheetdeskError
from sheetdesk.rules import notify as rules
from sheetdesk.settings import Settings, load_settings, utc_now

DEFAULTS = {"timeout": 10.0, "retries": 3, "backoff": 2.0}
#: the platforms' "too many messages" codes: retried like a 5xx
RATE_LIMITED = {"wecom": {45009}, "dingtalk": {130101}, "feishu": {11232}}
#: the longest wait sheetdesk accepts from a Retry-After header
MAX_WAIT = 60.0
#: what the exit code says when the desk was refreshed (or read) but a target was not notified
EXIT_NOT_NOTIFIED = 3
NAMES = {"wecom": ("企业微信", "WeCom"), "dingtalk": ("钉钉", "DingTalk"), "feishu": ("飞书", "Feishu"),
         "mail": ("邮件", "mail")}


@dataclass(frozen=True)
class Target:
    kind: str
    name: str = ""
    url_env: str = ""
    secret_env: str = ""
    style: str = ""
    to: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        """How messages name the target: its name, or its app and the variable holding its URL."""
        app = NAMES[self.kind][0 if lang == "zh" else 1]
        if self.name:
            return f"{self.name}（{app}）" if lang == "zh" else f"{self.name} ({app})"
        where = self.url_env or ", ".join(self.to)
        return f"{app}（{where}）" if lang == "zh" else f"{app} ({where})"


@dataclass
class NotifySettings:
    targets: list[Target]
    show_names: bool = False
    timeout: float = DEFAULTS["timeout"]
    retries: int = int(DEFAULTS["retries"])
    backoff: float = DEFAULTS["backoff"]
    where: str = "sheetdesk.toml"


@dataclass
class Outcome:
    target: Target
    ok: bool
    zh: str
    en: str
    attempts: int = 0
    #: --dry-run: what would be sent (JSON of the unsigned body, or the mail's text)
    preview: str = ""

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


def notify_settings(settings: Settings) -> NotifySettings:
    """``[notify]`` and its targets (already checked by :mod:`sheetdesk.settings`)."""
    raw = settings.raw.get("notify") or {}
    where = str(settings.path or "sheetdesk.toml")
    targets = [Target(t["type"], str(t.get("name", "")), str(t.get("url_env", "")), str(t.get("secret_env", "")),
                      str(t.get("style", "")), tuple(t.get("to", ()))) for t in raw.get("targets", [])]
    if not targets:
        raise SettingsError(f"{where} 中没有群消息目标：请添加 [[notify.targets]]（见 docs/notify.md）",
                            f"no notify targets in {where}: add [[notify.targets]] (see docs/notify.md)")
    return NotifySettings(targets, bool(raw.get("show_names", False)), float(raw.get("timeout", DEFAULTS["timeout"])),
                          int(raw.get("retries", DEFAULTS["retries"])), float(raw.get("backoff", DEFAULTS["backoff"])),
                          where)


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret, every webhook URL and each of its tokens replaced by ***."""
    parts: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        parts.add(secret)
        try:
            parsed = urllib.parse.urlsplit(secret)
        except ValueError:  # not a URL that parses: the whole value is masked all the same
            continue
        if parsed.scheme and parsed.netloc:
            parts.update(v for values in urllib.parse.parse_qs(parsed.query).values() for v in values if len(v) >= 6)
            parts.update(seg for seg in parsed.path.split("/") if len(seg) >= 16)
            parts.add(parsed.query)
    for part in sorted((p for p in parts if p), key=len, reverse=True):
        text = text.replace(part, "***")
        text = text.replace(urllib.parse.quote(part, safe=""), "***")
    return text


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret)), URL-encoded as the
    ``sign`` query parameter beside ``timestamp`` (milliseconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """飞书 签名校验: base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg="")), sent in the body
    beside ``timestamp`` (seconds)."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed(kind: str, url: str, body: dict[str, Any], secret: str, now_ms: int) -> tuple[str, dict[str, Any]]:
    """The URL and body to post: 钉钉 signs in the query string, 飞书 in the body."""
    if not secret:
        return url, body
    if kind == "dingtalk":
        sep = "&" if urllib.parse.urlsplit(url).query else "?"
        return f"{url}{sep}timestamp={now_ms}&sign={dingtalk_sign(secret, now_ms)}", body
    if kind == "feishu":
        seconds = now_ms // 1000
        return url, {"timestamp": str(seconds), "sign": feishu_sign(secret, seconds), **body}
    return url, body


def _answer(kind: str, raw: bytes) -> tuple[int | None, str]:
    """(the platform's error code, its message) from a JSON answer; (None, text) otherwise."""
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return None, " ".join(text.split())[:200]
    if not isinstance(data, dict):
        return None, " ".join(text.split())[:200]
    for code_key, msg_key in (("errcode", "errmsg"), ("code", "msg"), ("StatusCode", "StatusMessage")):
        if code_key in data:
            code = data[code_key]
            return (int(code) if isinstance(code, int) else None), str(data.get(msg_key, ""))
    return None, " ".join(text.split())[:200]


def _wait(headers: Any, attempt: int, backoff: float) -> float:
    after = headers.get("Retry-After") if headers is not None else None
    if after and str(after).strip().isdigit():
        return min(float(after), MAX_WAIT)
    return backoff * (2 ** (attempt - 1))


def post_webhook(target: Target, url: str, secret: str, body: dict[str, Any], opts: NotifySettings,
                 sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Post ``body`` (signed afresh on each attempt: the platforms refuse an old timestamp)."""
    attempts = 0
    last_zh = last_en = ""
    secrets = [url, secret]
    while True:
        attempts += 1
        retry, headers = False, None
        try:
            target_url, data = signed(target.kind, url, body, secret, int(utc_now().timestamp() * 1000))
            request = urllib.request.Request(target_url, json.dumps(data, ensure_ascii=False).encode("utf-8"),
                                             {"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": "sheetdesk"}, method="POST")
            with urllib.request.urlopen(request, timeout=opts.timeout) as response:  # noqa: S310 (https from the env)
                code, message = _answer(target.kind, response.read())
            if code == 0:
                return Outcome(target, True, f"已发送（{attempts} 次尝试）" if attempts > 1 else "已发送",
                               f"sent ({attempts} attempts)" if attempts > 1 else "sent", attempts)
            last_zh = last_en = f"errcode {code}: {message}" if code is not None else f"HTTP 200 {message}"
            retry = code in RATE_LIMITED.get(target.kind, set())
        except urllib.error.HTTPError as exc:
            headers = exc.headers
            code, message = _answer(target.kind, exc.read() or b"")
            detail = f"errcode {code}: {message}" if code is not None else message
            last_zh = last_en = f"HTTP {exc.code}" + (f" {detail}" if detail else "")
            retry = exc.code == 429 or exc.code >= 500 or code in RATE_LIMITED.get(target.kind, set())
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            last_zh = f"无法连接：{reason}"
            last_en = f"cannot connect: {reason}"
            retry = True
        except (ValueError, http.client.InvalidURL):  # a URL urllib cannot take (https://k@[bad/send, a space)
            return Outcome(target, False, *_bad_url(target), attempts)
        if not retry or attempts > opts.retries:
            tried_zh = f"（共尝试 {attempts} 次）" if attempts > 1 else ""
            tried_en = f" (tried {attempts} times)" if attempts > 1 else ""
            return Outcome(target, False, redact(f"未发送：{last_zh}{tried_zh}", secrets),
                           redact(f"not sent: {last_en}{tried_en}", secrets), attempts)
        sleep(_wait(headers, attempts, opts.backoff))


def _bad_url(target: Target) -> tuple[str, str]:
    """Why a webhook URL that cannot be parsed is not used (the URL itself is never shown)."""
    return (f"未发送：环境变量 {target.url_env} 中的 Webhook 地址无法解析（网址写错了？请从群机器人设置里重新复制）",
            f"not sent: the webhook URL in environment variable {target.url_env} cannot be parsed "
            f"(mistyped? copy it again from the group bot's settings)")


def _parses(url: str) -> bool:
    try:
        parsed = urllib.parse.urlsplit(url)
        parsed.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        return False
    return bool(parsed.hostname)


def _env(target: Target) -> tuple[str, str, tuple[str, str] | None]:
    """(url, secret, why not) from the environment."""
    url = os.environ.get(target.url_env, "").strip()
    secret = os.environ.get(target.secret_env, "").strip() if target.secret_env else ""
    if not url:
        return "", "", (f"环境变量 {target.url_env} 未设置（应为机器人的 Webhook 地址）",
                        f"environment variable {target.url_env} is not set (the bot's webhook URL)")
    if not re.match(r"https?://[^/\s]+", url):
        return "", "", (f"环境变量 {target.url_env} 不是网址（应为 https://… 的 Webhook 地址）",
                        f"environment variable {target.url_env} is not a URL (expected the https://… webhook)")
    if target.secret_env and not secret:
        return "", "", (f"环境变量 {target.secret_env} 未设置（机器人的签名密钥）",
                        f"environment variable {target.secret_env} is not set (the bot's signing secret)")
    return url, secret, None


def send_standup(book: Path, result: RunResult, lang: str, *, dry_run: bool = False,
                 settings: Settings | None = None, sleep: Callable[[float], None] = time.sleep) -> Report:
    """Post the stand-up of ``result`` to every target. A failed target is an outcome, never an
    exception: the refresh that came before stands."""
    settings = settings or load_settings(Path(book))
    opts = notify_settings(settings)
    report = Report()
    if result.standup is None or result.calendar is None:
        return report
    digest = rules.build_digest(result.standup, result.calendar, lang, opts.show_names)
    for target in opts.targets:
        if target.kind == "mail":
            report.outcomes.append(_mail(book, target, digest, dry_run))
            continue
        body = rules.payload(target.kind, digest, result.staff, target.style or None)
        url, secret, why = _env(target)
        if dry_run:  # says now what a real send would stumble on
            preview = json.dumps(body, ensure_ascii=False, indent=2)
            zh, en = "未发送（--dry-run）", "not sent (--dry-run)"
            if why is not None:
                zh, en = f"{zh}；实际发送会失败：{why[0]}", f"{en}; a real send would fail: {why[1]}"
            report.outcomes.append(Outcome(target, True, zh, en, 0, preview))
            continue
        if why is not None:
            report.outcomes.append(Outcome(target, False, f"未发送：{why[0]}", f"not sent: {why[1]}"))
            continue
        if not _parses(url):
            report.outcomes.append(Outcome(target, False, *_bad_url(target)))
            continue
        report.outcomes.append(post_webhook(target, url, secret, body, opts, sleep))
    return report


def _mail(book: Path, target: Target, digest: rules.Digest, dry_run: bool) -> Outcome:
    subject, body = rules.mail(digest)
    if dry_run:
        return Outcome(target, True, "未发送（--dry-run）", "not sent (--dry-run)", 0,
                       f"Subject: {subject}\nTo: {', '.join(target.to)}\n\n{body}")
    secret = ""
    try:
        mail_settings = mailer.mail_settings(Path(book))
        secret = os.environ.get(mail_settings.password_env, "")
        mailer.send(None, list(target.to), mail_settings, subject, body)
    except SheetdeskError as exc:
        return Outcome(target, False, redact(f"未发送：{exc.zh}", [secret]), redact(f"not sent: {exc.en}", [secret]), 1)
    return Outcome(target, True, "已发送", "sent", 1)

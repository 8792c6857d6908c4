"""``sheetdesk summary --mail-to``: the summary workbook sent as an attachment through the team's SMTP server.

Settings live under ``[mail]`` in sheetdesk.toml beside the (first) desk; the password never does:
it is read from an environment variable (``password_env``), so the toml can be shared and
committed without a secret in it.

```toml
[mail]
host = "smtp.example.com"
port = 587                 # default: 465 with ssl, 587 with starttls, else 25
user = "desk@example.com"  # omit for a relay that takes mail without a login
from = "售后反馈台 <desk@example.com>"   # default: user
starttls = true            # default: true unless ssl
ssl = false                # TLS from the first byte (usually port 465)
password_env = "SHEETDESK_SMTP_PASSWORD"
cafile = ""                # a CA bundle for a server with a company-internal certificate
timeout = 30               # seconds
```
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path

from sheetdesk.errors import InputError, SettingsError, SheetdeskError
from sheetdesk.rules.kpis import period_name
from sheetdesk.settings import DEFAULT_TIMEZONE, aware, desk_now, load_settings

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DEFAULT_PASSWORD_ENV = "SHEETDESK_SMTP_PASSWORD"


class MailError(SheetdeskError):
    """The summary could not be mailed (it is written all the same)."""


@dataclass
class MailSettings:
    host: str
    port: int
    sender: str
    user: str | None = None
    starttls: bool = True
    ssl: bool = False
    password_env: str = DEFAULT_PASSWORD_ENV
    cafile: str | None = None
    timeout: float = 30.0
    where: str = "sheetdesk.toml"
    #: the desk's clock, for the Date header
    timezone: str = DEFAULT_TIMEZONE


def _bad(where: str, zh: str, en: str) -> SettingsError:
    return SettingsError(f"{where}：[mail] {zh}", f"{where}: [mail] {en}")


def mail_settings(book: Path) -> MailSettings:
    """``[mail]`` of the sheetdesk.toml beside ``book``, checked, with defaults filled in."""
    settings = load_settings(book)
    where = str(settings.path or Path(book).parent / "sheetdesk.toml")
    raw = settings.raw.get("mail")
    if not isinstance(raw, dict) or not raw.get("host"):
        raise SettingsError(f"{where} 中没有 [mail] host 设置（见 docs/outgrow.md）",
                            f"no [mail] host in {where} (see docs/outgrow.md)")
    if "password" in raw:
        raise _bad(where, "不要把密码写在配置文件里：删除 password，改为设置环境变量（password_env，默认 "
                          f"{DEFAULT_PASSWORD_ENV}）",
                   f"do not store the password in the file: remove password and set the environment variable "
                   f"named by password_env (default {DEFAULT_PASSWORD_ENV})")
    flags = {}
    for key in ("starttls", "ssl"):
        if key in raw and not isinstance(raw[key], bool):
            raise _bad(where, f"{key} 应为 true 或 false，实际为 {raw[key]!r}", f"{key} must be true or false, got {raw[key]!r}")
        flags[key] = raw.get(key)
    use_ssl = bool(flags["ssl"])
    starttls = (not use_ssl) if flags["starttls"] is None else flags["starttls"]
    if use_ssl and starttls:
        raise _bad(where, "ssl 与 starttls 只能开启一个", "ssl and starttls cannot both be true")
    port = raw.get("port", 465 if use_ssl else 587 if starttls else 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise _bad(where, f"port 应为端口号，实际为 {port!r}", f"port must be a port number, got {port!r}")
    timeout = raw.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise _bad(where, f"timeout 应为正数（秒），实际为 {timeout!r}", f"timeout must be a positive number of seconds, got {timeout!r}")
    user = str(raw["user"]) if raw.get("user") else None
    sender = str(raw.get("from") or user or "")
    if "@" not in parseaddr(sender)[1]:
        raise _bad(where, "缺少发件人：请设置 from（或 user 为邮箱地址）", "no sender: set from (or a user that is an e-mail address)")
    return MailSettings(str(raw["host"]), port, sender, user, starttls, use_ssl,
                        str(raw.get("password_env") or DEFAULT_PASSWORD_ENV), str(raw.get("cafile") or "") or None,
                        float(timeout), where, settings.timezone)


def check_recipients(addresses: tuple[str, ...] | list[str]) -> list[str]:
    """Every ``--mail-to`` must be an address (a typo is caught before the summary is built)."""
    out = []
    for name, addr in getaddresses(list(addresses)):
        if "@" not in addr or addr.startswith("@") or addr.endswith("@"):
            raise InputError(f"--mail-to 的值“{addr or name}”不是邮箱地址", f"--mail-to '{addr or name}' is not an e-mail address")
        out.append(addr)
    return out


def subject(label: str, name: str, lang: str) -> str:
    """``name``: the period's word (月度, 周, 季度, 年度 / monthly, weekly, …; kpis.period_name)."""
    if lang == "zh":
        return f"售后反馈{name}汇总 {label}"
    return f"After-sales {name} summary {label}"


def compose(path: Path | None, recipients: list[str], settings: MailSettings, subject_text: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject_text
    msg["From"] = settings.sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(aware(desk_now(settings.timezone), settings.timezone))  # sent now, desk's zone
    msg["Message-ID"] = make_msgid(domain=parseaddr(settings.sender)[1].split("@")[-1] or None)
    msg.set_content(body)
    if path is None:  # the stand-up goes as text (sheetdesk notify)
        return msg
    msg.add_attachment(Path(path).read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=Path(path).name)
    return msg


def _password(settings: MailSettings) -> str | None:
    if not settings.user:
        return None
    value = os.environ.get(settings.password_env)
    if not value:
        raise MailError(f"环境变量 {settings.password_env} 未设置：[mail] user 需要密码，密码只从环境变量读取",
                        f"environment variable {settings.password_env} is not set: [mail] user needs a password, "
                        f"which is only read from the environment")
    return value


def send(path: Path | None, recipients: list[str], settings: MailSettings, subject_text: str, body: str) -> None:
    """Send ``path`` (None: the body alone) to ``recipients``; every failure becomes one :class:`MailError` line."""
    password = _password(settings)
    msg = compose(path, recipients, settings, subject_text, body)
    where = f"{settings.host}:{settings.port}"
    try:
        context = ssl.create_default_context(cafile=settings.cafile)
    except (OSError, ssl.SSLError) as exc:
        raise MailError(f"{settings.where}：[mail] cafile 无法读取：{exc}", f"{settings.where}: [mail] cafile unreadable: {exc}") from None
    try:
        if settings.ssl:
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.starttls:
                client.ehlo()
                if not client.has_extn("starttls"):
                    raise MailError(f"邮件服务器 {where} 不支持 STARTTLS；若确为内网明文服务器，可在 [mail] 中设 starttls = false",
                                    f"mail server {where} does not offer STARTTLS; for a plain internal server set "
                                    f"starttls = false under [mail]")
                client.starttls(context=context)
                client.ehlo()
            if settings.user:
                client.login(settings.user, password or "")
            refused = client.send_message(msg, from_addr=parseaddr(settings.sender)[1], to_addrs=recipients)
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"邮件服务器 {where} 拒绝登录（用户 {settings.user}）：{_smtp_text(exc)}",
                        f"mail server {where} refused the login (user {settings.user}): {_smtp_text(exc)}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        bad = ", ".join(exc.recipients)
        raise MailError(f"邮件服务器拒绝了收件人 {bad}", f"the mail server refused recipient(s) {bad}") from None
    except smtplib.SMTPException as exc:
        raise MailError(f"发送失败（{where}）：{_smtp_text(exc)}", f"sending failed ({where}): {_smtp_text(exc)}") from None
    except ssl.SSLError as exc:
        raise MailError(f"与 {where} 的 TLS 连接失败：{exc.reason or exc}（证书不受信任可设 [mail] cafile）",
                        f"TLS with {where} failed: {exc.reason or exc} (an untrusted certificate needs [mail] cafile)") from None
    except (OSError, socket.timeout) as exc:
        raise MailError(f"无法连接邮件服务器 {where}：{exc.strerror or exc}",
                        f"cannot connect to mail server {where}: {exc.strerror or exc}") from None
    if refused:
        bad = ", ".join(refused)
        raise MailError(f"已发送，但邮件服务器拒绝了收件人 {bad}", f"sent, but the mail server refused recipient(s) {bad}")


def _smtp_text(exc: smtplib.SMTPException) -> str:
    error = getattr(exc, "smtp_error", None)
    if isinstance(error, bytes):
        error = error.decode("utf-8", "replace")
    code = getattr(exc, "smtp_code", None)
    text = f"{code} {error}" if code and error else str(exc)
    return " ".join(text.split())


def mail_summary(target: Path, recipients: list[str], book: Path, data) -> None:
    """Mail the written summary ``target`` (a :class:`sheetdesk.app.summary.SummaryData` tells what it holds).

    Runs after the file is written, so any failure says where the file is: the manager can still
    be sent it by hand.
    """
    label, lang, k = data.period.label, data.lang, data.kpis
    name = period_name(data.period, lang)
    if lang == "zh":
        body = (f"您好：\n\n附件为 {label} 售后反馈{name}汇总（受理 {k['received']}，"
                f"结案 {k['closed']}，期末未结 {k['open_at_end']}）。\n\n—— sheetdesk 自动发送\n")
    else:
        body = (f"Hello,\n\nattached is the after-sales {name} summary for {label} "
                f"({k['received']} received, {k['closed']} closed, {k['open_at_end']} open at period end).\n\n"
                f"-- sent by sheetdesk\n")
    try:
        send(target, recipients, mail_settings(book), subject(label, name, lang), body)
    except SheetdeskError as exc:
        raise MailError(f"邮件未发送：{exc.zh}（汇总已写入 {target}）",
                        f"mail not sent: {exc.en} (the summary is written: {target})") from None

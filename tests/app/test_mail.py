"""sheetdesk summary --mail-to: the summary delivered to a real local SMTP server (aiosmtpd) the test starts.

Plain SMTP, a login over STARTTLS and implicit TLS (with a certificate made by openssl for the test);
the errors that stop a mail are one line, and the summary is written all the same.
"""

from __future__ import annotations

import email
import io
import shutil
import socket
import subprocess
from datetime import datetime
from email import policy

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.helpers import NOW

REGISTER = [
    {"id": "202611-001", "channel": "电话", "customer": "王女士", "description": "机器无法开机",
     "received": datetime(2026, 11, 2, 10)},
    {"id": "202611-002", "channel": "邮件", "customer": "李先生", "description": "快递一直没收到",
     "received": datetime(2026, 11, 3, 9)},
]
LOG = [{"id": "202611-001", "time": datetime(2026, 11, 2, 11), "by": "李工", "step": "问题关闭"}]


class Inbox:
    """An aiosmtpd handler that keeps every message it is given, and who logged in."""

    def __init__(self):
        self.envelopes = []
        self.logins = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (b"desk@example.com", b"s3cret")
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: the server itself answers 535 on failure

    def message(self, i=0):
        return email.message_from_bytes(self.envelopes[i].original_content, policy=policy.default)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """smtp_server(**controller_options) -> (inbox, port); stopped after the test."""
    started = []

    def start(**options):
        inbox = Inbox()
        if options.pop("auth", False):
            options["authenticator"] = inbox.authenticate
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        return inbox, port

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def certificate(tmp_path):
    """(cert, key) for 127.0.0.1, self-signed; the cert doubles as the CA file the client trusts."""
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("openssl is not installed: no certificate for the TLS mail tests")
    cert, key = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    subprocess.run([exe, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def server_context(certificate):
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*certificate)
    return ctx


def desk_with_mail(make_desk, tmp_path, mail: str):
    book = make_desk(REGISTER, progress=LOG)
    (tmp_path / "sheetdesk.toml").write_text(mail, encoding="utf-8")
    return book


def summary(cli, book, *args):
    return cli("summary", book, "--month", "2026-11", "--now", NOW, *args)


def test_summary_mailed_as_attachment_over_plain_smtp(make_desk, cli, tmp_path, smtp_server, monkeypatch):
    monkeypatch.delenv("SHEETDESK_SMTP_PASSWORD", raising=False)  # no user: no login, no password needed
    inbox, port = smtp_server()
    book = desk_with_mail(make_desk, tmp_path, f'[mail]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n'
                                               f'from = "售后反馈台 <desk@example.com>"\n')
    result = summary(cli, book, "--mail-to", "manager@example.com", "--mail-to", "boss@example.com")
    assert result.exit_code == 0, result.output
    assert "已发送至 manager@example.com、boss@example.com" in result.output
    out = tmp_path / "summaries" / "2026-11.xlsx"

    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.mail_from == "desk@example.com"
    assert envelope.rcpt_tos == ["manager@example.com", "boss@example.com"]
    msg = inbox.message()
    assert msg["Subject"] == "售后反馈月度汇总 2026-11"
    assert msg["To"] == "manager@example.com, boss@example.com" and "售后反馈台" in msg["From"]
    assert "受理 2" in msg.get_body(("plain",)).get_content()
    attachments = list(msg.iter_attachments())
    assert len(attachments) == 1
    part = attachments[0]
    assert part.get_filename() == "2026-11.xlsx"
    assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    data = part.get_content()
    assert data == out.read_bytes()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert "指标" in wb.sheetnames
    kpis = {r[0]: r[1] for r in wb["指标"].iter_rows(min_row=2, values_only=True)}
    assert kpis["受理量"] == 2 and kpis["结案量"] == 1


def test_login_over_starttls_in_english(make_desk, cli, tmp_path, smtp_server, certificate, monkeypatch):
    inbox, port = smtp_server(tls_context=server_context(certificate), require_starttls=True, auth=True)
    monkeypatch.setenv("DESK_MAIL_PW", "s3cret")
    book = desk_with_mail(make_desk, tmp_path,
                          f'[mail]\nhost = "127.0.0.1"\nport = {port}\nuser = "desk@example.com"\n'
                          f'password_env = "DESK_MAIL_PW"\ncafile = "{certificate[0]}"\n')  # starttls is the default
    result = summary(cli, book, "--mail-to", "manager@example.com", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert inbox.logins == ["desk@example.com"]
    msg = inbox.message()
    assert msg["Subject"] == "After-sales monthly summary 2026-11" and msg["From"] == "desk@example.com"
    wb = openpyxl.load_workbook(io.BytesIO(next(msg.iter_attachments()).get_content()))
    assert "KPIs" in wb.sheetnames


def test_implicit_tls(make_desk, cli, tmp_path, smtp_server, certificate, monkeypatch):
    # aiosmtpd only counts STARTTLS as TLS when deciding to offer AUTH; this connection is TLS from the start
    inbox, port = smtp_server(ssl_context=server_context(certificate), auth=True, auth_require_tls=False)
    monkeypatch.setenv("SHEETDESK_SMTP_PASSWORD", "s3cret")
    book = desk_with_mail(make_desk, tmp_path, f'[mail]\nhost = "127.0.0.1"\nport = {port}\nssl = true\n'
                                               f'user = "desk@example.com"\ncafile = "{certificate[0]}"\n')
    result = summary(cli, book, "--mail-to", "manager@example.com")
    assert result.exit_code == 0, result.output
    assert inbox.logins == ["desk@example.com"] and len(inbox.envelopes) == 1


def test_untrusted_certificate_is_refused(make_desk, cli, tmp_path, smtp_server, certificate):
    inbox, port = smtp_server(tls_context=server_context(certificate))
    book = desk_with_mail(make_desk, tmp_path, f'[mail]\nhost = "127.0.0.1"\nport = {port}\nfrom = "desk@example.com"\n')
    result = summary(cli, book, "--mail-to", "manager@example.com", "--lang", "en")
    assert result.exit_code == 1 and "TLS" in result.output and "cafile" in result.output
    assert inbox.envelopes == []


def test_missing_password_is_one_line_and_the_summary_is_written(make_desk, cli, tmp_path, smtp_server, monkeypatch):
    monkeypatch.delenv("SHEETDESK_SMTP_PASSWORD", raising=False)
    inbox, port = smtp_server()
    book = desk_with_mail(make_desk, tmp_path, f'[mail]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n'
                                               f'user = "desk@example.com"\n')
    result = summary(cli, book, "--mail-to", "manager@example.com")
    out = tmp_path / "summaries" / "2026-11.xlsx"
    assert result.exit_code == 1
    assert out.exists() and f"已写入 {out}" in result.output.replace("\n", "")
    error = [line for line in result.output.splitlines() if line.startswith("错误")]
    assert len(error) == 1 and "SHEETDESK_SMTP_PASSWORD" in error[0] and str(out) in error[0]
    assert "Traceback" not in result.output and inbox.envelopes == []


def test_no_mail_settings(make_desk, cli, tmp_path):
    book = make_desk(REGISTER)
    result = summary(cli, book, "--mail-to", "manager@example.com", "--lang", "en")
    assert result.exit_code == 1 and "no [mail] host" in result.output
    assert (tmp_path / "summaries" / "2026-11.xlsx").exists()


def test_password_in_the_file_is_refused(make_desk, cli, tmp_path):
    book = desk_with_mail(make_desk, tmp_path, '[mail]\nhost = "127.0.0.1"\nuser = "a@example.com"\npassword = "x"\n')
    result = summary(cli, book, "--mail-to", "manager@example.com")
    assert result.exit_code == 1 and "不要把密码写在配置文件里" in result.output


def test_smtp_failures(make_desk, cli, tmp_path, smtp_server, monkeypatch):
    port = free_port()  # nobody listens here
    book = desk_with_mail(make_desk, tmp_path, f'[mail]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n'
                                               f'from = "desk@example.com"\ntimeout = 5\n')
    result = summary(cli, book, "--mail-to", "manager@example.com", "--lang", "en")
    assert result.exit_code == 1 and f"cannot connect to mail server 127.0.0.1:{port}" in result.output

    inbox, port = smtp_server()  # a plain server, while starttls is left at its default (on)
    (tmp_path / "sheetdesk.toml").write_text(f'[mail]\nhost = "127.0.0.1"\nport = {port}\nfrom = "desk@example.com"\n',
                                             encoding="utf-8")
    result = summary(cli, book, "--mail-to", "manager@example.com", "--lang", "en")
    assert result.exit_code == 1 and "does not offer STARTTLS" in result.output and "starttls = false" in result.output

    inbox, port = smtp_server(auth=True, auth_require_tls=False)
    monkeypatch.setenv("SHEETDESK_SMTP_PASSWORD", "wrong")
    (tmp_path / "sheetdesk.toml").write_text(f'[mail]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n'
                                             f'user = "desk@example.com"\n', encoding="utf-8")
    result = summary(cli, book, "--mail-to", "manager@example.com", "--lang", "en")
    assert result.exit_code == 1 and "refused the login" in result.output and inbox.envelopes == []
    assert "Traceback" not in result.output


def test_bad_address_stops_before_anything_is_built(make_desk, cli, tmp_path):
    book = make_desk(REGISTER)
    result = summary(cli, book, "--mail-to", "manager.example.com")
    assert result.exit_code == 2 and "不是邮箱地址" in result.output
    assert not (tmp_path / "summaries").exists()

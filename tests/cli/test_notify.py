"""sheetdesk notify / refresh --notify against real servers on localhost: an HTTP server in the test
process plays 企业微信, 钉钉 and 飞书 (checking each payload's shape, signature and headers, and
answering success, errors and rate limits), and the local SMTP server the mail tests use takes the
mail target. No secret or webhook URL ever shows in what sheetdesk prints."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.parse
import zipfile
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller

from tests.app.test_mail import Inbox, free_port
from tests.helpers import NOW, fill_rows, register_rows, sheet_rows

WECOM_KEY = "wecomkey-0a1b2c3d4e5f6789"
DING_TOKEN = "dingtoken9f8e7d6c5b4a3210"
DING_SECRET = "SECdingsecret1234567890abcdef"
FEISHU_HOOK = "feishuhook-1234-5678-9abc-def012345678"
FEISHU_SECRET = "feishusecretQWERTY123456"
SECRETS = (WECOM_KEY, DING_TOKEN, DING_SECRET, FEISHU_HOOK, FEISHU_SECRET)

REGISTER = [
    {"channel": "电话", "customer": "王小明", "contact": "13812345678", "description": "充电器冒烟，险些起火",
     "received": datetime(2026, 11, 18, 10), "priority": "P0", "category": "产品质量类", "owner": "李工"},
    {"channel": "邮件", "customer": "赵大海", "contact": "zhao@example.com", "description": "快递一直没收到",
     "received": datetime(2026, 11, 16, 10), "priority": "P1", "category": "物流类", "owner": "外包老周"},
    {"channel": "电话", "customer": "孙丽", "contact": "13900000000", "description": "怎么设置定时",
     "received": datetime(2026, 11, 20, 17), "priority": "P2", "category": "功能使用类", "owner": "王工"},
]
STAFF = [
    {"name": "李工", "department": "维修部", "mobile": "13700001111", "wecom_id": "ligong",
     "dingtalk_mobile": "13900001111", "feishu_id": "ou_ligong123", "active": "是"},
    {"name": "王工", "department": "产品技术支持", "wecom_id": "wanggong", "active": "是"},
]


class Hook:
    """The fake group-bot server: records each request; answers from a script, then success."""

    def __init__(self):
        self.requests = []
        self.script = []  # (status, body, headers) answered in order

    def answer(self):
        if self.script:
            return self.script.pop(0)
        return 200, {"errcode": 0, "errmsg": "ok"}, {}


@pytest.fixture
def hook():
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            url = urllib.parse.urlsplit(self.path)
            state.requests.append({"path": url.path, "query": urllib.parse.parse_qs(url.query),
                                   "headers": dict(self.headers), "body": json.loads(raw.decode("utf-8")),
                                   "at": time.time()})
            status, body, headers = state.answer()
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def staff_edit(rows):
    def edit(wb):
        ws = wb["人员"]
        for r in range(2, ws.max_row + 1):  # the template's people, replaced by the test's
            for c in range(1, ws.max_column + 1):
                ws.cell(r, c).value = None
        fill_rows(ws, "staff", rows)
    return edit


@pytest.fixture
def desk(make_desk, tmp_path, hook, monkeypatch):
    """desk(targets_toml, **notify) -> book with the register above, the staff sheet and the env set."""
    monkeypatch.setenv("SD_WECOM_URL", f"{hook.base}/cgi-bin/webhook/send?key={WECOM_KEY}")
    monkeypatch.setenv("SD_DING_URL", f"{hook.base}/robot/send?access_token={DING_TOKEN}")
    monkeypatch.setenv("SD_DING_SECRET", DING_SECRET)
    monkeypatch.setenv("SD_FEISHU_URL", f"{hook.base}/open-apis/bot/v2/hook/{FEISHU_HOOK}")
    monkeypatch.setenv("SD_FEISHU_SECRET", FEISHU_SECRET)

    def make(targets: str, notify: str = "backoff = 0.01\nretries = 2\ntimeout = 5\n"):
        book = make_desk(REGISTER, edit=staff_edit(STAFF))
        (tmp_path / "sheetdesk.toml").write_text(f"[notify]\n{notify}\n{targets}", encoding="utf-8")
        return book

    return make


WECOM = '[[notify.targets]]\ntype = "wecom"\nurl_env = "SD_WECOM_URL"\n'
DING = '[[notify.targets]]\ntype = "dingtalk"\nurl_env = "SD_DING_URL"\nsecret_env = "SD_DING_SECRET"\n'
FEISHU = '[[notify.targets]]\ntype = "feishu"\nurl_env = "SD_FEISHU_URL"\nsecret_env = "SD_FEISHU_SECRET"\n'


def notify(cli, book, *more):
    return cli("notify", book, "--now", NOW, *more)


def no_contacts(text: str) -> None:
    for contact in ("13812345678", "zhao@example.com", "13900000000", "王小明", "赵大海"):
        assert contact not in text


def test_wecom_markdown_late_first_masked_and_mentions(cli, desk, hook):
    book = desk(WECOM)
    result = notify(cli, book)
    assert result.exit_code == 0, result.output
    assert "企业微信（SD_WECOM_URL）：已发送" in result.output
    [req] = hook.requests
    assert req["path"] == "/cgi-bin/webhook/send" and req["query"]["key"] == [WECOM_KEY]
    assert req["headers"]["Content-Type"].startswith("application/json")
    assert req["body"]["msgtype"] == "markdown"
    content = req["body"]["markdown"]["content"]
    assert len(content.encode()) <= 4096
    no_contacts(content)
    assert "王** · P0" in content and "赵** · P1" in content
    assert content.index("P0") < content.index("赵** · P1")  # most urgent first
    assert "<@ligong>" in content  # a late P0 owner on the staff sheet
    assert "外包老周" in content and "<@外包老周>" not in content  # not on the sheet: named, not mentioned
    assert "<@wanggong>" not in content  # P2 ticket, not late
    assert "共 3 件未结" in content


def test_dingtalk_signed_in_the_query_with_at_mobiles(cli, desk, hook):
    book = desk(DING)
    before = int(time.time() * 1000)
    result = notify(cli, book)
    assert result.exit_code == 0, result.output
    [req] = hook.requests
    assert req["query"]["access_token"] == [DING_TOKEN]
    timestamp = req["query"]["timestamp"][0]
    assert before - 1000 <= int(timestamp) <= int(time.time() * 1000)
    expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert req["query"]["sign"] == [expected]  # parse_qs undid the URL encoding
    body = req["body"]
    assert body["msgtype"] == "markdown" and body["markdown"]["title"].startswith("售后晨会摘要")
    assert body["at"] == {"atMobiles": ["13900001111"], "isAtAll": False}
    assert "@13900001111" in body["markdown"]["text"]
    no_contacts(json.dumps(body, ensure_ascii=False))


@pytest.mark.parametrize("style", ["post", "card"])
def test_feishu_signed_in_the_body(cli, desk, hook, style):
    hook.script = [(200, {"code": 0, "msg": "success", "data": {}}, {})]
    book = desk(FEISHU + f'style = "{style}"\n')
    result = notify(cli, book)
    assert result.exit_code == 0, result.output
    [req] = hook.requests
    body = req["body"]
    assert req["path"] == f"/open-apis/bot/v2/hook/{FEISHU_HOOK}"
    expected = base64.b64encode(hmac.new(f"{body['timestamp']}\n{FEISHU_SECRET}".encode(), b"",
                                         hashlib.sha256).digest()).decode()
    assert body["sign"] == expected and abs(int(body["timestamp"]) - time.time()) < 5
    text = json.dumps(body, ensure_ascii=False)
    no_contacts(text)
    if style == "post":
        assert body["msg_type"] == "post"
        post = body["content"]["post"]["zh_cn"]
        assert post["title"].startswith("售后晨会摘要")
        assert {"tag": "at", "user_id": "ou_ligong123"} in post["content"][-1]
    else:
        assert body["msg_type"] == "interactive"
        assert "<at id=ou_ligong123></at>" in body["card"]["elements"][0]["text"]["content"]


def test_rate_limit_is_retried_with_backoff(cli, desk, hook):
    hook.script = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"}, {}),
                   (503, {"errcode": -1, "errmsg": "system busy"}, {})]
    book = desk(WECOM, "backoff = 0.2\nretries = 3\n")
    result = notify(cli, book)
    assert result.exit_code == 0, result.output
    assert len(hook.requests) == 3
    assert "已发送（3 次尝试）" in result.output
    gaps = [b["at"] - a["at"] for a, b in zip(hook.requests, hook.requests[1:])]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4  # doubled


def test_rate_limit_honours_retry_after(cli, desk, hook):
    hook.script = [(429, {"code": 11232, "msg": "frequency limited"}, {"Retry-After": "1"})]
    book = desk(FEISHU)
    result = notify(cli, book)
    assert result.exit_code == 0, result.output
    assert len(hook.requests) == 2 and hook.requests[1]["at"] - hook.requests[0]["at"] >= 1


def test_platform_error_is_one_line_not_retried_exit_3(cli, desk, hook):
    hook.script = [(200, {"errcode": 310000, "errmsg": "sign not match"}, {})]
    book = desk(DING + WECOM)
    result = notify(cli, book)
    assert result.exit_code == 3
    assert len(hook.requests) == 2  # the error is not retried; the next target still gets its message
    assert "钉钉（SD_DING_URL）：未发送：errcode 310000: sign not match" in result.output
    assert "企业微信（SD_WECOM_URL）：已发送" in result.output


def test_server_errors_give_up_after_the_retries(cli, desk, hook):
    hook.script = [(500, {"errcode": -1, "errmsg": "boom"}, {})] * 5
    book = desk(WECOM)  # retries = 2
    result = notify(cli, book, "--lang", "en")
    assert result.exit_code == 3
    assert len(hook.requests) == 3
    assert "not sent: HTTP 500 errcode -1: boom (tried 3 times)" in result.output


def test_refresh_notify_saves_even_when_sending_fails(cli, desk, hook, tmp_path):
    hook.script = [(500, {"errcode": -1, "errmsg": "down"}, {})] * 5
    book = desk(WECOM)
    result = cli("refresh", book, "--now", NOW, "--notify")
    assert result.exit_code == 3, result.output
    assert "台账已刷新，但群消息未全部送达（退出码 3）" in result.output
    assert all(r["id"] for r in register_rows(book).values())  # numbered and saved all the same
    hook.script = []
    result = cli("refresh", book, "--now", NOW, "--notify", "--json")
    assert result.exit_code == 0
    json.loads(result.stdout)  # the JSON stays clean: the notify lines go to stderr
    assert "企业微信（SD_WECOM_URL）：已发送" in result.stderr


def test_refresh_notify_without_targets_still_refreshes(cli, make_desk, tmp_path):
    book = make_desk(REGISTER)
    result = cli("refresh", book, "--now", NOW, "--notify")
    assert result.exit_code == 3
    assert "未发送群消息" in result.output and "[[notify.targets]]" in result.output
    assert all(r["id"] for r in register_rows(book).values())


def test_dry_run_prints_every_payload_and_sends_nothing(cli, desk, hook):
    book = desk(WECOM + DING + FEISHU + '[[notify.targets]]\ntype = "mail"\nto = ["lead@example.com"]\n')
    result = notify(cli, book, "--dry-run")
    assert result.exit_code == 0, result.output
    assert hook.requests == []
    assert '"msgtype": "markdown"' in result.output and '"msg_type": "post"' in result.output
    assert "Subject: 售后晨会摘要 2026-11-23" in result.output
    no_contacts(result.output)


def test_mail_target_through_the_local_smtp_server(cli, desk, tmp_path, monkeypatch):
    monkeypatch.delenv("SHEETDESK_SMTP_PASSWORD", raising=False)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        book = desk('[[notify.targets]]\ntype = "mail"\nto = ["lead@example.com"]\n')
        toml = tmp_path / "sheetdesk.toml"
        toml.write_text(toml.read_text(encoding="utf-8") + f'[mail]\nhost = "127.0.0.1"\nport = {port}\n'
                        'starttls = false\nfrom = "desk@example.com"\n', encoding="utf-8")
        result = notify(cli, book)
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert "邮件（lead@example.com）：已发送" in result.output
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["lead@example.com"]
    msg = inbox.message()
    assert msg["Subject"] == "售后晨会摘要 2026-11-23"
    body = msg.get_body(("plain",)).get_content()
    assert "已超时（2）" in body and "王**" in body
    no_contacts(body)
    assert not list(msg.iter_attachments())


def test_show_names_unmasks_customer_names_but_never_contacts(cli, desk, hook):
    book = desk(WECOM, "show_names = true\n")
    assert notify(cli, book).exit_code == 0
    content = hook.requests[0]["body"]["markdown"]["content"]
    assert "王小明" in content and "13812345678" not in content


@pytest.mark.parametrize("targets, expected", [
    ('[[notify.targets]]\ntype = "wecom"\nurl = "https://qyapi.weixin.qq.com/x?key=LEAKED"\n', "不要把 url 写在配置文件里"),
    ('[[notify.targets]]\ntype = "wecom"\nurl_env = "https://qyapi.weixin.qq.com/x?key=LEAKED"\n', "url_env 应为环境变量名"),
    ('[[notify.targets]]\ntype = "slack"\nurl_env = "X"\n', "type 应为 wecom | dingtalk | feishu | mail 之一"),
    ('[[notify.targets]]\ntype = "dingtalk"\n', "需要 url_env"),
    ('[[notify.targets]]\ntype = "wecom"\nurl_env = "X"\nsecret_env = "Y"\n', "企业微信群机器人没有签名密钥"),
    ('[[notify.targets]]\ntype = "mail"\n', "需要收件人"),
    ('[notify.targets]\ntype = "wecom"\n', "[[notify.targets]]（两层方括号"),
    ('[[notify.targets]]\ntype = "feishu"\nurl_env = "X"\nstyle = "fancy"\n', "style 应为 post | card 之一"),
])
def test_bad_targets_are_one_line_without_the_value(cli, make_desk, tmp_path, targets, expected):
    book = make_desk(REGISTER)
    (tmp_path / "sheetdesk.toml").write_text(targets, encoding="utf-8")
    result = cli("notify", book, "--now", NOW)
    assert result.exit_code == 1
    assert expected in result.output and "LEAKED" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unreachable_or_unset_webhooks(cli, desk, monkeypatch):
    port = free_port()  # nobody listens there
    monkeypatch.setenv("SD_WECOM_URL", f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={WECOM_KEY}")
    monkeypatch.delenv("SD_DING_SECRET")
    monkeypatch.setenv("SD_FEISHU_URL", f"not a url {FEISHU_HOOK}")
    book = desk(WECOM + DING + FEISHU)
    result = notify(cli, book)
    assert result.exit_code == 3
    assert "企业微信（SD_WECOM_URL）：未发送：无法连接" in result.output
    assert "环境变量 SD_DING_SECRET 未设置" in result.output
    assert "环境变量 SD_FEISHU_URL 不是网址" in result.output


def test_owners_missing_from_the_staff_sheet_are_a_note_in_its_check(cli, make_desk, tmp_path):
    for engine in ("patch", "openpyxl"):
        book = make_desk(REGISTER, edit=staff_edit(STAFF), name=f"{engine}.xlsx")
        (tmp_path / "sheetdesk.toml").write_text(f'[desk]\nengine = "{engine}"\n', encoding="utf-8")
        result = cli("refresh", book, "--now", NOW)
        assert result.exit_code == 0, result.output
        ws = openpyxl.load_workbook(book)["人员"]
        assert ws.cell(2, 9).value == "提示：登记表的责任人 外包老周 不在人员表中：群消息无法 @ 提醒，可在此表补上"
        assert ws.cell(3, 9).value is None


def test_no_secret_or_webhook_url_in_any_output_or_log(cli, desk, hook, monkeypatch, tmp_path):
    """Sends that succeed and sends that fail in every way, then a grep of every output and of every
    file sheetdesk wrote beside the desk (inside the workbook's and backups' zip parts too)."""
    book = desk(WECOM + DING + FEISHU, "backoff = 0.01\nretries = 1\n")
    outputs = []

    def run(*args):
        result = cli(*args)
        outputs.append(result.output + result.stderr)
        return result

    run("notify", book, "--now", NOW)  # all three sent
    hook.script = [(500, {"errcode": -1, "errmsg": f"down {WECOM_KEY}"}, {})] * 2 + \
                  [(200, {"errcode": 310000, "errmsg": "sign not match"}, {})] + \
                  [(429, {"code": 11232, "msg": "frequency limited"}, {})] * 2
    run("refresh", book, "--now", NOW, "--notify")
    run("refresh", book, "--now", NOW, "--notify", "--json", "--lang", "en")
    run("notify", book, "--now", NOW, "--dry-run")
    monkeypatch.setenv("SD_WECOM_URL", f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key={WECOM_KEY}")
    monkeypatch.setenv("SD_DING_URL", f"https://{DING_TOKEN}@[bad/robot/send")
    monkeypatch.setenv("SD_FEISHU_URL", f"not a url {FEISHU_HOOK}")
    for lang in ("zh", "en"):
        run("notify", book, "--now", NOW, "--lang", lang)
    with monkeypatch.context() as m:
        m.setenv("SHEETDESK_DEBUG", "1")
        run("notify", book, "--now", NOW)
    assert len(hook.requests) >= 8
    joined = "\n".join(outputs)
    for seen in ("已发送", "HTTP 500", "errcode 310000", "无法连接", "无法解析", "不是网址", "not sent", '"msgtype"'):
        assert seen in joined
    texts = list(outputs)
    for path in tmp_path.rglob("*"):
        if not path.is_file():
            continue
        texts.append(path.read_bytes().decode("utf-8", "replace"))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                texts += [z.read(name).decode("utf-8", "replace") for name in z.namelist()]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text



def test_wall_clock_stage_lateness_in_its_own_unit_everywhere(cli, desk, hook, tmp_path):
    """P0's 技术介入 is 2小时 on the clock: due Sunday 22:00, seen Monday 09:00 it is 11 hours late,
    though no working time has passed; every view says what the register's 超时 column says."""
    book = desk(WECOM)
    wb = openpyxl.load_workbook(book)
    row = {"channel": "电话", "customer": "周强", "contact": "13600000000", "description": "插座烧焦",
           "received": datetime(2026, 11, 22, 20), "priority": "P0", "category": "产品质量类", "owner": "王工"}
    fill_rows(wb["登记表"], "register", REGISTER + [row])
    wb.save(book)
    result = cli("refresh", book, "--now", NOW, "--json")
    assert result.exit_code == 0, result.output
    [item] = [i for i in json.loads(result.stdout)["standup"]["late"] if i["customer"] == "周强"]
    assert (item["stage"], item["amount"], item["hours"], item["clock"]) == ("tech_engaged", "11小时", 11.0, "wall")
    overdue = next(r for r in register_rows(book).values() if r["customer"] == "周强")["overdue"]
    assert overdue == "技术介入超时 11小时"
    console = cli("refresh", book, "--now", NOW).output
    assert "11小时" in console.split("已超时")[1].split("下次晨会前到期")[0]
    assert notify(cli, book).exit_code == 0
    content = hook.requests[0]["body"]["markdown"]["content"]
    assert "周* · P0 · 王工 · 技术介入超时 11小时" in content and "<1分钟" not in content
    late = [line for line in content.splitlines() if line.startswith("- ") and "超时 " in line]
    assert [("P0" in line) for line in late] == [True, True, False]  # most urgent level first


@pytest.mark.parametrize("url", [f"https://{WECOM_KEY}@[bad/send",  # urllib: "Invalid IPv6 URL"
                                 "https://127.0.0.1:{port}/send?key=" + WECOM_KEY + " x",  # http.client: a space
                                 "https://127.0.0.1:port/send?key=" + WECOM_KEY])  # a port that is no number
def test_a_malformed_webhook_url_is_one_line_refreshed_not_notified(cli, desk, hook, monkeypatch, url):
    book = desk(WECOM)
    monkeypatch.setenv("SD_WECOM_URL", url.replace("{port}", hook.base.rsplit(":", 1)[1]))
    result = cli("refresh", book, "--now", NOW, "--notify")
    assert result.exit_code == 3, result.output
    text = result.output + result.stderr
    assert "企业微信（SD_WECOM_URL）：未发送：环境变量 SD_WECOM_URL 中的 Webhook 地址无法解析" in text
    assert "内部错误" not in text and "Traceback" not in text and WECOM_KEY not in text
    assert "台账已刷新，但群消息未全部送达（退出码 3）" in text
    assert hook.requests == [] and all(r["id"] for r in register_rows(book).values())


def test_a_long_message_loses_follow_up_calls_before_late_tickets(cli, desk, hook):
    """30 late tickets and 30 calls due, each line long: the 4096-byte 企业微信 message cuts the calls
    (least pressing) first and keeps the late tickets' 20 lines."""
    book = desk(WECOM, "show_names = true\n")
    wb = openpyxl.load_workbook(book)
    rows = [{"channel": "电话", "customer": f"客户{n:02d}号" + "某某某某某某电器销售服务有限公司华东大区", "contact": "",
             "description": "不制冷", "received": datetime(2026, 11, 16, 10), "priority": "P1",
             "category": "产品质量类", "owner": "李工", "purchase_date": datetime(2026, 10, 20)} for n in range(30)]
    fill_rows(wb["登记表"], "register", rows)
    wb.save(book)
    assert notify(cli, book).exit_code == 0
    content = hook.requests[0]["body"]["markdown"]["content"]
    assert len(content.encode()) <= 4096
    late = content.split("已超时（30）")[1].split("**待回访")[0]
    assert late.count("· 首次响应超时") == 20 and "… 另有 10 条，见工作簿" in late
    calls = content.split("**待回访（30）**")[1]
    assert "… 另有 " in calls and calls.count("· 购买后30天回访") < 10


def september_desk(desk):
    """The desk with three tickets of late September (before 国庆 and its make-up Saturday 10-10)."""
    book = desk(WECOM)
    wb = openpyxl.load_workbook(book)
    fill_rows(wb["登记表"], "register", [{**r, "received": datetime(2026, 9, 28, 10 + n)} for n, r in enumerate(REGISTER)])
    wb.save(book)
    return book


@pytest.mark.parametrize("now, reason", [("2026-10-17 08:45", "周六"), ("2026-10-01 08:45", "国庆节")])
def test_notify_if_workday_sends_nothing_on_a_day_off(cli, desk, hook, now, reason):
    book = september_desk(desk)
    before = book.read_bytes()
    result = cli("notify", book, "--now", now, "--if-workday")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"今天（{now[:10]}）不是工作日（{reason}），未执行"
    assert hook.requests == [] and book.read_bytes() == before


def test_notify_if_workday_sends_on_the_make_up_saturday(cli, desk, hook):
    book = september_desk(desk)
    result = cli("notify", book, "--now", "2026-10-10 08:45", "--if-workday")
    assert result.exit_code == 0, result.output
    assert "企业微信（SD_WECOM_URL）：已发送" in result.output
    [req] = hook.requests
    content = req["body"]["markdown"]["content"]
    assert content.startswith("### 售后晨会摘要 2026-10-10") and "下次晨会 10-12 09:00" in content
    result = cli("refresh", book, "--now", "2026-10-10 08:45", "--if-workday", "--notify")
    assert result.exit_code == 0, result.output
    assert len(hook.requests) == 2


def test_a_call_line_shows_its_window_or_the_last_day_it_missed(cli, desk, hook):
    """A call within its window: the window; an overdue one: the last day of the window it missed."""
    book = desk(WECOM)
    wb = openpyxl.load_workbook(book)
    fill_rows(wb["登记表"], "register", [
        {**REGISTER[0], "received": datetime(2026, 10, 9, 10), "purchase_date": datetime(2026, 10, 1)},  # 10-31～
        {**REGISTER[1], "purchase_date": datetime(2026, 10, 20)}])  # 11-19～
    wb.save(book)
    # planned while 王小明's window was open (a call whose window ended before the desk first planned
    # by its rules is never planned), then seen again on the stand-up day
    assert cli("refresh", book, "--now", "2026-10-31 09:00").exit_code == 0
    assert cli("refresh", book, "--now", NOW).exit_code == 0
    calls = {(c["客户名称"], c["回访类型"]): c for c in sheet_rows(book, "回访计划")[2]}
    overdue, due = calls[("王小明", "购买后30天回访")], calls[("赵大海", "购买后30天回访")]
    assert overdue["最晚回访"] < datetime(2026, 11, 23) <= due["最晚回访"]
    assert notify(cli, book).exit_code == 0
    content = hook.requests[0]["body"]["markdown"]["content"]
    assert f"王** · 购买后30天回访 · 最晚 {overdue['最晚回访']:%m-%d}，已逾期" in content
    assert f"赵** · 购买后30天回访 · 应回访 {due['应回访日期']:%m-%d}～{due['最晚回访']:%m-%d}" in content
    assert "（已逾期）" not in content


def test_the_demo_desk_mentions_its_staff(cli, tmp_path, monkeypatch):
    """The demo's 人员 sheet gives its staff (made-up) app accounts: its message shows @-mentions."""
    monkeypatch.setenv("SD_WECOM_URL", "https://x.example/k")
    assert cli("demo", tmp_path / "demo").exit_code == 0
    book = tmp_path / "demo" / "desk.xlsx"
    (tmp_path / "demo" / "sheetdesk.toml").write_text(WECOM + DING + FEISHU, encoding="utf-8")
    result = cli("notify", book, "--now", NOW, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "<@ZhangGong> <@LiGong> 请关注超时的紧急/重要工单" in result.output  # 企业微信
    assert "@13800138003 @13800138001 请关注" in result.output  # 钉钉
    assert '"user_id": "ou_7d8a6e3f2b1c4d5e6f708192a3b4c5d3"' in result.output  # 飞书


DOCS_DESK = [  # the four-ticket desk of docs/notify.md's examples
    {"channel": "电话", "customer": "赵大海", "contact": "13912345678", "description": "滤网装不上，说明书看不懂",
     "received": datetime(2026, 11, 16, 10), "priority": "P1", "category": "产品质量类", "owner": "孙工"},
    {"channel": "电话", "customer": "王小明", "contact": "13812345678", "description": "孩子手被烫伤了",
     "received": datetime(2026, 11, 20, 15), "priority": "P2", "category": "产品质量类", "owner": "李工"},
    {"channel": "邮件", "customer": "钱多多", "contact": "qian@example.com", "description": "怎么设置定时",
     "received": datetime(2026, 11, 20, 17), "priority": "P2", "category": "功能使用类", "owner": "王工"},
    {"channel": "在线客服", "customer": "周芳", "contact": "13700000000", "description": "东西不太对劲",
     "received": datetime(2026, 11, 20, 16)},
]
DOCS_STAFF = [
    {"name": "李工", "department": "维修部", "wecom_id": "LiGong", "dingtalk_mobile": "13900001111",
     "feishu_id": "ou_3f9a1c2b7d8e4f5a6b7c8d9e0f1a2b3c", "active": "是"},
    {"name": "孙工", "department": "物流部", "wecom_id": "SunGong", "dingtalk_mobile": "13900002222",
     "feishu_id": "ou_8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e", "active": "是"},
]


def test_the_docs_show_each_platforms_message_as_sheetdesk_produces_it(cli, make_desk, tmp_path, monkeypatch):
    """Every JSON example of docs/notify.md is `notify --dry-run` on the four-ticket desk above."""
    book = make_desk(DOCS_DESK, edit=staff_edit(DOCS_STAFF))
    (tmp_path / "sheetdesk.toml").write_text(WECOM + DING + FEISHU + FEISHU.replace('feishu"', 'feishu"\nstyle = "card"')
                                             + '[[notify.targets]]\ntype = "mail"\nto = ["lead@example.com"]\n', encoding="utf-8")
    result = cli("notify", book, "--now", NOW, "--dry-run")
    assert result.exit_code == 0, result.output
    printed = [json.loads(block) for block in re.findall(r"^(\{\n.*?\n\})$", result.output, re.S | re.M)]
    docs = (Path(__file__).parents[2] / "docs" / "notify.md").read_text(encoding="utf-8")
    shown = [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", docs, re.S)]
    assert len(printed) == 4 and shown == printed
    mail = result.output[result.output.index("Subject: "):result.output.index("—— sheetdesk")].strip()
    assert f"```\n{mail}\n```" in docs


def test_dry_run_says_when_a_real_send_would_fail(cli, desk, hook, monkeypatch):
    book = desk(WECOM + DING)
    monkeypatch.delenv("SD_DING_SECRET")
    monkeypatch.delenv("SD_WECOM_URL")
    result = notify(cli, book, "--dry-run")
    assert result.exit_code == 0, result.output
    assert hook.requests == []
    assert "未发送（--dry-run）；实际发送会失败：环境变量 SD_WECOM_URL 未设置" in result.output
    assert "实际发送会失败：" in result.output.split("钉钉")[-1] and "SD_DING_SECRET" in result.output


def test_two_tickets_sharing_an_id_are_told_apart_by_their_row(cli, make_desk, tmp_path, monkeypatch):
    monkeypatch.setenv("SD_WECOM_URL", "https://x.example/k")
    twice = {**REGISTER[1], "id": "202611-007"}
    book = make_desk([twice, {**twice, "customer": "钱小姐", "contact": "13700000000"}])
    (tmp_path / "sheetdesk.toml").write_text(WECOM, encoding="utf-8")
    result = notify(cli, book, "--dry-run")
    assert result.exit_code == 0, result.output
    content = json.loads(result.output[result.output.index("{"):result.output.rindex("}") + 1])["markdown"]["content"]
    assert "202611-007（第2行）" in content and "202611-007（第3行）" in content

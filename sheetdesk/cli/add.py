"""``sheetdesk add [BOOK] --customer … --channel … --description …``: register one ticket and print its new ID."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app import desk
from sheetdesk.app.append import Append
from sheetdesk.cli.console import busy
from sheetdesk.cli.options import book_argument, common, force_option, json_option, parse_time
from sheetdesk.rules.problems import WARNING
from sheetdesk.schema import text as _t
from sheetdesk.settings import load_settings


@click.command()
@book_argument
@click.option("--customer", required=True, help="客户名称 / customer")
@click.option("--channel", required=True, help="反馈渠道 / channel")
@click.option("--description", required=True, help="问题描述 / description")
@click.option("--contact", help="联系方式 / phone, e-mail or WeChat ID")
@click.option("--received", help='反馈时间，默认为当前时间 / received time (default: now)')
@click.option("--tier", help="客户等级 / tier")
@click.option("--product", help="产品型号 / product")
@click.option("--batch", help="批次 / batch")
@click.option("--purchase-date", help="购买日期 / purchase date")
@click.option("--expectation", help="客户诉求 / expectation")
@click.option("--emotion", help="客户情绪 / emotion")
@click.option("--category", help="问题分类 / category")
@click.option("--priority", help="优先级 / priority")
@click.option("--owner", help="责任人 / owner")
@force_option
@json_option
@common
def add(book: Path, customer: str, channel: str, description: str, contact: str | None, received: str | None,
        tier: str | None, product: str | None, batch: str | None, purchase_date: str | None,
        expectation: str | None, emotion: str | None, category: str | None, priority: str | None,
        owner: str | None, force: bool, as_json: bool, lang: str, now: datetime | None) -> None:
    """登记一条反馈并输出其编号 / register a ticket and print its new ID."""
    now = now or load_settings(Path(book)).now()
    values: dict[str, object] = {
        "received": parse_time(received, "--received", now), "channel": channel, "customer": customer,
        "description": description, "contact": contact, "tier": tier, "product": product, "batch": batch,
        "purchase_date": purchase_date, "expectation": expectation, "emotion": emotion, "category": category,
        "priority": priority, "owner": owner,
    }
    with busy(lang, f"正在登记到 {book}", f"adding to {book}", show=not as_json):
        result = desk.run(book, now=now, force=force, append=Append("register", values), lean=True)
    row = result.appended.row_numbers[0] if result.appended and result.appended.row_numbers else None
    escalation = result.escalations.get(row) if row else None
    reason = escalation.reason(lang) if escalation and escalation.level else None
    level = escalation.level.name if reason else None
    # the warnings the new row's 校验 will hold (a late registration, ...): the clerk hears them now;
    # notes (a suggested category) stay in the workbook
    notes = [p.cell_text(lang) for p in result.problems
             if row is not None and p.sheet == "register" and p.row == row and p.level == WARNING]
    if as_json:
        click.echo(json.dumps({"id": result.new_id, "row": result.appended.row if result.appended else None,
                               "escalated": reason is not None, "escalated_to": level, "escalation_reason": reason,
                               "check": notes}, ensure_ascii=False))
    elif reason:
        click.echo(_t(lang, f"{result.new_id or ''}（已升级为 {level}：{reason}）",
                      f"{result.new_id or ''} (escalated to {level}: {reason})"))
    else:
        click.echo(result.new_id or "")
    if not as_json:
        for note in notes:
            click.echo(note, err=True)

"""Demo data: two months of a small team's tickets, with the mistakes real clerks make.

Deterministic (a seeded RNG, dates relative to ``today``) so the demo and its tests agree. The
mistakes are there on purpose — the demo shows what ``refresh`` says about each of them.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from openpyxl import Workbook

from sheetdesk.schema import FOLLOWUPS, PROGRESS, REGISTER, RESULTS, STAFF, STEPS

CUSTOMERS_ZH = ("王女士", "李先生", "张女士", "刘先生", "陈女士", "杨先生", "赵女士", "黄先生", "周女士", "吴先生",
                "徐女士", "孙先生", "胡女士", "朱先生", "高女士", "林先生", "何女士", "郭先生", "马女士", "罗先生",
                "杭州悦家科技有限公司", "成都蓉城物业服务公司", "苏州恒丰酒店")
CUSTOMERS_EN = ("Ms Wang", "Mr Li", "Ms Zhang", "Mr Liu", "Ms Chen", "Mr Yang", "Ms Zhao", "Mr Huang", "Ms Zhou",
                "Mr Wu", "Ms Xu", "Mr Sun", "Hangzhou Yuejia Tech", "Chengdu Rongcheng Property", "Suzhou Hengfeng Hotel")
PRODUCTS = ("扫地机 X3", "空气净化器 A7", "洗碗机 D5", "电热水壶 K2", "智能门锁 L9")
PRODUCTS_EN = ("Robot vacuum X3", "Air purifier A7", "Dishwasher D5", "Kettle K2", "Smart lock L9")
# (description, expectation, emotion) per typical category; the category itself is left to routing
PROBLEMS_ZH = (
    ("收到货外壳有裂纹，边角破损", "换新", "激动"),
    ("用了两周突然无法开机，指示灯不亮", "上门维修", "焦急"),
    ("运行时有很大的异响", "维修", "平静"),
    ("底部漏水，地板都湿了", "退货", "愤怒"),
    ("APP一直报错，错误代码E21", "远程指导", "焦急"),
    ("升级固件后经常闪退", "尽快修复", "平静"),
    ("连不上家里的WiFi，系统提示配置失败", "远程指导", "焦急"),
    ("不知道怎么用预约功能，说明书看不懂", "电话指导", "平静"),
    ("如何使用童锁设置", "告知操作方法", "平静"),
    ("客服态度差，打了三次电话没人理", "道歉并尽快处理", "愤怒"),
    ("快递一周了还没收到，物流信息不更新", "尽快发货", "焦急"),
    ("收到的颜色错发了", "换货", "激动"),
    ("需要开增值税专用发票", "补开发票", "平静"),
    ("想申请退款", "退款", "平静"),
)
PROBLEMS_EN = (
    ("The casing arrived cracked and damaged", "replacement", "Agitated"),
    ("Won't turn on after two weeks", "repair visit", "Anxious"),
    ("Loud noise while running", "repair", "Calm"),
    ("Water leak under the unit", "return", "Angry"),
    ("The app shows error code E21", "remote help", "Anxious"),
    ("Crash after the upgrade", "fix soon", "Calm"),
    ("Can't connect to wifi, config fails", "remote help", "Anxious"),
    ("How to set the timer? The manual is unclear", "phone guidance", "Calm"),
    ("Rude attitude, no reply after three calls", "apology", "Angry"),
    ("Delivery not received after a week", "ship it", "Anxious"),
    ("Need a VAT invoice", "invoice", "Calm"),
)
CHANNELS_ZH = ("电话", "400热线", "在线客服", "邮件", "官网留言", "APP", "公众号", "电商平台评价", "门店")
CHANNELS_EN = ("Phone", "400 hotline", "Online chat", "Email", "Website form", "APP", "Store")
MOBILE_PREFIXES = ("130", "131", "135", "136", "137", "138", "139", "150", "151", "158", "159", "186", "187", "188",
                   "199")
OWNERS_ZH = ("李工", "王工", "张工", "赵主管", "孙工")
OWNERS_EN = ("Li", "Wang", "Zhang", "Zhao", "Sun")
#: the demo staff's made-up app accounts (企业微信 user id, 钉钉 mobile, 飞书 open_id), so the demo's
#: group message shows its @-mentions; same order as OWNERS_ZH / OWNERS_EN
STAFF_IDS = (("LiGong", "13800138001", "ou_7d8a6e3f2b1c4d5e6f708192a3b4c5d1"),
             ("WangGong", "13800138002", "ou_7d8a6e3f2b1c4d5e6f708192a3b4c5d2"),
             ("ZhangGong", "13800138003", "ou_7d8a6e3f2b1c4d5e6f708192a3b4c5d3"),
             ("ZhaoZhuguan", "13800138004", "ou_7d8a6e3f2b1c4d5e6f708192a3b4c5d4"),
             ("SunGong", "13800138005", "ou_7d8a6e3f2b1c4d5e6f708192a3b4c5d5"))


def _col(ws, sheet, key: str, lang: str) -> int:
    wanted = sheet.column(key).header(lang)
    for cell in ws[1]:
        if cell.value == wanted:
            return cell.column
    raise KeyError(key)


def _put(ws, sheet, row: int, values: dict, lang: str) -> None:
    for key, value in values.items():
        if value is not None:
            ws.cell(row, _col(ws, sheet, key, lang), value)


def _business_time(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 17), rng.choice((0, 5, 12, 20, 30, 41, 48, 55))))


def fill_demo(wb: Workbook, lang: str = "zh", today: date = date(2026, 11, 23), seed: int = 7) -> None:
    """Fill a freshly built desk with ~50 tickets, their progress log and some results."""
    rng = random.Random(seed)
    zh = lang == "zh"
    reg_ws = wb[REGISTER.name(lang)]
    log_ws = wb[PROGRESS.name(lang)]
    res_ws = wb[RESULTS.name(lang)]
    customers = CUSTOMERS_ZH if zh else CUSTOMERS_EN
    products = PRODUCTS if zh else PRODUCTS_EN
    problems = PROBLEMS_ZH if zh else PROBLEMS_EN
    channels = CHANNELS_ZH if zh else CHANNELS_EN
    step = {key: (z if zh else e) for key, z, e in STEPS}
    start = today - timedelta(days=55)

    rows: list[dict] = []
    for _ in range(44):
        day = start + timedelta(days=rng.randint(0, 54))
        if day.weekday() == 6 and rng.random() < 0.7:
            day -= timedelta(days=1)
        desc, expectation, emotion = rng.choice(problems)
        received = _business_time(rng, day)
        phone = f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(10000000, 99999999)}"
        rows.append({
            "received": received, "channel": rng.choice(channels), "customer": rng.choice(customers),
            "tier": ("VIP" if rng.random() < 0.15 else ("普通" if zh else "Regular")),
            "contact": int(phone) if rng.random() < 0.3 else phone,  # typed as a number in Excel
            "product": rng.choice(products), "purchase_date": day - timedelta(days=rng.randint(3, 200)),
            "description": desc, "expectation": expectation, "emotion": emotion,
        })
    # a batch: one product and complaint five times inside a week
    batch_day = today - timedelta(days=12)
    showcase: list[dict] = []  # rows the demo relies on; the mistakes below must not spoil them
    for k in range(5):
        showcase.append({
            "received": _business_time(rng, batch_day + timedelta(days=k)), "channel": channels[0],
            "customer": customers[(k * 3) % len(customers)], "tier": "普通" if zh else "Regular",
            "contact": f"1390000{1000 + k}", "product": products[1], "purchase_date": batch_day - timedelta(days=30),
            "description": "底部漏水，地板都湿了" if zh else "Water leak under the unit",
            "expectation": "退货" if zh else "return", "emotion": "愤怒" if zh else "Angry",
        })
    # an injury
    showcase.append({
        "received": datetime.combine(today - timedelta(days=3), time(16, 20)), "channel": channels[0],
        "customer": customers[4], "tier": "普通" if zh else "Regular", "contact": "13812345678",
        "product": products[3], "description": "水壶把手发烫，孩子手被烫伤了" if zh else "Handle got hot, my child got a burn",
        "expectation": "赔偿" if zh else "compensation", "emotion": "愤怒" if zh else "Angry",
    })
    # the seeds' other escalations and a 复合型 ticket (fixed times: the random rows stay as they were)
    showcase.append({  # 财产损失 → the most urgent level
        "received": datetime.combine(today - timedelta(days=2), time(10, 15)), "channel": channels[0],
        "customer": customers[7], "tier": "普通" if zh else "Regular", "contact": "13700002001",
        "product": products[2], "description": "洗碗机漏水，把橱柜和木地板泡坏了" if zh
        else "The dishwasher leaked and ruined my kitchen floor",
        "expectation": "赔偿损失" if zh else "compensation", "emotion": "激动" if zh else "Agitated",
    })
    showcase.append({  # 复合型: the lead category routes it, the other's department collaborates
        "received": datetime.combine(today - timedelta(days=2), time(15, 30)), "channel": channels[2],
        "customer": customers[9], "tier": "普通" if zh else "Regular", "contact": "13700002002",
        "product": products[0], "description": "收到时外壳破损，快递外箱也被压坏了" if zh
        else "The casing arrived broken and the courier crushed the box",
        "category": "产品质量类,物流类" if zh else "Product quality,Logistics",
        "expectation": "换新" if zh else "replacement", "emotion": "激动" if zh else "Agitated",
    })
    showcase.append({  # the injured child's parent calls again while the first ticket is open: 重复投诉
        "received": datetime.combine(today - timedelta(days=1), time(11, 0)), "channel": channels[0],
        "customer": customers[4], "tier": "普通" if zh else "Regular", "contact": "138 1234 5678",
        "product": products[3], "description": "上次反映的水壶问题还没有人联系我" if zh
        else "Nobody has called me back about the kettle yet",
        "expectation": "尽快回复" if zh else "a call back", "emotion": "焦急" if zh else "Anxious",
    })
    rows.extend(showcase)
    rows.sort(key=lambda r: r["received"])

    # text dates as clerks type them
    rows[3]["received"] = rows[3]["received"].strftime("%Y/%m/%d %H:%M")
    rows[8]["received"] = rows[8]["received"].strftime("%Y年%m月%d日 %H:%M" if zh else "%Y-%m-%d %H:%M")
    # the older half already has IDs (numbered by an earlier refresh); their log and results follow
    numbered: dict[str, datetime] = {}
    serial: dict[str, int] = {}
    for r in rows[:30]:
        moment = r["received"] if isinstance(r["received"], datetime) else None
        if moment is None:
            continue
        month = moment.strftime("%Y%m")
        serial[month] = serial.get(month, 0) + 1
        r["id"] = f"{month}-{serial[month]:03d}"
        numbered[r["id"]] = moment

    # 登记时间: the numbered rows were registered a few minutes after the call (one of them a day late,
    # a warning); the fresh ones are typed rows the demo's refresh stamps with when it first saw them
    late = next(k for k in range(15, 30) if isinstance(rows[k]["received"], datetime) and rows[k]["channel"] in channels[:3])
    for k, r in enumerate(rows[:30]):
        if isinstance(r["received"], datetime):
            r["entered"] = r["received"] + (timedelta(days=1, hours=1) if k == late else timedelta(minutes=4 + k % 5))
    # a WeChat contact on the WeChat channel
    rows[12].update({"channel": "微信" if zh else "WeChat", "contact": "微信：lin_xiaoyu" if zh else "wx: lin_xiaoyu"})
    # the mistakes
    mistakes = [
        {"customer": None},                                        # required field left blank
        {"received": "上周三" if zh else "last Wednesday"},          # not a time
        {"channel": "传真" if zh else "Fax"},                        # not in the channel list
        {"contact": "1381234"},                                    # too short to be a phone
        {"category": "售后类" if zh else "After-sales"},              # not in the matrix
        {"priority": "紧急" if zh else "urgent"},                    # an alias: accepted
        {"received": datetime.combine(today + timedelta(days=2), time(10, 0))},  # in the future
    ]
    fresh = [r for r in rows[30:] if "id" not in r and not any(r is kept for kept in showcase)]
    for r, change in zip(fresh[:len(mistakes)], mistakes):
        r.update(change)
    # a duplicated ID: a clerk copied a row
    duplicate = dict(rows[5])
    duplicate["description"] = ("（重复登记）" if zh else "(entered twice) ") + str(duplicate["description"])
    rows.insert(6, duplicate)

    for i, r in enumerate(rows, 2):
        _put(reg_ws, REGISTER, i, r, lang)
        for key in ("received", "entered"):
            if isinstance(r.get(key), datetime):
                reg_ws.cell(i, _col(reg_ws, REGISTER, key, lang)).number_format = "yyyy-mm-dd hh:mm"

    owners = OWNERS_ZH if zh else OWNERS_EN
    log: list[dict] = []
    results: list[dict] = []
    now = datetime.combine(today, time(9, 0))
    closed: dict[str, datetime] = {}
    # the optional 受理 and 方案提供 steps draw from their own RNG so they do not reshuffle the rest
    extra = random.Random(seed + 1)
    for ticket_id, received in sorted(numbered.items(), key=lambda kv: kv[1]):
        who = rng.choice(owners)
        t = received + timedelta(hours=rng.choice((0.5, 1, 2, 3, 5, 20, 26, 60)))
        if t >= now:
            continue
        if extra.random() < 0.5:
            log.append({"id": ticket_id, "time": received + timedelta(minutes=extra.choice((3, 5, 8, 10))),
                        "by": "小周" if zh else "Zhou", "step": step["accepted"],
                        "note": "已登记，已告知客户处理人" if zh else "registered; told the customer who handles it"})
        log.append({"id": ticket_id, "time": t, "by": who, "step": step["first_response"],
                    "note": "已电话联系客户" if zh else "called the customer"})
        if rng.random() < 0.3:
            t2 = t + timedelta(hours=rng.choice((2, 6, 24)))
            if t2 < now:
                log.append({"id": ticket_id, "time": t2, "by": who, "step": step["tech_engaged"],
                            "note": "技术人员已介入" if zh else "engineer assigned"})
                t = t2
        closing = t + timedelta(days=rng.choice((1, 2, 3, 4, 6, 12)), hours=rng.randint(0, 5))
        if closing < now - timedelta(days=1) and rng.random() < 0.9:
            if extra.random() < 0.5:
                log.append({"id": ticket_id, "time": closing - timedelta(hours=extra.choice((2, 4, 20))), "by": who,
                            "step": step["solution"],
                            "note": "已给出维修或更换方案" if zh else "offered a repair or replacement"})
            log.append({"id": ticket_id, "time": closing, "by": who, "step": step["closed"],
                        "note": "客户确认已解决" if zh else "customer confirmed"})
            closed[ticket_id] = closing
            rated = closing + timedelta(hours=rng.choice((2, 20)))
            if rated < now:
                rating = rng.choice(("满意", "满意", "基本满意", 9, 85, "不满意") if zh else
                                    ("Satisfied", "Satisfied", "Fairly satisfied", 9, 85, "Unsatisfied"))
                results.append({"id": ticket_id, "result": "已处理完毕" if zh else "resolved", "satisfaction": rating,
                                "rated_at": rated, "prepared_by": who, "prepared_on": rated.date(),
                                "reviewer": ("赵主管" if zh else "Zhao") if rng.random() < 0.6 else None,
                                "reviewed_on": rated.date() + timedelta(days=1) if rng.random() < 0.6 else None})
    unhappy = "不满意" if zh else "Unsatisfied"  # the demo shows a reopening by rating
    if results and not any(r["satisfaction"] == unhappy for r in results):
        results[-1]["satisfaction"] = unhappy
    _progress_updates(log, numbered, closed, results, unhappy, duplicate.get("id"), now, zh, seed)
    # most post-close calls are already made; the rest show up as due or late in the stand-up
    calls = []
    customer_of = {r["id"]: r.get("customer") for r in rows if r.get("id")}
    for ticket_id, closing in sorted(closed.items(), key=lambda kv: kv[1]):
        called = datetime.combine(closing.date() + timedelta(days=rng.choice((1, 1, 2))), time(rng.choice((10, 14, 15)), 30))
        if called < now and rng.random() < 0.8:
            score = rng.choice((10, 9, 9, 8, 8, 7, 5))
            calls.append({"id": ticket_id, "customer": customer_of.get(ticket_id), "type": "结案回访" if zh else "Post-close call",
                          "caller": "小周" if zh else "Zhou", "called_at": called, "score": score,
                          "notes": ("客户表示满意" if score >= 8 else "客户仍有顾虑，需主管跟进") if zh else
                          ("happy" if score >= 8 else "still worried; supervisor to call")})
    # a few 7–15-day calls after the purchase (回访规则), one of them logged at 19:30, outside the call hours
    early = "购买后7-15天回访" if zh else "7-15 day call"
    bought = [r for r in rows if r.get("id") and isinstance(r.get("purchase_date"), date)
              and isinstance(r.get("received"), datetime) and r["purchase_date"] + timedelta(days=15) >= r["received"].date()
              and r["purchase_date"] + timedelta(days=10) < now.date()]
    for k, r in enumerate(bought[:4]):
        called = datetime.combine(r["purchase_date"] + timedelta(days=9), time(19 if k == 0 else 10, 30))
        calls.append({"id": r["id"], "customer": r.get("customer"), "type": early, "caller": "小周" if zh else "Zhou",
                      "called_at": called, "score": (9, 10, 6, 9)[k],
                      "notes": ("客户已熟悉使用" if zh else "getting on well") if k != 2 else
                      ("客户反映操作复杂" if zh else "finds it hard to use")})
    fol_ws = wb[FOLLOWUPS.name(lang)]
    for i, entry in enumerate(calls, 2):
        _put(fol_ws, FOLLOWUPS, i, entry, lang)
    log.sort(key=lambda e: e["time"])
    for i, entry in enumerate(log, 2):
        _put(log_ws, PROGRESS, i, entry, lang)
    reviewed = [r for r in results if r.get("reviewer") and r.get("reviewed_on")]
    if reviewed:  # the manager's second review (复核) a major problem needs, shown once
        reviewed[0].update(second_reviewer="钱经理" if zh else "Qian",
                           second_reviewed_on=reviewed[0]["reviewed_on"] + timedelta(days=1))
    for i, entry in enumerate(results, 2):
        _put(res_ws, RESULTS, i, entry, lang)
        if entry.get("reviewer") is None:
            res_ws.cell(i, _col(res_ws, RESULTS, "reviewed_on", lang)).value = None
    _staff_accounts(wb, lang)


def _staff_accounts(wb: Workbook, lang: str) -> None:
    """The template names the staff; the demo gives them (made-up) app accounts to @-mention."""
    ws = wb[STAFF.name(lang)]
    ids = dict(zip(OWNERS_ZH if lang == "zh" else OWNERS_EN, STAFF_IDS, strict=True))
    name_col = _col(ws, STAFF, "name", lang)
    for row in range(2, ws.max_row + 1):
        account = ids.get(str(ws.cell(row, name_col).value or "").strip())
        if account is not None:
            wecom, mobile, feishu = account
            _put(ws, STAFF, row, {"mobile": mobile, "wecom_id": wecom, "dingtalk_mobile": mobile, "feishu_id": feishu},
                 lang)


def _progress_updates(log: list[dict], numbered: dict[str, datetime], closed: dict[str, datetime],
                      results: list[dict], unhappy: str, shared_id: str | None, now: datetime, zh: bool,
                      seed: int) -> None:
    """Open tickets get the 进展更新 rows engineers log on the last working day, so that the stand-up's
    停滞 list shows a few forgotten tickets rather than every open one. Its own RNG: the rest of the
    demo stays as it was."""
    rng = random.Random(seed + 2)
    day = now.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    reopened = {r["id"]: r["rated_at"] for r in results if r["satisfaction"] == unhappy}
    last: dict[str, datetime] = {}
    for entry in log:
        last[entry["id"]] = max(entry["time"], last.get(entry["id"], entry["time"]))
    open_ids = [i for i, _ in sorted(numbered.items(), key=lambda kv: kv[1])
                if (i not in closed or i in reopened) and i != shared_id]
    for k, ticket_id in enumerate(open_ids):
        if k % 3 == 2:  # forgotten: the stand-up lists it as idle
            continue
        when = datetime.combine(day, time(rng.randint(10, 17), rng.choice((0, 10, 25, 40, 50))))
        if when <= max(last.get(ticket_id, numbered[ticket_id]), reopened.get(ticket_id, numbered[ticket_id])):
            continue
        log.append({"id": ticket_id, "time": when, "by": "小周" if zh else "Zhou", "step": "进展更新" if zh else "Update",
                    "note": "已向客户同步处理进度" if zh else "told the customer where things stand"})

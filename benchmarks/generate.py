"""Realistic large desks for the benchmark: ``python benchmarks/generate.py 50000 out.xlsx``.

Written with xlsxwriter in constant-memory mode (openpyxl would take minutes at this size): a
register of N tickets over two years with Chinese text, 2–3 progress rows per ticket, some results,
and ~1% bad rows, on top of the sheets of a real desk template.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import xlsxwriter

from sheetdesk.schema import PROGRESS, REGISTER, RESULTS, SHEETS
from sheetdesk.workbook.template import build_template

DESCRIPTIONS = ("机器无法开机，指示灯不亮", "运行时有异响", "底部漏水", "APP报错，错误代码E21", "快递一直没收到",
                "客服态度差，没人理", "不知道怎么设置定时", "需要开发票", "外壳破损")
CHANNELS = ("电话", "400热线", "在线客服", "邮件", "官网留言", "APP")
NAMES = ("王女士", "李先生", "张女士", "刘先生", "陈女士", "杨先生", "赵女士", "黄先生")
PRODUCTS = ("扫地机 X3", "空气净化器 A7", "洗碗机 D5", "电热水壶 K2", "智能门锁 L9")


def generate(n: int, path: Path, seed: int = 1, end: datetime = datetime(2026, 11, 20, 18)) -> Path:
    rng = random.Random(seed)
    template = build_template("zh")
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "remove_timezone": True})
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    start = end - timedelta(days=730)
    span = (end - start).total_seconds()
    times = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(n))
    serial: dict[str, int] = {}
    ids = []
    for t in times:
        month = t.strftime("%Y%m")
        serial[month] = serial.get(month, 0) + 1
        ids.append(f"{month}-{serial[month]:03d}")
    for sheet in SHEETS:
        ws = wb.add_worksheet(sheet.zh)
        src = template[sheet.zh]
        if sheet.key == "counter":
            ws.hide()
        if sheet.key == "register":
            headers = [c.header("zh") for c in REGISTER.columns]
            ws.write_row(0, 0, headers)
            col = {c.key: i for i, c in enumerate(REGISTER.columns)}
            for r, (t, tid) in enumerate(zip(times, ids), 1):
                bad = rng.random() < 0.01
                ws.write_string(r, col["id"], tid if r % 10 else "")  # every tenth row still to be numbered
                if bad and rng.random() < 0.5:
                    ws.write_string(r, col["received"], "上周三")
                else:
                    ws.write_datetime(r, col["received"], t, when)
                ws.write_string(r, col["channel"], "抖音" if bad else rng.choice(CHANNELS))
                ws.write_string(r, col["customer"], rng.choice(NAMES))
                ws.write_number(r, col["contact"], 13800000000 + rng.randint(0, 99999999))
                ws.write_string(r, col["product"], rng.choice(PRODUCTS))
                ws.write_string(r, col["description"], rng.choice(DESCRIPTIONS))
            continue
        if sheet.key == "progress":
            ws.write_row(0, 0, [c.header("zh") for c in PROGRESS.columns])
            r = 1
            for t, tid in zip(times, ids):
                if not tid:
                    continue
                steps = [("首次响应", t + timedelta(hours=rng.choice((1, 3, 20, 50))))]
                if rng.random() < 0.5:
                    steps.append(("进展更新", steps[-1][1] + timedelta(hours=rng.randint(2, 30))))
                if rng.random() < 0.85:
                    steps.append(("问题关闭", steps[-1][1] + timedelta(days=rng.randint(1, 12))))
                for step, moment in steps:
                    if moment > end:
                        break
                    ws.write_string(r, 0, tid)
                    ws.write_datetime(r, 1, moment, when)
                    ws.write_string(r, 2, "李工")
                    ws.write_string(r, 3, step)
                    r += 1
            continue
        if sheet.key == "results":
            ws.write_row(0, 0, [c.header("zh") for c in RESULTS.columns])
            for r, tid in enumerate(ids[: n // 3], 1):
                ws.write_string(r, 0, tid)
                ws.write_string(r, 2, rng.choice(("满意", "基本满意", "不满意", "9", "85")))
            continue
        for r, row in enumerate(src.iter_rows(values_only=True)):  # the small reference sheets as they are
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
    for name in template.defined_names:
        wb.define_name(name, "=" + template.defined_names[name].attr_text)
    wb.close()
    return path


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="generate.py", description="Write a realistic large desk workbook for benchmarks and tests.")
    parser.add_argument("count", nargs="?", type=int, default=10000, help="register rows (default: 10000)")
    parser.add_argument("out", nargs="?", type=Path, help="output file (default: desk-COUNT.xlsx)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("count must be at least 1")
    out = args.out or Path(f"desk-{args.count}.xlsx")
    if not out.parent.is_dir():
        parser.error(f"{out.parent} is not a directory")
    print(generate(args.count, out, seed=args.seed))


if __name__ == "__main__":
    main()

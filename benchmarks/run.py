"""Refresh cost against the floor: ``python benchmarks/run.py [10000 50000 ...]``.

For each size a realistic desk is generated (benchmarks/generate.py), then each step runs in its own
process so its peak memory is its own:

* floor   — read every sheet with python-calamine and re-zip every part of the package (deflate 6):
            the least any tool that reads and writes the file must pay;
* validate — sheetdesk's read-only path (calamine);
* refresh  — the first refresh, which saves (numbers, routes and fills the whole register and writes
             the tracker: a one-off that roughly triples the size of the sheets);
* floor'   — the floor again, of the refreshed desk (it now holds sheetdesk's columns and sheets);
* again    — the next morning's refresh (the clock moved a day: every open ticket's 超时 text,
             colour and tracker row change), the daily case;
* same     — a second refresh at the same moment: nothing changes, nothing is written;
* add      — ``sheetdesk add`` of one ticket half an hour later (it refreshes the desk as it saves).

It prints seconds, peak RSS and each step's ratio to the floor of the file it reads. Single runs on a
shared machine: trust the ratios more than the seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

STEP = r'''
import json, resource, sys, time, zipfile, io
from pathlib import Path
from datetime import datetime
path, step, now = Path(sys.argv[1]), sys.argv[2], datetime.fromisoformat(sys.argv[3])
t = time.perf_counter()
if step == "floor":
    from python_calamine import CalamineWorkbook
    wb = CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    out = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
elif step == "add":
    from sheetdesk.app import desk
    desk.run(path, now=now, force=True, append=desk.Append("register", {
        "received": now, "channel": "电话", "customer": "王女士", "description": "扫地机器人无法回充"}), lean=True)
else:
    from sheetdesk.app import desk
    desk.run(path, now=now, write=(step == "refresh"), force=True, lean=True)  # as the commands run it
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak}))
'''


def measure(path: Path, step: str, now: str = "2026-11-23 09:00") -> dict:
    proc = subprocess.run([sys.executable, "-c", STEP, str(path), step, now], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    sys.path.insert(0, str(HERE))
    from generate import generate

    print(f"{'tickets':>8} {'step':>9} {'seconds':>9} {'peak MB':>8}  ratio to floor")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"desk-{n}.xlsx"
            generate(n, path)
            floor = measure(path, "floor")
            row(n, "floor", floor)
            row(n, "validate", measure(path, "validate"), floor)
            row(n, "refresh", measure(path, "refresh"), floor)
            floor = measure(path, "floor")  # the refreshed desk is the one every later refresh reads
            row(n, "floor'", floor)
            row(n, "again", measure(path, "refresh", "2026-11-24 09:00"), floor)
            row(n, "same", measure(path, "refresh", "2026-11-24 09:00"), floor)
            row(n, "add", measure(path, "add", "2026-11-24 09:30"), floor)


def row(n: int, label: str, m: dict, floor: dict | None = None) -> None:
    ratio = f"  {m['seconds'] / floor['seconds']:.1f}×" if floor else ""
    print(f"{n:>8} {label:>9} {m['seconds']:>9.2f} {m['peak_mb']:>8.0f}{ratio}", flush=True)

if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10000, 50000])

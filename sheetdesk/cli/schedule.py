"""``sheetdesk schedule [BOOK]``: ready-to-paste cron lines and ``schtasks`` commands for the daily
stand-up (refresh + notify) and the monthly summary; the timers fire every day and sheetdesk skips
the days that are not working days."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sheetdesk.app import schedule
from sheetdesk.cli import refresh
from sheetdesk.cli.options import book_argument, common
from sheetdesk.errors import InputError
from sheetdesk.rules.schedule import parse_hhmm
from sheetdesk.schema import text as _t
from sheetdesk.settings import zone


def _time(value: str, option: str):
    at = parse_hhmm(value)
    if at is None:
        raise InputError(f"{option} 的值“{value}”应为 HH:MM，如 08:45", f"{option} '{value}' should be HH:MM, e.g. 08:45")
    return at


@click.command(name="schedule")
@book_argument
@click.option("--standup", "standup_text", default=schedule.DEFAULT_STANDUP, show_default=True, metavar="HH:MM",
              help="晨会推送时间（台账时区） / stand-up time on the desk's clock")
@click.option("--summary-at", "summary_text", default=schedule.DEFAULT_SUMMARY, show_default=True, metavar="HH:MM",
              help="月度汇总时间（台账时区） / monthly summary time on the desk's clock")
@click.option("--mail-to", "mail_to", multiple=True, metavar="ADDR",
              help="月度汇总发到此邮箱，可多次给出 / mail the monthly summary to ADDR (repeatable)")
@click.option("--machine-tz", "machine_tz", metavar="ZONE",
              help="运行任务的电脑的时区，如 Europe/Berlin（默认本机） / the zone of the computer that runs the "
                   "timers (default: this one)")
@common
def schedule_(book: Path, standup_text: str, summary_text: str, mail_to: tuple[str, ...], machine_tz: str | None,
              lang: str, now: datetime | None) -> None:
    """打印 cron 与 Windows 任务计划的定时命令 / print cron lines and schtasks commands for this desk."""
    if machine_tz:
        try:
            zone(machine_tz)
        except Exception:
            raise InputError(f"--machine-tz 的值“{machine_tz}”不是时区名，应如 Asia/Shanghai",
                             f"--machine-tz '{machine_tz}' is not a time zone; expected e.g. Asia/Shanghai") from None
    plan = schedule.build(book, standup=_time(standup_text, "--standup"), summary_at=_time(summary_text, "--summary-at"),
                          mail_to=mail_to, machine_tz=machine_tz, now=now, notify=_has_notify())
    for line in render(plan, lang):
        click.echo(line)


def _has_notify() -> bool:
    """Whether ``refresh --notify`` exists in this sheetdesk: the stand-up line asks for it then."""
    return any(p.name == "notify" for p in refresh.refresh.params)


def render(plan: schedule.Schedule, lang: str) -> list[str]:
    out = [_t(lang, f"# sheetdesk 定时任务：{plan.book}（台账时区 {plan.timezone}）",
              f"# sheetdesk timers for {plan.book} (desk time zone {plan.timezone})"),
           _t(lang, "# 任务每天触发；非工作日（节假日、周末，含调休与 sheetdesk.toml 中团队自定的日子）sheetdesk 自行跳过。",
              "# The timers fire daily; sheetdesk skips days off (holidays, weekends, 调休 and the team's own days)."),
           "",
           _t(lang, "# —— Linux / macOS：crontab -e，粘贴以下几行 ——", "# --- Linux / macOS: crontab -e, paste these lines ---")]
    jobs = {j.key: j for j in plan.jobs}
    out.append(plan.cron[0])
    for job, line in zip(plan.jobs, plan.cron[1:]):
        out += [f"# {job.at:%H:%M} {_t(lang, job.zh, job.en)}", line]
    if plan.same_zone:
        out.append(_t(lang, f"# 本机时区（{plan.machine_zone}）与台账时区相同：不支持 CRON_TZ 的 cron 也按上面的时间运行。",
                      f"# This computer's zone ({plan.machine_zone}) matches the desk's: a cron without CRON_TZ "
                      "runs at the same times."))
    else:
        out.append(_t(lang, f"# 若 cron 不支持 CRON_TZ（Debian/Ubuntu 自带的 cron、busybox），按本机时区 {plan.machine_zone} "
                            "改用下面几行（去掉 #；夏令时切换后请重新运行 sheetdesk schedule）：",
                      f"# If your cron ignores CRON_TZ (Debian/Ubuntu's cron, busybox), use these lines in this "
                      f"computer's zone {plan.machine_zone} instead (drop the #; run sheetdesk schedule again after a "
                      "daylight-saving change):"))
        out += [f"# {line}" for line in plan.cron_local]
    out += ["", _t(lang, "# —— Windows 任务计划：在 cmd.exe（不是 PowerShell）中运行 ——",
                   "# --- Windows Task Scheduler: run in cmd.exe (not PowerShell) ---")]
    if not plan.same_zone:
        times = "，".join(f"{jobs[k].at:%H:%M} → {t:%H:%M}" for k, t in plan.machine_times.items())
        times_en = ", ".join(f"{jobs[k].at:%H:%M} -> {t:%H:%M}" for k, t in plan.machine_times.items())
        out.append(_t(lang, f"# 注意：schtasks 按电脑本地时间（{plan.machine_zone}）运行，与台账时区 {plan.timezone} 不同；"
                            f"已换算：{times}",
                      f"# Note: schtasks runs on the computer's local time ({plan.machine_zone}), not the desk's "
                      f"{plan.timezone}; converted: {times_en}"))
    out += plan.schtasks
    if plan.cmd_problems:
        out.append(_t(lang, f"# 警告：cmd.exe 会误解这些参数中的 & | < > ^ % 或命令超过 261 个字符：{'、'.join(plan.cmd_problems)}；"
                            "请把台账移到简单路径，或把命令写进 .cmd 文件再由 schtasks 调用",
                      f"# Warning: cmd.exe misreads & | < > ^ % in these arguments, or the command is over 261 "
                      f"characters: {', '.join(plan.cmd_problems)}; move the desk to a plain path, or put the "
                      "command in a .cmd file for schtasks to run"))
    return out

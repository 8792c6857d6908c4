"""Files others can open: what sheetdesk writes follows the user's umask, and its own lock lives in
``.sheetdesk/``, not beside every workbook where colleagues see it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers import NOW

ROOT = Path(__file__).resolve().parents[2]
TICKET = {"id": "202611-001", "received": datetime(2026, 11, 2, 10), "channel": "电话", "customer": "王小明",
          "contact": "13812345678", "description": "机器无法开机"}
LOG = [{"id": "202611-001", "time": datetime(2026, 11, 2, 11), "by": "李工", "step": "首次响应"},
       {"id": "202611-001", "time": datetime(2026, 11, 4, 15), "by": "李工", "step": "问题关闭"}]
RESULT = {"id": "202611-001", "result": "已更换主板", "satisfaction": "满意", "rated_at": datetime(2026, 11, 5, 10),
          "prepared_by": "李工", "prepared_on": datetime(2026, 11, 5), "reviewer": "赵主管",
          "reviewed_on": datetime(2026, 11, 6)}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sheetdesk(folder: Path, umask: int, *args: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "sheetdesk", *args, "--now", NOW], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300, preexec_fn=lambda: os.umask(umask))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_summaries_and_reports_follow_the_umask(make_desk, tmp_path, umask):
    path = make_desk([TICKET], progress=LOG, results=[RESULT])
    os.chmod(path, 0o666 & ~umask)
    sheetdesk(tmp_path, umask, "summary", "desk.xlsx", "--month", "2026-11")
    sheetdesk(tmp_path, umask, "summary", "desk.xlsx", "--week", "2026-W45", "-o", "week.xlsx")
    sheetdesk(tmp_path, umask, "report", "desk.xlsx", "202611-001", "--external")
    sheetdesk(tmp_path, umask, "refresh", "desk.xlsx")
    expected = 0o666 & ~umask
    written = [tmp_path / "summaries" / "2026-11.xlsx", tmp_path / "week.xlsx",
               tmp_path / "archive" / "2026" / "11" / "202611-001.xlsx",
               tmp_path / "archive" / "2026" / "11" / "202611-001.external.xlsx", tmp_path / "archive" / "index.xlsx",
               path]
    backups = tmp_path / ".sheetdesk" / "backups"
    written += sorted(backups.iterdir())  # the backup and its label
    assert {p.name: oct(mode(p)) for p in written} == {p.name: oct(expected) for p in written}


def test_the_run_lock_lives_in_the_sheetdesk_folder(make_desk, cli, tmp_path):
    path = make_desk([TICKET])
    # what an earlier version left beside the workbook
    (tmp_path / ".~sheetdesk.desk.xlsx.lock").write_bytes(b"")
    result = cli("refresh", path, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sheetdesk", "desk.xlsx"]
    assert (tmp_path / ".sheetdesk" / "desk.xlsx.lock").is_file()
    assert not (tmp_path / ".sheetdesk" / "desk.xlsx.owner").exists()


def test_doctor_names_an_old_lock_file_and_fix_removes_it(make_desk, cli, tmp_path):
    path = make_desk([TICKET])
    old = [tmp_path / ".~sheetdesk.desk.xlsx.lock", tmp_path / ".~sheetdesk.desk.xlsx.owner"]
    for p in old:
        p.write_text("user=old host=pc pid=1 since=2026-11-01T09:00:00+08:00", encoding="utf-8")
        os.utime(p, (1e9, 1e9))
    result = cli("doctor", path, "--lang", "en")
    assert ".~sheetdesk.desk.xlsx.lock" in result.output and ".~sheetdesk.desk.xlsx.owner" in result.output
    assert "--fix" in result.output
    result = cli("doctor", path, "--fix")
    assert result.exit_code == 0, result.output
    assert not any(p.exists() for p in old)
    assert "已修复" in result.output

"""Zip bombs are refused with one line before any reader inflates them, and nothing is written."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from sheetdesk.errors import BookUnreadable
from sheetdesk.workbook import zipguard

NOW = "2026-11-23 09:00"


def _rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))


def _bomb_xml(size: int) -> bytes:
    """A well-formed sheet whose inflated XML is ``size`` bytes of one repeated empty-cell row."""
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    tail = b"</sheetData></worksheet>"
    return head + b" " * (size - len(head) - len(tail)) + tail


def _register_part(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))[0]


@pytest.fixture
def desk(make_desk):
    return make_desk([{"received": "2026-11-20 10:00", "channel": "电话", "customer": "王女士", "description": "无法开机"}])


def test_a_deflate_bomb_in_the_register_is_refused_in_one_line(desk, cli, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    _rewrite(desk, bomb, {_register_part(desk): _bomb_xml(300 << 20)})
    assert bomb.stat().st_size < 1 << 20  # a few hundred kilobytes on disk
    before = bomb.read_bytes()
    for command in ("validate", "refresh", "doctor"):
        result = cli(command, bomb, "--now", NOW)
        assert result.exit_code != 0, command
        line = result.output.strip()
        assert "压缩炸弹" in line and "Traceback" not in line and len(line.splitlines()) == 1, (command, line)
    result = cli("validate", bomb, "--now", NOW, "--lang", "en")
    assert "zip bomb" in result.output
    assert bomb.read_bytes() == before
    assert not (tmp_path / ".sheetdesk" / "backups").exists() or not any((tmp_path / ".sheetdesk" / "backups").iterdir())


def test_a_shared_strings_bomb_in_an_import_file_is_refused(desk, cli, tmp_path):
    source = tmp_path / "export.xlsx"
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["客户", "渠道", "描述", "时间"])
    wb.active.append(["李先生", "电话", "漏水", "2026-11-20 10:00"])
    wb.save(source)
    bomb = tmp_path / "bomb-export.xlsx"
    sst = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           + b"<si><t>" + b"A" * (200 << 20) + b"</t></si></sst>")
    with zipfile.ZipFile(source) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/sharedStrings.xml"] = sst
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    before = desk.read_bytes()
    result = cli("import", desk, bomb, "--now", NOW)
    assert result.exit_code == 2
    assert "压缩炸弹" in result.output and "Traceback" not in result.output
    assert desk.read_bytes() == before


def _central_entries(data: bytearray):
    """(offset, name) of every central-directory entry."""
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        n = struct.unpack_from("<H", data, pos + 28)[0]
        yield pos, bytes(data[pos + 46:pos + 46 + n]).decode()
        pos = data.find(b"PK\x01\x02", pos + 4)


def _patch_sizes(path: Path, member: str, declared: int) -> None:
    """Make ``member`` declare ``declared`` inflated bytes in both its local and central headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    struct.pack_into("<L", data, info.header_offset + 22, declared)
    for pos, name in list(_central_entries(data)):
        if name == member:
            struct.pack_into("<L", data, pos + 24, declared)
    path.write_bytes(bytes(data))


def test_a_member_that_lies_about_its_size_is_refused(desk, tmp_path):
    liar = tmp_path / "liar.xlsx"
    part = _register_part(desk)
    _rewrite(desk, liar, {part: _bomb_xml(80 << 20)})
    _patch_sizes(liar, part, 4096)
    with pytest.raises(BookUnreadable) as caught:
        zipguard.check_package(liar)
    assert "declares" in caught.value.en and part in caught.value.en


def test_members_sharing_bytes_are_refused(desk, tmp_path):
    overlap = tmp_path / "overlap.xlsx"
    data = bytearray(desk.read_bytes())
    with zipfile.ZipFile(desk) as z:
        infos = z.infolist()
    first, second = infos[-2], infos[-1]
    for pos, name in list(_central_entries(data)):  # the last entry points at the previous member's bytes
        if name == second.filename:
            struct.pack_into("<L", data, pos + 42, first.header_offset)
    overlap.write_bytes(bytes(data))
    with pytest.raises(BookUnreadable) as caught:
        zipguard.check_package(overlap)
    assert "overlaps" in caught.value.en


def test_a_large_real_desk_passes(tmp_path):
    """Highly repetitive but honest XML (formatted empty rows) stays far below the limits."""
    from sheetdesk.workbook.template import build_template

    wb = build_template("zh")
    ws = wb["登记表"]
    for r in range(2, 20002):
        ws.cell(r, 1).style = "Normal"
        ws.cell(r, 2, f"2026-11-{1 + r % 28:02d} 10:00")
    path = tmp_path / "big.xlsx"
    wb.save(path)
    zipguard.check_package(path)  # no exception


def test_limits_are_checked_on_the_inflated_total(monkeypatch, desk):
    monkeypatch.setattr(zipguard, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(BookUnreadable):
        zipguard.check_package(desk)

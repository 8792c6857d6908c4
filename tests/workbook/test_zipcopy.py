"""The package writer copies untouched members compressed, as they are, and deflates only new parts."""

from __future__ import annotations

import zipfile

import pytest

from sheetdesk.workbook.zipcopy import raw_chunks, write_package


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "in.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", b"<Types/>", zipfile.ZIP_DEFLATED)
        z.writestr("xl/worksheets/sheet1.xml", b"<worksheet>" + b"<row/>" * 5000 + b"</worksheet>",
                   zipfile.ZIP_DEFLATED)
        z.writestr("xl/media/image1.png", bytes(range(256)) * 40, zipfile.ZIP_STORED)  # stored, as Excel does
        z.writestr("xl/customXml/数据.xml", "<数据>甲</数据>".encode(), zipfile.ZIP_DEFLATED)
        z.writestr("docProps/app.xml", b"<Properties/>", zipfile.ZIP_BZIP2)
    return path


def _raw(path):
    with zipfile.ZipFile(path) as z, open(path, "rb") as fh:
        return {i.filename: (b"".join(raw_chunks(fh, i)), i.CRC, i.compress_type) for i in z.infolist()}


def test_untouched_members_keep_their_compressed_bytes_and_new_parts_read_back(package, tmp_path):
    out = tmp_path / "out.xlsx"
    new_sheet = b"<worksheet>" + "<row>新</row>".encode() * 3000 + b"</worksheet>"
    write_package(package, out, {"xl/worksheets/sheet1.xml": new_sheet})

    before, after = _raw(package), _raw(out)
    assert list(after) == list(before)  # same members, same order
    for name in before:
        if name != "xl/worksheets/sheet1.xml":
            assert after[name] == before[name], name  # compressed bytes, CRC and method as they were
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None  # every CRC checks out
        assert z.read("xl/worksheets/sheet1.xml") == new_sheet
        assert z.getinfo("xl/worksheets/sheet1.xml").compress_type == zipfile.ZIP_DEFLATED
        assert z.read("xl/customXml/数据.xml").decode() == "<数据>甲</数据>"
        assert z.read("xl/media/image1.png") == bytes(range(256)) * 40


def test_a_damaged_source_member_is_refused_not_copied_silently(package, tmp_path):
    data = bytearray(package.read_bytes())
    with zipfile.ZipFile(package) as z:
        offset = z.getinfo("xl/media/image1.png").header_offset
    data[offset:offset + 4] = b"XXXX"  # the local header's signature
    package.write_bytes(bytes(data))
    with pytest.raises(zipfile.BadZipFile):
        write_package(package, tmp_path / "out.xlsx", {})


def test_a_part_deflated_while_it_is_produced_reads_back(package, tmp_path):
    from sheetdesk.workbook.zipcopy import pack

    pieces = [b"<worksheet><sheetData>"] + [f'<row r="{i}"><c><v>{i}</v></c></row>'.encode() for i in range(1, 5000)]
    pieces.append(b"</sheetData></worksheet>")
    packed = pack(iter(pieces))
    out = tmp_path / "out.xlsx"
    write_package(package, out, {"xl/worksheets/sheet1.xml": packed})
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        assert z.read("xl/worksheets/sheet1.xml") == b"".join(pieces)


def test_a_failing_producer_stops_the_packer_and_is_reported():
    from sheetdesk.workbook.zipcopy import pack

    def pieces():
        yield b"<worksheet>"
        raise ValueError("no more rows")

    with pytest.raises(ValueError, match="no more rows"):
        pack(pieces())


def test_a_compression_failure_is_raised_not_packed_and_never_hangs(monkeypatch):
    """A MemoryError in the worker (a big desk on a small machine) must stop the save, not leave a
    truncated part behind; with more pieces waiting than the queue holds, the producer must not block."""
    import threading
    import zlib

    from sheetdesk.workbook import zipcopy

    real = zlib.compressobj

    class Failing:
        def __init__(self, *args):
            self.packer, self.calls = real(*args), 0

        def compress(self, data):
            self.calls += 1
            if self.calls == 2:
                raise MemoryError("simulated")
            return self.packer.compress(data)

        def flush(self):
            return self.packer.flush()

    monkeypatch.setattr(zipcopy.zlib, "compressobj", Failing)
    outcome = []

    def run():
        try:
            zipcopy.pack([bytes(1 << 20)] * 12)
        except MemoryError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "pack blocked after its worker failed"
    assert outcome and "simulated" in str(outcome[0])


def test_members_are_compared_a_piece_at_a_time(package, tmp_path):
    from sheetdesk.workbook.zipcopy import same_raw

    out = tmp_path / "out.xlsx"
    write_package(package, out, {"xl/worksheets/sheet1.xml": b"<worksheet/>"})
    with zipfile.ZipFile(package) as za, zipfile.ZipFile(out) as zb, open(package, "rb") as a, open(out, "rb") as b:
        for name in ("xl/media/image1.png", "xl/customXml/数据.xml"):
            assert same_raw(a, za.getinfo(name), b, zb.getinfo(name), chunk=7)
        assert not same_raw(a, za.getinfo("xl/worksheets/sheet1.xml"), b, zb.getinfo("xl/worksheets/sheet1.xml"), chunk=7)
        assert not same_raw(a, za.getinfo("xl/media/image1.png"), b, zb.getinfo("xl/customXml/数据.xml"))


def test_members_are_copied_in_pieces_and_a_short_copy_is_refused(package, tmp_path, monkeypatch):
    """Big members (pictures, pivot caches) are copied a megabyte at a time; a source that ends early
    stops the write instead of leaving a member shorter than its directory entry says."""
    from sheetdesk.workbook import zipcopy

    out = tmp_path / "out.xlsx"
    write_package(package, out, {})
    assert _raw(out) == _raw(package)

    real = zipcopy.raw_chunks

    def short(source, info, *args):
        for data in real(source, info, 64):  # small pieces, then one missing at the end
            yield data
            if info.filename.endswith(".png"):
                return
    monkeypatch.setattr(zipcopy, "raw_chunks", short)
    with pytest.raises(zipfile.BadZipFile, match="image1.png"):
        write_package(package, tmp_path / "short.xlsx", {})

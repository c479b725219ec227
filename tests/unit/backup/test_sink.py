"""The sink: parallel gzip members make one valid stream; .part becomes the file on success."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dumper.backup.gzipio import Sink, compress_chunk, gzip_member
from dumper.backup.sink import atomic_file, make_dir, part_path


@given(st.lists(st.binary(max_size=3000), max_size=40), st.integers(1, 4))
@settings(max_examples=60, deadline=None)
def test_compressed_output_decompresses_to_exactly_what_was_written(
    pieces: list[bytes], workers: int
) -> None:
    raw = io.BytesIO()
    sink = Sink(raw, compress=True, chunk_size=1024, workers=workers)
    for p in pieces:
        sink.write(p)
    sink.close()
    data = raw.getvalue()
    assert gzip.decompress(data) == b"".join(pieces)
    assert sink.bytes_written == len(data)
    assert sink.sha256 == hashlib.sha256(data).hexdigest()


def test_many_chunks_become_several_gzip_members_in_order() -> None:
    raw = io.BytesIO()
    sink = Sink(raw, compress=True, chunk_size=100, workers=2)
    expected = b"".join(f"line {i}\n".encode() for i in range(2000))
    for i in range(2000):
        sink.write(f"line {i}\n".encode())
    sink.close()
    data = raw.getvalue()
    assert data.count(b"\x1f\x8b\x08") > 10  # several members
    assert gzip.decompress(data) == expected


def test_empty_compressed_output_is_still_a_valid_gzip_file() -> None:
    raw = io.BytesIO()
    sink = Sink(raw, compress=True)
    sink.close()
    assert gzip.decompress(raw.getvalue()) == b""


def test_plain_output_is_written_as_is() -> None:
    raw = io.BytesIO()
    sink = Sink(raw, compress=False, chunk_size=10)
    for i in range(100):
        sink.write(b"abc%d;" % i)
    sink.close()
    assert raw.getvalue() == b"".join(b"abc%d;" % i for i in range(100))
    assert sink.bytes_written == len(raw.getvalue())


def test_write_after_close_is_refused() -> None:
    sink = Sink(io.BytesIO(), compress=False)
    sink.close()
    with pytest.raises(ValueError):
        sink.write(b"x")


def test_gzip_member_is_complete_and_checked() -> None:
    member = gzip_member(b"hello" * 100, 6)
    assert gzip.decompress(member) == b"hello" * 100
    with pytest.raises((OSError, EOFError, zlib.error)):
        gzip.decompress(member[:-4])


def test_atomic_file_renames_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "x.sql.gz"
    with atomic_file(out) as fh:
        fh.write(b"data")
        assert part_path(out).exists() and not out.exists()
    assert out.read_bytes() == b"data"
    assert not part_path(out).exists()


def test_atomic_file_leaves_nothing_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "x.sql.gz"
    with pytest.raises(RuntimeError), atomic_file(out) as fh:
        fh.write(b"partial")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_file_failure_keeps_an_older_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "x.sql"
    out.write_bytes(b"old good backup")
    with pytest.raises(KeyboardInterrupt), atomic_file(out) as fh:
        fh.write(b"new")
        raise KeyboardInterrupt
    assert out.read_bytes() == b"old good backup"
    assert not part_path(out).exists()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0, 0o022, 0o077])
@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_atomic_file_part_has_exactly_the_mode_before_the_first_byte(
    tmp_path: Path, umask: Callable[[int], int], mask: int, mode: int
) -> None:
    umask(mask)
    out = tmp_path / "x.sql.gz"
    with atomic_file(out, mode=mode) as fh:
        assert mode_of(part_path(out)) == mode and part_path(out).stat().st_size == 0
        fh.write(b"data")
    assert mode_of(out) == mode


def test_atomic_file_is_private_by_default_even_with_umask_0(
    tmp_path: Path, umask: Callable[[int], int]
) -> None:
    umask(0)
    out = tmp_path / "x.sql"
    with atomic_file(out) as fh:
        assert mode_of(part_path(out)) == 0o600
        fh.write(b"data")
    assert mode_of(out) == 0o600


def test_atomic_file_tightens_a_leftover_part_and_replaces_a_readable_file(
    tmp_path: Path,
) -> None:
    out = tmp_path / "x.sql"
    out.write_bytes(b"old")
    out.chmod(0o644)
    part_path(out).write_bytes(b"left by a crash")
    part_path(out).chmod(0o666)
    with atomic_file(out) as fh:
        assert mode_of(part_path(out)) == 0o600
        fh.write(b"new")
    assert out.read_bytes() == b"new" and mode_of(out) == 0o600


@pytest.mark.parametrize("mask", [0, 0o077])
@pytest.mark.parametrize("mode", [0o700, 0o750])
def test_make_dir_creates_the_folder_with_exactly_the_mode(
    tmp_path: Path, umask: Callable[[int], int], mask: int, mode: int
) -> None:
    umask(mask)
    target = tmp_path / "a" / "backups"
    make_dir(target, mode)
    assert target.is_dir() and mode_of(target) == mode


def test_make_dir_sets_the_mode_of_an_existing_folder_we_own(tmp_path: Path) -> None:
    target = tmp_path / "backups"
    target.mkdir()
    target.chmod(0o755)
    make_dir(target, 0o700)
    assert mode_of(target) == 0o700


def test_abort_drops_pending_work() -> None:
    raw = io.BytesIO()
    sink = Sink(raw, compress=True, chunk_size=10, workers=2)
    for _ in range(50):
        sink.write(b"0123456789abc")
    sink.abort()
    with pytest.raises(ValueError):
        sink.write(b"x")


def test_mostly_hex_chunks_use_the_fast_level_and_text_the_normal_one() -> None:
    hexdata = os.urandom(50_000).hex().upper().encode()
    text = b"INSERT INTO t VALUES (1,'some text that repeats',2.5);\n" * 2000
    assert compress_chunk(hexdata, 5, 1) == gzip_member(hexdata, 1)
    assert compress_chunk(text, 5, 1) == gzip_member(text, 5)
    assert gzip.decompress(compress_chunk(hexdata, 5, 1)) == hexdata

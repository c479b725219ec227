"""Files from other tools: their containers (gzip, bzip2, xz, zip), who wrote them, and when
such a file counts as whole without our completion marker.
"""

from __future__ import annotations

import bz2
import lzma
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from dumper.backup.gzipio import GZIP_MAGIC, PIECE_SIZE, READ_SIZE, sql_pieces
from dumper.errors import BackupCorrupt

BOM = b"\xef\xbb\xbf"
# Containers whose own checksums prove the bytes inside are whole.
CHECKSUMMED = ("gzip", "bzip2", "xz", "zip")
# Producers that end every complete file with a line of their own.
END_LINES = {"mariadb-dump": b"-- Dump completed", "mysqldump": b"-- Dump completed"}
END_LINES["mysqldumper"] = b"-- EOB"
_HEADS = (
    (b"-- phpMyAdmin SQL Dump", "phpmyadmin"),
    (b"-- Adminer ", "adminer"),
    (b"-- Status:", "mysqldumper"),  # MySQLDumper, the PHP web format and the Perl cron script
    (b"--  Status:", "mysqldumper"),
)
_MAGICS = (
    (GZIP_MAGIC, "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
)
_UNSUPPORTED = (
    (b"\x28\xb5\x2f\xfd", "zstd is not supported here: run zstd -d first"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archives are not supported here: extract the .sql first"),
    (b"\x04\x22\x4d\x18", "lz4 is not supported here: run lz4 -d first"),
)
# `USE db` as mariadb-dump --databases and phpMyAdmin write it, on a line of its own.
_USE_LINE = re.compile(rb"(?m)^USE\s+(`(?:[^`]|``)+`|[\w$]+)\s*;")


def container_of(path: Path) -> str:
    """ "plain", "gzip", "bzip2", "xz" or "zip"; BackupCorrupt naming any other known format."""
    if path.is_dir():
        if (path / "metadata").exists():
            raise BackupCorrupt(
                f"{path.name} is a mydumper directory: restore it with myloader, or make a "
                "single-file dump with mariadb-dump"
            )
        raise BackupCorrupt(f"{path.name} is a directory, not a dump file")
    with path.open("rb") as f:
        return container_of_head(f.read(8))


def container_of_head(head: bytes) -> str:
    """The container that the first 8 bytes of a file (or of its decrypted bytes) show."""
    for magic, message in _UNSUPPORTED:
        if head.startswith(magic):
            raise BackupCorrupt(message)
    for magic, name in _MAGICS:
        if head.startswith(magic):
            return name
    return "plain"


def producer_of(head: bytes) -> str | None:
    """Another tool named by the first lines: "phpmyadmin", "adminer", "mysqldumper" or None."""
    head = head.removeprefix(BOM)
    for line in head.split(b"\n", 4)[:4]:
        for prefix, name in _HEADS:
            if line.startswith(prefix):
                return name
    return None


def databases_in(piece: bytes) -> list[str]:
    """The databases `USE` lines of this SQL name (mariadb-dump --databases)."""
    return [unquote(m.group(1)) for m in _USE_LINE.finditer(piece)]


def unquote(name: bytes) -> str:
    """An identifier as the server sees it: backticks removed, doubled ones undone."""
    if name.startswith(b"`"):
        name = name[1:-1].replace(b"``", b"`")
    return name.decode("utf-8", "replace")


def ends_on_complete_statement(tail: bytes) -> bool:
    """Whether the SQL, past trailing comments and blank lines, ends with a delimiter."""
    lines = tail.rstrip().split(b"\n")
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith((b"--", b"#"))):
        lines.pop()
    if not lines:
        return True
    last = lines[-1].rstrip()
    return last.endswith(b";") or last.upper().startswith(b"DELIMITER")


class _Counting:
    """A seekable file that reports how far reading got (zip reads its directory first)."""

    def __init__(self, f: IO[bytes], on_read: Callable[[int], None]) -> None:
        self._f = f
        self._on_read = on_read
        self._far = 0

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        pos = self._f.tell()
        if pos > self._far:
            self._on_read(pos - self._far)
            self._far = pos
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def seekable(self) -> bool:
        return True


def _decompress(
    f: IO[bytes], make: Callable[[], Any], name: str, on_read: Callable[[int], None]
) -> Iterator[bytes]:
    """A multi-stream bzip2/xz file in bounded pieces; truncation and corruption refused."""
    d = make()
    pending = b""
    while True:
        if d.eof:
            pending = d.unused_data or pending
            if not pending:
                pending = f.read(READ_SIZE)
                on_read(len(pending))
            if not pending:
                return
            d = make()
        elif not pending and d.needs_input:
            pending = f.read(READ_SIZE)
            if not pending:
                raise BackupCorrupt(f"{name} data is truncated: the file ends inside it")
            on_read(len(pending))
        try:
            out = d.decompress(pending, PIECE_SIZE)
        except (OSError, lzma.LZMAError, EOFError) as exc:
            raise BackupCorrupt(f"{name} data is corrupt: {exc}") from exc
        pending = b""
        if out:
            yield out


def _unzip(f: IO[bytes], on_read: Callable[[int], None]) -> Iterator[bytes]:
    try:
        with zipfile.ZipFile(_Counting(f, on_read)) as archive:
            members = [i for i in archive.infolist() if not i.is_dir()]
            if len(members) != 1:
                names = ", ".join(i.filename for i in members) or "nothing"
                raise BackupCorrupt(f"a zip file must hold exactly one SQL file; this: {names}")
            with archive.open(members[0]) as member:
                while piece := member.read(PIECE_SIZE):  # the CRC is checked at the end
                    yield piece
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise BackupCorrupt(f"the zip file is damaged or truncated: {exc}") from exc


def _clean(pieces: Iterator[bytes], strip_cr: bool) -> Iterator[bytes]:
    """Without a leading UTF-8 BOM, and with CR before LF removed as the mariadb client does."""
    first = True
    held = b""
    for piece in pieces:
        if first:
            piece = piece.removeprefix(BOM)
            first = False
        if strip_cr:
            piece = held + piece
            held = b""
            if piece.endswith(b"\r"):
                held, piece = b"\r", piece[:-1]
            piece = piece.replace(b"\r\n", b"\n")
        if piece:
            yield piece
    if held:
        yield held


def open_pieces(
    f: IO[bytes], container: str, on_read: Callable[[int], None], *, strip_cr: bool = False
) -> Iterator[bytes]:
    """The SQL inside `f` in pieces of at most PIECE_SIZE; `on_read` gets stored bytes read."""
    if container == "bzip2":
        raw = _decompress(f, bz2.BZ2Decompressor, "bzip2", on_read)
    elif container == "xz":
        raw = _decompress(f, lzma.LZMADecompressor, "xz", on_read)
    elif container == "zip":
        raw = _unzip(f, on_read)
    else:
        raw = sql_pieces(f, container == "gzip", on_read)
    return _clean(raw, strip_cr)

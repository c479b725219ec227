"""Where a dump's bytes go: optional gzip in worker threads, and NAME.part -> fsync -> rename.

Each chunk becomes an independent gzip member (members written one after another form one valid
.gz stream), so zlib, which releases the GIL, keeps several cores busy while the dump reads on.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from dumper.log import get_logger

log = get_logger("sink")

DEFAULT_CHUNK = 1 << 20
# Measured on 1M mixed rows (2 cores, the server formatting on one of them): zlib level 4 makes
# files ~3 % larger than gzip -6 at 2.2x its speed (level 5: same size as -6, 1.6x); that margin
# keeps the whole dump near 0.55x the time of `mariadb-dump | gzip -6`. Chunks that are nearly
# all hex digits (BLOB data) compress by Huffman coding alone: level 1 loses ~2 % there and is
# 2.5x faster than level 4.
DEFAULT_LEVEL = 4
HEX_LEVEL = 1
_HEX_DIGITS = b"0123456789ABCDEF"
_HEX_SHARE = 0.85


def gzip_member(data: bytes, level: int = DEFAULT_LEVEL) -> bytes:
    """`data` as one complete gzip member (header, deflate stream, CRC and length)."""
    comp = zlib.compressobj(level, zlib.DEFLATED, 31)
    return comp.compress(data) + comp.flush()


def compress_chunk(data: bytes, level: int = DEFAULT_LEVEL, hex_level: int = HEX_LEVEL) -> bytes:
    """A gzip member of `data` at `level`, or at `hex_level` when `data` is mostly hex digits."""
    if hex_level != level and data:
        hex_share = 1 - len(data.translate(None, _HEX_DIGITS)) / len(data)
        if hex_share > _HEX_SHARE:
            level = hex_level
    return gzip_member(data, level)


class Sink:
    """A write-only byte sink that counts and hashes what reaches `raw`.

    Writes are buffered into chunks of about `chunk_size`; with `compress`, up to `workers`
    chunks are compressed at once and written in order. Memory stays bounded by
    `chunk_size * (workers + 3)`: one chunk filling, `workers + 1` in flight, one written.
    """

    def __init__(
        self,
        raw: BinaryIO,
        *,
        compress: bool,
        level: int = DEFAULT_LEVEL,
        hex_level: int | None = HEX_LEVEL,
        chunk_size: int = DEFAULT_CHUNK,
        workers: int = 2,
    ) -> None:
        self._raw = raw
        self._compress = compress
        self._level = level
        self._hex_level = level if hex_level is None else hex_level
        self._chunk_size = chunk_size
        self._buf: list[bytes] = []
        self._buffered = 0
        self._hash = hashlib.sha256()
        self.bytes_written = 0  # bytes that reached `raw`
        self.bytes_in = 0  # uncompressed bytes accepted
        self._max_pending = max(1, workers) + 1
        self._pending: deque[Future[bytes]] = deque()
        self._pool = (
            ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="dumper-gzip")
            if compress
            else None
        )
        self._closed = False

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ValueError("write to a closed sink")
        if not data:
            return
        self._buf.append(data)
        self._buffered += len(data)
        self.bytes_in += len(data)
        if self._buffered >= self._chunk_size:
            self._flush_buffer()

    def _flush_buffer(self) -> None:
        if not self._buf:
            return
        chunk = self._buf[0] if len(self._buf) == 1 else b"".join(self._buf)
        self._buf = []
        self._buffered = 0
        if self._pool is None:
            self._emit(chunk)
            return
        self._pending.append(self._pool.submit(compress_chunk, chunk, self._level, self._hex_level))
        # block only when too much is in flight; write whatever is already done (in order)
        while self._pending and (len(self._pending) > self._max_pending or self._pending[0].done()):
            self._emit(self._pending.popleft().result())

    def _emit(self, data: bytes) -> None:
        self._raw.write(data)
        self._hash.update(data)
        self.bytes_written += len(data)

    def close(self) -> None:
        """Write everything still buffered or being compressed; `raw` stays open."""
        if self._closed:
            return
        try:
            self._flush_buffer()
            if self._compress and self.bytes_in == 0:
                self._emit(gzip_member(b"", self._level))  # an empty .gz is still a valid one
            while self._pending:
                self._emit(self._pending.popleft().result())
        finally:
            self._shutdown()

    def abort(self) -> None:
        """Drop whatever is pending; used when the dump failed."""
        for fut in self._pending:
            fut.cancel()
        self._pending.clear()
        self._buf = []
        self._shutdown()

    def _shutdown(self) -> None:
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def part_path(out: Path) -> Path:
    """The temporary name a file is written under until it is complete."""
    return out.with_name(out.name + ".part")


@contextlib.contextmanager
def atomic_file(out: Path, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Yield `OUT.part` opened for writing; on success fsync and rename it to `out`.

    The .part has exactly `mode` before its first byte (a dump is a whole database), whatever
    the umask. On any exception (including cancel) the .part is removed and `out` is untouched.
    """
    part = part_path(out)
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
        try:
            # the umask may have taken bits `mode` asks for; a leftover .part keeps its old mode
            os.fchmod(fd, mode)
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, out)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    _fsync_dir(out.parent)


def make_dir(path: Path, mode: int) -> None:
    """Create `path` (and parents) if missing and give it exactly `mode` when we own it."""
    # mkdir applies the umask, so the folder is never more open than `mode`, only less
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    st = path.stat()
    if stat.S_IMODE(st.st_mode) == mode:
        return
    if st.st_uid != os.geteuid():
        log.warning(
            "%s belongs to uid %d, not to us: its mode %03o is left as it is (wanted %03o)",
            path,
            st.st_uid,
            stat.S_IMODE(st.st_mode),
            mode,
        )
        return
    os.chmod(path, mode)


def _fsync_dir(path: Path) -> None:
    # the rename is durable only once the directory entry is on disk
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

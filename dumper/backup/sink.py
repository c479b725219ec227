"""Where a dump file is written: NAME.part, private from its creation, then fsync -> rename.

The bytes themselves (gzip members compressed in worker threads) come from gzipio.Sink.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from dumper.log import get_logger

log = get_logger("sink")


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
    fsync_dir(out.parent)


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


def fsync_dir(path: Path) -> None:
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

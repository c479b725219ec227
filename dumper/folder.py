"""BACKUP_DIR: the one owner of backup files on disk, their names, their `.part`, the files no
row knows, and the folder's usage. Rows hold a bare file name; only this module turns it into a
path.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from dumper.backup.serverset import is_set
from dumper.backup.sink import make_dir, part_path
from dumper.log import get_logger

log = get_logger("folder")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class UnknownFile:
    name: str
    size_bytes: int
    modified_at: datetime


@dataclass(frozen=True)
class DiskUsage:
    total_bytes: int
    used_bytes: int
    free_bytes: int
    backups_bytes: int  # the files in the folder


def safe_name(name: str) -> str:
    """A target name made safe for a file name (letters, digits, . _ -)."""
    cleaned = _UNSAFE.sub("_", name).strip("._-")
    return cleaned[:64] or "target"


class BackupFolder:
    """The folder backups are written to, with the modes new files and the folder get."""

    def __init__(self, path: Path, *, file_mode: int = 0o600, dir_mode: int = 0o700) -> None:
        self.path = path
        self.file_mode = file_mode  # of new backup files, from their .part on
        self.dir_mode = dir_mode

    def ensure(self) -> None:
        """Create the folder if missing (a job finds it gone), with its mode when we own it."""
        make_dir(self.path, self.dir_mode)

    def file(self, file_path: str | None) -> Path | None:
        """The file of a backup row: a bare name inside the folder (absolute for seed rows)."""
        if not file_path:
            return None
        path = Path(file_path)
        if path.is_absolute():
            return path
        if len(path.parts) != 1 or path.name in (".", ".."):
            return None  # rows only ever hold a bare name; anything else is not ours to touch
        return self.path / path

    def has_file(self, file_path: str | None) -> bool:
        """Whether the backup's file (or a set's folder) is there."""
        path = self.file(file_path)
        return path is not None and (path.is_file() or path.is_dir())

    def new_name(
        self,
        target_name: str,
        now: datetime,
        *,
        compress: bool,
        taken: Collection[str],
        encrypted: bool = False,
        folder: bool = False,
    ) -> str:
        """A free file name for a new backup: TARGET_YYYY-MM-DD_HH-MM-SS.sql[.gz][.age], `_2`...
        when a row, a running job (`taken`), a file or a .part already has it; an encrypted one
        is always gzip inside. `folder`: a backup set's folder, no extension."""
        stem = f"{safe_name(target_name)}_{now:%Y-%m-%d_%H-%M-%S}"
        ext = "" if folder else ".sql.gz.age" if encrypted else ".sql.gz" if compress else ".sql"
        n = 1
        while True:
            name = f"{stem}{ext}" if n == 1 else f"{stem}_{n}{ext}"
            path = self.path / name
            if name not in taken and not path.exists() and not part_path(path).exists():
                return name
            n += 1

    def remove(self, file_path: str | None) -> None:
        """Delete a backup's file and its .part, if there are any."""
        path = self.file(file_path)
        if path is not None:
            for leftover in (path, part_path(path)):
                remove_path(leftover)

    def remove_part(self, file_path: str | None) -> str | None:
        """Delete the .part a dead or cut-off job left; its name when there was one."""
        path = self.file(file_path)
        if path is None:
            return None
        part = part_path(path)
        try:
            remove_path(part, missing_ok=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot remove %s: %s", part, exc)
            return None
        return part.name

    def unknown_files(
        self, known: Collection[str], writing: Collection[str], tz: tzinfo = UTC
    ) -> list[UnknownFile]:
        """Files in the folder that no row knows (`known`) and no job is writing (reported,
        never deleted)."""
        known_names = {Path(p).name for p in known}
        busy = {part_path(self.path / name).name for name in writing}
        try:
            entries = sorted(self.path.iterdir())
        except OSError:
            return []
        found: list[UnknownFile] = []
        for entry in entries:
            if entry.name in known_names or entry.name in busy:
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            if entry.is_file():
                modified = datetime.fromtimestamp(st.st_mtime, tz=tz)
                found.append(UnknownFile(entry.name, st.st_size, modified))
        return found

    def usage(self) -> DiskUsage:
        backups = 0
        try:
            for entry in os.scandir(self.path):
                if entry.is_file(follow_symlinks=False):
                    backups += entry.stat().st_size
                elif entry.is_dir(follow_symlinks=False):  # a backup set: its files
                    backups += sum(f.stat().st_size for f in os.scandir(entry) if f.is_file())
            disk = shutil.disk_usage(self.path)
        except OSError:
            return DiskUsage(0, 0, 0, backups)
        return DiskUsage(disk.total, disk.used, disk.free, backups)

    def writable(self) -> bool:
        # access() also reports a read-only mount, and leaves no probe file for unknown_files
        return self.path.is_dir() and os.access(self.path, os.W_OK | os.X_OK)


def remove_path(path: Path, *, missing_ok: bool = True) -> None:
    """Delete a file, or a backup set's folder with its files (never following a link); any
    other folder is left alone (IsADirectoryError)."""
    if path.is_dir() and not path.is_symlink() and (is_set(path) or path.name.endswith(".part")):
        shutil.rmtree(path)
    elif missing_ok:
        path.unlink(missing_ok=True)
    else:
        path.unlink()

"""Dump files that come from elsewhere: an upload streamed into BACKUP_DIR, or a file found there
(an unknown file of /api/settings) adopted in place. Either is verified as a whole first (what a
restore would accept), then becomes a backup row of a target with trigger `upload`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from dumper.backup.sink import atomic_file, fsync_dir, part_path
from dumper.backup.verify import VerifyResult, verify_file
from dumper.clock import Clock
from dumper.errors import BackupCorrupt, InvalidInput, NotFound, StorageFull
from dumper.folder import BackupFolder, UnknownFile, safe_name
from dumper.inputs import Field, validate_fields
from dumper.log import get_logger
from dumper.store import SUCCESS, Backup, Store, Trigger

log = get_logger("uploads")

# The file's own extension is kept; these are the ones a restore reads, longest first.
EXTENSIONS = (".sql.gz", ".sql.bz2", ".sql.xz", ".sql.zip", ".sql", ".gz", ".bz2", ".xz", ".zip")
# The container the bytes must be for a name ending so (a download keeps the name).
_CONTAINER_OF = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zip": "zip", ".sql": "plain"}
_PIECE = 64 * 1024
# An upload is written as NAME.upload.part, renamed NAME.upload once whole, then NAME once verified:
# what a crash leaves of one is recognisable and removed at the next start (recover()).
STAGING = ".upload"
_SEPARATORS = re.compile(r"[/\\]")

ADOPT_FIELDS: tuple[Field, ...] = (
    Field(
        "filename",
        "string",
        low=1,
        high=255,
        line=True,
        description="a file /api/settings lists under unknown_files",
    ),
    Field("target_id", "integer", low=1, high=999_999_999_999_999_999),
)
ADOPT_REQUIRED = ("filename", "target_id")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def upload_name(filename: str | None) -> tuple[str, str]:
    """(stem, extension) of a client's file name: no folders, safe characters, a known
    extension; InvalidInput otherwise."""
    base = _SEPARATORS.split(filename or "")[-1].strip()
    lower = base.lower()
    for ext in EXTENSIONS:
        if lower.endswith(ext) and len(base) > len(ext):
            return safe_name(base[: -len(ext)]), ext
    raise InvalidInput(
        "the file name must end in .sql, .sql.gz, .sql.bz2, .sql.xz or .zip",
        fields={"filename": "must end in " + ", ".join(EXTENSIONS)},
    )


def _check_container(name: str, result: VerifyResult) -> None:
    """A name promising one container while the bytes are another is refused."""
    suffix = Path(name).suffix.lower()
    want = _CONTAINER_OF.get(suffix)
    if want is not None and result.container != want:
        raise BackupCorrupt(f"the name ends in {suffix} but the file is {result.container} data")


def _notes(result: VerifyResult, how: str) -> str:
    whole = {
        "marker": "its producer's end line proves it whole",
        "container": f"its {result.container} checksums prove it whole",
        "unmarked": "nothing in it proves it whole: a restore asks to accept that",
    }[result.whole_by]
    tool = "an unknown tool" if result.producer == "unknown" else result.producer
    text = f"{how}; written by {tool} ({result.container}); {whole}"
    if len(result.databases) > 1:
        text += "; databases: " + ", ".join(result.databases)
    return text


class Uploads:
    """Uploads and adoptions into one backup folder, recorded in one store."""

    def __init__(
        self,
        store: Store,
        folder: BackupFolder,
        clock: Clock,
        unknown_files: Callable[[], list[UnknownFile]],
    ) -> None:
        self.store = store
        self.folder = folder
        self.clock = clock
        self._unknown_files = unknown_files
        self._lock = threading.Lock()
        self._reserved: set[str] = set()  # names being uploaded now

    def upload(self, target_id: int, filename: str | None, body: Readable, length: int) -> Backup:
        """Stream `length` bytes of `body` into the folder, verify the whole file, record it.

        Nothing is kept when the body ends early, the file fails verification (BackupCorrupt)
        or the name is refused (InvalidInput).
        """
        target = self.store.require_target(target_id)
        stem, ext = upload_name(filename)
        started = self.clock.now()
        self.folder.ensure()
        name = self._reserve(stem, ext)
        try:
            digest = hashlib.sha256()
            path = self.folder.path / name
            staging = self.folder.path / f"{name}{STAGING}"
            with _room_for(name), atomic_file(staging, self.folder.file_mode) as fh:
                left = length
                while left > 0:
                    piece = body.read(min(_PIECE, left))
                    if not piece:
                        raise BackupCorrupt("the upload ended before its Content-Length")
                    fh.write(piece)
                    digest.update(piece)
                    left -= len(piece)
                fh.flush()
                result = verify_file(part_path(staging))
                _check_container(name, result)
            try:
                os.replace(staging, path)
                fsync_dir(self.folder.path)
                backup = self._record(
                    target.id, name, started, result, digest.hexdigest(), "upload"
                )
            except BaseException:
                staging.unlink(missing_ok=True)
                self.folder.remove(name)  # no row, no file
                raise
        finally:
            with self._lock:
                self._reserved.discard(name)
        log.info("upload %s for target %s: backup %d", name, target.name, backup.id)
        return backup

    def adopt(self, data: Mapping[str, Any]) -> Backup:
        """Make a file the folder holds but no row knows a backup of a target, in place."""
        values = validate_fields(ADOPT_FIELDS, data, required=ADOPT_REQUIRED, what="adoption")
        name, target = values["filename"], self.store.require_target(values["target_id"])
        with self._lock:
            if name.endswith((".part", STAGING)) or name in self._reserved:
                raise InvalidInput(
                    f"{name} is still being written", fields={"filename": "is being written"}
                )
            if name not in {f.name for f in self._unknown_files()}:
                raise NotFound(f"no unknown file named {name} in the backup folder")
            path = self.folder.path / name
            if path.is_symlink() or not path.is_file():
                raise InvalidInput(
                    f"{name} is not a regular file", fields={"filename": "not a regular file"}
                )
            result = verify_file(path)
            _check_container(name, result)
            self._make_private(path)
            backup = self._record(target.id, name, self.clock.now(), result, _sha256(path), "file")
        log.info("found file %s adopted for target %s: backup %d", name, target.name, backup.id)
        return backup

    def recover(self) -> list[str]:
        """At start (no upload runs yet): remove what uploads cut off by a crash left."""
        removed = []
        try:
            entries = list(self.folder.path.iterdir())
        except OSError:
            return []
        for entry in entries:
            if entry.name.endswith((f"{STAGING}.part", STAGING)) and entry.is_file():
                try:
                    entry.unlink()
                except OSError as exc:
                    log.warning("cannot remove %s: %s", entry.name, exc)
                    continue
                removed.append(entry.name)
        if removed:
            log.info("removed what interrupted uploads left: %s", ", ".join(removed))
        return removed

    def _reserve(self, stem: str, ext: str) -> str:
        taken = self.store.known_file_paths()
        with self._lock:
            n = 1
            while True:
                name = f"{stem}{ext}" if n == 1 else f"{stem}_{n}{ext}"
                path = self.folder.path / name
                staging = self.folder.path / f"{name}{STAGING}"
                if not (
                    name in taken
                    or name in self._reserved
                    or any(p.exists() for p in (path, part_path(path), part_path(staging)))
                ):
                    self._reserved.add(name)
                    return name
                n += 1

    def _record(
        self, target_id: int, name: str, started: Any, result: VerifyResult, sha: str, how: str
    ) -> Backup:
        manifest_rows = result.table_rows
        backup = self.store.insert_backup(target_id, started, name, Trigger.UPLOAD)
        finished = self.clock.now()
        self.store.finish_backup(
            backup.id,
            status=SUCCESS,
            finished_at=finished,
            duration_seconds=(finished - started).total_seconds(),
            notes=_notes(result, "uploaded" if how == "upload" else "found in the backup folder"),
            size_bytes=result.size_bytes,
            sha256=sha,
            tables=len(manifest_rows) if manifest_rows else None,
            rows=sum(manifest_rows.values()) if manifest_rows else None,
        )
        done = self.store.get_backup(backup.id)
        assert done is not None
        return done

    def _make_private(self, path: Path) -> None:
        """An adopted file gets the mode every backup file has, when it is ours to change."""
        try:
            if path.stat().st_uid == os.geteuid():
                path.chmod(self.folder.file_mode)
        except OSError as exc:
            log.warning("cannot set the mode of %s: %s", path.name, exc)


@contextlib.contextmanager
def _room_for(name: str) -> Iterator[None]:
    """A full disk or quota while the upload is written is a StorageFull that says so (the
    .part is gone by then: atomic_file removes it), not an internal error."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(
                f"no room left in the backup folder for {name}: {exc.strerror}"
            ) from exc
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()

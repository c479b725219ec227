"""A target of a whole server (dbname `*`): what its backup, connection test and checks do
differently. The engine's backup/serverset.py writes the set; this module records it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dumper.backup import serverset
from dumper.backup.agefile import Identity, Recipient
from dumper.backup.agestream import check_structure
from dumper.backup.compare import CompareResult, scratch_name
from dumper.backup.dsn import ConnParams
from dumper.backup.dump import DumpOptions, ProgressFn, dump_database
from dumper.backup.probe import ProbeResult, probe, probe_server
from dumper.backup.serverset import SetResult, parse_exclude
from dumper.errors import (
    BackupCorrupt,
    Conflict,
    ConnectionFailed,
    DumpFailed,
    InvalidInput,
    NotFound,
    RestoreFailed,
)
from dumper.set_rows import BackupDatabase
from dumper.store import Store, Target, TargetFields
from dumper.targets import SERVER_DBNAME

if TYPE_CHECKING:  # views imports jobs, which imports this module
    from dumper.views import ArchiveDownload, BackupDatabaseView


def is_server(target: Target | None) -> bool:
    """Whether the target backs up every database the user can see."""
    return target is not None and target.dbname == SERVER_DBNAME


def dump(
    params: ConnParams,
    path: Path,
    target: Target,
    *,
    progress: ProgressFn | None,
    cancel: threading.Event,
    mode: int,
    dir_mode: int,
    encrypt_to: Sequence[Recipient] = (),
    dump_fn: Callable[..., Any] = dump_database,
) -> SetResult:
    """The set of the target's server into the folder `path` (DumpFailed naming a database);
    `dump_fn` dumps each database (the engine's dump)."""
    return serverset.dump_server(
        params.with_database(""),
        path,
        exclude=parse_exclude(target.exclude),
        progress=progress,
        cancel=cancel,
        options=DumpOptions(parallel_connections=target.parallel_connections),
        mode=mode,
        dir_mode=dir_mode,
        strict=target.strict,
        encrypt_to=encrypt_to,
        dump_fn=dump_fn,
    )


def check(
    path: Path, cancel: threading.Event, readers: list[Identity] | None, encrypted: bool
) -> None:
    """Verify every file of a set just written; DumpFailed naming the database when one fails.
    A set encrypted to a recipient's key (which the service cannot read) by its age structure."""
    try:
        if encrypted and readers is None:
            for e in serverset.read_manifest(path):
                try:
                    check_structure(path / e.file)
                except BackupCorrupt as exc:
                    raise BackupCorrupt(f"database {e.database}: {exc.message}") from exc
            return
        serverset.verify_set(path, cancel=cancel, identities=readers)
    except BackupCorrupt as exc:
        raise DumpFailed(f"the written set failed verification: {exc.message}") from exc


def rows(result: SetResult) -> list[BackupDatabase]:
    return [
        BackupDatabase(e.database, e.file, e.size_bytes, e.sha256, e.tables, e.rows)
        for e in result.databases
    ]


def probe_target(
    params: ConnParams, fields: Target | TargetFields, connect_fn: Callable[..., Any]
) -> ProbeResult:
    """The connection test: of one database, or for `*` the databases a backup would take."""
    if fields.dbname != SERVER_DBNAME:
        return probe(params, connect_fn)
    return probe_server(params, parse_exclude(fields.exclude), connect_fn)


def check_files(path: Path, hash_file: Callable[[Path], str]) -> tuple[str, str] | None:
    """The file check of a set: each file's sha256 against the manifest. None when all match,
    else ("missing"|"corrupt", why); raises FileNotFoundError when the folder is gone."""
    if not path.is_dir():
        raise FileNotFoundError(path)
    try:
        entries = serverset.read_manifest(path)
    except BackupCorrupt as exc:
        return "corrupt", exc.message
    for e in entries:
        try:
            found = hash_file(path / e.file)
        except FileNotFoundError:
            return "missing", f"{path.name}/{e.file} (database {e.database}) is no longer there"
        if found != e.sha256:
            return "corrupt", (
                f"{path.name}/{e.file} (database {e.database}) has sha256 {found[:16]}..., the "
                f"set recorded {e.sha256[:16]}...: the file changed after it was written"
            )
    return None


def databases_view(store: Store, backup_id: int) -> list[BackupDatabaseView] | None:
    """The databases of a set for its backup's view; None for a backup of one database."""
    from dumper.views import BackupDatabaseView

    found = store.backup_databases(backup_id)
    if not found:
        return None
    return [BackupDatabaseView(d.name, d.file, d.size_bytes, d.tables, d.rows) for d in found]


def download(path: Path, database: str | None) -> Path | ArchiveDownload:
    """What a download of the backup at `path` sends: its file; a set as one tar streamed from
    its files, or with `database` that database's file of it."""
    from dumper.views import ArchiveDownload

    if not path.is_dir():
        if database is not None:
            raise InvalidInput(
                "database is only for a backup set", fields={"database": "not a backup set"}
            )
        return path
    if database is None:
        length, chunks = serverset.tar_stream(path)
        return ArchiveDownload(path.name + ".tar", length, chunks)
    entry = serverset.entry_of(serverset.read_manifest(path), database, field="database")
    if not (path / entry.file).is_file():
        raise NotFound(f"the file of database {database} is gone from the set")
    return path / entry.file


def one_file(path: Path) -> Path:
    """The file of a backup of one database; InvalidInput for a set (its `databases` say what
    it holds; each file's contents are those of a dump of that database)."""
    if path.is_dir():
        raise InvalidInput(
            "a backup set holds several databases: its databases list them",
            fields={"backup": "a backup set"},
        )
    return path


def set_test_restore(
    test_restore: Callable[..., CompareResult], backup_id: int, on_scratch: Callable[[str], None]
) -> Callable[..., CompareResult]:
    """The test restore of a set: each database's file into a scratch database named after it
    (`<database>__verify_<id>`), one after another, `on_scratch` told each name before it is
    made; passed when every one passed, ending at the first that did not."""

    def run(path: Path, params: ConnParams, scratch: str, **kw: Any) -> CompareResult:
        notes: list[str] = []
        for e in serverset.read_manifest(path):
            name = scratch_name(e.database, backup_id)
            on_scratch(name)
            try:
                one = test_restore(path / e.file, params.with_database(e.database), name, **kw)
            except (BackupCorrupt, Conflict, ConnectionFailed, RestoreFailed) as exc:
                notes.append(f"database {e.database}: {exc.message}")
                return CompareResult(False, tuple(notes))
            notes.append(f"database {e.database}: " + "; ".join(one.notes))
            if not one.passed:
                return CompareResult(False, tuple(notes))
        return CompareResult(True, tuple(notes))

    return run

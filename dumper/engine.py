"""The engine as the service sees it: typed signatures of dump, restore, verify and test restore
(dumper.backup), bundled so a job runner can be given the real engine or a test's wrapper.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dumper.backup.agefile import Identity, Recipient
    from dumper.backup.compare import CompareResult
    from dumper.backup.dsn import ConnParams
    from dumper.backup.dump import DumpOptions, DumpProgress, DumpResult
    from dumper.backup.restore import RestoreOptions, RestoreProgress, RestoreResult
    from dumper.backup.verify import VerifyResult


class DumpFn(Protocol):
    def __call__(
        self,
        params: ConnParams,
        out: Path,
        *,
        compress: bool | None = ...,
        progress: Callable[[DumpProgress], None] | None = ...,
        cancel: threading.Event | None = ...,
        mode: int = ...,
        strict: bool = ...,  # fail (PrivilegeMissing) rather than warn on missing grants
        encrypt_to: Sequence[Recipient] = ...,  # an age file for these (encrypted backups)
        options: DumpOptions | None = ...,  # parallel_connections and tuning
    ) -> DumpResult: ...


class RestoreFn(Protocol):
    def __call__(
        self,
        path: Path,
        params: ConnParams,
        *,
        progress: Callable[[RestoreProgress], None] | None = ...,
        cancel: threading.Event | None = ...,
        options: RestoreOptions | None = ...,
        identities: Sequence[Identity] | None = ...,  # what opens an encrypted backup
    ) -> RestoreResult: ...


class VerifyFn(Protocol):
    def __call__(
        self,
        path: Path,
        *,
        cancel: threading.Event | None = ...,
        identities: Sequence[Identity] | None = ...,
    ) -> VerifyResult: ...


class TestRestoreFn(Protocol):
    def __call__(
        self,
        path: Path,
        params: ConnParams,
        scratch: str,
        *,
        cancel: threading.Event | None = ...,
        identities: Sequence[Identity] | None = ...,
        progress: Callable[[RestoreProgress], None] | None = ...,  # of the test restore
    ) -> CompareResult: ...


def _test_restore(
    path: Path,
    params: ConnParams,
    scratch: str,
    *,
    cancel: threading.Event | None = None,
    identities: Sequence[Identity] | None = None,
    progress: Callable[[RestoreProgress], None] | None = None,
) -> CompareResult:
    from dumper.backup.compare import verify_by_restore

    return verify_by_restore(
        path, params, scratch, cancel=cancel, identities=identities, progress=progress
    )


@dataclass(frozen=True)
class Engine:
    """What a job calls of the engine, typed; tests may wrap the functions."""

    dump: DumpFn
    restore: RestoreFn
    verify: VerifyFn
    # a verified backup: restore into a scratch database and compare (backup/compare.py)
    test_restore: TestRestoreFn = _test_restore

    @classmethod
    def default(cls) -> Engine:
        from dumper.backup.dump import dump_database
        from dumper.backup.restore import restore_file
        from dumper.backup.verify import verify_file

        return cls(dump=dump_database, restore=restore_file, verify=verify_file)

"""Dump files stay standard gzip whichever deflate writes them: ISA-L where its wheel exists,
zlib where it does not (forced here); gzip -t, zcat and the mariadb client read both."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dumper.backup import gzipio
from dumper.backup.dsn import ConnParams
from dumper.backup.dump import dump_database
from dumper.backup.restore import restore_file
from tests.fixtures.dbcompare import FIXTURES, assert_same, client_args, load_sql

pytestmark = pytest.mark.integration

Factory = Callable[[], ConnParams]


def test_isal_is_used_where_installed() -> None:
    pytest.importorskip("isal")
    assert gzipio.fast_zlib is not None


@pytest.mark.parametrize("backend", ["isal", "zlib"])
def test_dump_is_standard_gzip_that_gzip_zcat_and_the_client_read(
    scratch_db_factory: Factory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
) -> None:
    if backend == "zlib":
        monkeypatch.setattr(gzipio, "fast_zlib", None)  # the fallback of 32-bit ARM
    elif gzipio.fast_zlib is None:
        pytest.skip("isal not installed")
    src = scratch_db_factory()
    load_sql(src, (FIXTURES / "edge_cases.sql").read_bytes())
    out = tmp_path / "edge.sql.gz"
    dump_database(src, out)
    if shutil.which("gzip"):
        subprocess.run(["gzip", "-t", str(out)], check=True)
    by_client = scratch_db_factory()
    zcat = subprocess.Popen(["zcat", str(out)], stdout=subprocess.PIPE)
    subprocess.run(client_args(by_client), stdin=zcat.stdout, check=True, capture_output=True)
    assert zcat.wait() == 0
    assert_same(src, by_client)
    by_restore = scratch_db_factory()
    restore_file(out, by_restore)
    assert_same(src, by_restore)

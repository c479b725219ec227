"""Other tools' files restore into the database the user names and end equal to what the
mariadb client loads from the same file; what cannot be proven whole is refused or acknowledged.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from dumper.backup.dsn import ConnParams
from dumper.backup.restore import RestoreOptions, restore_file
from dumper.backup.verify import verify_file
from dumper.errors import BackupCorrupt, InvalidInput
from tests.integration.backup.test_restore import checksums, execute, query, tables_of

pytestmark = pytest.mark.integration

FOREIGN = Path(__file__).parent.parent.parent / "fixtures" / "foreign"


def client_load(params: ConnParams, sql: bytes) -> None:
    """What the mariadb client makes of the SQL (the reference a restore must equal)."""
    tool = shutil.which("mariadb") or shutil.which("mysql")
    if tool is None:
        pytest.skip("no mariadb client installed")
    cmd = [tool, "-h", params.host, "-P", str(params.port), "-u", params.user, params.database]
    subprocess.run(cmd, input=sql, check=True, capture_output=True)


def state(params: ConnParams) -> tuple[object, ...]:
    bodies = query(
        params,
        "SELECT ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1",
    )
    triggers = query(
        params,
        "SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS "
        "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1",
    )
    rows = query(params, "SELECT * FROM items ORDER BY id")
    return tables_of(params), checksums(params), bodies, triggers, rows


def assert_like_client(scratch_db_factory, path: Path, sql: bytes, **options) -> None:
    mine, theirs = scratch_db_factory(), scratch_db_factory()
    restore_file(path, mine, options=RestoreOptions(**options))
    client_load(theirs, sql)
    assert state(mine) == state(theirs)
    assert len(state(mine)[4]) == 3


@pytest.mark.parametrize(
    "name", ["mariadb_skip_comments.sql", "mariadb_compact.sql", "adminer.sql"]
)
def test_plain_files_without_end_line_restore_like_the_client_when_acknowledged(
    scratch_db_factory, name
):
    path = FOREIGN / name
    assert verify_file(path).whole_by == "unmarked"
    assert_like_client(scratch_db_factory, path, path.read_bytes(), accept_unmarked=True)


def test_plain_file_without_end_line_is_refused_unless_acknowledged(scratch_db):
    with pytest.raises(BackupCorrupt, match="accept_unmarked"):
        restore_file(FOREIGN / "adminer.sql", scratch_db)
    assert tables_of(scratch_db) == []


def test_adminer_gzip_is_whole_by_its_checksums(scratch_db_factory):
    path = FOREIGN / "adminer.sql.gz"
    info = verify_file(path)
    assert (info.producer, info.whole_by) == ("adminer", "container")
    assert_like_client(scratch_db_factory, path, gzip.decompress(path.read_bytes()))


@pytest.mark.parametrize("kind", ["bz2", "xz", "zip", "gz-padded"])
def test_compressed_containers_restore_like_the_client(scratch_db_factory, tmp_path, kind):
    sql = (FOREIGN / "mariadb_skip_comments.sql").read_bytes()
    path = tmp_path / f"d.sql.{kind.split('-')[0]}"
    if kind == "bz2":
        path.write_bytes(bz2.compress(sql))
    elif kind == "xz":
        path.write_bytes(lzma.compress(sql))
    elif kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("d.sql", sql)
    else:
        path.write_bytes(gzip.compress(sql) + b"\0" * 4096)
    assert verify_file(path).whole_by == "container"
    assert_like_client(scratch_db_factory, path, sql)


def test_bom_and_crlf_file_restores_like_the_client(scratch_db_factory, tmp_path):
    sql = b"\xef\xbb\xbf" + (FOREIGN / "adminer.sql").read_bytes().replace(b"\n", b"\r\n")
    path = tmp_path / "bom.sql"
    path.write_bytes(sql)
    assert verify_file(path).producer == "adminer"
    assert_like_client(scratch_db_factory, path, sql, accept_unmarked=True)


@pytest.mark.parametrize("suffix", ["gz", "bz2", "xz"])
def test_truncated_foreign_compressed_file_is_refused_with_nothing_executed(
    scratch_db, tmp_path, suffix
):
    sql = (FOREIGN / "mariadb_skip_comments.sql").read_bytes() * 3
    packed = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[suffix](sql)
    path = tmp_path / f"cut.sql.{suffix}"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    with pytest.raises(BackupCorrupt, match=r"truncated|corrupt"):
        restore_file(path, scratch_db)
    assert tables_of(scratch_db) == []


def test_single_database_file_restores_into_the_named_database(scratch_db_factory, mysql_params):
    path = FOREIGN / "mariadb_databases.sql"
    assert verify_file(path).databases == ("fx_src",)
    assert_like_client(
        scratch_db_factory,
        path,
        (FOREIGN / "mariadb_skip_comments.sql").read_bytes(),
        accept_unmarked=False,
    )
    assert query(mysql_params, "SHOW DATABASES LIKE 'fx_src'") == []


def test_several_databases_file_asks_which_and_restores_the_chosen(scratch_db_factory, tmp_path):
    one = (FOREIGN / "mariadb_databases.sql").read_bytes()
    other = one.replace(b"fx_src", b"fx_other").replace(b"(7)", b"(8)")
    path = tmp_path / "two.sql"
    path.write_bytes(one.split(b"-- Dump completed")[0] + other)
    dst = scratch_db_factory()
    with pytest.raises(InvalidInput, match="fx_src, fx_other"):
        restore_file(path, dst)
    assert tables_of(dst) == []
    restore_file(path, dst, options=RestoreOptions(source_database="fx_other"))
    assert query(dst, "SELECT n FROM audit") == [(8,)]


def test_unsupported_formats_are_named(tmp_path):
    zst = tmp_path / "d.sql.zst"
    zst.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 20)
    with pytest.raises(BackupCorrupt, match="zstd is not supported here: run zstd -d first"):
        verify_file(zst)
    mydumper = tmp_path / "export-20240101"
    mydumper.mkdir()
    (mydumper / "metadata").write_text("Started dump at: 2024-01-01\n")
    with pytest.raises(BackupCorrupt, match="mydumper"):
        verify_file(mydumper)


def test_plain_foreign_file_cut_inside_a_statement_is_refused(scratch_db, tmp_path):
    sql = (FOREIGN / "adminer.sql").read_bytes()
    path = tmp_path / "cut.sql"
    path.write_bytes(sql[: sql.index(b"(2,")])
    with pytest.raises(BackupCorrupt, match="inside a statement"):
        restore_file(path, scratch_db, options=RestoreOptions(accept_unmarked=True))
    assert tables_of(scratch_db) == []


def test_unmarked_acknowledgement_is_in_the_notes(scratch_db):
    result = restore_file(
        FOREIGN / "adminer.sql", scratch_db, options=RestoreOptions(accept_unmarked=True)
    )
    assert any("without proof of completeness" in n for n in result.notes)
    assert result.rows == 4 and result.tables == ("audit", "items")
    execute(scratch_db, "SELECT 1")

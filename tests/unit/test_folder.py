"""BACKUP_DIR's owner: names, .part files, files no row knows, and paths it refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dumper.folder import BackupFolder, safe_name

NOW = datetime(2026, 12, 2, 3, 0, 5, tzinfo=UTC)


def test_a_new_name_skips_rows_running_jobs_files_and_parts(tmp_path: Path) -> None:
    folder = BackupFolder(tmp_path)
    first = folder.new_name("Mein Shop", NOW, compress=True, taken=())
    assert first == "Mein_Shop_2026-12-02_03-00-05.sql.gz"
    (tmp_path / first).write_bytes(b"x")
    (tmp_path / "Mein_Shop_2026-12-02_03-00-05_2.sql.gz.part").write_bytes(b"x")
    taken = {"Mein_Shop_2026-12-02_03-00-05_3.sql.gz"}
    assert folder.new_name("Mein Shop", NOW, compress=True, taken=taken).endswith("_4.sql.gz")
    assert folder.new_name("Mein Shop", NOW, compress=False, taken=()).endswith("05.sql")


def test_a_row_path_outside_the_folder_is_refused(tmp_path: Path) -> None:
    folder = BackupFolder(tmp_path)
    assert folder.file("a.sql.gz") == tmp_path / "a.sql.gz"
    for bad in ("../a.sql.gz", "sub/a.sql.gz", "..", ".", "", None):
        assert folder.file(bad) is None
    assert folder.file("/old/seed/a.sql.gz") == Path("/old/seed/a.sql.gz")  # seed rows


def test_remove_takes_the_file_and_its_part(tmp_path: Path) -> None:
    folder = BackupFolder(tmp_path)
    (tmp_path / "a.sql.gz").write_bytes(b"x")
    (tmp_path / "a.sql.gz.part").write_bytes(b"x")
    folder.remove("a.sql.gz")
    assert list(tmp_path.iterdir()) == []
    folder.remove("a.sql.gz")  # gone already: no error
    (tmp_path / "b.sql.part").write_bytes(b"x")
    assert folder.remove_part("b.sql") == "b.sql.part"
    assert folder.remove_part("b.sql") is None


def test_unknown_files_leave_out_rows_and_files_being_written(tmp_path: Path) -> None:
    folder = BackupFolder(tmp_path)
    for name in ("known.sql.gz", "writing.sql.gz.part", "stray.sql.gz"):
        (tmp_path / name).write_bytes(b"12345")
    (tmp_path / "a-folder").mkdir()
    found = folder.unknown_files(["known.sql.gz"], ["writing.sql.gz"])
    assert [(f.name, f.size_bytes) for f in found] == [("stray.sql.gz", 5)]
    assert BackupFolder(tmp_path / "missing").unknown_files([], []) == []


def test_usage_counts_the_backups_and_the_disk(tmp_path: Path) -> None:
    (tmp_path / "a.sql.gz").write_bytes(b"x" * 1000)
    usage = BackupFolder(tmp_path).usage()
    assert usage.backups_bytes == 1000
    assert usage.total_bytes >= usage.used_bytes > 0
    assert BackupFolder(tmp_path / "missing").usage().total_bytes == 0
    assert BackupFolder(tmp_path).writable()
    assert not BackupFolder(tmp_path / "missing").writable()


def test_safe_name() -> None:
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("...") == "target"

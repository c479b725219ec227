"""The CLI in-process, without a server: verify, usage errors, one-line failures, exit codes."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from dumper import __version__
from dumper.cli import SUBCOMMANDS, build_parser, main


def run(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), env=env or {}, stdout=out, stderr=err, stdout_bytes=io.BytesIO())
    return code, out.getvalue(), err.getvalue()


def good_dump(tmp_path: Path, name: str = "ok.sql.gz") -> Path:
    manifest = json.dumps({"version": 1, "tables": {"t": 2, "u": 1}, "rows": 3})
    sql = (
        b"-- dumper 0.1.0 SQL dump\n-- Database: shop\n"
        b"CREATE TABLE `t` (id int);\nINSERT INTO `t` VALUES (1),(2);\n"
        b"-- Dump completed 2026-11-26T03:00:12Z\n-- dumper-manifest " + manifest.encode() + b"\n"
    )
    path = tmp_path / name
    path.write_bytes(gzip.compress(sql) if name.endswith(".gz") else sql)
    return path


def test_verify_of_a_good_file_exits_0_and_summarises_it(tmp_path):
    code, out, err = run("verify", str(good_dump(tmp_path)))
    assert (code, err) == (0, "")
    assert "ok.sql.gz: OK (dumper, gzip" in out
    assert "completed 2026-11-26T03:00:12Z, 2 tables, 3 rows" in out


def test_verify_of_a_truncated_file_fails_with_one_line(tmp_path):
    path = good_dump(tmp_path)
    path.write_bytes(path.read_bytes()[:-10])
    code, out, err = run("verify", str(path))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("dumper: gzip data is truncated")


def test_verify_of_a_plain_file_missing_its_manifest_fails(tmp_path):
    path = good_dump(tmp_path, "ok.sql")
    path.write_bytes(path.read_bytes().rsplit(b"-- dumper-manifest", 1)[0])
    code, _, err = run("verify", str(path))
    assert code == 1 and "incomplete" in err and err.count("\n") == 1


def test_verify_of_a_missing_file_fails_with_one_line(tmp_path):
    code, _, err = run("verify", str(tmp_path / "none.sql.gz"))
    assert code == 1 and err.count("\n") == 1 and "cannot read" in err


def test_unknown_command_is_a_usage_error_on_one_line():
    code, out, err = run("frobnicate")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "invalid choice: 'frobnicate'" in err


def test_missing_arguments_are_a_usage_error_on_one_line():
    code, _, err = run("dump", "mysql://root@localhost/db")
    assert code == 2 and err.count("\n") == 1 and "-o/--output" in err


def test_invalid_dsn_is_a_usage_error_before_anything_runs(tmp_path):
    code, _, err = run("restore", str(good_dump(tmp_path)), "http://root@localhost/db")
    assert code == 2 and err == "dumper: DSN must start with mysql://\n"


def test_restore_checks_the_file_before_connecting(tmp_path):
    path = good_dump(tmp_path)
    path.write_bytes(path.read_bytes()[:40])
    # port 1 would refuse the connection: the corrupt file must be reported first
    code, _, err = run("restore", str(path), "mysql://root@127.0.0.1:1/db")
    assert code == 1 and "truncated" in err and err.count("\n") == 1


PS_WARNING = (
    "dumper: warning: a password in the DSN is visible to other users in `ps`; "
    "use MYSQL_PWD or --password-file\n"
)


def test_password_never_appears_in_an_error_line(tmp_path):
    path = good_dump(tmp_path)
    code, _, err = run("restore", str(path), "mysql://root:s3cr3t@127.0.0.1:1/db")
    assert code == 1 and err.startswith(PS_WARNING) and err.count("\n") == 2
    assert "s3cr3t" not in err and "cannot connect" in err


def test_a_password_in_the_dsn_still_works_but_is_warned_about(tmp_path):
    code, _, err = run("dump", "mysql://root:s3cr3t@127.0.0.1:1/db", "-o", str(tmp_path / "x.sql"))
    assert code == 1 and err.startswith(PS_WARNING)
    code, _, err = run("dump", "mysql://root@127.0.0.1:1/db", "-o", str(tmp_path / "x.sql"))
    assert code == 1 and err.count("\n") == 1 and "warning" not in err


def test_a_missing_password_file_is_a_usage_error(tmp_path):
    missing = tmp_path / "nope"
    code, _, err = run(
        "dump", "mysql://root@127.0.0.1:1/db", "-o", "-", "--password-file", str(missing)
    )
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"dumper: cannot read the password file {missing}:")


def test_a_password_in_the_dsn_and_a_password_file_is_a_usage_error(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cr3t\n")
    path = str(good_dump(tmp_path))
    code, _, err = run(
        "restore", path, "mysql://u:x@127.0.0.1:1/db", "--password-file", str(secret)
    )
    assert code == 2 and "not both" in err and "s3cr3t" not in err


@pytest.mark.parametrize(
    "argv", [["dump", "mysql://u@h/d", "-o", "f.sql"], ["restore", "f.sql", "mysql://u@h/d"]]
)
def test_every_command_taking_a_dsn_takes_a_password_file(argv):
    assert build_parser().parse_args([*argv, "--password-file", "pw"]).password_file == Path("pw")


def test_version_and_help_exit_0(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    assert main(["restore", "--help"]) == 0
    assert "MYSQL_PWD" in capsys.readouterr().out


def test_every_registered_subcommand_has_a_handler():
    parser = build_parser()
    names = {"dump": ["x", "-o", "f"], "restore": ["f", "x"], "verify": ["f"]}
    assert len(SUBCOMMANDS) >= len(names)
    for name, rest in names.items():
        assert callable(parser.parse_args([name, *rest]).handler)


@pytest.mark.parametrize("argv", [["dump", "mysql://u@h/d", "-o", "f.sql"], ["verify", "f"]])
def test_parser_accepts_documented_forms(argv):
    assert build_parser().parse_args(argv).command == argv[0]

"""The grant named for routines depends on the server: MariaDB before and after 11.3, MySQL
5.7, 8.0 before 8.0.20 and after."""

from __future__ import annotations

import pytest

from dumper.backup.visibility import MissingGrant, cannot_read, object_grant, routine_grant


@pytest.mark.parametrize(
    ("version", "grant"),
    [
        ("10.11.19-MariaDB-0+deb12u1", "SELECT ON mysql.proc"),
        ("11.2.9-MariaDB", "SELECT ON mysql.proc"),
        ("11.4.5-MariaDB-log", "SHOW CREATE ROUTINE ON `shop`.*"),
        ("5.7.44-log", "SELECT ON mysql.proc"),
        ("8.0.19", "SELECT ON *.*"),
        ("8.0.20", "SHOW_ROUTINE ON *.*"),
        ("8.4.3", "SHOW_ROUTINE ON *.*"),
    ],
)
def test_the_routine_grant_fits_the_server(version: str, grant: str) -> None:
    assert routine_grant(version, "shop") == grant


def test_other_kinds_need_their_privilege_on_the_database() -> None:
    assert object_grant("views", "8.4.3", "my`db") == "SHOW VIEW ON `my``db`.*"
    assert object_grant("triggers", "10.11.2-MariaDB", "shop") == "TRIGGER ON `shop`.*"
    assert object_grant("events", "10.11.2-MariaDB", "shop") == "EVENT ON `shop`.*"


def test_messages_name_the_object_and_the_grant() -> None:
    err = cannot_read("triggers", "audit", "10.11.2-MariaDB", "shop")
    assert (err.obj, err.privilege) == ("trigger audit", "TRIGGER ON `shop`.*")
    assert "trigger audit" in err.message and "GRANT TRIGGER ON `shop`.*" in err.message
    assert "GRANT EVENT ON `shop`.*" in MissingGrant("events", "EVENT ON `shop`.*").message

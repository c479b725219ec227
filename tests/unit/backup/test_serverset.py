"""Which databases a server set takes, and the file names of its databases (no server)."""

from __future__ import annotations

import pytest

from dumper.backup.dsn import parse_dsn
from dumper.backup.serverset import file_name, parse_exclude, select_databases
from dumper.errors import InvalidInput


def test_system_schemas_and_excluded_patterns_are_left_out() -> None:
    names = ["shop", "mysql", "information_schema", "PERFORMANCE_SCHEMA", "sys", "test_1", "blog"]
    assert select_databases(names) == ["blog", "shop", "test_1"]
    assert select_databases(names, parse_exclude(" test_* , bl*g,")) == ["shop"]


def test_star_is_the_only_wildcard_and_a_pattern_matches_the_whole_name() -> None:
    names = ["a.b", "axb", "a?c", "abc", "xabc"]
    assert select_databases(names, ["a.b", "a?c"]) == ["abc", "axb", "xabc"]
    assert select_databases(names, ["abc"]) == ["a.b", "a?c", "axb", "xabc"]
    assert select_databases(names, ["*"]) == []
    assert parse_exclude(None) == () and parse_exclude(" , ") == ()


def test_a_database_name_becomes_a_safe_file_name() -> None:
    assert file_name("shop") == "shop.sql.gz"
    assert file_name("shop", encrypted=True) == "shop.sql.gz.age"
    assert file_name("my db/€") == "my%20db%2F%E2%82%AC.sql.gz"
    assert file_name("..x") == "%2E.x.sql.gz"


def test_a_dsn_may_leave_the_database_out_only_for_a_whole_server() -> None:
    assert parse_dsn("mysql://u@h:3307/", server=True).database == ""
    assert parse_dsn("mysql://u@h", server=True).database == ""
    with pytest.raises(InvalidInput):
        parse_dsn("mysql://u@h:3307/")

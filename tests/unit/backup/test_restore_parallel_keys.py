"""Which tables a parallel restore may load out of order: only those SHOW CREATE TABLE gives a
primary key, never one whose comment or default merely says so."""

from __future__ import annotations

import pytest

from dumper.backup.restore_parallel import _PRIMARY


@pytest.mark.parametrize(
    ("create", "keyed"),
    [
        (b"CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB", True),
        (b"CREATE TABLE `t` (\n  `a` int,\n  `b` int,\n  PRIMARY KEY (`a`,`b`)\n)", True),
        (b"CREATE TABLE `t` (\n  `id` int COMMENT 'the primary key (old)'\n)", False),
        (b"CREATE TABLE `t` (\n  `s` varchar(20) DEFAULT 'PRIMARY KEY (x)'\n)", False),
        (b"CREATE TABLE `t` (\n  `id` int NOT NULL,\n  UNIQUE KEY `u` (`id`)\n)", False),
    ],
)
def test_only_a_real_primary_key_lets_inserts_spread(create: bytes, keyed: bool) -> None:
    assert bool(_PRIMARY.search(create)) is keyed

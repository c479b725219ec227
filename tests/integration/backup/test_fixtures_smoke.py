"""The shared fixtures themselves work: a scratch database and a private server answer."""

from __future__ import annotations

import pymysql
import pytest

from dumper.backup.dsn import connect
from tests.conftest import PrivateServer

pytestmark = pytest.mark.integration


def test_scratch_db_is_empty_and_usable(scratch_db):
    conn = connect(scratch_db)
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=DATABASE()")
        assert cur.fetchone()[0] == 0
    conn.close()


@pytest.mark.private_server
def test_private_server_dies_when_killed(private_mariadb: PrivateServer):
    conn = connect(private_mariadb.params)
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone()[0] == 1
    private_mariadb.kill()
    with pytest.raises(pymysql.err.OperationalError), conn.cursor() as cur:
        cur.execute("SELECT 1")

"""A cancel interrupts the statement a connection is running (KILL QUERY from a second one)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

import pymysql
import pytest

from dumper.backup.dsn import ConnParams, connect
from dumper.backup.interrupt import interrupt_on_cancel
from tests.conftest import free_port

pytestmark = pytest.mark.integration


def _sleep_with_cancel_after(
    params: ConnParams, kill_params: ConnParams, seconds: float
) -> tuple[float, BaseException | None]:
    """Run SELECT SLEEP(30) under interrupt_on_cancel, cancelling after `seconds`."""
    conn = connect(params)
    cancel = threading.Event()
    timer = threading.Timer(seconds, cancel.set)
    started = time.monotonic()
    error: BaseException | None = None
    try:
        timer.start()
        with interrupt_on_cancel(kill_params, conn, cancel), conn.cursor() as cur:
            cur.execute("SELECT SLEEP(30)")
            cur.fetchall()
    except pymysql.MySQLError as exc:
        error = exc
    finally:
        timer.cancel()
        conn.close()
    return time.monotonic() - started, error


def test_a_cancel_interrupts_the_running_statement(scratch_db: ConnParams) -> None:
    took, error = _sleep_with_cancel_after(scratch_db, scratch_db, 0.3)
    # MariaDB ends an interrupted SLEEP with 1 as its value; MySQL with error 1317: either way
    # the statement ends at once instead of after 30 s
    assert took < 10
    assert error is None or error.args[0] == 1317


def test_without_a_cancel_nothing_is_interrupted(scratch_db: ConnParams) -> None:
    conn = connect(scratch_db)
    try:
        with interrupt_on_cancel(scratch_db, conn, threading.Event()), conn.cursor() as cur:
            cur.execute("SELECT SLEEP(0.5), 7")
            assert cur.fetchall() == ((0, 7),)
    finally:
        conn.close()


def test_when_the_kill_cannot_connect_the_block_runs_on_and_says_why(
    scratch_db: ConnParams, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = replace(scratch_db, host="127.0.0.1", port=free_port(), unix_socket=None)
    caplog.set_level(logging.WARNING)
    conn = connect(scratch_db)
    cancel = threading.Event()
    try:
        with interrupt_on_cancel(unreachable, conn, cancel), conn.cursor() as cur:
            cancel.set()
            cur.execute("SELECT SLEEP(1), 7")  # runs to its end: nothing could kill it
            assert cur.fetchall() == ((0, 7),)
    finally:
        conn.close()
    assert "could not interrupt the running statement" in caplog.text

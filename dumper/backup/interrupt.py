"""A cancel also stops the statement the server is running: KILL QUERY from a second connection.

Without it a dump or restore notices a cancel only between statements, and a statement that
waits for a lock (lock_wait_timeout is a year by default) or runs for long keeps the job, and
the admin who pressed Cancel, waiting. KILL QUERY leaves the connection open; the statement
fails with "Query execution was interrupted", which the caller reports as Cancelled because the
cancel event is set. A server that does not end the statement within FORCE_AFTER seconds (it
stopped answering, or the kill could not connect) gets its connection shut down instead, so a
cancel always ends the job within seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any

from dumper.backup import dsn
from dumper.backup.session import close_quietly, shut_down, watching
from dumper.log import get_logger

log = get_logger("interrupt")

POLL_SECONDS = 0.1
KILL_TIMEOUT = 10  # seconds for the second connection to connect and answer
FORCE_AFTER = 3.0  # seconds a KILL QUERY may take before the connection is shut down


@contextlib.contextmanager
def interrupt_on_cancel(
    params: dsn.ConnParams,
    conn: Any,
    cancel: threading.Event | None,
    *,
    connect: Callable[..., Any] = dsn.connect,
) -> Iterator[None]:
    """While the block runs, a set `cancel` interrupts whatever `conn` is executing."""
    if cancel is None:
        yield
        return
    thread_id = int(conn.thread_id())
    # the kill connection must not give up because of the very cancel it serves
    kill_params = dataclasses.replace(params, cancel=None)

    def kill() -> None:
        try:
            killer = connect(
                kill_params,
                connect_timeout=KILL_TIMEOUT,
                read_timeout=KILL_TIMEOUT,
                autocommit=True,
            )
            try:
                with killer.cursor() as cur:
                    cur.execute(f"KILL QUERY {thread_id}")
            finally:
                close_quietly(killer)
        except Exception as exc:  # the cancel still takes effect between statements
            log.warning("cancel: could not interrupt the running statement: %s", exc)

    def watch(done: threading.Event) -> None:
        while not done.is_set():
            if cancel.wait(POLL_SECONDS):
                break
        if done.is_set():
            return
        # in a thread of its own: a silent server may keep the kill connecting for a while
        threading.Thread(target=kill, name="dumper-kill", daemon=True).start()
        if done.wait(FORCE_AFTER):
            return
        log.warning(
            "cancel: the statement did not end within %g s; closing the connection", FORCE_AFTER
        )
        shut_down(getattr(conn, "_sock", None))  # PyMySQL's socket; None once it closed

    with watching(watch, "dumper-cancel", FORCE_AFTER + 1):
        yield

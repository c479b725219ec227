"""The delivery queue: one thread sends what `emit` and `ping` queue, retrying a failed attempt
after a backoff that doubles (NOTIFY_RETRIES times), so a slow or dead receiver never holds up
or fails a job. Time comes from the injected clock: a retry is due when the clock says so.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dumper.clock import Clock
from dumper.log import get_logger
from dumper.notify.channels import Channel, Outcome, deliver, post
from dumper.notify.events import BACKUP_CANCELLED, BACKUP_STARTED, Event
from dumper.notify.service import ChannelService
from dumper.store import Store

log = get_logger("notify")

MAX_QUEUED = 1000  # deliveries waiting; beyond it new ones are dropped (and logged)
_POLL = 0.5  # seconds of real time between looks at the clock while a retry waits
# dead-man's switch (healthchecks.io convention): what to add to the ping URL per event
PING_SUFFIX = {
    BACKUP_STARTED: "/start",
    "backup_succeeded": "",
    "backup_failed": "/fail",
    BACKUP_CANCELLED: "/fail",
}
_PING_CHANNEL = "ping"


@dataclass
class _Delivery:
    seq: int
    event: Event
    channel: Channel | None  # None: a dead-man's-switch ping
    url: str = ""  # the ping's URL
    attempts: int = 0
    due: datetime = field(default_factory=lambda: datetime.min)


class Notifier:
    """`emit(event)` (the on_event callback of jobs and checks) queues and returns at once."""

    def __init__(
        self,
        store: Store,
        channels: ChannelService,
        clock: Clock,
        *,
        retries: int = 3,
        backoff: float = 30.0,
        timeout: float = 10.0,
        public_url: str | None = None,
        send: Callable[[Channel, Event, str | None, float], Outcome] = deliver,
    ) -> None:
        self.store = store
        self.channels = channels
        self.clock = clock
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.public_url = public_url
        self._send = send
        self._cond = threading.Condition()
        self._events: list[Event] = []
        self._pending: list[_Delivery] = []
        self._busy = 0  # items taken out and being worked on
        self._seq = itertools.count(1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent_total = 0
        self.failed_total = 0

    # -- producers (any thread; never block) ------------------------------------------------

    def emit(self, event: Event) -> None:
        """Queue an event; the worker finds the channels that chose it (and the ping URL)."""
        with self._cond:
            if len(self._events) + len(self._pending) >= MAX_QUEUED:
                log.warning("notification queue full: %s dropped", event.name)
                return
            self._events.append(event)
            self._cond.notify_all()

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._events) + len(self._pending)

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or being sent, except retries that are not due yet."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._thread is None:  # not started: nothing would change by waiting
                return not self._events and not self._pending
            while True:
                now = self.clock.now()
                waiting = self._events or self._busy or any(d.due <= now for d in self._pending)
                if not waiting:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))

    # -- the worker -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dumper-notify", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker; what is still queued is dropped (and logged when it had run: a CLI
        command never starts it, and sends nothing)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is None:
            return
        self._thread.join(timeout)
        self._thread = None
        left = self.queued
        if left:
            log.warning("%d notification(s) not delivered: the service stopped", left)

    def _run(self) -> None:
        while not self._stop.is_set():
            item = self._next()
            if item is None:
                continue
            try:
                if isinstance(item, Event):
                    self._expand(item)
                else:
                    self._attempt(item)
            except Exception:
                log.exception("notification delivery failed unexpectedly")
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _next(self) -> Event | _Delivery | None:
        with self._cond:
            while not self._stop.is_set():
                if self._events:
                    self._busy += 1
                    return self._events.pop(0)
                now = self.clock.now()
                due = [d for d in self._pending if d.due <= now]
                if due:
                    first = min(due, key=lambda d: (d.due, d.seq))
                    self._pending.remove(first)
                    self._busy += 1
                    return first
                self._cond.wait(_POLL)
            return None

    def _expand(self, event: Event) -> None:
        """One delivery per channel that chose the event, plus the target's ping."""
        target = self.store.get_target(event.target_id) if event.target_id is not None else None
        deliveries: list[_Delivery] = []
        suffix = PING_SUFFIX.get(event.name)
        ping_url = target.ping_url if target is not None else None
        if suffix is not None and ping_url:
            deliveries.append(_Delivery(next(self._seq), event, None, url=ping_url + suffix))
        if target is None or target.notify:
            for channel in self.channels.subscribed(event.name):
                deliveries.append(_Delivery(next(self._seq), event, channel))
        now = self.clock.now()
        with self._cond:
            for d in deliveries:
                d.due = now
            self._pending.extend(deliveries)
            self._cond.notify_all()

    def _attempt(self, d: _Delivery) -> None:
        d.attempts += 1
        if d.channel is None:
            body = (d.event.reason or d.event.name).encode("utf-8")
            outcome = post(d.url, {"Content-Type": "text/plain; charset=utf-8"}, body, self.timeout)
        else:
            outcome = self._send(d.channel, d.event, self.public_url, self.timeout)
        if not outcome.ok and d.attempts <= self.retries and not self._stop.is_set():
            wait = self.backoff * 2 ** (d.attempts - 1)
            log.info(
                "%s to %s failed (%s); retry %d in %g s",
                d.event.name,
                self._label(d),
                outcome.message,
                d.attempts,
                wait,
            )
            d.due = self.clock.now() + timedelta(seconds=wait)
            with self._cond:
                self._pending.append(d)
            return
        if outcome.ok:
            self.sent_total += 1
        else:
            self.failed_total += 1
            log.warning(
                "%s to %s not delivered after %d attempt(s): %s",
                d.event.name,
                self._label(d),
                d.attempts,
                outcome.message,
            )
        channel = d.channel or Channel(0, _PING_CHANNEL, self._label(d), (), True)
        self.channels.record(d.event, channel, outcome, attempts=d.attempts)

    @staticmethod
    def _label(d: _Delivery) -> str:
        if d.channel is not None:
            return f"channel {d.channel.name}"
        return f"ping of {d.event.target_name}"

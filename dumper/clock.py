"""Time as a dependency: the Clock protocol, the real SystemClock and a FakeClock for tests.

Everything that asks "what time is it" or waits takes a Clock, so the scheduler and rotation
can be tested at exact instants without sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to `seconds`; return True as soon as `stop` is set."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to; `sleep` advances it instantly (by default).

    Thread-safe, so a scheduler thread and a test can share one.
    """

    def __init__(self, start: datetime, *, advance_on_sleep: bool = True) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        # False: sleep only yields briefly, so a scheduler thread idles at the frozen time
        self.advance_on_sleep = advance_on_sleep
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta | float) -> datetime:
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        with self._lock:
            self._now += delta
            return self._now

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        if stop.is_set():
            return True
        with self._lock:
            self.sleeps.append(seconds)
            if not self.advance_on_sleep:
                return stop.wait(0.02)
            self._now += timedelta(seconds=max(0.0, seconds))
        # let other threads run, as a real sleep would
        return stop.wait(0.001)


def utc_iso(when: datetime | None) -> str | None:
    """`YYYY-MM-DDTHH:MM:SSZ`, the one time format of the API."""
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

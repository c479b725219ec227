"""The fake clock moves only when told, and sleeping advances it; the system clock is UTC."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from dumper.clock import FakeClock, SystemClock, utc_iso


def test_fake_clock_sleep_advances_time_and_records_it() -> None:
    clock = FakeClock(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
    stop = threading.Event()
    assert clock.sleep(30, stop) is False
    assert clock.now() == datetime(2026, 11, 26, 3, 0, 30, tzinfo=UTC)
    assert clock.sleeps == [30]
    clock.advance(timedelta(hours=1))
    assert clock.now().hour == 4


def test_fake_clock_sleep_returns_true_once_stopped() -> None:
    clock = FakeClock(datetime(2026, 11, 26, tzinfo=UTC))
    stop = threading.Event()
    stop.set()
    assert clock.sleep(30, stop) is True
    assert clock.now() == datetime(2026, 11, 26, tzinfo=UTC)


def test_system_clock_is_aware_utc_and_sleep_stops_early() -> None:
    clock = SystemClock()
    assert clock.now().utcoffset() == timedelta(0)
    stop = threading.Event()
    stop.set()
    assert clock.sleep(60, stop) is True


def test_utc_iso_format() -> None:
    assert utc_iso(datetime(2026, 11, 26, 3, 0, 5, 999, tzinfo=UTC)) == "2026-11-26T03:00:05Z"
    assert utc_iso(None) is None


def test_fake_clock_can_stay_frozen_while_sleeping() -> None:
    clock = FakeClock(datetime(2026, 11, 26, tzinfo=UTC), advance_on_sleep=False)
    assert clock.sleep(30, threading.Event()) is False
    assert clock.now() == datetime(2026, 11, 26, tzinfo=UTC)

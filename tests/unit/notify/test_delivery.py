"""The delivery queue: retries with backoff after a receiver error (on a fake clock), gives up
after NOTIFY_RETRIES, records each delivery, counts them in /metrics, and never holds up the
caller, even when a receiver hangs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dumper.app import App
from dumper.clock import FakeClock
from dumper.http.metrics import render
from dumper.notify.events import Event, RunInfo
from tests.receivers import HttpReceiver, SilentServer, start_http_receiver
from tests.unit.http.test_handlers import make_config

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
EVENT = Event(
    name="backup_failed",
    at=NOW,
    target_id=1,
    target_name="shop",
    reason="disk full",
    backup=RunInfo(id=3, status="failed", notes="disk full"),
)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    yield from start_http_receiver()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW, advance_on_sleep=False)


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock) -> Iterator[App]:
    config = replace(
        make_config(tmp_path), notify_retries=2, notify_backoff_seconds=30, notify_timeout=1.0
    )
    application = App.build(config, clock=clock)
    application.notifier.start()
    yield application
    application.stop(timeout=5)


def test_a_receiver_error_is_retried_after_the_backoff(
    app: App, clock: FakeClock, receiver: HttpReceiver
) -> None:
    receiver.answers = [(500, b"try later")]
    app.channels.create({"type": "webhook", "name": "hook", "url": receiver.url})
    app.notifier.emit(EVENT)
    receiver.wait_for(1)
    assert app.notifier.idle(5)  # the answer is in and the retry is scheduled
    assert receiver.quiet_for(0.3) == 1  # the fake clock has not moved: no retry yet
    clock.advance(timedelta(seconds=29))
    assert receiver.quiet_for(0.3) == 1
    clock.advance(timedelta(seconds=1))
    second = receiver.wait_for(2)[1]
    assert second.json()["event"] == "backup_failed"
    assert app.notifier.idle(5)
    [delivery] = app.channels.deliveries()
    assert delivery.ok and delivery.attempts == 2 and delivery.channel_name == "hook"
    assert delivery.event == "backup_failed" and delivery.at == NOW + timedelta(seconds=30)
    assert "200" in delivery.result


def test_it_gives_up_after_the_retries_and_says_why(
    app: App, clock: FakeClock, receiver: HttpReceiver
) -> None:
    receiver.answers = [(503, b"down")] * 5
    app.channels.create({"type": "webhook", "name": "hook", "url": receiver.url})
    app.notifier.emit(EVENT)
    receiver.wait_for(1)
    assert app.notifier.idle(5)  # the answer is in and the retry is scheduled
    clock.advance(timedelta(seconds=30))
    receiver.wait_for(2)
    assert app.notifier.idle(5)
    clock.advance(timedelta(seconds=59))  # the second wait doubles
    assert receiver.quiet_for(0.3) == 2
    clock.advance(timedelta(seconds=1))
    receiver.wait_for(3)
    assert app.notifier.idle(5)
    clock.advance(timedelta(hours=1))
    assert app.notifier.idle(5)
    assert receiver.quiet_for(0.3) == 3  # 1 + NOTIFY_RETRIES attempts, then no more
    [delivery] = app.channels.deliveries()
    assert not delivery.ok and delivery.attempts == 3
    assert "503" in delivery.result and "down" in delivery.result
    text = render(app.metrics())
    assert "dumper_notifications_failed_total 1" in text
    assert "dumper_notifications_sent_total 0" in text


def test_emit_returns_at_once_even_when_the_receiver_hangs(app: App) -> None:
    silent = SilentServer()
    try:
        app.channels.create(
            {"type": "webhook", "name": "dead", "url": f"http://127.0.0.1:{silent.port}/"}
        )
        began = time.monotonic()
        for _ in range(20):
            app.notifier.emit(EVENT)
        assert time.monotonic() - began < 0.5
    finally:
        silent.close()


def test_deliveries_are_listed_newest_first_and_kept_bounded(
    app: App, receiver: HttpReceiver
) -> None:
    app.channels.create({"type": "webhook", "name": "hook", "url": receiver.url})
    for i in range(3):
        app.notifier.emit(replace(EVENT, reason=f"r{i}"))
    receiver.wait_for(3)
    assert app.notifier.idle(5)
    listed = app.channels.deliveries()
    assert [d.ok for d in listed] == [True] * 3
    assert listed[0].id > listed[-1].id
    assert "dumper_notifications_sent_total 3" in render(app.metrics())

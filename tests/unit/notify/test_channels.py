"""Each channel kind's message, as a real receiver on 127.0.0.1 gets it: webhook (signed JSON),
ntfy, gotify, discord, slack, and email through a local SMTP server."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.clock import FakeClock
from dumper.notify.events import Event, RunInfo
from tests.conftest import free_port
from tests.receivers import HttpReceiver, SmtpReceiver, start_http_receiver
from tests.unit.http.test_handlers import make_config

NOW = datetime(2026, 11, 26, 3, 0, 5, tzinfo=UTC)
FAILED = Event(
    name="backup_failed",
    at=NOW,
    target_id=7,
    target_name="shop",
    reason="cannot connect to db.lan:3306: (2003) refused",
    backup=RunInfo(id=12, status="failed", notes="cannot connect to db.lan:3306: (2003) refused"),
)
LINK = "https://dumper.example.org/targets/7/backups?backup=12"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    yield from start_http_receiver()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    config = replace(make_config(tmp_path), public_url="https://dumper.example.org/")
    application = App.build(config, clock=FakeClock(NOW, advance_on_sleep=False))
    application.notifier.start()
    yield application
    application.stop(timeout=5)


def channel(app: App, **fields: Any) -> int:
    return app.channels.create({"name": fields.pop("name", fields["type"]), **fields}).id


def test_webhook_posts_the_event_as_json_signed_with_hmac_sha256(
    app: App, receiver: HttpReceiver
) -> None:
    channel(app, type="webhook", url=receiver.url + "/hook", secret="s3cret")
    app.notifier.emit(FAILED)
    got = receiver.wait_for(1)[0]
    assert (got.method, got.path) == ("POST", "/hook")
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-dumper-event"] == "backup_failed"
    expected = hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-dumper-signature"] == f"sha256={expected}"
    body = got.json()
    assert body["event"] == "backup_failed"
    assert body["target"] == {"id": 7, "name": "shop"}
    assert body["backup"] == {"id": 12, "status": "failed", "notes": FAILED.reason}
    assert body["restore"] is None
    assert body["at"] == "2026-11-26T03:00:05Z"
    assert body["url"] == LINK
    assert body["reason"] == FAILED.reason
    assert "shop" in body["title"] and "failed" in body["title"]


def test_a_webhook_without_secret_is_not_signed(app: App, receiver: HttpReceiver) -> None:
    channel(app, type="webhook", url=receiver.url)
    app.notifier.emit(FAILED)
    assert "x-dumper-signature" not in receiver.wait_for(1)[0].headers


def test_ntfy_publishes_title_message_and_click_link_with_its_token(
    app: App, receiver: HttpReceiver
) -> None:
    channel(app, type="ntfy", url=receiver.url, topic="backups", token="tk_123")
    app.notifier.emit(FAILED)
    got = receiver.wait_for(1)[0]
    assert got.method == "POST" and got.path == "/"
    assert got.headers["authorization"] == "Bearer tk_123"
    body = got.json()
    assert body["topic"] == "backups"
    assert "shop" in body["title"]
    assert "2026-11-26 03:00:05 UTC" in body["message"] and FAILED.reason in body["message"]
    assert body["click"] == LINK
    assert body["priority"] == 4


def test_gotify_posts_to_message_with_its_app_token(app: App, receiver: HttpReceiver) -> None:
    channel(app, type="gotify", url=receiver.url + "/gotify/", token="AppTok")
    app.notifier.emit(FAILED)
    got = receiver.wait_for(1)[0]
    assert got.path == "/gotify/message"
    assert got.headers["x-gotify-key"] == "AppTok"
    body = got.json()
    assert "shop" in body["title"] and FAILED.reason in body["message"]
    assert body["priority"] == 8
    assert body["extras"]["client::notification"]["click"]["url"] == LINK


def test_discord_gets_an_embed(app: App, receiver: HttpReceiver) -> None:
    channel(app, type="discord", url=receiver.url + "/api/webhooks/1/abc")
    app.notifier.emit(FAILED)
    got = receiver.wait_for(1)[0]
    assert got.path == "/api/webhooks/1/abc"
    embed = got.json()["embeds"][0]
    assert "shop" in embed["title"] and FAILED.reason in embed["description"]
    assert embed["url"] == LINK
    assert embed["timestamp"] == "2026-11-26T03:00:05Z"


def test_slack_gets_text_and_blocks(app: App, receiver: HttpReceiver) -> None:
    channel(app, type="slack", url=receiver.url + "/services/T/B/X")
    app.notifier.emit(FAILED)
    body = receiver.wait_for(1)[0].json()
    assert "shop" in body["text"] and FAILED.reason in body["text"]
    section = body["blocks"][0]["text"]["text"]
    assert f"<{LINK}|" in section


def test_email_goes_through_smtp_with_login(app: App) -> None:
    smtp = SmtpReceiver(free_port(), user="mailer", password="pw")
    smtp.start()
    try:
        channel(
            app,
            type="email",
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_security="none",
            smtp_user="mailer",
            smtp_password="pw",
            mail_from="dumper@example.org",
            mail_to="ops@example.org, dba@example.org",
        )
        app.notifier.emit(FAILED)
        mail = smtp.wait_for(1)[0]
    finally:
        smtp.stop()
    assert mail.login == ("mailer", "pw")
    assert mail.mail_from == "dumper@example.org"
    assert mail.rcpt_tos == ["ops@example.org", "dba@example.org"]
    assert "shop" in mail.message["Subject"] and "failed" in mail.message["Subject"]
    text = mail.message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert FAILED.reason in text and LINK in text and "2026-11-26 03:00:05 UTC" in text


def test_a_channel_gets_only_the_events_it_chose(app: App, receiver: HttpReceiver) -> None:
    channel(app, type="webhook", url=receiver.url)  # default: everything but backup_succeeded
    channel(app, type="webhook", name="all", url=receiver.url + "/all", events=["backup_succeeded"])
    ok = replace(FAILED, name="backup_succeeded", reason="", backup=RunInfo(12, "success", ""))
    app.notifier.emit(ok)
    assert [r.path for r in receiver.wait_for(1)] == ["/all"]
    assert receiver.quiet_for(0.3) == 1


def test_a_disabled_channel_gets_nothing(app: App, receiver: HttpReceiver) -> None:
    channel(app, type="webhook", url=receiver.url, enabled=False)
    app.notifier.emit(FAILED)
    assert app.notifier.idle(5)
    assert receiver.quiet_for(0.2) == 0

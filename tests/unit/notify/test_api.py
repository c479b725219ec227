"""/api/notification-channels: CRUD, secrets stored encrypted and never returned, per-type
validation, the test route with the receiver's answer; /api/notification-deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dumper.app import App
from dumper.http.server import build_dispatcher
from tests.receivers import HttpReceiver, start_http_receiver
from tests.unit.http.test_handlers import Api, make_config

SECRET_WORDS = ("s3cret-sign", "tok-ntfy-1", "smtp-pw-9", "/api/webhooks/555/hidden")


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    yield from start_http_receiver()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    application = App.build(make_config(tmp_path))
    application.notifier.start()
    yield application
    application.stop(timeout=5)


@pytest.fixture
def api(app: App, tmp_path: Path) -> Api:
    return Api(build_dispatcher(app, make_config(tmp_path)))


def webhook(**over: Any) -> dict[str, Any]:
    return {"type": "webhook", "name": "hook", "url": "https://hooks.example.org/x", **over}


def mail(**over: Any) -> dict[str, Any]:
    return {
        "type": "email",
        "name": "e",
        "smtp_host": "h",
        "mail_from": "a@example.org",
        "mail_to": "b@example.org",
        **over,
    }


def test_crud_keeps_secrets_encrypted_and_never_returns_them(api: Api, app: App) -> None:
    status, _, created = api("POST", "/api/notification-channels", webhook(secret="s3cret-sign"))
    assert status == 201
    assert created["type"] == "webhook" and created["enabled"] is True
    assert "backup_failed" in created["events"] and "backup_succeeded" not in created["events"]
    assert created["secrets_set"] == ["secret"]
    assert created["url"] == "https://hooks.example.org/x"
    bodies = [created]
    discord = "https://discord.example.org/api/webhooks/555/hidden"
    for body in (
        {"type": "ntfy", "name": "n", "url": "https://ntfy.example.org", "topic": "t",
         "token": "tok-ntfy-1"},
        {"type": "discord", "name": "d", "url": discord},
        mail(smtp_host="mail.example.org", smtp_password="smtp-pw-9", smtp_user="u"),
    ):  # fmt: skip
        status, _, made = api("POST", "/api/notification-channels", body)
        assert status == 201, made
        bodies.append(made)
    assert bodies[2]["url"] is None and bodies[2]["secrets_set"] == ["url"]  # the URL is the key
    assert bodies[3]["smtp_port"] == 587 and bodies[3]["smtp_security"] == "starttls"
    listed = api("GET", "/api/notification-channels")[2]
    everything = repr(listed) + repr(bodies)
    for word in SECRET_WORDS:
        assert word not in everything
    raw = b"".join(
        bytes(v) if isinstance(v, bytes) else str(v).encode()
        for row in app.store.query("SELECT * FROM notification_channels")
        for v in row
    )
    for word in SECRET_WORDS:
        assert word.encode() not in raw

    cid = created["id"]
    status, _, updated = api("PUT", f"/api/notification-channels/{cid}", webhook(name="renamed"))
    assert status == 200 and updated["name"] == "renamed" and updated["secrets_set"] == ["secret"]
    assert app.channels.secrets(cid) == {"secret": "s3cret-sign"}  # kept: not given on PUT
    api("PUT", f"/api/notification-channels/{cid}", webhook(secret=""))
    assert app.channels.secrets(cid) == {"secret": "s3cret-sign"}  # '' keeps it too
    assert api("GET", f"/api/notification-channels/{cid}")[2]["name"] == "hook"
    assert api("DELETE", f"/api/notification-channels/{cid}")[0] == 204
    assert api("GET", f"/api/notification-channels/{cid}")[0] == 404


@pytest.mark.parametrize(
    "body,field",
    [
        ({"type": "pigeon", "name": "x"}, "type"),
        (webhook(url="ftp://x"), "url"),
        (webhook(topic="t"), "topic"),  # not a webhook field
        ({"type": "ntfy", "name": "n", "url": "https://ntfy.example.org"}, "topic"),
        ({"type": "gotify", "name": "g", "url": "https://g.example.org"}, "token"),
        (webhook(events=["backup_exploded"]), "events"),
        (webhook(events="backup_failed"), "events"),
        (mail(mail_to="not an address"), "mail_to"),
        (mail(smtp_security="ssl3"), "smtp_security"),
        (webhook(name=""), "name"),
    ],
)
def test_bad_channels_are_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    status, _, answer = api("POST", "/api/notification-channels", body)
    assert status == 422, answer
    assert field in answer["error"]["fields"]


def test_names_are_unique(api: Api) -> None:
    assert api("POST", "/api/notification-channels", webhook())[0] == 201
    status, _, body = api("POST", "/api/notification-channels", webhook())
    assert status == 409 and body["error"]["fields"] == {"name": "already taken"}


def test_the_test_route_sends_a_message_and_reports_the_receivers_answer(
    api: Api, receiver: HttpReceiver
) -> None:
    cid = api("POST", "/api/notification-channels", webhook(url=receiver.url + "/t"))[2]["id"]
    status, _, report = api("POST", f"/api/notification-channels/{cid}/test")
    assert status == 200
    assert report["ok"] is True and report["status"] == 200
    assert receiver.wait_for(1)[0].json()["event"] == "test"
    receiver.answers = [(401, b"bad token")]
    report = api("POST", f"/api/notification-channels/{cid}/test")[2]
    assert report["ok"] is False and report["status"] == 401
    assert "bad token" in report["message"]
    deliveries = api("GET", "/api/notification-deliveries")[2]
    assert [(d["event"], d["ok"]) for d in deliveries] == [("test", False), ("test", True)]


def test_the_test_route_reports_an_unreachable_receiver(api: Api) -> None:
    from tests.conftest import free_port

    body = webhook(url=f"http://127.0.0.1:{free_port()}/")
    cid = api("POST", "/api/notification-channels", body)[2]["id"]
    report = api("POST", f"/api/notification-channels/{cid}/test")[2]
    assert report["ok"] is False and report["status"] is None
    assert "refused" in report["message"].lower()


def test_unknown_channel_is_404(api: Api) -> None:
    assert api("POST", "/api/notification-channels/99/test")[0] == 404
    assert api("PUT", "/api/notification-channels/99", webhook())[0] == 404
    assert api("DELETE", "/api/notification-channels/99")[0] == 404

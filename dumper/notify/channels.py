"""Channel kinds: their input fields, and what each sends for an event (webhook, ntfy, gotify,
discord, slack over HTTP; email over SMTP), with the standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from typing import Any
from urllib.parse import urlsplit

from dumper import __version__
from dumper.clock import utc_iso
from dumper.inputs import Field
from dumper.notify.events import DEFAULT_EVENTS, EVENT_NAMES, Event, RunInfo

CHANNEL_TYPES = ("webhook", "ntfy", "gotify", "discord", "slack", "email")
SMTP_SECURITY = ("starttls", "tls", "none")
_EMAIL = r"[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+"
# a chat's incoming-webhook URL is itself the key: whoever has it may post
URL_IS_SECRET = frozenset({"discord", "slack"})
SECRET_FIELDS = ("secret", "token", "smtp_password")
ANSWER_CHARS = 300  # of a receiver's answer kept in a delivery's result

# The one declaration of a channel's input fields (validation and the OpenAPI schema).
CHANNEL_FIELDS: tuple[Field, ...] = (
    Field("type", "string", choices=CHANNEL_TYPES),
    Field("name", "string", low=1, high=64, line=True),
    Field(
        "events",
        "strings",
        default=DEFAULT_EVENTS,
        choices=EVENT_NAMES,
        description="the events this channel gets; default: all but backup_succeeded",
    ),
    Field("enabled", "boolean", default=True),
    Field(
        "url",
        "string",
        nullable=True,
        high=2000,
        pattern=r"https?://[^\s/?#]+[^\s]*",
        pattern_message="must be an http:// or https:// URL",
        description="webhook: where to POST; ntfy: the server; gotify: the server; discord, "
        "slack: the incoming-webhook URL (write-only for these two: it is their key)",
    ),
    Field(
        "secret",
        "string",
        nullable=True,
        write_only=True,
        high=500,
        description="webhook: signs the body (X-Dumper-Signature: sha256=HMAC-SHA256 hex)",
    ),
    Field(
        "topic",
        "string",
        nullable=True,
        pattern=r"[A-Za-z0-9_-]{1,64}",
        pattern_message="must be 1-64 letters, digits, - or _",
    ),
    Field(
        "token",
        "string",
        nullable=True,
        write_only=True,
        high=500,
        description="ntfy: access token (optional); gotify: the app token",
    ),
    Field("smtp_host", "string", nullable=True, low=1, high=255, line=True),
    Field("smtp_port", "integer", nullable=True, low=1, high=65535, description="default 587"),
    Field(
        "smtp_security",
        "string",
        nullable=True,
        choices=SMTP_SECURITY,
        description="starttls (default), tls (implicit, usually port 465) or none",
    ),
    Field("smtp_user", "string", nullable=True, high=255, line=True),
    Field("smtp_password", "string", nullable=True, write_only=True, high=500),
    Field(
        "mail_from",
        "string",
        nullable=True,
        high=255,
        pattern=_EMAIL,
        pattern_message="must be an e-mail address",
    ),
    Field(
        "mail_to",
        "string",
        nullable=True,
        high=2000,
        pattern=rf"{_EMAIL}(\s*,\s*{_EMAIL})*",
        pattern_message="must be e-mail addresses, separated by commas",
    ),
)
CHANNEL_REQUIRED = ("type", "name")
COMMON_FIELDS = ("type", "name", "events", "enabled")
# per kind: (required, optional) fields beside the common ones
TYPE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "webhook": (("url",), ("secret",)),
    "ntfy": (("url", "topic"), ("token",)),
    "gotify": (("url", "token"), ()),
    "discord": (("url",), ()),
    "slack": (("url",), ()),
    "email": (
        ("smtp_host", "mail_from", "mail_to"),
        ("smtp_port", "smtp_security", "smtp_user", "smtp_password"),
    ),
}
TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "email": {"smtp_port": 587, "smtp_security": "starttls"},
}


def secret_fields(kind: str) -> tuple[str, ...]:
    """The fields of a kind that are stored encrypted and never returned."""
    required, optional = TYPE_FIELDS[kind]
    names = (*required, *optional)
    secret = [n for n in names if n in SECRET_FIELDS]
    if kind in URL_IS_SECRET:
        secret.insert(0, "url")
    return tuple(secret)


@dataclass(frozen=True)
class Channel:
    """A channel as deliveries use it: plain settings and decrypted secrets."""

    id: int
    type: str
    name: str
    events: tuple[str, ...]
    enabled: bool
    settings: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    def value(self, name: str) -> Any:
        return self.secrets.get(name) or self.settings.get(name)


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: `status` is the HTTP status (or SMTP code), None when no answer."""

    ok: bool
    status: int | None
    message: str


def deliver(channel: Channel, event: Event, public_url: str | None, timeout: float) -> Outcome:
    """Send `event` through `channel` once; never raises."""
    try:
        if channel.type == "email":
            return _send_mail(channel, event, public_url, timeout)
        url, headers, body = http_message(channel, event, public_url)
        return post(url, headers, body, timeout)
    except Exception as exc:  # a bad channel must not end the delivery thread
        return Outcome(False, None, f"{type(exc).__name__}: {exc}")


def post(url: str, headers: dict[str, str], body: bytes, timeout: float) -> Outcome:
    """POST `body`; ok for a 2xx answer. The answer's first characters go into the message."""
    request = urllib.request.Request(  # noqa: S310 (http/https only: checked on input)
        url, data=body, headers={"User-Agent": f"dumper/{__version__}", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = response.read(ANSWER_CHARS * 4)
            return Outcome(True, response.status, _answer(response.status, answer))
    except urllib.error.HTTPError as exc:
        answer = exc.read(ANSWER_CHARS * 4) if exc.fp is not None else b""
        return Outcome(False, exc.code, _answer(exc.code, answer))
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return Outcome(False, None, f"no answer within {timeout:g} s")
        return Outcome(False, None, f"cannot reach {_where(url)}: {reason}")
    except TimeoutError:
        return Outcome(False, None, f"no answer within {timeout:g} s")
    except OSError as exc:
        return Outcome(False, None, f"cannot reach {_where(url)}: {exc}")


def _answer(status: int, body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    text = " ".join(text.split())[:ANSWER_CHARS]
    return f"HTTP {status}: {text}" if text else f"HTTP {status}"


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url  # never the path: a chat webhook's path is its key


def payload(event: Event, public_url: str | None) -> dict[str, Any]:
    """The webhook body (documented in README, Notifications)."""
    url = event.link(public_url)
    return {
        "event": event.name,
        "title": event.title(),
        "message": event.text(url),
        "at": utc_iso(event.at),
        "target": (
            {"id": event.target_id, "name": event.target_name}
            if event.target_id is not None
            else None
        ),
        "backup": _run(event.backup),
        "restore": _run(event.restore),
        "reason": event.reason,
        "url": url,
    }


def _run(run: RunInfo | None) -> dict[str, Any] | None:
    return None if run is None else {"id": run.id, "status": run.status, "notes": run.notes}


def sign(secret: str, body: bytes) -> str:
    """The X-Dumper-Signature value: `sha256=` and the HMAC-SHA256 of the body, hex."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def http_message(
    channel: Channel, event: Event, public_url: str | None
) -> tuple[str, dict[str, str], bytes]:
    """(url, headers, body) of the POST a channel kind sends."""
    url = str(channel.value("url"))
    link = event.link(public_url)
    headers = {"Content-Type": "application/json"}
    data: dict[str, Any]
    if channel.type == "webhook":
        body = _json(payload(event, public_url))
        headers["X-Dumper-Event"] = event.name
        secret = channel.value("secret")
        if secret:
            headers["X-Dumper-Signature"] = sign(str(secret), body)
        return url, headers, body
    if channel.type == "ntfy":
        # JSON publishing to the server's root (ntfy docs, "Publish as JSON")
        data = {
            "topic": channel.value("topic"),
            "title": event.title(),
            "message": event.text(None),
            "priority": 4 if event.problem else 3,
            "tags": ["warning"] if event.problem else ["white_check_mark"],
        }
        if link:
            data["click"] = link
        token = channel.value("token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return url.rstrip("/") + "/", headers, _json(data)
    if channel.type == "gotify":
        data = {
            "title": event.title(),
            "message": event.text(link),
            "priority": 8 if event.problem else 4,
        }
        if link:
            data["extras"] = {"client::notification": {"click": {"url": link}}}
        headers["X-Gotify-Key"] = str(channel.value("token"))
        return url.rstrip("/") + "/message", headers, _json(data)
    if channel.type == "discord":
        embed: dict[str, Any] = {
            "title": event.title(),
            "description": event.text(None),
            "color": 0xC62828 if event.problem else 0x2E7D32,
            "timestamp": utc_iso(event.at),
        }
        if link:
            embed["url"] = link
        return url, headers, _json({"username": "dumper", "embeds": [embed]})
    if channel.type == "slack":
        text = f"*{event.title()}*\n{event.text(None)}"
        if link:
            text += f"\n<{link}|Open in dumper>"
        data = {
            "text": f"{event.title()}\n{event.text(link)}",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }
        return url, headers, _json(data)
    raise ValueError(f"no HTTP message for channel type {channel.type!r}")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def recipients(mail_to: str) -> list[str]:
    return [address for _, address in getaddresses([mail_to]) if address]


def email_message(channel: Channel, event: Event, public_url: str | None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = event.title()
    msg["From"] = str(channel.value("mail_from"))
    msg["To"] = ", ".join(recipients(str(channel.value("mail_to"))))
    msg["Date"] = formatdate(event.at.timestamp(), usegmt=True)
    msg["X-Dumper-Event"] = event.name
    msg.set_content(event.text(event.link(public_url)) + "\n")
    return msg


def _send_mail(channel: Channel, event: Event, public_url: str | None, timeout: float) -> Outcome:
    host = str(channel.value("smtp_host"))
    port = int(channel.value("smtp_port") or 587)
    security = channel.value("smtp_security") or "starttls"
    msg = email_message(channel, event, public_url)
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP = (
            smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            if security == "tls"
            else smtplib.SMTP(host, port, timeout=timeout)
        )
        with smtp:
            if security == "starttls":
                smtp.starttls(context=context)
            user = channel.value("smtp_user")
            if user:
                smtp.login(str(user), str(channel.value("smtp_password") or ""))
            smtp.send_message(msg)
    except smtplib.SMTPResponseException as exc:
        error = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return Outcome(False, exc.smtp_code, f"SMTP {exc.smtp_code}: {text[:ANSWER_CHARS]}")
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, None, f"cannot send through {host}:{port}: {exc}")
    return Outcome(True, 250, f"accepted by {host}:{port}")

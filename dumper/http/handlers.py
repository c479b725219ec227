"""The route table and its thin handlers: parse the request, call the App facade, serialise.

Every route of the service is registered in `build_router`; openapi.py and the auth matrix test
read the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from dumper.errors import InvalidInput
from dumper.filecheck import FileCheck
from dumper.http import metrics, openapi, upload_routes
from dumper.http.files import DOWNLOAD_TYPES, archive_response, file_response
from dumper.http.router import (
    Request,
    Response,
    Router,
    empty_response,
    json_response,
    parse_json_object,
)
from dumper.notify.service import ChannelService
from dumper.targets import RETENTION_FIELDS
from dumper.tokens import TokenService
from dumper.uploads import Uploads
from dumper.views import HealthView, ReadinessView


class AppFacade(Protocol):
    """What the HTTP layer uses of dumper.app.App (see docs/ARCHITECTURE.md)."""

    def list_targets(self) -> list[Any]: ...
    def get_target(self, target_id: int) -> Any: ...
    def create_target(self, data: Mapping[str, Any]) -> Any: ...
    def update_target(self, target_id: int, data: Mapping[str, Any]) -> Any: ...
    def delete_target(
        self, target_id: int, *, with_backups: bool, keep_files: bool = False
    ) -> None: ...
    def test_connection(
        self, data: Mapping[str, Any] | None = None, *, target_id: int | None = None
    ) -> Any: ...
    def retention_preview(self, target_id: int, query: Mapping[str, str]) -> Any: ...
    def start_backup(self, target_id: int, *, trigger: str = "manual") -> Any: ...
    def list_backups(self, target_id: int) -> list[Any]: ...
    def get_backup(self, backup_id: int) -> Any: ...
    def backup_file(self, backup_id: int) -> Path: ...
    def backup_download(self, backup_id: int, database: str | None = None) -> Any: ...
    def delete_backup(self, backup_id: int) -> None: ...
    def cancel_backup(self, backup_id: int) -> Any: ...
    def start_restore(self, backup_id: int, /, **request: Any) -> Any: ...
    def verify_backup(self, backup_id: int, /, **request: Any) -> Any: ...
    def list_restores(self, target_id: int) -> list[Any]: ...
    def backup_contents(self, backup_id: int) -> Any: ...
    def get_restore(self, restore_id: int) -> Any: ...
    def cancel_restore(self, restore_id: int) -> Any: ...
    def list_jobs(self) -> list[Any]: ...
    def settings(self) -> Any: ...
    def readiness(self) -> list[str]: ...
    def metrics(self) -> Any: ...
    @property
    def tokens(self) -> TokenService: ...
    @property
    def channels(self) -> ChannelService: ...
    @property
    def uploads(self) -> Uploads: ...
    @property
    def file_check(self) -> FileCheck: ...


_ERRORS = {400: "Error", 401: "Error", 404: "Error", 405: "Error", 409: "Error", 422: "Error"}
_READ_ERRORS = {401: "Error", 404: "Error"}
# a backup set's download: one database's file of it instead of the whole set as a tar
_DATABASE_QUERY = {"database": {"type": "string", "minLength": 1, "maxLength": 64}}


class Handlers:
    """The handlers, bound to one App; `max_body` caps JSON bodies."""

    def __init__(self, app: AppFacade, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    # --- system ---------------------------------------------------------------------------
    def healthz(self, request: Request) -> Response:
        return json_response(200, HealthView("ok"))

    def readyz(self, request: Request) -> Response:
        reasons = self.app.readiness()
        if reasons:
            return json_response(503, ReadinessView("not ready", reasons))
        return json_response(200, ReadinessView("ready", []))

    def settings(self, request: Request) -> Response:
        return json_response(200, self.app.settings())

    def start_file_check(self, request: Request) -> Response:
        return json_response(202, self.app.file_check.start())

    def jobs(self, request: Request) -> Response:
        return json_response(200, self.app.list_jobs())

    def metrics(self, request: Request) -> Response:
        body = metrics.render(self.app.metrics()).encode()
        return Response(200, {"Content-Type": metrics.CONTENT_TYPE}, body)

    # --- targets --------------------------------------------------------------------------
    def list_targets(self, request: Request) -> Response:
        return json_response(200, self.app.list_targets())

    def create_target(self, request: Request) -> Response:
        data = parse_json_object(request, self.max_body)
        return json_response(201, self.app.create_target(data))

    def get_target(self, request: Request) -> Response:
        return json_response(200, self.app.get_target(request.int_param("id")))

    def update_target(self, request: Request) -> Response:
        data = parse_json_object(request, self.max_body)
        return json_response(200, self.app.update_target(request.int_param("id"), data))

    def delete_target(self, request: Request) -> Response:
        with_backups = _bool_query(request, "with_backups")
        keep_files = _bool_query(request, "keep_files")
        self.app.delete_target(
            request.int_param("id"), with_backups=with_backups, keep_files=keep_files
        )
        return empty_response()

    def test_unsaved(self, request: Request) -> Response:
        data = parse_json_object(request, self.max_body)
        return json_response(200, self.app.test_connection(data))

    def retention_preview(self, request: Request) -> Response:
        query = {name: values[-1] for name, values in request.query.items()}
        return json_response(200, self.app.retention_preview(request.int_param("id"), query))

    def test_saved(self, request: Request) -> Response:
        return json_response(200, self.app.test_connection(target_id=request.int_param("id")))

    # --- backups --------------------------------------------------------------------------
    def start_backup(self, request: Request) -> Response:
        return json_response(202, self.app.start_backup(request.int_param("id")))

    def list_backups(self, request: Request) -> Response:
        return json_response(200, self.app.list_backups(request.int_param("id")))

    def get_backup(self, request: Request) -> Response:
        return json_response(200, self.app.get_backup(request.int_param("id")))

    def delete_backup(self, request: Request) -> Response:
        self.app.delete_backup(request.int_param("id"))
        return empty_response()

    def download(self, request: Request) -> Response:
        found = self.app.backup_download(request.int_param("id"), request.query_value("database"))
        if isinstance(found, Path):
            return file_response(found, request, attachment=True)
        return archive_response(found.name, found.length, found.chunks)  # a set: one tar

    def cancel_backup(self, request: Request) -> Response:
        return json_response(202, self.app.cancel_backup(request.int_param("id")))

    def verify_backup(self, request: Request) -> Response:
        body = parse_json_object(request, self.max_body, required=False)
        return json_response(202, self.app.verify_backup(request.int_param("id"), **body))

    # --- restores -------------------------------------------------------------------------
    def start_restore(self, request: Request) -> Response:
        body = parse_json_object(request, self.max_body, required=False)
        return json_response(202, self.app.start_restore(request.int_param("id"), **body))

    def list_restores(self, request: Request) -> Response:
        return json_response(200, self.app.list_restores(request.int_param("id")))

    def backup_contents(self, request: Request) -> Response:
        return json_response(200, self.app.backup_contents(request.int_param("id")))

    def get_restore(self, request: Request) -> Response:
        return json_response(200, self.app.get_restore(request.int_param("id")))

    def cancel_restore(self, request: Request) -> Response:
        return json_response(202, self.app.cancel_restore(request.int_param("id")))

    # --- API tokens -----------------------------------------------------------------------
    def list_tokens(self, request: Request) -> Response:
        return json_response(200, self.app.tokens.list())

    def create_token(self, request: Request) -> Response:
        data = parse_json_object(request, self.max_body)
        return json_response(201, self.app.tokens.create(data))

    def revoke_token(self, request: Request) -> Response:
        self.app.tokens.revoke(request.int_param("id"))
        return empty_response()

    # --- notification channels ------------------------------------------------------------
    def list_channels(self, request: Request) -> Response:
        return json_response(200, self.app.channels.list_channels())

    def create_channel(self, request: Request) -> Response:
        data = parse_json_object(request, self.max_body)
        return json_response(201, self.app.channels.create(data))

    def get_channel(self, request: Request) -> Response:
        return json_response(200, self.app.channels.get(request.int_param("id")))

    def update_channel(self, request: Request) -> Response:
        data = parse_json_object(request, self.max_body)
        return json_response(200, self.app.channels.update(request.int_param("id"), data))

    def delete_channel(self, request: Request) -> Response:
        self.app.channels.delete(request.int_param("id"))
        return empty_response()

    def test_channel(self, request: Request) -> Response:
        return json_response(200, self.app.channels.test(request.int_param("id")))

    def deliveries(self, request: Request) -> Response:
        return json_response(200, self.app.channels.deliveries())


def _bool_query(request: Request, name: str) -> bool:
    value = request.query_value(name)
    if value is None or value.lower() in ("false", "0", ""):
        return False
    if value.lower() in ("true", "1"):
        return True
    raise InvalidInput(f"{name} must be true or false", fields={name: "must be true or false"})


def build_router(
    app: AppFacade, *, max_body: int = 1024 * 1024, upload_max: int = 10 * 1024**3
) -> Router:
    """Every route of dumper, with the metadata openapi.py turns into the description."""
    h = Handlers(app, max_body=max_body)
    r = Router()
    add = r.add
    add(
        "GET",
        "/healthz",
        h.healthz,
        "Liveness: 200 while the process serves",
        public=True,
        responses={200: "Health"},
    )
    add(
        "GET",
        "/readyz",
        h.readyz,
        "Readiness: SQLite answers, BACKUP_DIR writable, scheduler alive",
        public=True,
        responses={200: "Readiness", 503: "Readiness"},
    )
    add(
        "GET",
        "/metrics",
        h.metrics,
        "Prometheus metrics",
        content_types=(metrics.CONTENT_TYPE,),
        responses={200: None, 401: "Error"},
    )
    add(
        "GET",
        "/api/settings",
        h.settings,
        "Effective configuration and state",
        responses={200: "Settings", 401: "Error"},
    )
    add(
        "POST",
        "/api/file-check",
        h.start_file_check,
        "Check every backup file against its recorded sha256 now, in the background",
        responses={202: "FileCheck", 401: "Error", 409: "Error"},
    )
    add(
        "GET",
        "/api/jobs",
        h.jobs,
        "Running jobs",
        tag="jobs",
        responses={200: "Job[]", 401: "Error"},
    )
    add(
        "GET",
        "/api/targets",
        h.list_targets,
        "List targets",
        tag="targets",
        responses={200: "Target[]", 401: "Error"},
    )
    add(
        "POST",
        "/api/targets",
        h.create_target,
        "Create a target",
        tag="targets",
        request_schema="TargetInput",
        responses={
            201: "Target",
            400: "Error",
            401: "Error",
            409: "Error",
            413: "Error",
            422: "Error",
        },
    )
    add(
        "POST",
        "/api/targets/test",
        h.test_unsaved,
        "Test a connection with unsaved fields",
        tag="targets",
        request_schema="TargetInput",
        responses={200: "ConnectionReport", 400: "Error", 401: "Error", 413: "Error", 422: "Error"},
    )
    add(
        "GET",
        "/api/targets/:id",
        h.get_target,
        "Get a target",
        tag="targets",
        responses={200: "Target", **_READ_ERRORS},
    )
    add(
        "PUT",
        "/api/targets/:id",
        h.update_target,
        "Replace a target (empty password keeps it)",
        tag="targets",
        request_schema="TargetInput",
        responses={200: "Target", **_ERRORS, 413: "Error"},
    )
    add(
        "DELETE",
        "/api/targets/:id",
        h.delete_target,
        "Delete a target (with_backups: also its backups; keep_files: its rows, not its files)",
        tag="targets",
        query={
            "with_backups": {"type": "boolean", "default": False},
            "keep_files": {"type": "boolean", "default": False},
        },
        responses={204: None, 401: "Error", 404: "Error", 409: "Error", 422: "Error"},
    )
    add(
        "GET",
        "/api/targets/:id/retention-preview",
        h.retention_preview,
        "What rotation would keep (and why) and delete now; query parameters override the "
        "stored rules, so the form can show unsaved values",
        tag="targets",
        query={
            f.name: {"type": "integer", "minimum": f.low, "maximum": f.high}
            for f in RETENTION_FIELDS
        },
        responses={200: "RetentionPreview", 422: "Error", **_READ_ERRORS},
    )
    add(
        "POST",
        "/api/targets/:id/test",
        h.test_saved,
        "Test the stored connection",
        tag="targets",
        responses={200: "ConnectionReport", 409: "Error", **_READ_ERRORS},
    )
    add(
        "POST",
        "/api/targets/:id/backup",
        h.start_backup,
        "Start a backup now",
        tag="backups",
        responses={202: "Backup", 409: "Error", **_READ_ERRORS},
    )
    upload_routes.add_routes(r, app, max_body=max_body, upload_max=upload_max)
    add(
        "GET",
        "/api/targets/:id/backups",
        h.list_backups,
        "Backups of a target, newest first",
        tag="backups",
        responses={200: "Backup[]", **_READ_ERRORS},
    )
    add(
        "GET",
        "/api/targets/:id/restores",
        h.list_restores,
        "Restores into a target and restores of its backups elsewhere, newest first",
        tag="restores",
        responses={200: "Restore[]", **_READ_ERRORS},
    )
    add(
        "GET",
        "/api/backups/:id/contents",
        h.backup_contents,
        "What a backup's file holds: tables with rows, views, routines, triggers, events",
        tag="backups",
        responses={200: "BackupContents", 422: "Error", **_READ_ERRORS},
    )
    add(
        "GET",
        "/api/backups/:id",
        h.get_backup,
        "Get a backup with live progress",
        tag="backups",
        responses={200: "Backup", **_READ_ERRORS},
    )
    add(
        "DELETE",
        "/api/backups/:id",
        h.delete_backup,
        "Delete a backup and its file",
        tag="backups",
        responses={204: None, 409: "Error", **_READ_ERRORS},
    )
    add(
        "GET",
        "/api/backups/:id/download",
        h.download,
        "Download the backup file; a backup set as one streamed tar, or with `database` that"
        " database's file of it",
        tag="backups",
        query=_DATABASE_QUERY,
        content_types=DOWNLOAD_TYPES,
        responses={200: None, 206: None, 416: "Error", 422: "Error", **_READ_ERRORS},
    )
    add(
        "HEAD",
        "/api/backups/:id/download",
        h.download,
        "Size and name of the backup file",
        tag="backups",
        query=_DATABASE_QUERY,
        content_types=DOWNLOAD_TYPES,
        responses={200: None, 206: None, 416: None, 401: None, 404: None, 422: None},
    )
    add(
        "POST",
        "/api/backups/:id/cancel",
        h.cancel_backup,
        "Cancel a running or queued backup (it ends cancelled, with no file), or its running"
        " verification (the scratch database is dropped)",
        tag="backups",
        responses={202: "Backup", 409: "Error", **_READ_ERRORS},
    )
    add(
        "POST",
        "/api/backups/:id/verify",
        h.verify_backup,
        "Verify a successful backup: a test restore into a scratch database, compared with its "
        "manifest (an encrypted one needs its identity or passphrase in the body)",
        tag="backups",
        request_schema="VerifyRequest",
        responses={
            202: "Backup",
            400: "Error",
            409: "Error",
            413: "Error",
            422: "Error",
            **_READ_ERRORS,
        },
    )
    add(
        "POST",
        "/api/backups/:id/restore",
        h.start_restore,
        "Restore a backup into its target (confirm with the target's name)",
        tag="restores",
        request_schema="RestoreRequest",
        responses={
            202: "Restore",
            400: "Error",
            409: "Error",
            413: "Error",
            422: "Error",
            **_READ_ERRORS,
        },
    )
    add(
        "GET",
        "/api/restores/:id",
        h.get_restore,
        "Get a restore with live progress",
        tag="restores",
        responses={200: "Restore", **_READ_ERRORS},
    )
    add(
        "POST",
        "/api/restores/:id/cancel",
        h.cancel_restore,
        "Cancel a running or queued restore between two statements (the database stays"
        " partially restored)",
        tag="restores",
        responses={202: "Restore", 409: "Error", **_READ_ERRORS},
    )
    add(
        "GET",
        "/api/tokens",
        h.list_tokens,
        "API tokens (never their secret)",
        tag="tokens",
        responses={200: "Token[]", 401: "Error"},
    )
    add(
        "POST",
        "/api/tokens",
        h.create_token,
        "Create an API token; the answer holds the token, shown this once",
        tag="tokens",
        request_schema="TokenInput",
        responses={201: "CreatedToken", 401: "Error", 409: "Error", 413: "Error", 422: "Error"},
    )
    add(
        "DELETE",
        "/api/tokens/:id",
        h.revoke_token,
        "Revoke an API token (it stops working at once)",
        tag="tokens",
        responses={204: None, **_READ_ERRORS},
    )
    add(
        "GET",
        "/api/notification-channels",
        h.list_channels,
        "Notification channels (never their secrets)",
        tag="notifications",
        responses={200: "Channel[]", 401: "Error"},
    )
    add(
        "POST",
        "/api/notification-channels",
        h.create_channel,
        "Create a notification channel",
        tag="notifications",
        request_schema="ChannelInput",
        responses={201: "Channel", 401: "Error", 409: "Error", 413: "Error", 422: "Error"},
    )
    add(
        "GET",
        "/api/notification-channels/:id",
        h.get_channel,
        "Get a notification channel",
        tag="notifications",
        responses={200: "Channel", **_READ_ERRORS},
    )
    add(
        "PUT",
        "/api/notification-channels/:id",
        h.update_channel,
        "Replace a notification channel (a secret missing or empty keeps the stored one)",
        tag="notifications",
        request_schema="ChannelInput",
        responses={200: "Channel", **_ERRORS, 413: "Error"},
    )
    add(
        "DELETE",
        "/api/notification-channels/:id",
        h.delete_channel,
        "Delete a notification channel",
        tag="notifications",
        responses={204: None, **_READ_ERRORS},
    )
    add(
        "POST",
        "/api/notification-channels/:id/test",
        h.test_channel,
        "Send a test message now and report the receiver's answer",
        tag="notifications",
        responses={200: "ChannelTestReport", **_READ_ERRORS},
    )
    add(
        "GET",
        "/api/notification-deliveries",
        h.deliveries,
        "The last notification deliveries, newest first",
        tag="notifications",
        responses={200: "Delivery[]", 401: "Error"},
    )
    add(
        "GET",
        "/api/openapi.json",
        lambda request: json_response(200, openapi.build_spec(r)),
        "This description",
        responses={200: None, 401: "Error"},
    )
    return r

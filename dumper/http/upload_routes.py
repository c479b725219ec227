"""The upload routes: a dump file as the raw body of a request (streamed, never held in memory),
and adopting a file found in BACKUP_DIR; both answer 201 with the new backup."""

from __future__ import annotations

from typing import Any, Protocol

from dumper.http.router import Request, Response, Router, json_response, parse_json_object
from dumper.uploads import Uploads

_ERRORS = {400: "Error", 401: "Error", 404: "Error", 413: "Error", 422: "Error"}
_FULL = {507: "Error"}  # an upload fills the disk: storage_full


class UploadsFacade(Protocol):
    """What these routes use of dumper.app.App."""

    def get_backup(self, backup_id: int) -> Any: ...
    @property
    def uploads(self) -> Uploads: ...


def add_routes(r: Router, app: UploadsFacade, *, max_body: int, upload_max: int) -> None:
    """Register the upload and adoption routes; an upload's body is at most `upload_max`."""

    def upload(request: Request) -> Response:
        name, size = request.query_value("filename"), request.content_length or 0
        backup = app.uploads.upload(request.int_param("id"), name, request.body_stream(), size)
        return json_response(201, app.get_backup(backup.id))

    def adopt(request: Request) -> Response:
        backup = app.uploads.adopt(parse_json_object(request, max_body))
        return json_response(201, app.get_backup(backup.id))

    r.add(
        "POST",
        "/api/targets/:id/uploads",
        upload,
        "Upload a dump file (the raw body) as a backup of this target; verified as a whole "
        "first, nothing kept when it fails",
        tag="backups",
        query={"filename": {"type": "string", "minLength": 1, "maxLength": 255}},
        stream_limit=upload_max,
        responses={201: "Backup", 411: "Error", **_ERRORS, **_FULL},
    )
    r.add(
        "POST",
        "/api/backups/adopt",
        adopt,
        "Make a file /api/settings lists as unknown a backup of a target, in place",
        tag="backups",
        request_schema="AdoptRequest",
        responses={201: "Backup", **_ERRORS},
    )

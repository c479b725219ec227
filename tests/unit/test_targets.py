"""Target validation exactly as docs/API.md says, and the service's password handling."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dumper.clock import FakeClock
from dumper.crypto import Cipher
from dumper.errors import Conflict, DecryptionError, InvalidInput, NotFound
from dumper.store import Store
from dumper.targets import TargetService, validate_target

VALID: dict[str, Any] = {
    "name": "shop",
    "host": "db.lan",
    "port": 3306,
    "dbname": "shop",
    "user": "backup",
    "password": "pw",
    "comment": "",
    "schedule_time": "03:00",
    "retention_days": 14,
    "auto_compress": True,
}


def with_(**kw: Any) -> dict[str, Any]:
    data = dict(VALID)
    data.update(kw)
    return data


def test_valid_input_maps_every_field() -> None:
    got = validate_target(VALID)
    f = got.fields
    assert (f.name, f.host, f.port, f.dbname, f.user) == ("shop", "db.lan", 3306, "shop", "backup")
    assert (f.schedule_time, f.retention_days, f.auto_compress) == ("03:00", 14, True)
    assert got.password == "pw"
    assert "pw" not in repr(got)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", "3306"),
        ("port", True),
        ("port", 0),
        ("port", 65536),
        ("port", 3306.0),
        ("name", ""),
        ("name", "x" * 65),
        ("name", "   "),
        ("name", 5),
        ("host", ""),
        ("dbname", "d" * 65),
        ("user", None),
        ("password", 123),
        ("comment", "c" * 1001),
        ("schedule_time", "24:00"),
        ("schedule_time", "3:00"),
        ("schedule_time", "03:60"),
        ("schedule_time", "03:00\n"),
        ("schedule_time", "03:00:00"),
        ("schedule_time", 300),
        ("retention_days", -1),
        ("retention_days", 3651),
        ("retention_days", "14"),
        ("auto_compress", 1),
        ("auto_compress", "true"),
    ],
)
def test_wrong_value_or_type_is_a_field_error(field: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_target(with_(**{field: value}))
    assert list(err.value.fields) == [field]


def test_unknown_and_missing_fields_are_reported_together() -> None:
    data = with_(extra=1)
    del data["host"]
    with pytest.raises(InvalidInput) as err:
        validate_target(data)
    assert err.value.fields == {"extra": "unknown field", "host": "is required"}


def test_optional_fields_have_safe_defaults() -> None:
    got = validate_target({k: VALID[k] for k in ("name", "host", "port", "dbname", "user")})
    f = got.fields
    assert (f.comment, f.schedule_time, f.retention_days, f.auto_compress) == ("", None, 0, True)
    assert got.password is None


def test_boundaries_are_accepted() -> None:
    got = validate_target(
        with_(port=65535, schedule_time="23:59", retention_days=3650, name="n" * 64, comment="")
    )
    assert got.fields.port == 65535
    assert validate_target(with_(schedule_time=None, retention_days=0)).fields.schedule_time is None


def test_body_must_be_an_object() -> None:
    with pytest.raises(InvalidInput):
        validate_target([1, 2])  # type: ignore[arg-type]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[TargetService]:
    store = Store(tmp_path / "app.db")
    yield TargetService(store, Cipher(os.urandom(32)), FakeClock(datetime(2026, 1, 1, tzinfo=UTC)))
    store.close()


def test_service_encrypts_the_password(service: TargetService) -> None:
    t = service.create(VALID)
    assert t.password_enc is not None and b"pw" not in t.password_enc
    assert service.password(t) == "pw"
    assert service.conn_params(t).password == "pw"
    assert service.conn_params(t).database == "shop"


def test_empty_password_is_stored_as_none(service: TargetService) -> None:
    t = service.create(with_(password=""))
    assert t.password_enc is None and service.password(t) == ""


def test_update_with_missing_or_empty_password_keeps_it(service: TargetService) -> None:
    t = service.create(VALID)
    data = with_(comment="new")
    del data["password"]
    assert service.password(service.update(t.id, data)) == "pw"
    assert service.password(service.update(t.id, with_(password=""))) == "pw"
    assert service.password(service.update(t.id, with_(password="pw2"))) == "pw2"


def test_update_unknown_target_is_not_found(service: TargetService) -> None:
    with pytest.raises(NotFound):
        service.update(42, VALID)


def test_duplicate_name_is_a_conflict(service: TargetService) -> None:
    service.create(VALID)
    with pytest.raises(Conflict):
        service.create(VALID)


def test_password_from_another_key_is_reported_and_fixed_by_entering_it_again(
    service: TargetService,
) -> None:
    t = service.create(VALID)
    other = TargetService(service.store, Cipher(os.urandom(32)), service.clock)
    assert other.password_error(t) is not None
    with pytest.raises(DecryptionError):
        other.conn_params(t)
    fixed = other.update(t.id, with_(password="pw"))
    assert other.password_error(fixed) is None
    assert other.password(fixed) == "pw"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)


@given(json_values)
def test_any_json_value_for_port_is_accepted_only_as_an_int_in_range(value: Any) -> None:
    valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535
    try:
        got = validate_target(with_(port=value))
    except InvalidInput as exc:
        assert not valid
        assert set(exc.fields) == {"port"}
    else:
        assert valid and got.fields.port == value


@given(json_values)
def test_any_json_value_for_schedule_time_is_accepted_only_as_hh_mm_or_null(value: Any) -> None:
    try:
        got = validate_target(with_(schedule_time=value))
    except InvalidInput as exc:
        assert set(exc.fields) == {"schedule_time"}
    else:
        assert value is None or (
            isinstance(value, str) and int(value[:2]) < 24 and int(value[3:]) < 60
        )
        assert got.fields.schedule_time == value

"""Where a restore goes and how: the request's field table, the destination (the backup's
target, another saved target, or a database on the backup's own server) and its confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from dumper import encryption
from dumper.backup.agefile import Identity
from dumper.backup.probe import ensure_database
from dumper.backup.restore import RestoreOptions
from dumper.errors import ConfirmationRequired, InvalidInput
from dumper.inputs import Field, validate_fields
from dumper.set_rows import BackupDatabase
from dumper.store import Backup, Store, Target
from dumper.targets import SERVER_DBNAME, TargetService

# MariaDB allows more in a database name; these are the ones safe in a file name and a URL too
DATABASE_PATTERN = r"[A-Za-z0-9_$-]{1,64}"

RESTORE_FIELDS: tuple[Field, ...] = (
    Field(
        "confirm",
        "string",
        nullable=True,
        description="the exact name of what gets overwritten: the destination target's name,"
        " or the destination database's name when `database` is given",
    ),
    Field(
        "target_id",
        "integer",
        low=1,
        high=999_999_999_999_999_999,
        nullable=True,
        description="restore into this saved target instead of the backup's own",
    ),
    Field(
        "database",
        "string",
        nullable=True,
        pattern=DATABASE_PATTERN,
        pattern_message="must be 1 to 64 letters, digits, _, $ or -",
        description="restore into this database on the backup's own server (created when"
        " missing, if the user may)",
    ),
    Field(
        "clean",
        "boolean",
        default=False,
        description="true: tables (and views, routines...) not in the backup are dropped;"
        " false: they stay",
    ),
    Field(
        "tables",
        "strings",
        nullable=True,
        low=1,
        description="only these tables of the backup; the destination's other tables are untouched",
    ),
    Field(
        "definer",
        "string",
        nullable=True,
        choices=("keep", "current_user"),
        description="keep DEFINER clauses, or rewrite them to CURRENT_USER; default: keep when"
        " the user may, otherwise rewrite (said in the notes)",
    ),
    Field(
        "accept_unmarked",
        "boolean",
        default=False,
        description="restore a plain file nothing proves complete (no end line, no checksum)",
    ),
    Field(
        "source_database",
        "string",
        nullable=True,
        low=1,
        high=64,
        line=True,
        description="the database to take from a file that holds several",
    ),
    *encryption.KEY_FIELDS,
)


@dataclass(frozen=True)
class Destination:
    """What a restore writes: `database` on `target`'s server, with these options."""

    target: Target
    database: str
    own: bool  # the target's own database
    options: RestoreOptions = field(default_factory=RestoreOptions)
    # what opens an encrypted backup: given in the request (or the target's stored passphrase)
    identities: list[Identity] | None = field(default=None, repr=False)
    member: str | None = None  # a backup set: the file of the chosen database inside its folder

    @property
    def confirm_name(self) -> str:
        return self.target.name if self.own else self.database

    @property
    def row(self) -> dict[str, Any]:
        """The destination columns of the restore row."""
        tables = self.options.tables
        return {
            "database": None if self.own else self.database,
            "clean": self.options.clean,
            "selected_tables": sorted(tables) if tables is not None else None,
        }


def plan_restore(store: Store, backup: Backup, body: Any) -> Destination:
    """Validate the request and resolve the destination; ConfirmationRequired without the
    exact name of what gets overwritten. Nothing is changed here."""
    if isinstance(body, dict) and not isinstance(body.get("confirm"), str | None):
        body = {**body, "confirm": None}  # a non-string confirmation is no confirmation
    values = validate_fields(RESTORE_FIELDS, body, required=(), what="restore request")
    identities = encryption.request_identities(values)
    if values["target_id"] is not None and values["database"] is not None:
        both = "give target_id or database, not both"
        raise InvalidInput(both, fields={"target_id": both, "database": both})
    options = RestoreOptions(
        tables=frozenset(values["tables"]) if values["tables"] is not None else None,
        clean=values["clean"],
        definer=values["definer"],
        accept_unmarked=values["accept_unmarked"],
        source_database=values["source_database"],
    )
    member = None
    if members := store.backup_databases(backup.id):  # a set: one of its databases' files
        member, options, values = _set_member(members, options, values)
    if values["target_id"] is not None:
        target = store.require_target(values["target_id"])
        dest = Destination(target, target.dbname, True, options)
        if target.dbname == SERVER_DBNAME:  # into a whole-server target: the database's name
            dest = Destination(target, str(values["source_database"]), False, options)
    else:
        target = store.require_target(backup.target_id)
        database = values["database"] or target.dbname
        dest = Destination(target, database, database == target.dbname, options)
    if values["confirm"] != dest.confirm_name:
        what = "target" if dest.own else "database"
        raise ConfirmationRequired(
            f"type the {what} name {dest.confirm_name!r} to confirm the restore",
            fields={"confirm": f"must be the exact {what} name"},
        )
    # the destination target's parallel_connections load the data (restore_parallel.py)
    options = replace(dest.options, parallel_connections=dest.target.parallel_connections)
    return replace(dest, identities=identities, member=member, options=options)


def _set_member(
    members: list[BackupDatabase], options: RestoreOptions, values: dict[str, Any]
) -> tuple[str, RestoreOptions, dict[str, Any]]:
    """The file of `source_database` in a backup set; by default it goes into a database of its
    own name. InvalidInput naming the set's databases when none or another is given."""
    names = ", ".join(m.name for m in members)
    chosen = [m for m in members if m.name == values["source_database"]]
    if not chosen:
        why = f"one of {names}"
        raise InvalidInput(
            f"this backup is a set of several databases: give source_database ({why})",
            fields={"source_database": why},
        )
    if values["target_id"] is None and values["database"] is None:
        values = {**values, "database": chosen[0].name}
    # the file holds that one database only: nothing to pick inside it
    return chosen[0].file, replace(options, source_database=None), values


def create_missing(dest: Destination, targets: TargetService) -> bool:
    """Create the destination database when it is a new one; True when it was created."""
    if dest.own:
        return False
    return ensure_database(targets.conn_params(dest.target), dest.database)


def outcome(result: Any, failure: str) -> dict[str, Any]:
    """The restore row's notes, tables and rows once the engine returned (result) or failed."""
    if result is None:
        return {"notes": failure, "tables": None, "rows": None}
    tables = getattr(result, "tables", None)
    return {
        "notes": failure or "; ".join(getattr(result, "notes", ())),
        "tables": None if tables is None else len(tables),
        "rows": getattr(result, "rows", None),
    }

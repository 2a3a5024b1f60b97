"""Full logical export and restore: one JSON-lines file per table in foreign-key order, generic
over `Base.metadata` so every table a later migration adds is included without code changes."""

from __future__ import annotations

import enum
import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, Enum, func, insert, select, text
from sqlalchemy.types import TypeDecorator

from agency.core.database import Base, refresh_statistics
from agency.core.errors import Conflict, InvalidInput

MANIFEST = "manifest.json"
BATCH = 1000


def _encode(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)  # exact: never through float
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _python_type(column_type):
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl
    try:
        return column_type.python_type
    except NotImplementedError:
        return None


def _decoder(column):
    """How to turn a JSON value back into what the column's type binds."""
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        return column.type.enum_class
    kind = _python_type(column.type)
    if kind is Decimal:
        return Decimal
    if kind is datetime:
        return datetime.fromisoformat
    if kind is date:
        return date.fromisoformat
    return None


def backed_up_tables():
    """Every table but those marked as derived state that rebuilds itself (`info={"backup": False}`)."""
    return [t for t in Base.metadata.sorted_tables if t.info.get("backup", True)]


def _private(path: Path):
    """A file opened for writing that only its owner can read (0600), whatever the umask: the
    export holds password hashes and personal data."""
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8")


def export_database(*, connection: Connection, directory: Path) -> dict[str, int]:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table in backed_up_tables():
        order = list(table.primary_key.columns) or list(table.columns)
        count = 0
        path = directory / f"{table.name}.jsonl"
        with _private(path) as out:
            os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
            for row in connection.execute(select(table).order_by(*order)).mappings():
                out.write(json.dumps({key: _encode(value) for key, value in row.items()}, ensure_ascii=False) + "\n")
                count += 1
        counts[table.name] = count
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    manifest = {"alembic_revision": revision, "tables": [{"name": n, "rows": c} for n, c in counts.items()]}
    with _private(directory / MANIFEST) as out:
        out.write(json.dumps(manifest, indent=2))
    os.chmod(directory / MANIFEST, 0o600)
    return counts


def _read_manifest(path: Path) -> dict:
    """The manifest, checked: a damaged or edited one is refused in one line, before anything is read."""
    problem = f"{path} is not a valid export manifest"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{problem} (not JSON).") from None
    tables = manifest.get("tables") if isinstance(manifest, dict) else None
    if not isinstance(tables, list) or not isinstance(manifest.get("alembic_revision"), str):
        raise InvalidInput(f"{problem} (it needs alembic_revision and tables).")
    known = {t.name for t in backed_up_tables()}
    for entry in tables:
        name = entry.get("name") if isinstance(entry, dict) else None
        if name not in known:
            raise InvalidInput(f"{problem} (unknown table {name!r}).")
        if not (path.parent / f"{name}.jsonl").is_file():
            raise InvalidInput(f"{problem} ({name}.jsonl is missing).")
    return manifest


def import_database(*, connection: Connection, directory: Path) -> dict[str, int]:
    """Restore an export into an empty database migrated to the same revision."""
    manifest_path = directory / MANIFEST
    if not manifest_path.exists():
        raise InvalidInput(f"{manifest_path} not found: not an export directory.")
    manifest = _read_manifest(manifest_path)
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision != manifest["alembic_revision"]:
        raise Conflict(
            f"Export is at schema revision {manifest['alembic_revision']}, the database at "
            f"{revision}; migrate the database to the export's revision first."
        )
    tables = Base.metadata.tables
    occupied = [t.name for t in backed_up_tables() if connection.execute(select(func.count()).select_from(t)).scalar()]
    if occupied:
        raise Conflict(f"The database is not empty ({', '.join(occupied)}); restore only into an empty one.")
    counts: dict[str, int] = {}
    for entry in manifest["tables"]:
        table = tables[entry["name"]]
        decoders = {c.name: d for c in table.columns if (d := _decoder(c)) is not None}
        count, batch = 0, []
        with open(directory / f"{table.name}.jsonl", encoding="utf-8") as rows:
            for line in rows:
                row = json.loads(line)
                batch.append({k: (decoders[k](v) if v is not None and k in decoders else v) for k, v in row.items()})
                if len(batch) >= BATCH:
                    connection.execute(insert(table), batch)
                    count, batch = count + len(batch), []
        if batch:
            connection.execute(insert(table), batch)
            count += len(batch)
        counts[table.name] = count
    if connection.dialect.name == "postgresql":
        reset_sequences(connection)
    # A restored database has no planner statistics yet: gather them before anything reads it.
    refresh_statistics(connection, [tables[entry["name"]] for entry in manifest["tables"]])
    return counts


def reset_sequences(connection: Connection) -> None:
    """Point each serial/identity sequence past the restored ids, so new rows do not collide."""
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is False or _python_type(column.type) is not int:
                continue
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar()
            if sequence:
                connection.execute(
                    text(
                        f'SELECT setval(:s, COALESCE((SELECT max("{column.name}") FROM "{table.name}"), 0) + 1, false)'
                    ),
                    {"s": sequence},
                )

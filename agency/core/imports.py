"""What every bulk import shares: streaming CSV / JSON-lines parsing, row errors, the report.

Imports are all-or-nothing by default: one bad row and nothing is written, and the report lists
every bad row (line, field, reason). In `partial` mode the good rows are written and the bad
ones reported. Rows are staged in a temporary table chunk by chunk, so memory stays flat
whatever the file size, and duplicates inside one file are found with one query.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Column, Integer, MetaData, Table

from agency.core.errors import InvalidInput

MAX_REPORTED_ERRORS = 1000
CHUNK_ROWS = 2000
FORMATS = ("csv", "jsonl")
# Bounds on what one upload may make a worker do: the work stays linear in the file's size.
MAX_COLUMNS = 64  # header columns (every import has about ten)
MAX_LINE_CHARS = 64 * 1024  # characters on one line of a file
MAX_JSON_DEPTH = 3  # a JSON line is an object of plain values: deeper is refused, never parsed
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
ASCII_WHOLE = re.compile(r"[+-]?[0-9]{1,30}")


def whole_number(value) -> int:
    """An integer from CSV text or a JSON number, strictly: ASCII digits only (no "١٢٣", no
    "1e3", no "1_000"), never coerced from a float (5.0) or a boolean. ValueError otherwise."""
    if isinstance(value, (bool, float)):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not ASCII_WHOLE.fullmatch(text):
        raise ValueError("must be a whole number")
    return int(text)


def parse_id(value) -> int:
    """A record id: a whole number from 1 to 2,147,483,647 (what the id columns hold)."""
    number = whole_number(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"must be an id from 1 to {MAX_ID}")
    return number


@dataclass
class RowError:
    line: int
    field: str
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class ImportReport:
    mode: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    committed: bool = False
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    affected_creator_ids: list[int] = field(default_factory=list)

    def add_error(self, line: int, field_name: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, field_name, reason))

    def as_dict(self) -> dict:
        return {
            "mode": self.mode,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "committed": self.committed,
            "error_count": self.error_count,
            "errors": [e.as_dict() for e in self.errors],
            "errors_truncated": self.error_count > len(self.errors),
            "affected_creator_ids": self.affected_creator_ids,
        }


def format_from_content_type(mimetype: str | None, filename: str | None = None) -> str:
    if mimetype == "text/csv" or (filename or "").lower().endswith(".csv"):
        return "csv"
    if mimetype in ("application/x-ndjson", "application/jsonl", "application/json") or (
        (filename or "").lower().endswith((".jsonl", ".ndjson"))
    ):
        return "jsonl"
    raise InvalidInput("Unsupported import format; send text/csv or application/x-ndjson (JSON lines).")


def read_rows(
    stream, fmt: str, allowed_columns: Iterable[str], required_columns: Iterable[str]
) -> Iterator[tuple[int, dict]]:
    """(line number, raw row dict) from a binary or text stream, one at a time.

    Raises InvalidInput for a file whose header is unusable (nothing can be imported from it);
    problems with single rows are yielded as rows with a `__error__` key instead."""
    owned = not isinstance(stream, io.TextIOBase)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="") if owned else stream
    allowed, required = set(allowed_columns), set(required_columns)
    try:
        yield from _parse(_bounded_lines(text), fmt, allowed, required)
    finally:
        if owned:
            text.detach()  # leave the caller's stream open


def _bounded_lines(text) -> Iterator[str]:
    """The file's lines, each read with a bound: a line longer than MAX_LINE_CHARS refuses the
    file before it is held in memory or parsed."""
    number = 0
    while line := text.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            raise InvalidInput(
                f"Line {number} is longer than {MAX_LINE_CHARS} characters.",
                {"file": [f"line {number} is longer than {MAX_LINE_CHARS} characters"]},
            )
        yield line


def _too_deep(raw: str) -> bool:
    """Whether a JSON text nests objects or arrays deeper than MAX_JSON_DEPTH (counted without
    parsing, so a line of a million brackets costs one pass and no recursion)."""
    depth, in_string, escaped = 0, False, False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _parse(text, fmt: str, allowed: set[str], required: set[str]) -> Iterator[tuple[int, dict]]:
    try:
        if fmt == "csv":
            reader = csv.reader(text, strict=True)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                raise InvalidInput("The file is empty.", {"file": ["no header row"]}) from None
            if len(header) > MAX_COLUMNS:
                raise InvalidInput(
                    f"The CSV header has {len(header)} columns; at most {MAX_COLUMNS} are read.",
                    {"header": {"too_many_columns": [len(header)]}},
                )
            unknown = sorted(set(header) - allowed)
            missing = sorted(required - set(header))
            duplicated = sorted(name for name, count in Counter(header).items() if count > 1)
            problems = {}
            if unknown:
                problems["unknown_columns"] = unknown
            if missing:
                problems["missing_columns"] = missing
            if duplicated:
                problems["duplicated_columns"] = duplicated
            if problems:
                raise InvalidInput(
                    f"The CSV header is not usable; expected columns: {', '.join(sorted(allowed))}.",
                    {"header": problems},
                )
            for values in reader:
                line = reader.line_num
                if not values or all(not v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    yield line, {"__error__": ("row", f"expected {len(header)} fields, found {len(values)}")}
                    continue
                if any("\x00" in v for v in values):
                    yield line, {"__error__": ("row", "contains a NUL character")}
                    continue
                yield line, {k: v.strip() for k, v in zip(header, values) if v.strip() != ""}
        elif fmt == "jsonl":
            for line, raw in enumerate(text, start=1):
                if not raw.strip():
                    continue
                if raw.count("{") + raw.count("[") > MAX_JSON_DEPTH and _too_deep(raw):
                    yield line, {"__error__": ("row", "each line must be a JSON object of plain values")}
                    continue
                try:
                    row = json.loads(raw)
                except json.JSONDecodeError as exc:
                    yield line, {"__error__": ("row", f"not valid JSON ({exc.msg})")}
                    continue
                if not isinstance(row, dict):
                    yield line, {"__error__": ("row", "each line must be a JSON object")}
                    continue
                unknown = sorted(set(row) - allowed)
                if unknown:
                    yield line, {"__error__": (unknown[0], f"unknown field; allowed: {', '.join(sorted(allowed))}")}
                    continue
                if "\x00" in raw or "\\u0000" in raw:
                    yield line, {"__error__": ("row", "contains a NUL character")}
                    continue
                nested = sorted(k for k, v in row.items() if isinstance(v, (dict, list)))
                if nested:
                    yield line, {"__error__": (nested[0], "must be a plain value, not a list or an object")}
                    continue
                yield line, {k: v for k, v in row.items() if v is not None and v != ""}
        else:
            raise InvalidInput(f"Unknown format '{fmt}'; use one of: {', '.join(FORMATS)}.")
    except csv.Error as exc:
        raise InvalidInput(f"Malformed CSV: {exc}.", {"file": [str(exc)]}) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput("The file is not UTF-8 text.", {"file": [str(exc)]}) from exc


def chunks(rows: Iterator, size: int = CHUNK_ROWS) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def staging_table(prefix: str, *columns: Column) -> Table:
    """A temporary table (dropped by the caller) with a `line` column plus the given ones."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    return Table(name, MetaData(), Column("line", Integer, primary_key=True), *columns, prefixes=["TEMPORARY"])


def stage_rows(connection, staging: Table, rows: list[dict]) -> None:
    """Write validated rows to the staging table: COPY on PostgreSQL, a multi-row INSERT elsewhere."""
    names = [c.name for c in staging.c]
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f'COPY "{staging.name}" ({", ".join(names)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row.get(name) for name in names])
        return
    connection.execute(staging.insert(), [{name: row.get(name) for name in names} for row in rows])

"""Answers several API blueprints and pages share: the import rejection, CSV downloads."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from flask import Response, jsonify

from agency.core.imports import ImportReport


def import_rejected(report: ImportReport):
    """422 in the shared error shape, with the per-row errors and the whole import report."""
    body = {
        "code": 422,
        "status": "Unprocessable Entity",
        "message": f"{report.error_count} row(s) are invalid; nothing was imported.",
        "errors": {"rows": [e.as_dict() for e in report.errors]},
        "report": report.as_dict(),
    }
    return jsonify(body), 422


# A spreadsheet runs a cell that starts with one of these as a formula (tab and carriage return
# too, in some of them): such text is written with a leading apostrophe, shown but never run.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value):
    """A CSV cell a spreadsheet shows as text, never runs: numbers stay numbers (a refund's
    "-5.00" included), any other text starting like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    """A CSV download whose every cell went through `safe_cell` (every export uses this)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={filename}"}
    )


def also_answers(*content_types: str, status: int = 200, json_schema: dict | None = None) -> dict:
    """OpenAPI for an answer that, on request (`format=csv`, `format=html`), comes in other content
    types beside JSON: merged into the operation by `@blp.doc(**also_answers("text/csv"))`. An
    answer documented without a schema names its JSON shape with `json_schema`."""
    content = {ct: {"schema": {"type": "string"}} for ct in content_types}
    if json_schema is not None:
        content["application/json"] = {"schema": json_schema}
    return {"responses": {status: {"content": content}}}

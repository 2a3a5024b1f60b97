"""JSON answers several API blueprints share."""

from __future__ import annotations

from flask import jsonify

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


def also_answers(*content_types: str, status: int = 200, json_schema: dict | None = None) -> dict:
    """OpenAPI for an answer that, on request (`format=csv`, `format=html`), comes in other content
    types beside JSON: merged into the operation by `@blp.doc(**also_answers("text/csv"))`. An
    answer documented without a schema names its JSON shape with `json_schema`."""
    content = {ct: {"schema": {"type": "string"}} for ct in content_types}
    if json_schema is not None:
        content["application/json"] = {"schema": json_schema}
    return {"responses": {status: {"content": content}}}

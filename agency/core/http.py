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

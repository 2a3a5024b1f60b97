"""UI pages."""
from flask import redirect, url_for

from agency.web import bp


@bp.get("/")
def index():
    return redirect(url_for("api-docs.openapi_swagger_ui"))

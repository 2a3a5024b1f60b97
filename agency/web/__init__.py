"""The internal web UI for agency staff."""
from flask import Blueprint

bp = Blueprint("web", __name__)

from agency.web import views  # noqa: E402,F401  (routes register on import)

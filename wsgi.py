"""WSGI entry point: `gunicorn wsgi:app`."""

from agency import create_app

app = create_app()

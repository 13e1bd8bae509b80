"""WSGI entry point: `gunicorn wsgi:app`."""

from qa_audit import create_app

app = create_app()

"""WSGI entry point: `gunicorn wsgi:app`."""

from qa_audit import create_app, tune_garbage_collection

app = create_app()
tune_garbage_collection()

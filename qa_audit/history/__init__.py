from flask import Blueprint

bp = Blueprint("history", __name__)

from qa_audit.history import views  # noqa: E402,F401

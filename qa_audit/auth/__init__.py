from flask import Blueprint

bp = Blueprint("auth", __name__)

from qa_audit.auth import views  # noqa: E402,F401

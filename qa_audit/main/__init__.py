from flask import Blueprint

bp = Blueprint("main", __name__)

from qa_audit.main import views  # noqa: E402,F401

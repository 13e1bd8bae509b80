from flask import Blueprint

bp = Blueprint("findings", __name__)

from qa_audit.findings import evidence_views as _evidence_views  # noqa: E402,F401  (routes register on import)

"""The history page for one record."""

from __future__ import annotations

from flask import abort, render_template, request

from qa_audit.auth.permissions import HISTORY_READERS, roles_required
from qa_audit.history import bp
from qa_audit.history.services import ENTITY_LABELS, page_of_entries

PAGE_SIZE = 50


@bp.route("/history/<entity>/<int:entity_id>")
@roles_required(*HISTORY_READERS)
def show_history(entity: str, entity_id: int):
    if entity not in ENTITY_LABELS:
        abort(404)
    page = request.args.get("page", 1, type=int) or 1
    page = min(max(page, 1), 100_000)
    entries, total = page_of_entries(entity, entity_id, page=page, page_size=PAGE_SIZE)
    if not entries and page == 1:
        abort(404)
    return render_template(
        "history/show.html",
        entity=entity,
        entity_label=ENTITY_LABELS[entity],
        entity_id=entity_id,
        entries=entries,
        total=total,
        page=page,
        pages=(total + PAGE_SIZE - 1) // PAGE_SIZE,
    )

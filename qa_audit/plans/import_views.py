"""Importing an existing improvement plan from a CSV file or Excel workbook: the
upload page, the page that says what was imported, and a template to fill in.

The rules are in qa_audit.plans.importing. Importing is for those who may manage the
plan (its owner, QA leads, admins); anyone signed in may download the template.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import SubmitField

from qa_audit.actions.models import ActionStatus
from qa_audit.auth.permissions import can_manage_plan
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.forms import apply_errors
from qa_audit.plans import bp, importing
from qa_audit.plans.models import ImprovementPlan
from qa_audit.recording.importing import SHOWN_PROBLEMS
from qa_audit.records import get_or_404

UPLOAD_PAGE = "plans.import_plan"
DONE_KEY = "plan_import_done"
SHOWN_PRIORITIES = 10


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PlanImportForm(FlaskForm):
    file = FileField(
        "Upload a file",
        description=f"A CSV file (UTF-8) or an Excel workbook (.xlsx), up to {importing.MAX_UPLOAD_BYTES // (1024 * 1024)}MB and {importing.MAX_ROWS:,} actions",
        widget=GovFileInput(),
    )
    submit = SubmitField("Import actions", widget=GovSubmitInput())


@bp.errorhandler(RequestEntityTooLarge)
def import_too_large(error):
    """Over the app's request limit the body is never read: say so on the upload page
    rather than showing an error page."""
    if request.endpoint == UPLOAD_PAGE:
        flash(f"The selected file must be smaller than {importing.MAX_UPLOAD_BYTES // (1024 * 1024)}MB. Nothing has been imported.", "error")
        return redirect(request.path, code=303)
    from qa_audit.main.errors import handle_http_exception

    return handle_http_exception(error)


def _plan_to_manage(plan_id: int) -> ImprovementPlan:
    plan = get_or_404(ImprovementPlan, plan_id)
    if not can_manage_plan(current_user, plan):
        abort(403)
    return plan


def _plan_url(plan: ImprovementPlan) -> str:
    return url_for("plans.show_plan", plan_id=plan.id)


def _columns() -> list[dict]:
    return [
        {"heading": "Priority", "required": True, "text": "The plan priority (workstream) the action belongs to. It is matched to the plan’s priorities by its title, whatever the case; a new one is added in the order it first appears. Left blank, the row takes the priority of the row above, as when cells are merged."},
        {"heading": "Action", "required": True, "text": "What must be done: up to 200 characters."},
        {"heading": "Owner", "required": True, "text": "The email address of the person who owns the action. They must have an active account here."},
        {"heading": "Due date", "required": True, "text": "As DD/MM/YYYY or YYYY-MM-DD, or an Excel date cell."},
        {"heading": "Status", "required": False, "text": "Not started, in progress, completed, verified or cancelled. Blank means not started."},
        {"heading": "Priority level", "required": False, "text": "High, medium or low. Blank means medium."},
        {"heading": "Board", "required": False, "text": "The board that approved the action."},
        {"heading": "Approved on", "required": False, "text": "The date it was approved, as for the due date."},
        {"heading": "Note", "required": False, "text": "The evidence for a completed or verified action, or the reason for a cancelled one (both needed); any other note goes on the action’s timeline."},
    ]


@bp.route("/plans/<int:plan_id>/import", methods=["GET", "POST"])
def import_plan(plan_id: int):
    plan = _plan_to_manage(plan_id)
    form = PlanImportForm()
    problems: list = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            if not upload or not upload.filename:
                raise InvalidInput(file="Select a CSV file or an Excel workbook")
            imported = importing.import_file(plan, current_user, upload.stream, upload.filename)
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
            problems = list(getattr(error, "problems", []))
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            session[DONE_KEY] = {
                "plan_id": plan.id,
                "actions": imported.actions,
                "by_status": {status.value: count for status, count in imported.by_status.items()},
                # The session is a cookie: keep it small, whatever the file held.
                "new_priorities": [_short(title) for title in imported.new_priorities[:SHOWN_PRIORITIES]],
                "new_count": len(imported.new_priorities),
                "existing_count": len(imported.existing_priorities),
            }
            return redirect(url_for("plans.plan_imported", plan_id=plan.id), code=303)
    return render_template(
        "plans/import.html",
        plan=plan,
        form=form,
        columns=_columns(),
        max_rows=importing.MAX_ROWS,
        problems=problems[:SHOWN_PROBLEMS],
        more_problems=max(0, len(problems) - SHOWN_PROBLEMS),
        plan_url=_plan_url(plan),
    )


@bp.route("/plans/<int:plan_id>/import/done")
def plan_imported(plan_id: int):
    plan = _plan_to_manage(plan_id)
    done = session.get(DONE_KEY)
    if not done or done.get("plan_id") != plan.id:
        return redirect(url_for("plans.import_plan", plan_id=plan.id))
    statuses = [(status.label, done["by_status"].get(status.value, 0)) for status in ActionStatus]
    return render_template("plans/import_done.html", plan=plan, done=done, statuses=statuses, plan_url=_plan_url(plan))


@bp.route("/plans/import-template.csv")
def plan_import_template():
    response = Response(importing.template_csv().encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="improvement-plan-template.csv"'
    return response

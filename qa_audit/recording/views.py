"""Recording pages: an audit's workspace (a task list of what is left), a dip
sample's cases (one at a time, pasted or uploaded, or drawn at random), the grid of
answers, and compliance.

Anyone signed in may look; only those who may record on the audit (its auditors, a
QA lead) may change anything, and only while it is in progress. The rules are in
qa_audit.recording.services and qa_audit.findings.services; batches (imports, draws,
the grid) in qa_audit.recording.importing and .grid, which call those rules. NotAllowed from
them is the app's 403 page.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from qa_audit.audits.models import Audit, AuditStatus, AuditType, QuestionSet
from qa_audit.auth.permissions import can_change_audit_status, can_record_on
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.findings.services import check_recording_allowed, count_findings
from qa_audit.records import get_or_404
from qa_audit.forms import apply_errors
from qa_audit.recording import bp, grid, importing
from qa_audit.recording import services as rules
from qa_audit.recording.forms import CaseForm, DrawForm, ImportForm, fill_grid, grid_form, grid_inputs
from qa_audit.recording.models import Answer, AnswerValue, SampledCase

GRID_PAGE_SIZE = 50  # 50 cases × 20 questions is a 1,000-select form: about a second to render
LONDON = ZoneInfo("Europe/London")
UPLOAD_PAGES = ("recording.import_cases", "recording.draw_sample")


def _dip_sample_or_404(audit_id: int) -> Audit:
    """Cases, the grid and compliance belong to dip samples only."""
    audit = get_or_404(Audit, audit_id, selectinload(Audit.question_set).selectinload(QuestionSet.questions), selectinload(Audit.auditors))
    if audit.type is not AuditType.DIP_SAMPLE:
        abort(404)
    return audit


def _questions(audit: Audit) -> list:
    return list(audit.question_set.questions) if audit.question_set else []


def _may_record(audit: Audit) -> bool:
    return audit.status is AuditStatus.IN_PROGRESS and can_record_on(current_user, audit)


# Enough of a typed reference to recognise it in a message.
CASE_REFERENCE_SHOWN = 60


def _not_open(audit: Audit, not_added: str | None = None):
    """Cases can be added only while the audit is in progress. A reference typed just
    as someone completed the audit is named, so it is not lost without a word."""
    message = f"Cases can only be added or answered while the audit is in progress; this audit is {audit.status.label.lower()}."
    if not_added:
        message = f"Case {not_added} was not added. {message}"
    flash(message, "error")
    return redirect(url_for("recording.list_cases", audit_id=audit.id))


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error):
    """Over the app's request limit the body is never read: say so on the upload
    page rather than showing an error page."""
    if request.endpoint in UPLOAD_PAGES:
        flash("The selected file must be smaller than 1MB. Nothing has been saved.", "error")
        return redirect(request.path, code=303)
    from qa_audit.main.errors import handle_http_exception

    return handle_http_exception(error)


# The workspace --------------------------------------------------------------------


COMPLETED = {"text": "Completed"}
IN_PROGRESS = {"tag": {"text": "In progress"}}
NOT_STARTED = {"tag": {"text": "Not yet started", "classes": "govuk-tag--grey"}}
CANNOT_START = {"text": "Cannot start yet", "classes": "govuk-task-list__status--cannot-start-yet"}


def _task(title: str, status: dict, href: str | None = None, hint: str | None = None) -> dict:
    item = {"title": {"text": title}, "status": status}
    if href and status is not CANNOT_START:
        item["href"] = href
    if hint:
        item["hint"] = {"text": hint}
    return item


def _details_task(audit: Audit, recording: bool) -> dict:
    audit_page = url_for("audits.show_audit", audit_id=audit.id)
    if audit.type not in (AuditType.FOCUS_GROUP, AuditType.STRATEGY_MEETING_AUDIT):
        if audit.type is AuditType.DIP_SAMPLE and audit.question_set is None:
            return _task("Audit details", IN_PROGRESS, audit_page, "Choose a question set")
        return _task("Audit details", COMPLETED, audit_page, "Service, date, auditors and agencies")
    focus_group = audit.type is AuditType.FOCUS_GROUP
    title = "Focus group details" if focus_group else "Strategy meeting details"
    fields = rules.FOCUS_GROUP_FIELDS if focus_group else rules.STRATEGY_FIELDS
    details = rules.details_of(audit)
    filled = sum(1 for name in fields if details is not None and getattr(details, name) not in (None, "", [], {}))
    hint = "Participants, facilitator, themes, key messages and assurance" if focus_group else "Attendance, timeliness, chairing, contributions and decision"
    if audit.status is AuditStatus.PLANNED:
        return _task(title, CANNOT_START, hint="Start the audit first")
    href = url_for("recording.edit_details", audit_id=audit.id) if recording else audit_page
    status = COMPLETED if filled == len(fields) else IN_PROGRESS if filled else NOT_STARTED
    return _task(title, status, href, f"{filled} of {len(fields)} answered" if filled else hint)


@bp.route("/audits/<int:audit_id>/workspace")
def show_workspace(audit_id: int):
    audit = get_or_404(
        Audit,
        audit_id,
        selectinload(Audit.question_set).selectinload(QuestionSet.questions),
        selectinload(Audit.auditors),
        selectinload(Audit.service),
    )
    planned = audit.status is AuditStatus.PLANNED
    recording = _may_record(audit)
    dip_sample = audit.type is AuditType.DIP_SAMPLE
    tasks = [_details_task(audit, recording)]

    missing = rules.unanswered(audit)
    if dip_sample:
        cases = db.session.scalar(select(func.count(SampledCase.id)).where(SampledCase.audit_id == audit.id))
        hint = f"{_plural(cases, 'case')}, {_plural(missing, 'answer')} missing"
        if planned:
            tasks.append(_task("Cases and answers", CANNOT_START, hint="Start the audit first"))
        else:
            status = NOT_STARTED if not cases else IN_PROGRESS if missing else COMPLETED
            tasks.append(_task("Cases and answers", status, url_for("recording.list_cases", audit_id=audit.id), hint))

    findings = count_findings(audit)
    findings_hint = _plural(findings, "finding") if findings else "No findings recorded"
    if planned:
        tasks.append(_task("Findings", CANNOT_START, hint="Start the audit first"))
    else:
        status = COMPLETED if audit.status is AuditStatus.COMPLETED else IN_PROGRESS if findings else NOT_STARTED
        tasks.append(_task("Findings", status, url_for("findings.list_findings", audit_id=audit.id), findings_hint))

    if dip_sample:
        result = rules.compliance(audit)
        if result["overall"] is None:
            tasks.append(_task("Compliance summary", CANNOT_START, hint="Answer questions in the grid first"))
        else:
            tasks.append(
                _task(
                    "Compliance summary",
                    IN_PROGRESS if missing else COMPLETED,
                    url_for("recording.show_compliance", audit_id=audit.id),
                    f"Overall compliance {result['overall']:g}%" + (" so far" if missing else ""),
                )
            )

    completion = _completion(audit, missing)
    tasks.append(_task("Complete the audit", completion["status"], hint=completion["hint"]))
    return render_template("recording/workspace.html", audit=audit, tasks=tasks, completion=completion)


def _completion(audit: Audit, missing: int) -> dict:
    """Whether the audit can be completed now, and why not."""
    done = {"status": COMPLETED, "hint": None, "can_complete": False, "why_not": None}
    if audit.status is AuditStatus.COMPLETED:
        when = audit.completed_at.astimezone(LONDON) if audit.completed_at else None
        return done | {"hint": f"Completed {when:%-d %B %Y}" if when else None}
    if audit.status is AuditStatus.CANCELLED:
        return done | {"status": CANNOT_START, "hint": "This audit was cancelled"}
    if audit.status is AuditStatus.PLANNED:
        return done | {"status": CANNOT_START, "hint": "Start the audit first", "why_not": "This audit has not started yet."}
    if missing:
        why = f"You cannot complete this audit yet: {_plural(missing, 'answer is', 'answers are')} still missing in the dip sample grid. Answer every question for every case first."
        return done | {"status": CANNOT_START, "hint": f"{_plural(missing, 'answer')} missing", "why_not": why}
    allowed = can_record_on(current_user, audit) and can_change_audit_status(current_user, audit, AuditStatus.COMPLETED)
    return done | {"status": NOT_STARTED, "hint": "Completing locks the audit", "can_complete": allowed}


# Cases ------------------------------------------------------------------------------


def _answer_counts(audit: Audit) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(Answer.sampled_case_id, func.count(Answer.id))
            .join(SampledCase, Answer.sampled_case_id == SampledCase.id)
            .where(SampledCase.audit_id == audit.id)
            .group_by(Answer.sampled_case_id)
        ).all()
    )


@bp.route("/audits/<int:audit_id>/cases", methods=["GET", "POST"])
def list_cases(audit_id: int):
    audit = _dip_sample_or_404(audit_id)
    form = CaseForm()
    if request.method == "POST":
        check_recording_allowed(audit, current_user)
        if audit.status is not AuditStatus.IN_PROGRESS:
            return _not_open(audit, (form.case_reference.data or "").strip()[:CASE_REFERENCE_SHOWN] or None)
        if form.validate_on_submit():
            try:
                case = rules.add_case(audit, current_user, form.case_reference.data)
            except InvalidInput as error:
                db.session.rollback()
                apply_errors(form, error)
            except Conflict as error:
                db.session.rollback()
                reference = (form.case_reference.data or "").strip()[:CASE_REFERENCE_SHOWN]
                flash(f"Case {reference} was not added. {error.message}" if reference else error.message, "error")
                return redirect(url_for("recording.list_cases", audit_id=audit.id))
            else:
                flash(f"Case {case.case_reference} added to the sample", "success")
                return redirect(url_for("recording.list_cases", audit_id=audit.id))
    cases = db.session.scalars(select(SampledCase).where(SampledCase.audit_id == audit.id).order_by(SampledCase.id)).all()
    return render_template(
        "recording/cases.html",
        audit=audit,
        form=form,
        cases=cases,
        answered=_answer_counts(audit),
        questions=_questions(audit),
        missing=rules.unanswered(audit),
        recording=_may_record(audit),
    )


def _show_problems(form, error: InvalidInput) -> list:
    apply_errors(form, error)
    return list(getattr(error, "problems", []))


@bp.route("/audits/<int:audit_id>/cases/import", methods=["GET", "POST"])
def import_cases(audit_id: int):
    audit = _dip_sample_or_404(audit_id)
    check_recording_allowed(audit, current_user)
    if audit.status is not AuditStatus.IN_PROGRESS:
        return _not_open(audit)
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        pasted = (form.references.data or "").strip()
        upload = form.file.data
        try:
            if pasted and upload:
                raise InvalidInput(references="Paste case references or choose a CSV file, not both")
            if upload:
                rows = importing.parse_csv(importing.read_upload(upload.stream, "file"), "file")
                field_name = "file"
            elif pasted:
                rows, field_name = importing.parse_pasted(pasted), "references"
            else:
                raise InvalidInput(references="Paste case references or choose a CSV file")
            cases = importing.add_cases(audit, current_user, rows, field_name=field_name)
        except InvalidInput as error:
            db.session.rollback()
            problems = _show_problems(form, error)
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"{_plural(len(cases), 'case')} added to the sample", "success")
            return redirect(url_for("recording.list_cases", audit_id=audit.id))
    return render_template(
        "recording/cases_import.html",
        audit=audit,
        form=form,
        problems=problems[: importing.SHOWN_PROBLEMS],
        more_problems=max(0, len(problems) - importing.SHOWN_PROBLEMS),
    )


def _missing_draw_input(form: DrawForm) -> dict[str, list[str]]:
    """The file and number a draw needs, when missing and not already in error."""
    missing = {}
    if not form.file.data and not form.file.errors:
        missing["file"] = ["Select a CSV file of cases"]
    if form.number.data is None and not form.number.errors:
        missing["number"] = ["Enter how many cases to draw"]
    return missing


@bp.route("/audits/<int:audit_id>/cases/draw", methods=["GET", "POST"])
def draw_sample(audit_id: int):
    audit = _dip_sample_or_404(audit_id)
    check_recording_allowed(audit, current_user)
    if audit.status is not AuditStatus.IN_PROGRESS:
        return _not_open(audit)
    form = DrawForm()
    problems = []
    if form.validate_on_submit():
        try:
            if not form.file.data:
                raise InvalidInput(_missing_draw_input(form))
            rows = importing.parse_csv(importing.read_upload(form.file.data.stream, "file"), "file")
            drawn = importing.draw_cases(
                audit,
                current_user,
                rows,
                form.number.data,
                stratify_by=form.stratify_by.data or None,
                exclude_months=form.exclude_months.data,
                seed=form.seed.data,
            )
        except InvalidInput as error:
            db.session.rollback()
            problems = _show_problems(form, error)
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            left_out = f" ({drawn.left_out} left out: already in this sample or audited recently)" if drawn.left_out else ""
            flash(
                f"{_plural(len(drawn.cases), 'case')} drawn at random from {drawn.eligible}{left_out} with seed {drawn.seed}. "
                "To draw the same cases again, use the same file, number, options and seed.",
                "success",
            )
            return redirect(url_for("recording.list_cases", audit_id=audit.id))
    elif form.is_submitted():
        apply_errors(form, InvalidInput(_missing_draw_input(form)))
    return render_template(
        "recording/sample_draw.html",
        audit=audit,
        form=form,
        problems=problems[: importing.SHOWN_PROBLEMS],
        more_problems=max(0, len(problems) - importing.SHOWN_PROBLEMS),
    )


# The grid ---------------------------------------------------------------------------


@bp.route("/audits/<int:audit_id>/grid", methods=["GET", "POST"])
def edit_grid(audit_id: int):
    audit = _dip_sample_or_404(audit_id)
    questions = _questions(audit)
    # Completed (or cancelled) while this person was answering: nothing is saved,
    # and their answers come back with the reason rather than being dropped.
    locked = request.method == "POST" and audit.status is not AuditStatus.IN_PROGRESS
    if request.method == "POST":
        check_recording_allowed(audit, current_user)
        if locked and audit.status is AuditStatus.PLANNED:
            return _not_open(audit)
    total = db.session.scalar(select(func.count(SampledCase.id)).where(SampledCase.audit_id == audit.id))
    pages = max(1, -(-total // GRID_PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    cases = grid.grid_cases(audit, offset=(page - 1) * GRID_PAGE_SIZE, limit=GRID_PAGE_SIZE)
    context = {
        "audit": audit,
        "questions": questions,
        "cases": cases,
        "page": page,
        "page_size": GRID_PAGE_SIZE,
        "pages": pages,
        "total": total,
        "missing": rules.unanswered(audit),
        "labels": {value.value: value.label for value in AnswerValue},
        "names": {"cell": grid.cell_name, "notes": grid.notes_name, "version": grid.version_name},
    }
    if not ((_may_record(audit) or locked) and questions and cases):
        return render_template("recording/grid.html", form=None, editable=False, **context)

    form = grid_form(cases, questions)
    if locked:
        message = f"This audit was {audit.status.label.lower()} while you were answering."
        return render_template("recording/grid.html", form=form, editable=True, conflict=message, now_saved={}, **context), 409
    if request.method == "GET":
        fill_grid(form, cases, questions)
    conflict, now_saved = None, {}
    if form.validate_on_submit():
        try:
            changed = grid.save_grid(audit, current_user, grid_inputs(form, cases, questions, request.form))
        except grid.GridConflict as error:
            db.session.rollback()
            conflict = error.message
            now_saved = _now_saved(form, audit, questions, error.case_ids)
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("recording.edit_grid", audit_id=audit.id, page=page))
        else:
            flash(f"Saved: {_plural(changed, 'change')}" if changed else "Nothing had changed, so nothing was saved", "success")
            return redirect(url_for("recording.edit_grid", audit_id=audit.id, page=page))
    page_html = render_template("recording/grid.html", form=form, editable=True, conflict=conflict, now_saved=now_saved, **context)
    return page_html, 409 if conflict else 200


def _now_saved(form, audit: Audit, questions: list, case_ids: list[int]) -> dict[str, str]:
    """For the cases someone else changed: what is saved now wherever it differs
    from this person's input (shown under the field), and each case's version now,
    so saving again, having seen them, replaces them."""
    shown: dict[str, str] = {}
    labels = {value.value: value.label for value in AnswerValue}
    for case in grid.grid_cases(audit):
        if case.id not in case_ids:
            continue
        saved = {a.question_id: a.value.value for a in case.answers}
        for question in questions:
            name = grid.cell_name(case.id, question.id)
            if (form[name].data or "") != saved.get(question.id, ""):
                shown[name] = labels.get(saved.get(question.id), "Not answered")
        name = grid.notes_name(case.id)
        if grid.normalise_notes(form[name].data) != grid.normalise_notes(case.notes):
            shown[name] = grid.normalise_notes(case.notes) or "No notes"
        form[grid.version_name(case.id)].data = grid.case_version(case, questions)
    return shown


# Compliance ---------------------------------------------------------------------------


@bp.route("/audits/<int:audit_id>/compliance")
def show_compliance(audit_id: int):
    audit = _dip_sample_or_404(audit_id)
    result = rules.compliance(audit)
    rows = [question | {"number": number} for number, question in enumerate(result["questions"], start=1)]
    totals = {key: sum(question[key] for question in rows) for key in ("met", "partially_met", "not_met", "not_applicable")}
    return render_template(
        "recording/sample_compliance.html",
        audit=audit,
        questions=rows,
        overall=result["overall"],
        totals=totals,
        missing=rules.unanswered(audit),
    )

"""Question set pages: QA leads and admins create, edit and retire the sets of
questions dip samples use; anyone signed in may read them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from qa_audit.audits import bp
from qa_audit.audits import question_sets as question_set_rules
from qa_audit.audits.models import Audit, QuestionSet
from qa_audit.forms import version_of
from qa_audit.audits.question_set_forms import QuestionSetForm
from qa_audit.auth.permissions import MANAGERS, roles_required
from qa_audit.errors import Conflict, InvalidInput
from qa_audit.extensions import db
from qa_audit.forms import ConfirmForm, apply_errors



def _lineage(question_set: QuestionSet) -> list[QuestionSet]:
    """Every version of the set, oldest first."""
    first = question_set.lineage_id or question_set.id
    return list(
        db.session.scalars(
            select(QuestionSet)
            .where(or_(QuestionSet.id == first, QuestionSet.lineage_id == first))
            .order_by(QuestionSet.version_number, QuestionSet.id)
        )
    )


def _latest(question_set: QuestionSet) -> QuestionSet:
    return _lineage(question_set)[-1] if question_set.superseded else question_set


@bp.route("/question-sets")
def list_question_sets():
    question_sets = db.session.scalars(
        select(QuestionSet)
        .options(selectinload(QuestionSet.questions))
        .order_by(QuestionSet.retired, QuestionSet.superseded, QuestionSet.title, QuestionSet.version_number.desc())
    ).all()
    return render_template("audits/question_sets.html", question_sets=question_sets)


@bp.route("/question-sets/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_question_set():
    form = QuestionSetForm()
    if form.validate_on_submit():
        try:
            question_set = question_set_rules.create_question_set(form.title.data, form.question_lines(), form.description.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(f"Question set ‘{question_set.title}’ created", "success")
            return redirect(url_for("audits.show_question_set", question_set_id=question_set.id))
    return render_template("audits/question_sets_form.html", form=form, question_set=None)


@bp.route("/question-sets/<int:question_set_id>")
def show_question_set(question_set_id: int):
    question_set = db.get_or_404(QuestionSet, question_set_id)
    audits = db.session.scalars(
        select(Audit)
        .where(Audit.question_set_id == question_set.id)
        .options(selectinload(Audit.service))
        .order_by(Audit.scheduled_for, Audit.id)
    ).all()
    return render_template(
        "audits/question_sets_show.html",
        question_set=question_set,
        audits=audits,
        versions=_lineage(question_set),
        in_use=question_set_rules.question_set_in_use(question_set),
        retire_form=ConfirmForm(),
    )


@bp.route("/question-sets/<int:question_set_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_question_set(question_set_id: int):
    question_set = db.get_or_404(QuestionSet, question_set_id)
    form = QuestionSetForm()
    if request.method == "GET":
        form.title.data = question_set.title
        form.description.data = question_set.description
        form.questions.data = "\n".join(q.text for q in question_set.questions)
        form.version.data = str(question_set.version)
    conflict = None
    if form.validate_on_submit():
        version = version_of(form)
        if version is None:
            abort(400)
        try:
            saved = question_set_rules.update_question_set(
                question_set, form.title.data, form.question_lines(), form.description.data, version=version
            )
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            db.session.rollback()
            conflict = error.message
            form.version.data = str(question_set.version)
        else:
            if saved.id != question_set.id:
                flash(
                    f"Saved as version {saved.version_number}. Audits that have started keep version "
                    f"{question_set.version_number}; planned audits now use version {saved.version_number}",
                    "success",
                )
            else:
                flash(f"Question set ‘{saved.title}’ saved", "success")
            return redirect(url_for("audits.show_question_set", question_set_id=saved.id))
    return render_template(
        "audits/question_sets_form.html",
        form=form,
        question_set=question_set,
        latest=_latest(question_set),
        in_use=question_set_rules.question_set_in_use(question_set),
        conflict=conflict,
    ), (409 if conflict else 200)


@bp.route("/question-sets/<int:question_set_id>/retire", methods=["POST"])
@roles_required(*MANAGERS)
def retire_question_set(question_set_id: int):
    question_set = db.get_or_404(QuestionSet, question_set_id)
    if question_set.retired:
        flash(f"‘{question_set.title}’ was already retired", "success")
    else:
        question_set_rules.retire_question_set(question_set)
        flash(f"‘{question_set.title}’ retired: audits that use it keep it, but it cannot be chosen for new audits", "success")
    return redirect(url_for("audits.show_question_set", question_set_id=question_set.id))

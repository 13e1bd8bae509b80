"""Administration: users and the services (teams) audited."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice
from sqlalchemy.orm import selectinload

from qa_audit.admin import bp
from qa_audit.admin import services as service_rules
from qa_audit.admin.forms import NewUserForm, ResetPasswordForm, ServiceForm, UserForm
from qa_audit.admin.models import Service
from qa_audit.auth import services as account_rules
from qa_audit.auth.models import User
from qa_audit.auth.permissions import ADMIN, MANAGERS, roles_required
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.forms import apply_errors, version_of


@bp.route("/users")
@roles_required(ADMIN)
def list_users():
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.name)).all()
    return render_template("admin/users.html", users=users)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def add_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = account_rules.create_user(form.email.data, form.name.data, form.role.data, form.password.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(f"{user.name} added as {user.role.label}", "success")
            return redirect(url_for("admin.list_users"))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user if request.method == "GET" else None)
    conflict = None
    if request.method == "GET":
        form.role.data = user.role.value
        form.version.data = str(user.version)
    if form.validate_on_submit():
        try:
            account_rules.update_user(
                user,
                name=form.name.data,
                role=form.role.data,
                acting=current_user,
                version=version_of(form),
            )
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            conflict = error.message
            form.version.data = str(user.version)
        else:
            flash(f"{user.name}’s details saved", "success")
            return redirect(url_for("admin.list_users"))
    return render_template("admin/user_edit.html", form=form, user=user, conflict=conflict), (409 if conflict else 200)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@roles_required(ADMIN)
def deactivate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    try:
        account_rules.set_active(user, False, acting=current_user)
    except NotAllowed as error:
        flash(str(error), "error")
    else:
        flash(f"{user.name} deactivated: they can no longer sign in", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@roles_required(ADMIN)
def reactivate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    account_rules.set_active(user, True, acting=current_user)
    flash(f"{user.name} reactivated", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@roles_required(ADMIN)
def unlock_user(user_id: int):
    user = db.get_or_404(User, user_id)
    account_rules.unlock(user)
    flash(f"{user.name}’s account unlocked", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-password", methods=["GET", "POST"])
@roles_required(ADMIN)
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            account_rules.reset_password(user, form.password.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(f"{user.name}’s password reset and their account unlocked. They have been signed out everywhere", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_reset_password.html", form=form, user=user)


def _service_form(service: Service | None = None) -> ServiceForm:
    form = ServiceForm(obj=service if request.method == "GET" else None)
    heads = service_rules.heads_of_service()
    if service and service.head_of_service and service.head_of_service not in heads:
        heads.append(service.head_of_service)
    form.head_of_service_id.choices = [SelectChoice("", "None yet")] + [SelectChoice(str(u.id), u.name) for u in heads]
    if request.method == "GET" and service is not None:
        form.head_of_service_id.data = str(service.head_of_service_id or "")
        form.version.data = str(service.version)
    return form


def _head_id(form: ServiceForm) -> int | None:
    value = form.head_of_service_id.data
    return int(value) if value and value.isdigit() else None


@bp.route("/services")
@roles_required(*MANAGERS)
def list_services():
    services = db.session.scalars(
        select(Service).options(selectinload(Service.head_of_service)).order_by(Service.active.desc(), Service.name)
    ).all()
    return render_template("admin/services.html", services=services)


@bp.route("/services/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def add_service():
    form = _service_form()
    if form.validate_on_submit():
        try:
            service = service_rules.create_service(form.name.data, _head_id(form), form.description.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(f"{service.name} added", "success")
            return redirect(url_for("admin.list_services"))
    return render_template("admin/service_form.html", form=form, service=None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_service(service_id: int):
    service = db.get_or_404(Service, service_id)
    form = _service_form(service)
    conflict = None
    if form.validate_on_submit():
        try:
            version = version_of(form)
            if version is None:
                abort(400)
            service_rules.update_service(
                service,
                name=form.name.data,
                head_of_service_id=_head_id(form),
                description=form.description.data,
                active=form.active.data,
                version=version,
            )
        except InvalidInput as error:
            apply_errors(form, error)
        except Conflict as error:
            conflict = error.message
            form.version.data = str(service.version)
        else:
            flash(f"{service.name} saved", "success")
            return redirect(url_for("admin.list_services"))
    return render_template("admin/service_form.html", form=form, service=service, conflict=conflict), (409 if conflict else 200)

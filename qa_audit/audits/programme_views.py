"""The audit programme: by quarter, as a month calendar, exported; "my audits"; the
iCalendar feed. Every page is for any signed-in user (the app's before_request
sends anonymous users to sign in); the feed itself is public behind its secret."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from sqlalchemy import or_, select
from wtforms import Field, SelectChoice
from wtforms.validators import ValidationError

from qa_audit.admin.models import Service
from qa_audit.audits import bp, exports, programme, services
from qa_audit.audits import calendar_feed as feeds
from qa_audit.dates import add_months
from qa_audit.audits.models import Agency, Audit, AuditStatus, AuditType, audit_auditors
from qa_audit.auth.models import User
from qa_audit.auth.permissions import public
from qa_audit.extensions import db
from qa_audit.forms import FilterCheckboxes, FilterSelect
from qa_audit.widgets import LongCheckboxes, LongSelect

PER_PAGE = 100
# Years the pages accept, so date arithmetic never leaves Python's dates.
FIRST_YEAR, LAST_YEAR = 1900, 2100
# Query-string keys that are filters (kept on every link), as opposed to navigation.
FILTER_KEYS = ("type", "service", "status", "auditor", "agency", "date_from", "date_to")


# The filter form (GET, so no CSRF token: it changes nothing)


class DateParts(Field):
    """A GOV.UK date input (day, month and year boxes sharing one name), optional.

    Any mistake becomes a message at the field: an impossible date is never a 500."""

    widget = GovDateInput()

    def process_formdata(self, valuelist):
        parts = [(value or "").strip() for value in valuelist][:3]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts  # the widget shows exactly three boxes
        self.data = None
        if not any(parts):
            return
        day, month, year = parts
        name = self.label.text
        missing = [part for part, value in zip(("day", "month", "year"), parts) if not value]
        if missing:
            raise ValueError(f"{name} must include a {' and a '.join(missing)}")
        if not all(value.isdigit() for value in parts):
            raise ValueError(f"{name} must be a real date")
        if len(year) != 4:
            raise ValueError("Year must include 4 numbers")
        if not FIRST_YEAR <= int(year) <= LAST_YEAR:
            raise ValueError(f"Year must be between {FIRST_YEAR} and {LAST_YEAR}")
        try:
            self.data = date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(f"{name} must be a real date") from None

    def _value(self):
        return " ".join(self.raw_data or [])


class ProgrammeFilterForm(FlaskForm):
    type = FilterCheckboxes(
        "Type",
        choices=[SelectChoice(t.value, t.label) for t in AuditType],
        widget=LongCheckboxes(),
        message="Select audit types from the list",
    )
    status = FilterCheckboxes(
        "Status",
        choices=[SelectChoice(s.value, s.label) for s in AuditStatus],
        widget=LongCheckboxes(),
        message="Select statuses from the list",
    )
    agency = FilterCheckboxes(
        "Agency taking part",
        choices=[SelectChoice(a.value, a.label) for a in Agency],
        widget=LongCheckboxes(),
        message="Select agencies from the list",
    )
    service = FilterCheckboxes("Service", choices=[], widget=LongCheckboxes(), message="Select services from the list")
    auditor = FilterSelect("Auditor", choices=[], widget=LongSelect(), message="Select an auditor from the list")
    date_from = DateParts("Date from", description="For example, 1 4 2026")
    date_to = DateParts("Date to", description="For example, 31 3 2027")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("Date to must be the same as or after date from")


def _auditor_choices() -> list[SelectChoice]:
    """Everyone who can audit, and anyone who has led or taken part in an audit."""
    users = db.session.execute(
        select(User.id, User.name, User.active)
        .where(
            or_(
                User.active.is_(True) & User.role.in_(services.AUDITING_ROLES),
                User.id.in_(select(Audit.lead_auditor_id)),
                User.id.in_(select(audit_auditors.c.user_id)),
            )
        )
        .order_by(User.name, User.id)
    )
    return [SelectChoice("", "Any auditor")] + [
        SelectChoice(str(user.id), user.name if user.active else f"{user.name} (inactive)") for user in users
    ]


def _filter_form() -> tuple[ProgrammeFilterForm, bool]:
    form = ProgrammeFilterForm(formdata=request.args, meta={"csrf": False})
    form.service.choices = [
        SelectChoice(str(s.id), s.name if s.active else f"{s.name} (retired)")
        for s in db.session.execute(select(Service.id, Service.name, Service.active).order_by(Service.name, Service.id))
    ]
    form.auditor.choices = _auditor_choices()
    return form, form.validate()


def _filters(form: ProgrammeFilterForm) -> programme.ProgrammeFilters:
    return programme.ProgrammeFilters(
        types=[AuditType(v) for v in form.type.data or []],
        statuses=[AuditStatus(v) for v in form.status.data or []],
        service_ids=[int(v) for v in form.service.data or []],
        auditor_ids=[int(form.auditor.data)] if form.auditor.data else [],
        agencies=[Agency(v) for v in form.agency.data or []],
        scheduled_from=form.date_from.data,
        scheduled_to=form.date_to.data,
    )


def _filter_args() -> dict[str, list[str]]:
    """The filters in the current query string, for links that keep them."""
    kept = {}
    for key in FILTER_KEYS:
        values = request.args.getlist(key)
        if any(value.strip() for value in values):
            kept[key] = values
    return kept


def _active_filters(form: ProgrammeFilterForm) -> list[str]:
    """The filters in use, in words, for the line above the results."""
    described = []
    for field in (form.type, form.status, form.service, form.agency):
        labels = dict((str(c.value), c.label) for c in field.choices)
        if field.data:
            described.append(f"{field.label.text}: {', '.join(labels[v] for v in field.data)}")
    if form.auditor.data:
        described.append(f"Auditor: {dict((c.value, c.label) for c in form.auditor.choices)[form.auditor.data]}")
    if form.date_from.data:
        described.append(f"From {form.date_from.data:%-d %B %Y}")
    if form.date_to.data:
        described.append(f"To {form.date_to.data:%-d %B %Y}")
    return described


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name, "")
    if not re.fullmatch(r"[0-9]{1,9}", value):
        return default
    return int(value) if low <= int(value) <= high else default


def _year() -> int:
    return _int_arg("year", programme.financial_year_of(services.today()), FIRST_YEAR, LAST_YEAR - 1)


def _pagination(page: int, pages: int, link) -> dict | None:
    """govukPagination's parameters: numbered links with ellipses around the current page."""
    if pages <= 1:
        return None
    numbers = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    items, previous = [], 0
    for number in numbers:
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": link(number), "current": number == page})
        previous = number
    params = {"items": items, "landmarkLabel": "Pages of audits"}
    if page > 1:
        params["previous"] = {"href": link(page - 1)}
    if page < pages:
        params["next"] = {"href": link(page + 1)}
    return params


# The programme by quarter


@bp.route("/programme")
def show_programme():
    form, valid = _filter_form()
    year = _year()
    today = services.today()
    args = _filter_args()
    year_args = {"year": year} if "year" in request.args else {}
    context = {
        "form": form,
        "year": year,
        "today": today,
        "filter_args": args,
        "active_filters": _active_filters(form) if valid else [],
        "clear_url": url_for("audits.show_programme", **year_args),
        "year_args": year_args,
        "ranged": False,
        "schedule_url": url_for("audits.schedule_audit"),
        "sections": [],
    }
    if not valid:
        return render_template("audits/programme.html", **context)

    filters = _filters(form)
    starts_on, ends_on, quarters = programme.programme_range(filters, year)
    filters.scheduled_from, filters.scheduled_to = starts_on, ends_on
    query = programme.filtered(filters)
    counts = programme.quarter_counts(query, quarters, today)
    total = sum(programme.total(c) for c in counts.values())
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(_int_arg("page", 1, 1, 10**6), pages)

    audits = db.session.scalars(
        programme.with_row_data(programme.ordered(query)).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    by_quarter: dict[programme.Quarter, list[Audit]] = {}
    for audit in audits:
        by_quarter.setdefault(programme.quarter_of(audit.scheduled_for), []).append(audit)
    shown = programme.quarters_on_page(quarters, counts, page, PER_PAGE)

    def page_link(number: int) -> str:
        return url_for("audits.show_programme", **args, **year_args, page=number)

    calendar_month = today if starts_on <= today <= ends_on else starts_on
    context.update(
        sections=[{"quarter": q, "counts": counts[q], "audits": by_quarter.get(q, [])} for q in shown],
        total=total,
        page=page,
        pages=pages,
        pagination=_pagination(page, pages, page_link),
        ranged=bool(form.date_from.data or form.date_to.data),
        starts_on=starts_on,
        ends_on=ends_on,
        previous_year_url=url_for("audits.show_programme", **args, year=year - 1),
        next_year_url=url_for("audits.show_programme", **args, year=year + 1),
        csv_url=url_for("audits.export_programme_csv", **args, **year_args),
        xlsx_url=url_for("audits.export_programme_xlsx", **args, **year_args),
        calendar_url=url_for("audits.show_calendar", **args, month=f"{calendar_month:%Y-%m}"),
        audit_path=programme.audit_path,
    )
    return render_template("audits/programme.html", **context)


# Exports: exactly the filtered rows, every page


def _export_audits() -> tuple[list[Audit], str] | None:
    form, valid = _filter_form()
    if not valid:
        return None
    filters = _filters(form)
    year = _year()
    starts_on, ends_on, _ = programme.programme_range(filters, year)
    filters.scheduled_from, filters.scheduled_to = starts_on, ends_on
    audits = db.session.scalars(programme.with_list_data(programme.ordered(programme.filtered(filters)))).all()
    if form.date_from.data or form.date_to.data:
        name = f"audit-programme-{starts_on:%Y-%m-%d}-to-{ends_on:%Y-%m-%d}"
    else:
        name = f"audit-programme-{year}-{str(year + 1)[-2:]}"
    return audits, name


def _back_to_programme() -> Response:
    """Bad filters: the programme page, with the same query, says what is wrong."""
    query = request.query_string.decode("ascii", "replace")
    return redirect(url_for("audits.show_programme") + (f"?{query}" if query else ""))


def _download(body, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/programme/export.csv")
def export_programme_csv():
    result = _export_audits()
    if result is None:  # the programme page shows what is wrong with the filters
        return _back_to_programme()
    audits, name = result
    return _download(exports.to_csv(audits), "text/csv; charset=utf-8", f"{name}.csv")


@bp.route("/programme/export.xlsx")
def export_programme_xlsx():
    result = _export_audits()
    if result is None:
        return _back_to_programme()
    audits, name = result
    return _download(
        exports.to_xlsx(audits),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{name}.xlsx",
    )


# The month calendar


def _month() -> date:
    value = request.args.get("month", "")
    try:
        year, month = value.split("-")
        if re.fullmatch(r"[0-9]{4}", year) and FIRST_YEAR <= int(year) <= LAST_YEAR:
            return date(int(year), int(month), 1)
    except ValueError:
        pass
    return services.today().replace(day=1)


@bp.route("/programme/calendar")
def show_calendar():
    form, valid = _filter_form()
    month = _month()
    weeks = programme.month_weeks(month.year, month.month)
    previous_month, next_month = add_months(month, -1), add_months(month, 1)
    month_end = add_months(month, 1) - timedelta(days=1)
    args = {k: v for k, v in _filter_args().items() if k not in ("date_from", "date_to")}

    by_day: dict[date, list[Audit]] = {}
    if valid:
        filters = _filters(form)
        filters.scheduled_from = month
        filters.scheduled_to = month_end
        audits = db.session.scalars(
            programme.ordered(programme.filtered(filters))  # the calendar shows type, title and status only
        ).all()
        for audit in audits:
            by_day.setdefault(audit.scheduled_for, []).append(audit)

    return render_template(
        "audits/calendar.html",
        form=form,
        month=month,
        weeks=weeks,
        by_day=by_day,
        today=services.today(),
        filter_args=args,
        active_filters=_active_filters(form) if valid else [],
        previous_url=url_for("audits.show_calendar", **args, month=f"{previous_month:%Y-%m}"),
        next_url=url_for("audits.show_calendar", **args, month=f"{next_month:%Y-%m}"),
        previous_label=f"{previous_month:%B %Y}",
        next_label=f"{next_month:%B %Y}",
        clear_url=url_for("audits.show_calendar", month=f"{month:%Y-%m}"),
        programme_url=url_for("audits.show_programme", **args, year=programme.financial_year_of(month)),
        audit_path=programme.audit_path,
    )


# My audits


@bp.route("/my-audits")
def my_audits():
    audits = db.session.scalars(programme.with_list_data(programme.my_audits(current_user))).all()
    unfinished = (AuditStatus.PLANNED, AuditStatus.IN_PROGRESS)
    return render_template(
        "audits/my_audits.html",
        to_do=[a for a in audits if a.status in unfinished],
        # Finished audits: the most recent first (the query puts them oldest first).
        finished=[a for a in reversed(audits) if a.status not in unfinished],
        today=services.today(),
        next_step=programme.next_step,
        audit_path=programme.audit_path,
    )


# The iCalendar feed


@bp.route("/my-audits/calendar-feed")
def calendar_feed():
    return render_template("audits/calendar_feed.html", has_feed=current_user.calendar_token_hash is not None, feed_url=None)


@bp.route("/my-audits/calendar-feed", methods=["POST"])
def create_calendar_feed():
    token = feeds.create_feed_token(current_user)
    feed_url = url_for("audits.calendar_feed_ics", token=token, _external=True)
    return render_template("audits/calendar_feed.html", has_feed=True, feed_url=feed_url)


@bp.route("/my-audits/calendar-feed/turn-off", methods=["POST"])
def revoke_calendar_feed():
    feeds.revoke_feed_token(current_user)
    flash("Calendar link turned off. Calendars using it will no longer update", "success")
    return redirect(url_for("audits.calendar_feed"))


@bp.route("/calendar/<token>.ics")
@public
def calendar_feed_ics(token: str):
    user = feeds.user_for_feed_token(token)
    if user is None:
        abort(404)
    body = feeds.build_calendar(feeds.feed_events(user), name=f"QA audits: {user.name}")
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="qa-audits.ics"'
    return response

"""Forms for scheduling and running audits and recurring series.

The fields only parse what was sent (a date from three boxes, a whole number, a
record id); the rules (what is required, lengths, who may lead, which values exist)
are in qa_audit.audits.services and reach the fields through ``apply_errors``, so
each field is named after the service's key.
"""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import StopValidation

from qa_audit.validation import EARLIEST_DATE, LATEST_DATE, MAX_ID
from qa_audit.audits.models import Agency, AuditType, Frequency

TYPE_CHOICES = [SelectChoice(t.value, t.label) for t in AuditType]
AGENCY_CHOICES = [SelectChoice(a.value, a.label) for a in Agency]
FREQUENCY_CHOICES = [SelectChoice(f.value, f.label) for f in Frequency]
NOT_AN_ID = "unknown"  # what a value that cannot be a record's id becomes


def record_id(value) -> str:
    """A record id as text, as the services take it. Anything that is not one
    (an id too big for the database, a digit other than 0–9) becomes a value the
    service rejects with its own message, rather than reaching the query."""
    text = "" if value is None else str(value).strip()
    if text == "" or (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID):
        return text
    return NOT_AN_ID


def plain_text(value) -> str:
    return "" if value is None else str(value)


class DateInput(GovDateInput):
    """GovDateInput, with the day box carrying the field's id, so that the error
    summary's link (to the field's id) lands on the first box, as GOV.UK asks."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params["id"] = f"{field.id}-date"
        params["items"][0]["id"] = field.id
        return params


class DateInputField(Field):
    """A GOV.UK date input: day, month and year boxes posted under one name.

    Blank is ``None`` (the service says whether the date is needed); anything else
    must be a real date, with GOV.UK's error messages."""

    widget = DateInput()

    def __init__(self, label=None, validators=None, *, subject: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.subject = subject  # "Scheduled date" in "Scheduled date must be a real date"

    def _value(self) -> str:
        return self.data.isoformat() if self.data else ""  # the widget shows raw_data or data itself

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            self.raw_data = None  # the widget then shows empty boxes (it needs three or none)
            return
        parts = [(value or "").strip() for value in (list(valuelist) + ["", "", ""])[:3]]
        self.raw_data = parts  # shown back exactly as typed
        if not any(parts):
            return
        missing = [name for name, part in zip(("day", "month", "year"), parts) if not part]
        if missing:
            raise ValueError(f"{self.subject} must include a {' and a '.join(missing)}")
        if not all(part.isascii() and part.isdigit() for part in parts):
            raise ValueError(f"{self.subject} must be a real date")
        if len(parts[2]) != 4:
            raise ValueError("Year must include 4 numbers")
        try:
            self.data = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            raise ValueError(f"{self.subject} must be a real date") from None
        if not EARLIEST_DATE <= self.data <= LATEST_DATE:
            self.data = None
            raise ValueError(f"{self.subject} must be between {EARLIEST_DATE.year} and {LATEST_DATE.year}")


class WholeNumberField(IntegerField):
    """A number typed in a text box (GOV.UK asks for text inputs with
    inputmode="numeric", not type="number"); blank is None."""

    def __init__(self, label=None, validators=None, *, subject: str, **kwargs):
        kwargs.setdefault("widget", GovTextInput())
        super().__init__(label, validators, **kwargs)
        self.subject = subject

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        if not (text.isascii() and text.isdigit()) or len(text) > 6:
            raise ValueError(f"{self.subject} must be a whole number, like 4")
        self.data = int(text)


class OnlyWhen:
    """Ignore a field, its value and its errors, unless another field has a given
    value: the number of weeks counts only for "every few weeks"."""

    def __init__(self, other: str, value: str):
        self.other = other
        self.value = value
        self.field_flags = {}

    def __call__(self, form, field):
        if form[self.other].data != self.value:
            field.errors[:] = []
            field.data = None
            raise StopValidation()


def _radios(label: str, choices) -> RadioField:
    # Unknown values go on to the service, which says what is wrong in GOV.UK words
    # ("Select the audit type") rather than WTForms' "Not a valid choice".
    return RadioField(label, widget=GovRadioInput(), coerce=plain_text, validate_choice=False, choices=choices)


def _select(label: str, description: str | None = None) -> SelectField:
    return SelectField(label, description=description, widget=GovSelect(), coerce=record_id, validate_choice=False, choices=[])


def _checkboxes(label: str, description: str, coerce, choices=None) -> SelectMultipleField:
    return SelectMultipleField(
        label, description=description, widget=GovCheckboxesInput(), coerce=coerce, validate_choice=False, choices=choices or []
    )


class AuditForm(FlaskForm):
    type = _radios("Type of audit", TYPE_CHOICES)
    title = StringField("Title", description="For example, Targeted visit to the MASH", widget=GovTextInput())
    purpose = TextAreaField("Purpose (optional)", description="What the audit is for and what it looks at", widget=GovTextArea())
    service_id = _select("Service audited", "The team or function audited")
    scheduled_for = DateInputField("Scheduled date", description="For example, 27 3 2026", subject="Scheduled date")
    lead_auditor_id = _select("Lead auditor")
    auditor_ids = _checkboxes("Other auditors (optional)", "Select everyone else taking part", record_id)
    agencies = _checkboxes("Agencies taking part (optional)", "Select all that apply", plain_text, AGENCY_CHOICES)
    question_set_id = _select("Question set", "Dip samples only")
    parent_id = _select("Part of a targeted visit (optional)", "A dip sample, focus group or strategy meeting audit done as part of a visit")
    follow_up_of_id = _select("Follows up an earlier audit (optional)", "The audit whose actions this one checks progress on")
    version = HiddenField()
    submit = SubmitField("Save audit", widget=GovSubmitInput())

    def values(self) -> dict:
        """The fields by the services' names."""
        return {name: field.data for name, field in self._fields.items() if name not in ("csrf_token", "version", "submit")}


class SeriesForm(AuditForm):
    """A series: the audit's fields except the date, parent and follow-up, and when they happen."""

    scheduled_for = None
    parent_id = None
    follow_up_of_id = None
    frequency = _radios("How often", FREQUENCY_CHOICES)
    interval_weeks = WholeNumberField(
        "Number of weeks between audits",
        description="Only for every few weeks: from 1 to 52",
        subject="Number of weeks between audits",
        validators=[OnlyWhen("frequency", "weekly")],
    )
    starts_on = DateInputField("Date of the first audit", description="For example, 27 3 2026", subject="Date of the first audit")
    ends_on = DateInputField(
        "End date (optional)", description="No audit is scheduled after this date. For example, 31 3 2027", subject="End date"
    )
    occurrences = WholeNumberField(
        "Number of audits (optional)", description="Give an end date, a number of audits, or both", subject="Number of audits"
    )
    submit = SubmitField("Save series", widget=GovSubmitInput())


class ReasonForm(FlaskForm):
    """Cancelling or reopening: the service requires the reason."""

    reason = TextAreaField("Reason", widget=GovTextArea())
    version = HiddenField()
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class StatusForm(FlaskForm):
    """What the start and complete buttons on the audit page send."""

    status = HiddenField()
    reason = HiddenField()
    version = HiddenField()



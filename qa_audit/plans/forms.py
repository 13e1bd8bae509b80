"""Forms for improvement plans, their priorities and measures, and the tracker's filters.

The fields only parse what was sent (a date from three boxes, a record id, text); the
rules (what is required, lengths, numbers, who may own a plan) are in
qa_audit.plans.services and reach the fields through ``apply_errors``, so each field is
named after the service's key.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import HiddenField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField

from qa_audit.actions.models import ActionStatus, Brag
from qa_audit.audits.forms import DateInputField, record_id
from qa_audit.forms import FilterCheckboxes, FilterSelect
from qa_audit.widgets import LongCheckboxes, LongSelect


def _select(label: str, description: str | None = None) -> SelectField:
    # Unknown values go on to the service, which answers in GOV.UK words.
    return SelectField(label, description=description, widget=GovSelect(), coerce=record_id, validate_choice=False, choices=[])


class _ValuesForm(FlaskForm):
    def values(self) -> dict:
        """The fields by the services' names."""
        return {name: field.data for name, field in self._fields.items() if name not in ("csrf_token", "version", "submit")}


class PlanForm(_ValuesForm):
    title = StringField("Title", description="For example, Local area improvement plan 2026 to 2027", widget=GovTextInput())
    description = TextAreaField("Description (optional)", description="What the plan is for and where it came from", widget=GovTextArea())
    owner_id = _select("Owner", "The person the board holds to account for the plan")
    service_id = _select("Service (optional)", "The service the plan is for, if it is for one")
    board = StringField("Governance board (optional)", description="For example, Practice and Development Board", widget=GovTextInput())
    starts_on = DateInputField("Start date", description="For example, 1 4 2026", subject="Start date")
    ends_on = DateInputField("End date", description="For example, 31 3 2027", subject="End date")
    version = HiddenField()
    submit = SubmitField("Save plan", widget=GovSubmitInput())


class PriorityForm(_ValuesForm):
    title = StringField("Title", description="For example, Front door", widget=GovTextInput())
    version = HiddenField()
    submit = SubmitField("Save priority", widget=GovSubmitInput())


class MoveForm(FlaskForm):
    """What the up and down buttons on the priorities page send."""

    direction = HiddenField()


class MeasureForm(_ValuesForm):
    title = StringField("What is measured", description="For example, Average MASH caseload", widget=GovTextInput())
    unit = StringField("Unit (optional)", description="For example, cases, % or social workers", widget=GovTextInput())
    baseline = StringField("Baseline", description="The value when the work started, for example 24", widget=GovTextInput())
    baseline_on = DateInputField("Date of the baseline (optional)", description="For example, 31 3 2019", subject="Date of the baseline")
    target = StringField("Target", description="The value the work aims for, for example 15", widget=GovTextInput())
    submit = SubmitField("Add measure", widget=GovSubmitInput())


class MeasureValueForm(_ValuesForm):
    measured_on = DateInputField("Date measured", description="For example, 31 10 2019", subject="Date")
    value = StringField("Value", widget=GovTextInput())
    note = TextAreaField("Note (optional)", description="Where the figure came from, or what it means", widget=GovTextArea())
    submit = SubmitField("Record value", widget=GovSubmitInput())


# The tracker's filters (GET, so no CSRF token: they change nothing) ----------------


STATUS_CHOICES = [SelectChoice(status.value, status.label) for status in ActionStatus]
BRAG_CHOICES = [SelectChoice("", "Any colour")] + [
    SelectChoice(brag.value, {"blue": "Blue (done)", "red": "Red (overdue)", "amber": "Amber (due soon)", "green": "Green (on track)"}[brag.value])
    for brag in (Brag.RED, Brag.AMBER, Brag.GREEN, Brag.BLUE)
]


class TrackerFilterForm(FlaskForm):
    owner = FilterSelect("Owner", choices=[], message="Select an owner from the list", widget=LongSelect())
    service = FilterSelect("Service", choices=[], message="Select a service from the list", widget=LongSelect())
    status = FilterCheckboxes("Status", choices=STATUS_CHOICES, message="Select statuses from the list", widget=LongCheckboxes())
    brag = FilterSelect("BRAG", choices=BRAG_CHOICES, message="Select blue, red, amber or green", widget=GovSelect())

    def filters(self) -> dict:
        """The filters as qa_audit.actions.services.actions_query takes them."""
        return {
            "owner_id": int(self.owner.data) if self.owner.data else None,
            "service_id": int(self.service.data) if self.service.data else None,
            "status": list(self.status.data or []),
            "brag": self.brag.data or None,
        }

    def described(self) -> list[str]:
        """The filters in use, in words, for the line above the figures."""
        words = []
        for field in (self.owner, self.service, self.brag):
            if field.data:
                labels = {str(choice.value): choice.label for choice in field.choices}
                words.append(f"{field.label.text}: {labels[field.data]}")
        if self.status.data:
            labels = {choice.value: choice.label for choice in STATUS_CHOICES}
            words.append(f"Status: {', '.join(labels[v] for v in self.status.data)}")
        return words

"""Forms for actions: raising and editing one, posting progress, signing off, sending
back and cancelling, and the filters of the actions list.

The fields only parse what was sent (a date from three boxes, a whole number, a
record id); the rules (what is required, lengths, who may own an action, that
completing needs evidence) are in qa_audit.actions.services and reach the fields
through ``apply_errors``, so each field is named after the service's key.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, ValidationError

from qa_audit.actions.models import ActionPriority, ActionStatus, Brag
from qa_audit.audits.forms import DateInputField, OnlyWhen, WholeNumberField, plain_text, record_id
from qa_audit.forms import FilterCheckboxes, FilterSelect
from qa_audit.validation import TEXT_MAX
from qa_audit.widgets import LongCheckboxes, LongSelect

OWNER_SEARCH_MAX = 100
DUE_ON_A_DATE = "date"
DUE_IN_WORKING_DAYS = "working_days"
PRIORITY_CHOICES = [SelectChoice(p.value, p.label) for p in ActionPriority]
PROGRESS_CHOICES = [
    SelectChoice("", "No change"),
    SelectChoice(ActionStatus.IN_PROGRESS.value, ActionStatus.IN_PROGRESS.label),
    SelectChoice(ActionStatus.COMPLETED.value, ActionStatus.COMPLETED.label),
]
BRAG_LABELS = {
    Brag.BLUE: "Blue (done)",
    Brag.RED: "Red (overdue)",
    Brag.AMBER: "Amber (due within 14 days)",
    Brag.GREEN: "Green (on track)",
}


def _radios(label: str, choices, description: str | None = None, coerce=plain_text, default=None) -> RadioField:
    # Unknown values go on to the service, which says what is wrong in GOV.UK words
    # rather than WTForms' "Not a valid choice".
    return RadioField(
        label, description=description, widget=GovRadioInput(), coerce=coerce, validate_choice=False, choices=choices, default=default
    )


def _select(label: str, description: str | None = None) -> SelectField:
    return SelectField(label, description=description, widget=GovSelect(), coerce=record_id, validate_choice=False, choices=[])


def _due_by(value) -> str:
    """How the due date is given: a date unless working days were chosen (the form
    shows the date boxes for anything else, so that is what is checked)."""
    return DUE_IN_WORKING_DAYS if value == DUE_IN_WORKING_DAYS else DUE_ON_A_DATE


class ActionForm(FlaskForm):
    title = StringField(
        "Title", description="What must be done, for example Re-issue the referral guidance to partner agencies", widget=GovTextInput()
    )
    owner_id = _select("Owner", "Who makes sure it is done. Anyone can own an action")
    due_by = _radios(
        "Due date",
        [SelectChoice(DUE_ON_A_DATE, "On a date"), SelectChoice(DUE_IN_WORKING_DAYS, "In a number of working days from today")],
        coerce=_due_by,
        default=DUE_ON_A_DATE,
    )
    due_date = DateInputField(
        "Date", description="For example, 27 3 2027", subject="Due date", validators=[OnlyWhen("due_by", DUE_ON_A_DATE)]
    )
    due_in_working_days = WholeNumberField(
        "Number of working days",
        description="Weekends and England and Wales bank holidays are not counted",
        subject="Number of working days",
        validators=[OnlyWhen("due_by", DUE_IN_WORKING_DAYS)],
    )
    priority = _radios("Priority", PRIORITY_CHOICES, default=ActionPriority.MEDIUM.value)
    plan_priority_id = _select("Plan priority", "The priority of the improvement plan the action belongs to")
    approved_by = StringField(
        "Board that approved it (optional)", description="For example, Practice and Development Board", widget=GovTextInput()
    )
    approved_on = DateInputField("Date approved (optional)", description="For example, 20 11 2026", subject="Date approved")
    version = HiddenField()
    submit = SubmitField("Raise action", widget=GovSubmitInput())

    def validate_due_in_working_days(self, field):
        # Only reached when working days were chosen (OnlyWhen stops it otherwise); the
        # service would otherwise look for a date the person was never shown.
        if field.data is None and not field.errors:
            raise ValidationError("Enter the number of working days")

    def values(self) -> dict:
        """The fields by the service's names; the due date as a date or as working days."""
        values = {
            name: self[name].data for name in ("title", "owner_id", "priority", "plan_priority_id", "approved_by", "approved_on")
        }
        if self.due_by.data == DUE_IN_WORKING_DAYS:
            values["due_in_working_days"] = self.due_in_working_days.data
        else:
            values["due_date"] = self.due_date.data
        return values

    def hidden_due_field(self) -> str:
        """The due-date field not chosen: its value and errors do not count."""
        return "due_date" if self.due_by.data == DUE_IN_WORKING_DAYS else "due_in_working_days"


class UpdateForm(FlaskForm):
    """A progress update: a note, perhaps a new status, and evidence (needed to complete)."""

    note = TextAreaField("What progress has been made?", description="For example, what was done, by whom, and what happens next", widget=GovCharacterCount())
    status = _radios("Status", PROGRESS_CHOICES, default="")
    evidence = TextAreaField(
        "Evidence",
        description=f"What shows the action is done: a document, a meeting's minutes, an audit's result. Needed to mark it completed. Up to {TEXT_MAX:,} characters",
        widget=GovTextArea(),
    )
    submit = SubmitField("Post update", widget=GovSubmitInput())

    note_max = TEXT_MAX


class SignOffForm(FlaskForm):
    note = TextAreaField("Note (optional)", description="For example, what you checked", widget=GovTextArea())
    submit = SubmitField("Sign off action", widget=GovSubmitInput())


class ReasonForm(FlaskForm):
    """Sending back or cancelling: the service requires the reason."""

    reason = TextAreaField("Reason", widget=GovTextArea())
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class ActionFilterForm(FlaskForm):
    """The actions list's filters (GET: they live in the URL and change nothing)."""

    # Set by the view when a link names the owner by ID (?owner_id=), kept in a hidden
    # field while the box shows their name.
    owner_id: int | None = None
    owner_label = ""

    # A search, not a list: a council has thousands of people, and a list of them all is
    # slow to send and to scroll. Links from other pages send owner_id instead.
    owner = StringField(
        "Owner",
        description="All or part of their name or email address",
        widget=GovTextInput(),
        validators=[Length(max=OWNER_SEARCH_MAX, message=f"Owner must be {OWNER_SEARCH_MAX} characters or fewer")],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    service = FilterSelect("Service", choices=[], widget=LongSelect(), message="Select a service from the list")
    plan = FilterSelect("Improvement plan", choices=[], widget=LongSelect(), message="Select a plan from the list")
    priority = FilterSelect("Plan priority", choices=[], widget=LongSelect(), message="Select a plan priority from the list")
    status = FilterCheckboxes(
        "Status",
        choices=[SelectChoice(s.value, s.label) for s in ActionStatus],
        widget=LongCheckboxes(),
        message="Select statuses from the list",
    )
    brag = FilterSelect(
        "BRAG",
        choices=[SelectChoice("", "Any colour")] + [SelectChoice(b.value, BRAG_LABELS[b]) for b in Brag],
        widget=GovSelect(),
        message="Select a BRAG colour from the list",
    )
    overdue = FilterCheckboxes(
        "Overdue", choices=[SelectChoice("yes", "Overdue only")], widget=LongCheckboxes(), message="Select overdue only, or nothing"
    )

"""Forms for the details of a focus group or a strategy meeting audit, and the
period of the strategy meeting attendance summary.

The fields only parse what was sent (a date from three boxes, a whole number, yes
or no); the rules are in qa_audit.recording.services.save_details and reach the
fields through ``apply_errors``, so each field is named after the service's key.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import HiddenField, RadioField, SelectChoice, SelectMultipleField, StringField, SubmitField, TextAreaField

from qa_audit.audits.forms import DateInputField, WholeNumberField, plain_text
from qa_audit.audits.models import Agency
from qa_audit.recording.models import Judgement

AGENCY_CHOICES = [SelectChoice(a.value, a.label) for a in Agency]
JUDGEMENT_CHOICES = [SelectChoice(j.value, j.label) for j in Judgement]
YES_NO_CHOICES = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


def contribution_field_name(agency: Agency) -> str:
    return f"contribution_{agency.value}"


class RadioInput(GovRadioInput):
    """GovRadioInput without an empty hint when the field has none."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        hint = params.get("hint") or {}
        if not (hint.get("text") or hint.get("html")):
            params.pop("hint", None)
        return params


def _radios(label: str, choices, description: str = "") -> RadioField:
    # Unknown values go on to the service, which says what is wrong in GOV.UK words.
    return RadioField(label, description=description, widget=RadioInput(), coerce=plain_text, validate_choice=False, choices=choices)


def _checkboxes(label: str, description: str) -> SelectMultipleField:
    return SelectMultipleField(
        label, description=description, widget=GovCheckboxesInput(), coerce=plain_text, validate_choice=False, choices=AGENCY_CHOICES
    )


def _yes_no(value: str | None) -> bool | str | None:
    """"yes" and "no" as True and False, nothing as None; anything else goes to the
    service as it is, to be refused there."""
    return {"yes": True, "no": False, "": None, None: None}.get(value, value)


def _text(field) -> str | None:
    return field.data if field.data else None


class FocusGroupDetailsForm(FlaskForm):
    participants_count = WholeNumberField(
        "Number of participants", description="For example, 8", subject="Number of participants"
    )
    participant_roles = TextAreaField(
        "Participants' roles", description="For example, social workers and team managers in the MASH", widget=GovTextArea()
    )
    facilitator = StringField("Facilitator", description="Who led the discussion", widget=GovTextInput())
    themes = TextAreaField("Themes discussed", widget=GovTextArea())
    key_messages = TextAreaField("Key messages", description="What practitioners said", widget=GovTextArea())
    assurance_statement = TextAreaField(
        "Assurance statement", description="What the focus group gives assurance about, and what it does not", widget=GovTextArea()
    )
    version = HiddenField()
    submit = SubmitField("Save details", widget=GovSubmitInput())

    def values(self) -> dict:
        return {
            "participants_count": self.participants_count.data,
            "participant_roles": _text(self.participant_roles),
            "facilitator": _text(self.facilitator),
            "themes": _text(self.themes),
            "key_messages": _text(self.key_messages),
            "assurance_statement": _text(self.assurance_statement),
        }

    def fill(self, details) -> None:
        for name in ("participants_count", "participant_roles", "facilitator", "themes", "key_messages", "assurance_statement"):
            self[name].data = getattr(details, name)


def _strategy_meeting_form() -> type[FlaskForm]:
    """The fields in page order (the error summary follows it): one radios group
    for the contribution of each agency, named contribution_<agency>."""
    fields = {
        "meeting_date": DateInputField("Date of the meeting", description="For example, 27 3 2026", subject="Date of the meeting"),
        "agencies_invited": _checkboxes("Agencies invited", "Select all that apply"),
        "agencies_attended": _checkboxes("Agencies that attended", "Select all that apply"),
        "within_timescale": _radios("Was the meeting held within timescale?", YES_NO_CHOICES),
        "chairing_quality": _radios("Quality of chairing", JUDGEMENT_CHOICES),
    }
    for agency in Agency:
        fields[contribution_field_name(agency)] = _radios(f"{agency.label}: quality of contribution", JUDGEMENT_CHOICES)
    fields["decision_recorded"] = _radios("Was the decision recorded?", YES_NO_CHOICES)
    fields["version"] = HiddenField()
    fields["submit"] = SubmitField("Save details", widget=GovSubmitInput())
    return type("StrategyMeetingDetailsForm", (FlaskForm,), fields)


StrategyMeetingDetailsForm = _strategy_meeting_form()


def strategy_meeting_values(form) -> dict:
    """The service's fields. A contribution counts only for an agency that attended."""
    attended = list(form.agencies_attended.data or [])
    contributions = {}
    for agency in Agency:
        value = form[contribution_field_name(agency)].data
        if agency.value in attended and value:
            contributions[agency.value] = value
    return {
        "meeting_date": form.meeting_date.data,
        "agencies_invited": list(form.agencies_invited.data or []),
        "agencies_attended": attended,
        "within_timescale": _yes_no(form.within_timescale.data),
        "chairing_quality": form.chairing_quality.data or None,
        "agency_contributions": contributions,
        "decision_recorded": _yes_no(form.decision_recorded.data),
    }


def fill_strategy_meeting(form, details) -> None:
    form.meeting_date.data = details.meeting_date
    form.agencies_invited.data = list(details.agencies_invited or [])
    form.agencies_attended.data = list(details.agencies_attended or [])
    for name in ("within_timescale", "decision_recorded"):
        value = getattr(details, name)
        form[name].data = None if value is None else ("yes" if value else "no")
    form.chairing_quality.data = details.chairing_quality.value if details.chairing_quality else None
    for agency, judgement in (details.agency_contributions or {}).items():
        name = f"contribution_{agency}"
        if name in form:
            form[name].data = judgement


class PeriodForm(FlaskForm):
    """The period of the attendance summary, sent in the address (a GET form)."""

    class Meta:
        csrf = False

    from_ = DateInputField("From", name="from", description="For example, 1 4 2026", subject="The start date")
    to = DateInputField("To", description="For example, 31 3 2027", subject="The end date")

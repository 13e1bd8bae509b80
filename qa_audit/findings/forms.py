"""Forms for recording findings.

The fields only carry what was sent; the rules (a kind is required, the summary's
length, which themes exist) are in qa_audit.findings.services and reach the fields
through ``apply_errors``, so each field is named after the service's key.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovRadioInput, GovSelect, GovSubmitInput, GovTextArea
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, SubmitField, TextAreaField

from qa_audit.audits.forms import plain_text
from qa_audit.findings.models import FindingKind
from qa_audit.recording.models import Judgement
from qa_audit.validation import SUMMARY_MAX, TEXT_MAX

KIND_CHOICES = [SelectChoice(kind.value, kind.label) for kind in FindingKind]
KIND_HINTS = {
    FindingKind.STRENGTH.value: "Good practice to recognise and share",
    FindingKind.AREA_FOR_IMPROVEMENT.value: "Practice that needs to improve: actions can be raised for it",
    FindingKind.CONCERN.value: (
        "A safeguarding matter that needs an immediate response. "
        "Recording a concern alerts the QA lead and the head of service at once"
    ),
}
NO_JUDGEMENT = SelectChoice("", "No judgement")
JUDGEMENT_CHOICES = [SelectChoice(j.value, j.label) for j in Judgement] + [NO_JUDGEMENT]


def theme_choices(themes: list[tuple[str, str]], current: str | None = None) -> list[SelectChoice]:
    """The managed list of themes, and the finding's own theme even if it has since
    left the list (so that an edit never changes it silently)."""
    choices = [SelectChoice("", "No theme")] + [SelectChoice(key, label) for key, label in themes]
    if current and current not in dict(themes):
        choices.append(SelectChoice(current, current))
    return choices


def radios(label: str, choices, description: str = "") -> RadioField:
    # Unknown values go on to the service, which says what is wrong in GOV.UK words
    # rather than WTForms' "Not a valid choice".
    return RadioField(label, description=description, widget=GovRadioInput(), coerce=plain_text, validate_choice=False, choices=choices)


class FindingForm(FlaskForm):
    kind = radios("What kind of finding is this?", KIND_CHOICES)
    theme = SelectField(
        "Theme (optional)",
        description="The area of practice the finding is about",
        widget=GovSelect(),
        coerce=plain_text,
        validate_choice=False,
        choices=[],
    )
    judgement = radios("Judgement (optional)", JUDGEMENT_CHOICES, "Ofsted's four-point scale")
    summary = TextAreaField(
        "Summary",
        description="What the audit found, in a sentence or two. Do not include children's names",
        widget=GovCharacterCount(),
    )
    evidence = TextAreaField(
        "Evidence (optional)",
        description=f"What the finding is based on: case references, what was seen or heard. Up to {TEXT_MAX:,} characters",
        widget=GovTextArea(),
    )
    version = HiddenField()
    submit = SubmitField("Save finding", widget=GovSubmitInput())

    summary_max = SUMMARY_MAX

    def values(self) -> dict:
        """The fields by the service's names."""
        return {name: self[name].data for name in ("kind", "theme", "judgement", "summary", "evidence")}

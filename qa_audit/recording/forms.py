"""Forms for recording a dip sample: one case, a pasted or uploaded list, a random
draw, and the grid of answers.

As elsewhere, the fields only parse what was sent; the rules are in
qa_audit.recording.services and qa_audit.recording.importing and reach the fields
through ``apply_errors``, so each field is named after the service's key.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField

from qa_audit.audits.forms import WholeNumberField, plain_text
from qa_audit.audits.models import Question
from qa_audit.recording.grid import CaseInput, case_version, cell_name, notes_name, version_name
from qa_audit.recording.importing import COLUMN_LABELS, MAX_SEED, OPTIONAL_COLUMNS
from qa_audit.recording.models import AnswerValue, SampledCase

ANSWER_CHOICES = [SelectChoice("", "Not answered")] + [SelectChoice(value.value, value.label) for value in AnswerValue]
STRATIFY_CHOICES = [SelectChoice("", "Do not stratify")] + [SelectChoice(name, COLUMN_LABELS[name]) for name in OPTIONAL_COLUMNS]


class CaseForm(FlaskForm):
    case_reference = StringField(
        "Case reference",
        description="The reference from the case system, like 12345 or CIN/2024/001. Never a child's name.",
        widget=GovTextInput(),
    )
    submit = SubmitField("Add case", widget=GovSubmitInput())


class ImportForm(FlaskForm):
    references = TextAreaField(
        "Paste case references",
        description="One reference a line, as copied from a spreadsheet column",
        widget=GovTextArea(),
    )
    file = FileField(
        "Or upload a CSV file",
        description="A heading row with a column called reference, and optionally team, age_band and worker. Other columns are ignored. Up to 1MB.",
        widget=GovFileInput(),
    )
    submit = SubmitField("Add cases", widget=GovSubmitInput())


class SeedField(StringField):
    """A whole number typed in a text box; blank is None (a new seed is chosen)."""

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_SEED:
            raise ValueError(f"Seed must be a whole number from 0 to {MAX_SEED}")
        self.data = int(text)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class DrawForm(FlaskForm):
    file = FileField(
        "Case list",
        description="A CSV file with a heading row: reference, and optionally team, age_band and worker. Other columns are ignored. Up to 1MB.",
        widget=GovFileInput(),
    )
    number = WholeNumberField("How many cases to draw", description="For example, 10", subject="Number of cases")
    stratify_by = RadioField(
        "Stratify by (optional)",
        description="Draw from each team, age band or worker in proportion to its share of the list, and at least one from each when the number allows",
        widget=GovRadioInput(),
        coerce=plain_text,
        validate_choice=False,
        choices=STRATIFY_CHOICES,
        default="",
    )
    exclude_months = WholeNumberField(
        "Leave out cases audited in the last … months (optional)",
        description="Cases sampled by another audit scheduled in this many months before this audit’s date are not drawn. Leave blank to include them.",
        subject="Number of months",
    )
    seed = SeedField(
        "Seed (optional)",
        description="Leave blank for a new random draw. To repeat an earlier draw, enter its seed and choose the same file and options.",
    )
    submit = SubmitField("Draw cases", widget=GovSubmitInput())


# The grid ---------------------------------------------------------------------------


def grid_form(cases: list[SampledCase], questions: list[Question]) -> FlaskForm:
    """A form with a select for every case and question, a notes box and the hidden
    version of every case: built for the cases on the page."""
    fields = {}
    for case in cases:
        for number, question in enumerate(questions, start=1):
            fields[cell_name(case.id, question.id)] = SelectField(
                f"Case {case.case_reference}, question {number}: {question.text}",
                widget=GovSelect(),
                choices=ANSWER_CHOICES,
                coerce=plain_text,
                validate_choice=False,  # the service says what is wrong
                default="",
            )
        fields[notes_name(case.id)] = TextAreaField(f"Notes on case {case.case_reference}", widget=GovTextArea())
        fields[version_name(case.id)] = HiddenField()
    return type("GridForm", (FlaskForm,), fields)()


def fill_grid(form: FlaskForm, cases: list[SampledCase], questions: list[Question]) -> None:
    """What is saved now, for a GET."""
    for case in cases:
        saved = {a.question_id: a.value.value for a in case.answers}
        for question in questions:
            form[cell_name(case.id, question.id)].data = saved.get(question.id, "")
        form[notes_name(case.id)].data = case.notes or ""
        form[version_name(case.id)].data = case_version(case, questions)


def grid_inputs(form: FlaskForm, cases: list[SampledCase], questions: list[Question], sent) -> dict[int, CaseInput]:
    """The grid as the service takes it. A cell missing from the post (``sent`` is
    the request's form) is left out, so it keeps its saved answer."""
    inputs = {}
    for case in cases:
        answers = {
            question.id: form[cell_name(case.id, question.id)].data or ""
            for question in questions
            if cell_name(case.id, question.id) in sent
        }
        notes = form[notes_name(case.id)].data if notes_name(case.id) in sent else None
        inputs[case.id] = CaseInput(version=form[version_name(case.id)].data, answers=answers, notes=notes)
    return inputs

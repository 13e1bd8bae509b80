"""The question set form: a title, an optional description and the questions,
one a line. The service (qa_audit.audits.services) checks the rest."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from qa_audit.audits.question_sets import MAX_QUESTIONS
from qa_audit.validation import SUMMARY_MAX, TITLE_MAX

# Up to 50 questions of up to 2,000 characters, and the line breaks between them.
QUESTIONS_MAX = MAX_QUESTIONS * (SUMMARY_MAX + 2)


class QuestionSetForm(FlaskForm):
    title = StringField(
        "Title",
        description="For example, Younger children: medical investigations",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter a title"), Length(max=TITLE_MAX, message="Title must be 200 characters or fewer")],
    )
    description = TextAreaField(
        "Description (optional)",
        description="What the dip sample checks and which cases to choose",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=SUMMARY_MAX, message="Description must be 2,000 characters or fewer")],
    )
    questions = TextAreaField(
        "Questions",
        description=f"Enter each question on a new line, in the order auditors answer them. Up to {MAX_QUESTIONS} questions.",
        widget=GovTextArea(),
        validators=[
            InputRequired(message="Enter at least one question"),
            Length(max=QUESTIONS_MAX, message=f"A question set can have up to {MAX_QUESTIONS} questions of up to 2,000 characters each"),
        ],
    )
    version = HiddenField()
    submit = SubmitField("Save question set", widget=GovSubmitInput())

    def question_lines(self) -> list[str]:
        """The questions typed, one a line, blank lines left out."""
        return [line.strip() for line in (self.questions.data or "").splitlines() if line.strip()]


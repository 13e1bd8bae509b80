"""Helpers shared by the domain forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import ValidationError

from qa_audit.errors import InvalidInput
from qa_audit.validation import MAX_ID


def apply_errors(form: FlaskForm, error: InvalidInput) -> None:
    """Show a service's rule errors at the form's fields (or on the first field)."""
    first = next(iter(form), None)
    for name, messages in error.errors.items():
        field = getattr(form, name, None) or first
        field.errors = list(field.errors) + list(messages)
    form._errors = None  # WTForms caches form.errors; recompute with these


def version_of(form: FlaskForm) -> int | None:
    """The record version a form carries in its hidden ``version`` field, if it is one."""
    value = (form.version.data or "").strip()
    return int(value) if value.isascii() and value.isdigit() and int(value) <= MAX_ID else None


class ConfirmForm(FlaskForm):
    """An empty form: a POST button that carries only the CSRF token."""


# Filters of the lists (GET forms): an unknown value gets a GOV.UK message, not WTForms' own.


class FilterCheckboxes(SelectMultipleField):
    """Checkboxes whose unknown values get a GOV.UK message rather than WTForms' own."""

    def __init__(self, label, *, message: str, **kwargs):
        super().__init__(label, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        super().process_formdata([value for value in valuelist if value.strip()])

    def pre_validate(self, form):
        known = {str(choice.value) for choice in self.choices}
        if any(str(value) not in known for value in self.data or []):
            raise ValidationError(self.message)


class FilterSelect(SelectField):
    """A select whose unknown values get a GOV.UK message rather than WTForms' own."""

    def __init__(self, label, *, message: str, **kwargs):
        super().__init__(label, **kwargs)
        self.message = message

    def pre_validate(self, form):
        if self.data and self.data not in {str(choice.value) for choice in self.choices}:
            raise ValidationError(self.message)


def person_choice(user) -> SelectChoice:
    """A person in a select: name and role, and whether they have been deactivated."""
    return SelectChoice(str(user.id), f"{user.name} ({user.role.label})" + ("" if user.active else " – deactivated"))

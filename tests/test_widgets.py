"""The long-list widgets write the same markup as the GOV.UK macros they stand in for."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSelect
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice, SelectField, SelectMultipleField

from qa_audit.widgets import LongCheckboxes, LongSelect

CHOICES = [SelectChoice("", "Anyone")] + [SelectChoice(str(n), f"Person {n} <O'Brien & Co>") for n in range(1, 8)]


def _same(html: str) -> str:
    """Markup with the whitespace between tags and around text evened out."""
    return re.sub(r"\s+", " ", re.sub(r">\s+", ">", re.sub(r"\s+<", "<", str(html)))).strip()


def _form(select_widget, checkboxes_widget, data):
    class Form(FlaskForm):
        owner = SelectField("Owner", choices=CHOICES, widget=select_widget)
        service = SelectMultipleField("Service", choices=CHOICES[1:], widget=checkboxes_widget)

    return Form(formdata=MultiDict(data), meta={"csrf": False})


def test_long_select_and_checkboxes_match_the_govuk_macros(app):
    data = [("owner", "3"), ("service", "2"), ("service", "5")]
    with app.test_request_context():
        govuk = _form(GovSelect(), GovCheckboxesInput(), data)
        fast = _form(LongSelect(), LongCheckboxes(), data)
        for name, params in (("owner", {}), ("service", {"classes": "govuk-checkboxes--small", "fieldset": {"legend": {"text": "Service"}}})):
            expected, actual = _same(govuk[name](params=params)), _same(fast[name](params=params))
            assert actual == expected
        assert 'value="3" selected>' in actual or 'value="3" selected>' in _same(fast.owner())
        assert "&lt;O&#39;Brien &amp; Co&gt;" in _same(fast.owner())


def test_an_error_shows_as_the_govuk_macro_shows_it(app):
    with app.test_request_context():
        govuk = _form(GovSelect(), GovCheckboxesInput(), [])
        fast = _form(LongSelect(), LongCheckboxes(), [])
        for form in (govuk, fast):
            form.owner.errors = ["Select an owner from the list"]
            form.service.errors = ["Select services from the list"]
        assert _same(fast.owner()) == _same(govuk.owner())
        assert _same(fast.service()) == _same(govuk.service())
        assert "govuk-select--error" in _same(fast.owner())

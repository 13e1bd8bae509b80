"""GOV.UK select and checkboxes for the filter forms, with long lists of choices
(people, services, plans) and short ones alike.

govuk-frontend-jinja builds each option and each checkbox through nested macros, at
tens of microseconds apiece, so a filter listing 400 people or 60 services cost more
than the rest of its page (make bench measured it), and ten times as much for a council
ten times the size. These widgets let the GOV.UK macro build the component around an
empty list, then write the options or checkboxes themselves with the macro's markup
(tests/test_widgets.py holds them to it). Plain items only: no hints, dividers or
conditional reveals, which long lists of names never have.
"""

from __future__ import annotations

from govuk_frontend_wtf.gov_form_base import GovFormBase
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSelect
from markupsafe import Markup, escape

_CHECKBOXES_OPEN = 'data-module="govuk-checkboxes">'


class LongSelect(GovSelect):
    """GovSelect, with the options written here."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if "required" not in kwargs and "required" in getattr(field, "flags", []):
            kwargs["required"] = True
        kwargs["items"] = []
        html = str(GovFormBase.__call__(self, field, **kwargs))
        options = "".join(
            f'\n        <option value="{escape(value)}"{" selected" if selected else ""}>{escape(label)}</option>'
            for value, label, selected, *_ in field.iter_choices()
        )
        head, end, tail = html.partition("</select>")
        return Markup(head.rstrip() + options + "\n  " + end + tail)  # nosec B704: the macro's own markup, and every value and label escaped above


class LongCheckboxes(GovCheckboxesInput):
    """GovCheckboxesInput, with the checkboxes written here."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs["items"] = []
        html = str(GovFormBase.__call__(self, field, **kwargs))
        name = escape(field.name)
        boxes = []
        for index, subfield in enumerate(field, start=1):
            box_id = name if index == 1 else f"{name}-{index}"
            checked = " checked" if getattr(subfield, "checked", subfield.data) else ""
            boxes.append(
                f'\n    <div class="govuk-checkboxes__item">'
                f'\n      <input class="govuk-checkboxes__input" id="{box_id}" name="{name}" type="checkbox" value="{escape(subfield._value())}"{checked}>'
                f'\n      <label class="govuk-label govuk-checkboxes__label" for="{box_id}">\n        {escape(subfield.label.text)}\n      </label>'
                "\n    </div>"
            )
        head, opening, tail = html.partition(_CHECKBOXES_OPEN)
        return Markup(head + opening + "".join(boxes) + tail)  # nosec B704: the macro's own markup, and every name, value and label escaped above

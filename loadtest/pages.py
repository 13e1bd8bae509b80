"""Reading the app's pages as a browser would: the fields a form would submit, the
links on a page and the flashed message shown. Standard library only."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ACTION_LINK = re.compile(r'href="/actions/(\d+)"')
SUCCESS_BANNER = re.compile(r'govuk-notification-banner--success.*?govuk-notification-banner__heading">\s*(.*?)\s*</', re.S)
ERROR_BANNER = re.compile(r'govuk-notification-banner__title"[^>]*>\s*There is a problem.*?govuk-notification-banner__heading">\s*(.*?)\s*</', re.S)


class Form:
    """One <form>: its method, action and the (name, value) pairs it would submit
    as it stands (checked radios and boxes, selected options, textarea text)."""

    def __init__(self, method: str, action: str | None):
        self.method = method
        self.action = action
        self.fields: list[tuple[str, str]] = []

    def names(self) -> set[str]:
        return {name for name, _ in self.fields}

    def value(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)

    def data(self, **changes: str) -> list[tuple[str, str]]:
        """What the browser would send with these fields changed (and added if missing)."""
        sent, seen = [], set()
        for name, value in self.fields:
            if name in changes:
                if name in seen:
                    continue
                value = changes[name]
                seen.add(name)
            sent.append((name, value))
        sent.extend((name, value) for name, value in changes.items() if name not in seen)
        return sent


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen: str | None = None
        self._option_value: str | None = None
        self._option_text: list[str] | None = None
        self._option_selected = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form((a.get("method") or "get").lower(), a.get("action"))
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag == "input" and a.get("name") and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self._form.fields.append((a["name"], a.get("value", "on" if kind in ("radio", "checkbox") else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._select_first, self._select_chosen = a["name"], None, None
        elif tag == "option" and self._select is not None:
            self._option_value = a.get("value")
            self._option_text = []
            self._option_selected = "selected" in a
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)
        if self._option_text is not None:
            self._option_text.append(data)

    def _close_option(self):
        if self._option_text is None:
            return
        value = self._option_value if self._option_value is not None else "".join(self._option_text).strip()
        if self._select_first is None:
            self._select_first = value
        if self._option_selected:
            self._select_chosen = value
        self._option_text = None

    def handle_endtag(self, tag):
        if tag == "option":
            self._close_option()
        elif tag == "select" and self._select is not None:
            self._close_option()
            chosen = self._select_chosen if self._select_chosen is not None else (self._select_first or "")
            self._form.fields.append((self._select, chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self._form.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def form_with(html: str, field: str) -> Form | None:
    """The POST form that has this field (the header's sign-out form has only the CSRF token)."""
    return next((f for f in forms(html) if f.method == "post" and field in f.names()), None)


def action_ids(html: str, section_id: str | None = None) -> list[int]:
    """The ids of actions linked from the page, or from the table with this id."""
    if section_id is not None:
        start = html.find(f'id="{section_id}"')
        if start < 0:
            return []
        end = html.find("</table>", start)
        html = html[start:end if end > 0 else None]
    seen: dict[int, None] = {}
    for match in ACTION_LINK.finditer(html):
        seen.setdefault(int(match.group(1)))
    return list(seen)


def success_message(html: str) -> str | None:
    match = SUCCESS_BANNER.search(html)
    return match.group(1) if match else None


def error_message(html: str) -> str | None:
    match = ERROR_BANNER.search(html)
    return match.group(1) if match else None

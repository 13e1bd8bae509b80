"""Checks shared by every service, worded as GOV.UK error messages."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")

from datetime import date

# Dates the application accepts: far enough back for old plans, and never near the
# end of the calendar (date arithmetic on 31 December 9999 overflows).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)

# The largest id the database's integer columns hold: a larger one is no record
# (404) or bad input (422), never a database overflow.
MAX_ID = 2**31 - 1

TITLE_MAX = 200
SUMMARY_MAX = 2000
TEXT_MAX = 10000


def check_text(
    errors: dict[str, list[str]],
    field: str,
    value: str | None,
    *,
    label: str,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
    missing_message: str | None = None,
) -> str | None:
    """Trimmed text, or None when empty; adds the problem to ``errors``."""
    text = (value or "").strip()
    if not text:
        if required:
            errors.setdefault(field, []).append(missing_message or f"Enter {label.lower()}")
        return None
    if len(text) > max_length:
        errors.setdefault(field, []).append(f"{label} must be {max_length:,} characters or fewer")
    elif (CONTROL if multiline else CONTROL_ONE_LINE).search(text):
        errors.setdefault(field, []).append(f"{label} must not contain control characters")
    return text

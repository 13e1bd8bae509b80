"""Password rules as the NCSC advises: long enough, not common, no composition rules."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 256  # NCSC: no maximum below 128; this only stops absurd input


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from public breaches.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why this password cannot be used, in GOV.UK error-message words, or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) < 4:
        return "Password is too common. Choose a password that is harder to guess"
    for personal in (email.lower(), email.lower().split("@")[0], name.lower()):
        if personal and len(personal) >= 4 and personal in lowered:
            return "Password must not contain your name or email address"
    return None


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


# A hash to check against when the email is unknown, so a wrong email takes as
# long as a wrong password and timing does not reveal which accounts exist.
@lru_cache(maxsize=4)
def dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password-for-timing", method=method)

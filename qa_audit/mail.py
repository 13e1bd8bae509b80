"""Sending email: through SMTP when MAIL_SERVER is set, otherwise into instance/outbox/
(development and tests), so nothing is sent by accident from a laptop."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

from flask import current_app


def outbox() -> Path:
    folder = Path(current_app.config.get("MAIL_OUTBOX") or Path(current_app.instance_path) / "outbox")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def send(to: str, subject: str, body: str) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM", "qa-audit@localhost")
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not config.get("MAIL_SERVER"):
        path = outbox() / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(message))
        return
    with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 587)), timeout=30) as smtp:
        if config.get("MAIL_USE_TLS", True):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        smtp.send_message(message)

"""Every e-mail (moto's) SES accepts, written to an outbox directory as an ``.eml`` file.

moto's SES keeps messages in memory with one body part; the outbox keeps what a mail client would
show (both the Text and the Html part), and lists the messages for tests.
"""

from __future__ import annotations

import email.message
import email.policy
import json
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_string
from pathlib import Path
from typing import Any

from infra.localstack.process import Patch, active

_tls = threading.local()


@dataclass
class OutboxMessage:
    """One e-mail accepted by (moto's) SES. ``from_`` / ``msg["from"]`` are the sender."""

    to: list[str]
    sender: str
    subject: str
    text: str | None
    html: str | None
    path: Path
    message_id: str = ""
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)

    @property
    def from_(self) -> str:
        return self.sender

    def __getitem__(self, key: str) -> Any:
        return self.sender if key == "from" else getattr(self, key)


class Outbox:
    """The ``.eml`` files of one stack, in sending order."""

    def __init__(self, directory: Path, now: Callable[[], datetime]) -> None:
        self.directory = directory
        self.messages: list[OutboxMessage] = []
        self._now = now
        self._seq = 0
        self._lock = threading.Lock()

    def open(self) -> None:
        """Start empty: an outbox shows what this stack sent."""
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def record(self, sender: str, to: list[str], subject: str, text: str | None, html: str | None,
               message_id: str, cc: list[str] | None = None, bcc: list[str] | None = None) -> None:
        msg = email.message.EmailMessage(policy=email.policy.SMTP)
        msg["From"] = sender
        msg["To"] = ", ".join(to)
        if cc:
            msg["Cc"] = ", ".join(cc)
        msg["Subject"] = subject
        msg["Date"] = self._now().strftime("%a, %d %b %Y %H:%M:%S +0000")
        msg["Message-ID"] = f"<{message_id}@email.amazonses.com>"
        msg.set_content(text or "")
        if html:
            msg.add_alternative(html, subtype="html")
        self._write(msg.as_bytes(), OutboxMessage(list(to), sender, subject, text, html, Path(), message_id,
                                                  list(cc or []), list(bcc or [])))

    def record_raw(self, raw: str, message_id: str, destinations: list[str]) -> None:
        parsed = message_from_string(raw, policy=email.policy.default)
        text = html = None
        for part in parsed.walk():
            ctype = part.get_content_type()
            if ctype == "text/plain" and text is None and not part.is_attachment():
                text = part.get_content()  # type: ignore[attr-defined]
            elif ctype == "text/html" and html is None and not part.is_attachment():
                html = part.get_content()  # type: ignore[attr-defined]
        to = [a.strip() for a in str(parsed.get("To", "")).split(",") if a.strip()] or list(destinations)
        self._write(raw.encode(), OutboxMessage(to, str(parsed.get("From", "")), str(parsed.get("Subject", "")),
                                                text, html, Path(), message_id))

    def _write(self, data: bytes, message: OutboxMessage) -> None:
        with self._lock:
            self._seq += 1
            slug = re.sub(r"[^a-z0-9]+", "-", message.subject.lower()).strip("-")[:40] or "mail"
            message.path = self.directory / f"{self._seq:04d}-{slug}.eml"
            message.path.write_bytes(data)
            self.messages.append(message)


# -- moto patches -----------------------------------------------------------------------------------
def _capture_v1_parts(resp: Any) -> Any:
    """Wraps ``moto.ses.responses.EmailResponse.send_email``: moto keeps only one body part.

    WHY: the outbox needs both the Text and the Html part; the backend method only receives one.
    """
    _tls.mail_parts = (resp._get_param("Message.Body.Text.Data"), resp._get_param("Message.Body.Html.Data"))
    try:
        return SES_V1_RESPONSE.original(resp)
    finally:
        _tls.mail_parts = None


def _capture_v2_parts(resp: Any) -> Any:
    """Wraps ``moto.sesv2.responses.SESV2Response.send_email`` for the same reason (Simple content)."""
    try:
        body = (json.loads(resp.body).get("Content") or {}).get("Simple", {}).get("Body", {})
        _tls.mail_parts = ((body.get("Text") or {}).get("Data"), (body.get("Html") or {}).get("Data"))
    except (ValueError, AttributeError):
        _tls.mail_parts = None
    try:
        return SES_V2_RESPONSE.original(resp)
    finally:
        _tls.mail_parts = None


def _patched_send_email(backend: Any, source: str, subject: str, body: str,
                        destinations: dict[str, list[str]]) -> Any:
    """Wraps ``moto.ses.models.SESBackend.send_email`` (SES v1 and v2 Simple both end here).

    WHY: the outbox is written only for mail SES accepted (verified sender, valid addresses).
    """
    message = SEND_EMAIL.original(backend, source, subject, body, destinations)
    stack = active()
    if stack is not None:
        parts = getattr(_tls, "mail_parts", None) or (body, None)
        stack.mail.record(source, destinations.get("ToAddresses", []), subject, parts[0], parts[1], message.id,
                          destinations.get("CcAddresses", []), destinations.get("BccAddresses", []))
    return message


def _patched_send_raw_email(backend: Any, source: str, destinations: list[str], raw_data: str) -> Any:
    """Wraps ``moto.ses.models.SESBackend.send_raw_email`` (v1 raw and v2 Raw content)."""
    message = SEND_RAW_EMAIL.original(backend, source, list(destinations), raw_data)
    stack = active()
    if stack is not None:
        stack.mail.record_raw(raw_data, message.id, destinations)
    return message


SES_V1_RESPONSE = Patch("moto.ses.responses", "EmailResponse", "send_email", _capture_v1_parts)
SES_V2_RESPONSE = Patch("moto.sesv2.responses", "SESV2Response", "send_email", _capture_v2_parts)
SEND_EMAIL = Patch("moto.ses.models", "SESBackend", "send_email", _patched_send_email)
SEND_RAW_EMAIL = Patch("moto.ses.models", "SESBackend", "send_raw_email", _patched_send_raw_email)
PATCHES = (SES_V1_RESPONSE, SES_V2_RESPONSE, SEND_EMAIL, SEND_RAW_EMAIL)

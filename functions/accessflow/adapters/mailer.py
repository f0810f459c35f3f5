"""E-mail behind a small interface; SES v2 in production (and on moto locally)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class DeliveryFailed(Exception):
    """The message was refused (bad address, unverified sender, suppressed recipient...)."""


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str
    tags: dict[str, str] = field(default_factory=dict)  # SES message tags: come back on bounce events


class Mailer(Protocol):
    def send(self, message: Message) -> str: ...


class SesMailer:
    def __init__(self, sender: str, configuration_set: str | None = None, client: Any = None) -> None:
        self._sender = sender
        self._configuration_set = configuration_set
        self._client = client

    def _ses(self) -> Any:
        if self._client is None:
            from accessflow.adapters.clients import client

            self._client = client("sesv2")
        return self._client

    def send(self, message: Message) -> str:
        from botocore.exceptions import ClientError

        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [message.to]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                }
            },
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        if message.tags:
            request["EmailTags"] = [{"Name": k, "Value": v} for k, v in message.tags.items()]
        try:
            response = self._ses().send_email(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"MessageRejected", "MailFromDomainNotVerifiedException", "AccountSuspendedException",
                        "SendingPausedException", "BadRequestException", "NotFoundException"}:
                raise DeliveryFailed(f"{code}: {exc.response['Error'].get('Message', '')}") from exc
            raise
        return str(response.get("MessageId", ""))

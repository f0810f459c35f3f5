"""Configuration: environment variables set by ``template.yaml``, read once into a validated model
per function. Nothing names a table, bus, queue or state machine in code."""

from __future__ import annotations

import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    """What every function needs."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    aws_region: str | None = Field(default=None, alias="AWS_REGION")


class MailSettings(Settings):
    sender_email: str = Field(alias="SENDER_EMAIL", min_length=3)
    ses_configuration_set: str | None = Field(default=None, alias="SES_CONFIGURATION_SET")
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", min_length=1)


class OnboardingTaskSettings(MailSettings):
    """The onboarding state machine's Lambda tasks."""


class OffboardingTaskSettings(Settings):
    """The offboarding state machine's Lambda tasks (table and bus only)."""


class IntakeSettings(Settings):
    onboarding_state_machine_arn: str = Field(alias="ONBOARDING_STATE_MACHINE_ARN")
    offboarding_state_machine_arn: str = Field(alias="OFFBOARDING_STATE_MACHINE_ARN")
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME")
    dead_letter_queue_url: str = Field(alias="INTAKE_DLQ_URL")


class ApiSettings(MailSettings):
    onboarding_state_machine_arn: str = Field(alias="ONBOARDING_STATE_MACHINE_ARN")
    offboarding_state_machine_arn: str = Field(alias="OFFBOARDING_STATE_MACHINE_ARN")
    # The browser pages sign in at the issuer the JWT authorizer trusts, as the client it expects.
    oidc_issuer: str = Field(alias="OIDC_ISSUER", pattern=r"^https?://[^/\s]+")
    oidc_client_id: str = Field(alias="OIDC_CLIENT_ID", min_length=1)
    # Where the IdP's token endpoint lives when not on the issuer's origin (Cognito's hosted domain).
    oidc_endpoint_origins: str = Field(default="", alias="OIDC_ENDPOINT_ORIGINS",
                                       pattern=r"^(\s*https?://[^/\s]+/?\s*)*$")


class SweepSettings(MailSettings):
    """The scheduled expiry sweep: how much one run may do (the next run continues)."""

    max_items: int = Field(default=500, alias="SWEEP_MAX_ITEMS", ge=1, le=10000)
    page_size: int = Field(default=100, alias="SWEEP_PAGE_SIZE", ge=1, le=1000)


S = TypeVar("S", bound=Settings)


class ConfigurationError(RuntimeError):
    pass


@cache
def load(model: type[S]) -> S:
    """Read and validate once per function instance (at cold start), and bind the store."""
    env = {k: v for k, v in os.environ.items() if v != ""}
    try:
        settings = model.model_validate(env)
    except ValidationError as exc:
        raise ConfigurationError(f"{model.__name__}: invalid environment: {exc}") from exc
    from accessflow.observability import configure_from_environment
    from accessflow.store.models import bind

    configure_from_environment()
    bind(settings.table_name, settings.aws_region or os.environ.get("AWS_DEFAULT_REGION"))
    return settings


class ScimSettings(MailSettings):
    """The SCIM endpoint: it starts onboarding and offboarding executions."""

    onboarding_state_machine_arn: str = Field(alias="ONBOARDING_STATE_MACHINE_ARN")
    offboarding_state_machine_arn: str = Field(alias="OFFBOARDING_STATE_MACHINE_ARN")


# --- issue 11: access reviews ---
class ReviewSettings(MailSettings):
    """Whoever starts a review campaign (the API's review routes, the schedule): its state machine."""

    review_state_machine_arn: str = Field(alias="REVIEW_STATE_MACHINE_ARN")


class ReviewTaskSettings(MailSettings):
    """The review state machine's Lambda tasks (e-mails, close)."""

    review_apply_page: int = Field(default=2000, alias="REVIEW_APPLY_PAGE", ge=1, le=10000)

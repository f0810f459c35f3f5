"""Routes: bulk onboarding from a CSV file (issue 11)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field, model_validator

from accessflow.adapters.clock import utcnow
from accessflow.domain import bulk
from accessflow.domain.errors import InvalidInput
from accessflow.handlers.http import admin_caller, app, ctx, json_response, settings, workflow
from accessflow.usecases import bulk as bulk_usecase


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BulkRow(_Strict):
    """A row as an object: the file's columns. Cells are checked per row (a verdict), not here."""

    email: str = Field(default="", max_length=320)
    name: str = Field(default="", max_length=1000)
    account: str = Field(default="", max_length=200)
    role: str = Field(default="", max_length=50)
    employee_id: str | None = Field(default=None, max_length=1000)


class BulkBody(_Strict):
    """Exactly one of ``csv`` (the file's text, docs/bulk.md) or ``rows`` (the same columns as objects)."""

    csv: str | None = Field(default=None, max_length=2_000_000, description="The CSV file's text (UTF-8).")
    rows: list[BulkRow] | None = Field(default=None, description="The rows as objects, instead of csv.")
    dry_run: bool = Field(default=False, description="Only validate: per-row verdicts, nothing written.")
    import_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$",
                                  description="Your id for this import: the same id again creates nothing more.")

    @model_validator(mode="after")
    def _one_source(self) -> BulkBody:
        if (self.csv is None) == (self.rows is None):
            raise ValueError("give exactly one of csv (the file's text) or rows")
        return self


def _rows(body: BulkBody) -> list[bulk.Row]:
    if body.csv is not None:
        return bulk.parse_csv(body.csv)
    return bulk.rows_from_dicts([r.model_dump() for r in body.rows or []])


@app.post("/businesses/<business_id>/invitations:bulk")
def bulk_invite(business_id: str, body: Annotated[BulkBody, Body()]) -> Response[str]:
    """Invite up to 1,000 people from a CSV file (email, name, account, role, employee_id?). The file is
    validated as a whole first; ``dry_run`` returns every row's verdict and writes nothing. Otherwise the
    import is recorded and each valid person gets their own onboarding: 202 with the import's id, whose
    ``GET …/imports/{import_id}`` shows progress and per-row results. The same ``import_id`` again creates
    nothing more (200, the import as it is)."""
    me = admin_caller(business_id)
    rows = _rows(body)
    if body.dry_run:
        return json_response(200, bulk_usecase.dry_run(business_id, rows, me))
    s = settings()
    if not s.bulk_state_machine_arn:
        raise InvalidInput("Bulk onboarding is not configured on this deployment.")
    done = bulk_usecase.submit(business_id, rows, me, import_id=body.import_id, workflow=workflow(),
                               state_machine_arn=s.bulk_state_machine_arn, ctx=ctx(me), now=utcnow())
    location = f"/businesses/{business_id}/imports/{done.import_id}"
    return json_response(202 if done.created else 200, done.view, {"Location": location})


@app.get("/businesses/<business_id>/imports/<import_id>")
def get_import(business_id: str, import_id: str) -> dict[str, Any]:
    """A bulk import: its status, counts and every row's result (created, duplicate, refused with the
    reason, failed; pending while it runs)."""
    admin_caller(business_id)
    return bulk_usecase.status(business_id, import_id)

"""Routes: a business's accounts (list, add, rename, retire) and the caller's own view (``/me``)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from accessflow.adapters.clock import utcnow
from accessflow.api_models import AccountsPage, AccountView, AddAccountBody, Me, RenameAccountBody
from accessflow.handlers.http import ID_PATTERN, app, caller, caller_member, caller_name, ctx
from accessflow.schemas import RejectBody
from accessflow.usecases import accounts, me

IdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]
_CREATED = {201: {"description": "The account, added; the caller is its Admin.",
                  "content": {"application/json": {"model": AccountView}}}}


@app.get("/me")
def whoami() -> Me:
    """The caller (login, e-mail, name) and every business where they are an ACTIVE member: its name,
    their member id and their role per account. Any signed-in login; never 404 (an empty list)."""
    return Me.model_validate(me.whoami(caller(), name=caller_name()))


@app.get("/businesses/<business_id>/accounts")
def list_accounts(
    business_id: IdPath, status: Annotated[Literal["ACTIVE", "RETIRED"] | None, Query()] = None,
) -> AccountsPage:
    """The business's accounts (retired ones too, unless filtered), with their Admin count and the
    caller's role on each. Admins of any of its accounts."""
    member = caller_member(business_id)
    return AccountsPage.model_validate({"accounts": accounts.list_accounts(business_id, member, status=status)})


@app.post("/businesses/<business_id>/accounts", responses=_CREATED)  # type: ignore[arg-type]
def add_account(business_id: IdPath, body: Annotated[AddAccountBody, Body()]) -> Response[str]:
    """Add an account. Admin of at least one account of the business; the caller becomes the new
    account's Admin in the same transaction. 409 if the id exists (even retired)."""
    member = caller_member(business_id)
    view = accounts.add(business_id, member, account_id=body.account_id, display_name=body.display_name,
                        platform=body.platform, ctx=ctx(member), now=utcnow())
    return Response(status_code=201, content_type="application/json", body=AccountView.model_validate(view)
                    .model_dump_json(), headers={"Location": f"/businesses/{business_id}/accounts/{body.account_id}"})


@app.patch("/businesses/<business_id>/accounts/<account_id>")
def rename_account(business_id: IdPath, account_id: IdPath, body: Annotated[RenameAccountBody, Body()]) -> AccountView:
    """Rename an account (its id stays). Admin of that account; a retired account cannot be renamed."""
    member = caller_member(business_id)
    return AccountView.model_validate(accounts.rename(business_id, member, account_id, display_name=body.display_name,
                                                      ctx=ctx(member), now=utcnow()))


@app.post("/businesses/<business_id>/accounts/<account_id>/retire")
def retire_account(
    business_id: IdPath, account_id: IdPath, body: Annotated[RejectBody | None, Body()] = None,
) -> AccountView:
    """Retire an account (optionally saying why). Admin of that account. Refused (409
    ``account-in-use``, listing them) while anyone else holds a role on it or a pending or accepted
    invitation names it; the caller's own Admin grant ends with the retirement. Nobody can be invited
    to or given a role on a retired account; its history stays."""
    member = caller_member(business_id)
    view = accounts.retire(business_id, member, account_id, ctx=ctx(member, reason=body.reason if body else None),
                           now=utcnow())
    return AccountView.model_validate(view)


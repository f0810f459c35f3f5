"""Routes: what Admins set up for SCIM provisioning — the business's SCIM bearer tokens and the
access bundles (SCIM Groups) with their grants. The SCIM endpoint itself is ``handlers/scim.py``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel, ConfigDict, Field

from accessflow.adapters.clock import utcnow
from accessflow.domain import rules
from accessflow.domain.model import Grant
from accessflow.handlers.http import ID_PATTERN, app, caller_member, ctx, settings, workflow
from accessflow.store import repository as store
from accessflow.usecases import scim_tokens

IdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TokenBody(_Strict):
    name: str = Field(min_length=1, max_length=64,
                      description="Who uses the token (e.g. 'okta'); audit entries of its changes say scim:<name>.")


class TokenView(BaseModel):
    token_id: str
    name: str
    status: str
    created_at: str | None = None
    created_by: str | None = None
    rotated_at: str | None = None
    revoked_at: str | None = None
    last_used_at: str | None = None


class NewTokenView(TokenView):
    token: str = Field(description="The bearer token. Shown once: store it in the identity provider now.")
    scim_base_url: str = Field(description="The SCIM 2.0 base URL (tenant URL) to configure in the identity provider.")


class TokensPage(BaseModel):
    tokens: list[TokenView]


class BundleBody(_Strict):
    display_name: str = Field(min_length=1, max_length=200, description="The group name the IdP shows.")
    grants: list[Grant] = Field(default_factory=list, max_length=50)


class GrantsBody(_Strict):
    grants: list[Grant] = Field(max_length=50)


class BundleView(BaseModel):
    group_id: str
    display_name: str
    external_id: str | None = None
    grants: list[Grant]
    created_by: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    members: int | None = None


class BundlesPage(BaseModel):
    bundles: list[BundleView]


def _admin_of_business(business_id: str) -> str:
    """SCIM tokens: Admin of every account of the business (a token provisions all of them)."""
    me = caller_member(business_id)
    accounts = [a.account_id for a in store.get_accounts(business_id)]
    rules.require_admin_of(store.roles_of(business_id, me.member_id), accounts)
    return me.member_id


def _scim_base(business_id: str) -> str:
    return f"{settings().public_base_url.rstrip('/')}/scim/v2/businesses/{business_id}"


@app.post("/businesses/<business_id>/scim-tokens")
def create_scim_token(business_id: IdPath, body: Annotated[TokenBody, Body()]) -> Response[str]:
    """Create a SCIM bearer token for the business's identity provider. The token is in this answer
    only (only its hash is stored). Admins of every account of the business."""
    member_id = _admin_of_business(business_id)
    view = scim_tokens.create(business_id, body.name, ctx=ctx(member_id), now=utcnow())
    out = NewTokenView.model_validate(view | {"scim_base_url": _scim_base(business_id)})
    return Response(status_code=201, content_type="application/json", body=out.model_dump_json())


@app.get("/businesses/<business_id>/scim-tokens")
def list_scim_tokens(business_id: IdPath) -> TokensPage:
    """The business's SCIM tokens (never their secrets). Admins of every account of the business."""
    _admin_of_business(business_id)
    return TokensPage.model_validate({"tokens": scim_tokens.list_tokens(business_id)})


@app.post("/businesses/<business_id>/scim-tokens/<token_id>/rotate")
def rotate_scim_token(business_id: IdPath, token_id: IdPath) -> NewTokenView:
    """A new secret for the token (the old one stops working at once), shown in this answer only."""
    member_id = _admin_of_business(business_id)
    view = scim_tokens.rotate(business_id, token_id, ctx=ctx(member_id), now=utcnow())
    return NewTokenView.model_validate(view | {"scim_base_url": _scim_base(business_id)})


@app.delete("/businesses/<business_id>/scim-tokens/<token_id>")
def revoke_scim_token(business_id: IdPath, token_id: IdPath) -> TokenView:
    """Revoke the token: the identity provider's next call is refused (401)."""
    member_id = _admin_of_business(business_id)
    return TokenView.model_validate(scim_tokens.revoke(business_id, token_id, ctx=ctx(member_id), now=utcnow()))


@app.get("/businesses/<business_id>/bundles")
def list_bundles(business_id: IdPath) -> BundlesPage:
    """The access bundles (SCIM Groups) with their grants and member counts (Admins of any account)."""
    from accessflow.usecases import scim  # scim2-models: loaded by the bundle routes only

    me = caller_member(business_id)
    rules.require_admin_of_any(store.roles_of(business_id, me.member_id))
    return BundlesPage.model_validate({"bundles": scim.list_bundles(business_id)})


@app.post("/businesses/<business_id>/bundles")
def create_bundle(business_id: IdPath, body: Annotated[BundleBody, Body()]) -> Response[str]:
    """Define an access bundle: a group name and its (account, role) grants. The caller must be Admin
    of every account it grants on (no escalation through a group)."""
    from accessflow.usecases import scim

    me = caller_member(business_id)
    view = scim.create_bundle(business_id, me, body.display_name, body.grants, ctx=ctx(me.member_id), now=utcnow())
    return Response(status_code=201, content_type="application/json",
                    body=json.dumps(BundleView.model_validate(view).model_dump(mode="json")))


@app.put("/businesses/<business_id>/bundles/<group_id>/grants")
def set_bundle_grants(business_id: IdPath, group_id: IdPath, body: Annotated[GrantsBody, Body()]) -> BundleView:
    """Set a bundle's grants (Admin of every account it granted on and grants on). Its members get the
    new grants proposed (an invitation, confirmed like any other) and lose those it no longer gives."""
    from accessflow.usecases import scim

    me = caller_member(business_id)
    s = settings()
    effects = scim.Effects(workflow(), s.onboarding_state_machine_arn, s.offboarding_state_machine_arn)
    view: dict[str, Any] = scim.set_bundle_grants(business_id, me, group_id, body.grants, effects=effects,
                                                  ctx=ctx(me.member_id), now=utcnow(), base_url=_scim_base(business_id))
    return BundleView.model_validate(view)

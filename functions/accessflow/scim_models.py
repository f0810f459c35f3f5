"""The SCIM 2.0 resources AccessFlow serves (RFC 7643), as ``scim2-models`` pydantic models, and
its discovery documents (ServiceProviderConfig, ResourceTypes, Schemas) derived from them.

The models declare only the attributes AccessFlow keeps, so the published schemas say exactly what
an identity provider may send: anything else is refused (an unknown attribute is an error, never
silently dropped). ``userName`` is the member's e-mail; ``active`` drives onboarding and
offboarding; the enterprise extension carries ``employeeNumber`` (the member's ``employee_id``).
A Group is an access bundle: its grants are defined by Admins through the admin API, never by SCIM.
"""

from __future__ import annotations

from typing import Annotated, Any

from scim2_models import (
    URN as Urn,
)
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Email,
    ETag,
    Extension,
    Filter,
    Group,
    GroupMembership,
    Mutability,
    Name,
    Patch,
    Required,
    Resource,
    ResourceType,
    Schema,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)

#: Most resources one list or filter answers; a larger ``count`` is refused with ``tooMany``.
MAX_RESULTS = 100

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CONTENT_TYPE = "application/scim+json"

#: The RFC read strictly (unknown attributes refused), with the two tolerances Microsoft Entra ID
#: needs: a ``remove`` carrying the members to remove as its ``value`` (instead of a path filter),
#: and a ``replace`` whose path filter matches nothing creating that entry. Entra's other quirks
#: (``"op": "Replace"``, booleans as ``"True"``/``"False"``) are accepted by scim2-models anyway.
POLICY = ScimPolicy(remove_value_as_filter=ScimPolicy.RemoveValue.apply,
                    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create)


class EnterpriseUser(Extension):
    """The enterprise extension, reduced to what AccessFlow keeps: the HR employee number."""

    __schema__ = Urn(ENTERPRISE_SCHEMA)

    employee_number: str | None = None
    """The HR system's identifier of the person (AccessFlow's ``employee_id``)."""


class User(Resource[EnterpriseUser]):
    """A person the identity provider provisions: a member of the business once onboarded."""

    __schema__ = Urn(USER_SCHEMA)

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    """The member's e-mail address (case-insensitive): the invitation goes there, and the invitee
    must sign in with it."""

    name: Name | None = None
    display_name: str | None = None
    active: bool | None = None
    """false (or DELETE) offboards the member; true again starts a fresh onboarding."""

    emails: list[Email] | None = None
    groups: Annotated[list[GroupMembership] | None, Mutability.read_only] = None
    """The access bundles the user is a member of (read-only: change them through the Groups)."""


ScimUser = User[EnterpriseUser]  # type: ignore[type-arg]
ScimGroup = Group


def service_provider_config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken, name="SCIM bearer token", primary=True,
            description=(
                "A per-business token an Admin creates in AccessFlow (POST /businesses/{id}/scim-tokens); "
                "send it as 'Authorization: Bearer scim_...'. Filters: userName eq, externalId eq, "
                "emails.value eq (and/or) on Users; displayName eq, externalId eq on Groups. Not supported: "
                "bulk, sort, etag, changePassword, and POST /.search across resource types (501)."),
        )],
    )


def resource_types() -> list[ResourceType]:
    return [ResourceType.from_resource(ScimUser), ResourceType.from_resource(ScimGroup)]


def schemas() -> list[Schema]:
    return [User.to_schema(), Group.to_schema(), EnterpriseUser.to_schema()]


def dump(obj: Any, **kwargs: Any) -> dict[str, Any]:
    from scim2_models import Context

    result: dict[str, Any] = obj.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, **kwargs)
    return result

"""HTTP routes by area; importing this package registers them all on the resolver."""

from accessflow.handlers.routes import (
    audit,
    business,
    invitations,
    invitee,
    members,
    offboarding,
    review,
    scim_admin,
)

__all__ = ["audit", "business", "invitations", "invitee", "members", "offboarding", "review", "scim_admin"]

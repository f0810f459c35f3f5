"""HTTP routes by area; importing this package registers them all on the resolver."""

from accessflow.handlers.routes import (
    accounts,
    audit,
    business,
    invitations,
    invitee,
    members,
    offboarding,
    review,
    reviews,
    scim_admin,
    web,
)

__all__ = ["accounts", "audit", "business", "invitations", "invitee", "members", "offboarding", "review", "reviews",
           "scim_admin", "web"]

"""HTTP routes by area; importing this package registers them all on the resolver."""

from accessflow.handlers.routes import (
    accounts,
    audit,
    bulk,
    business,
    invitations,
    invitee,
    leaver_guard,
    members,
    mover,
    offboarding,
    review,
    reviews,
    scim_admin,
    web,
)

__all__ = ["accounts", "audit", "bulk", "business", "invitations", "invitee", "leaver_guard", "members", "mover",
           "offboarding", "review", "reviews", "scim_admin", "web"]

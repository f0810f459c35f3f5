"""Domain errors.

Every error a user can see is one of these. Each carries the HTTP status and a stable problem
``type`` slug so the API renders RFC 9457 ``application/problem+json`` bodies, and Step Functions
tasks raise them by class name so the ASL's Retry/Catch can match them.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: a refusal with a reason the caller can act on."""

    status: int = 400
    slug: str = "invalid-request"
    title: str = "Invalid request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://accessflow.dev/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class InvalidInput(DomainError):
    status, slug, title = 400, "invalid-input", "The request is not valid"


class Unauthenticated(DomainError):
    status, slug, title = 401, "unauthenticated", "Authentication required"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Not allowed"


class MfaRequired(Forbidden):
    slug, title = "mfa-required", "Multi-factor authentication required"


class EmailMismatch(Forbidden):
    slug, title = "email-mismatch", "This invitation was sent to another e-mail address"


class EmailNotVerified(EmailMismatch):
    """The login has no verified e-mail: a different next step (verify it at the IdP) than a mismatch."""

    slug, title = "email-not-verified", "Your e-mail address is not verified"


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict with the current state"


class AlreadyUsed(Conflict):
    slug, title = "invitation-already-used", "This invitation has already been used"


class LoginAlreadyLinked(Conflict):
    slug, title = "login-already-linked", "This login is already linked to another member"


class LastAdmin(Conflict):
    slug, title = "last-admin", "An account must keep at least one Admin"


class AdminLimitReached(Conflict):
    slug, title = "admin-limit", "The account already has the maximum number of Admins"


class Gone(DomainError):
    status, slug, title = 410, "invitation-expired", "This invitation has expired"


class TooManyRequests(DomainError):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, retry_after: int, **extensions: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extensions)
        self.retry_after = retry_after


class TransactionConflict(DomainError):
    """DynamoDB cancelled a transaction for a reason that passes (another transaction on the same item,
    throttling): nothing was written; trying again is the fix. The state machines retry it by this
    name; the API answers 503 with ``Retry-After``."""

    status, slug, title = 503, "try-again", "Busy, try again"

    def __init__(self, detail: str, retry_after: int = 1, **extensions: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extensions)


class UnknownBusiness(NotFound):
    slug, title = "unknown-business", "Unknown business"


class UnknownAccount(InvalidInput):
    slug, title = "unknown-account", "Unknown account"


class AccountRetired(Conflict):
    slug, title = "account-retired", "The account is retired"


class AccountInUse(Conflict):
    """Retiring an account someone still holds or is invited to: the problem lists what to revoke."""

    slug, title = "account-in-use", "The account still has members or invitations"


# --- Workflow signals. Step Functions Catch clauses match these class names. ---------------------


class InvitationExpired(Exception):
    """Sent to a waiting onboarding execution when its invitation expired."""


class InvitationRevoked(Exception):
    """Sent to a waiting onboarding execution when its invitation was revoked or cancelled."""


class InvitationRejected(Exception):
    """Sent to a waiting onboarding execution when an admin declined the proposed role."""



class RecordRejected(Exception):
    """Onboarding request refers to something that does not exist or breaks a policy."""


class TransactionFailed(Exception):
    """DynamoDB cancelled a transaction for a reason no retry fixes (a validation error, an item too
    large...): nothing was written; the cancellation reasons are logged and in the message."""


class ThrottledError(Exception):
    """A dependency throttled us; retried with backoff by the state machine."""


class VerificationFailed(Exception):
    """Offboarding verification found access left behind."""


class MemberNotOffboardable(Exception):
    """The member's state does not allow the offboarding to proceed (it ended elsewhere)."""

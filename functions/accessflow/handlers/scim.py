"""Lambda entry points of the SCIM 2.0 service provider (``ScimFunction``, ``ScimFollowUpFunction``).

The provider itself (``handlers/scim_service.py``) needs ``scim2-models``, pydantic and the store:
loaded at module level they tripled the function's cold start (``make bench``:
``cold_import_ratio_accessflow.handlers.scim``), so they load on the first invocation instead, like
every other handler's use cases (``accessflow.lazy``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accessflow.lazy import lazy_module

if TYPE_CHECKING:
    from accessflow.handlers import scim_service as service
else:
    service = lazy_module("accessflow.handlers.scim_service")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway (payload 2.0) → a SCIM answer; authenticated by the business's SCIM token."""
    return service.handler(event, context)


def follow_up(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge ``member.activated`` → propose what the member's groups still give."""
    return service.follow_up(event, context)

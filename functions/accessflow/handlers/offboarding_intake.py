"""Offboarding requests from HR (filled in by the offboarding work)."""

from __future__ import annotations

from typing import Any


def handle(event: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    from accessflow.handlers.intake import dead_letter

    dead_letter(event, "member.offboarding.requested is not handled yet")
    return {"status": "dead-lettered"}

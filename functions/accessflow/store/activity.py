"""Members' last activity (issue 11; owned by branch ``reviewui``, which records it on authenticated
API calls). Until that lands this is the contract's stub: nobody has recorded activity."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime


def last_activity(business_id: str, member_ids: Iterable[str]) -> dict[str, datetime | None]:
    """Each member's last authenticated API call in the business (absent: never recorded)."""
    return {}

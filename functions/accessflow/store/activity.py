"""Store: the last activity of members (the access review's "last active" and idle flag).

Recording rides on the member item the API already reads to resolve the caller
(``handlers/http.caller_member``): when its ``last_activity_at`` is less than an hour old nothing is
written; otherwise one conditional UpdateItem sets it, and the condition (absent, or older than an
hour) makes concurrent instances write once between them. Reading is one BatchGetItem per 100
members, projected to the one attribute: a key read, never a Scan.

Recording is telemetry, not a state change of the access model: it writes no audit entry (an entry
per member per hour would drown the trail) and never fails the request it rides on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.exceptions import PynamoDBException

from accessflow.domain.activity import WRITE_INTERVAL, needs_write
from accessflow.observability import logger
from accessflow.store.models import MemberItem
from accessflow.store.repository import biz_pk

_BATCH = 100  # BatchGetItem's limit


def record(member: MemberItem, now: datetime) -> bool:
    """Record an authenticated call of ``member`` (the item just read): at most one write an hour.
    True when this call wrote."""
    if not needs_write(member.last_activity_at, now):
        return False
    try:
        member.update(
            actions=[MemberItem.last_activity_at.set(now)],
            condition=MemberItem.pk.exists() & (MemberItem.last_activity_at.does_not_exist()
                                                | (MemberItem.last_activity_at <= now - WRITE_INTERVAL)),
        )
    except PynamoDBException as exc:  # a concurrent instance wrote it (or a throttle): the call goes on
        if "ConditionalCheckFailed" not in str(getattr(exc, "cause_response_code", "") or exc):
            logger.warning("last activity not recorded", extra={"business_id": member.business_id,
                                                                 "error": type(exc).__name__})
        return False
    return True


def last_activity(business_id: str, member_ids: Iterable[str]) -> dict[str, datetime | None]:
    """Each member's last activity (``None`` if never recorded or not a member), by key reads."""
    ids = list(dict.fromkeys(member_ids))
    found: dict[str, datetime | None] = dict.fromkeys(ids)
    keys = [(biz_pk(business_id), f"MEMBER#{m}") for m in ids]
    for start in range(0, len(keys), _BATCH):
        for item in MemberItem.batch_get(keys[start:start + _BATCH],
                                         attributes_to_get=["sk", "last_activity_at"]):
            found[item.sk.removeprefix("MEMBER#")] = item.last_activity_at
    return found

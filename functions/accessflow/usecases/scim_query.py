"""SCIM list and filter queries, answered by key lookups (never a Scan).

The filter is parsed by ``scim2-models`` (RFC 7644 §3.4.2.2 grammar). The forms identity providers
use to match accounts are supported, each a key lookup: on Users ``userName eq``, ``externalId eq``,
``emails.value eq`` (also ``emails eq``), ``id eq``; on Groups ``displayName eq``, ``externalId eq``,
``id eq``; and ``and`` / ``or`` of those (intersection / union of the hits). Anything else is
``invalidFilter`` (RFC 7644 §3.12: "the specified ... filter comparison combination is not
supported"). An unfiltered list pages through the business's items by key order: ``startIndex``
and ``count`` as the RFC defines them, ``count`` at most ``MAX_RESULTS`` (else ``tooMany``).
"""

from __future__ import annotations

from typing import Any

from scim2_models import InvalidFilterException, InvalidValueException, ScimFilter, TooManyException
from scim2_models.path import CompareOperator, Comparison, LogicalExpr, LogicalOperator

from accessflow.domain.tokens import normalise_email
from accessflow.scim_models import MAX_RESULTS
from accessflow.store import scim as scim_store
from accessflow.usecases import scim


def paging(start_index: str | None, count: str | None) -> tuple[int, int]:
    """``(startIndex, count)``: 1-based start (below 1 reads as 1), count 0..MAX_RESULTS."""
    try:
        start = int(start_index) if start_index not in (None, "") else 1
        size = int(count) if count not in (None, "") else MAX_RESULTS
    except ValueError as exc:
        raise InvalidValueException(detail="startIndex and count must be integers.") from exc
    if size > MAX_RESULTS:
        raise TooManyException(detail=f"count may be at most {MAX_RESULTS}; page with startIndex.")
    return max(start, 1), max(size, 0)


def _parse(expression: str) -> Any:
    if len(expression) > 1000:
        raise InvalidFilterException(detail="The filter is too long.")
    return ScimFilter(expression).ast


def _attr(node: Comparison) -> str:
    path = node.attr_path
    name = path.attr.casefold()
    if path.uri and path.uri.casefold() not in ("urn:ietf:params:scim:schemas:core:2.0:user",
                                   "urn:ietf:params:scim:schemas:core:2.0:group"):
        return "unsupported"
    return f"{name}.{path.sub_attr.casefold()}" if path.sub_attr else name


def _ids(node: Any, lookup: dict[str, Any]) -> set[str]:
    if isinstance(node, LogicalExpr):
        sets = [_ids(term, lookup) for term in node.terms]
        if node.op == LogicalOperator.and_:
            return set.intersection(*sets)
        return set.union(*sets)
    if isinstance(node, Comparison) and node.op == CompareOperator.eq and isinstance(node.value, str):
        attr = _attr(node)
        if attr in lookup:
            result: set[str] = lookup[attr](node.value)
            return result
    raise InvalidFilterException(detail=f"Unsupported filter: {node}. Supported: {', '.join(sorted(lookup))} "
                                        "with eq, combined with and/or.")


def users(call: scim.Call, expression: str | None, start: int, count: int) -> tuple[list[Any], int]:
    b = call.business_id
    if expression:
        def by_name(value: str) -> set[str]:
            item = scim_store.user_by_name(b, normalise_email(value))
            return {item.user_id} if item else set()

        def by_ext(value: str) -> set[str]:
            item = scim_store.user_by_external_id(b, value)
            return {item.user_id} if item else set()

        def by_email(value: str) -> set[str]:
            return set(scim_store.user_ids_by_email(b, normalise_email(value)))

        def by_id(value: str) -> set[str]:
            return {value} if scim_store.get_user(b, value) else set()

        ids = sorted(_ids(_parse(expression), {"username": by_name, "externalid": by_ext, "emails.value": by_email,
                                               "emails": by_email, "id": by_id}))
        found = [i for i in (scim_store.get_user(b, u) for u in ids) if i is not None]
        return [scim.user_resource(call, i) for i in found[start - 1:start - 1 + count]], len(found)
    items = scim_store.users_page(b, start - 1 + count)[start - 1:]
    return [scim.user_resource(call, i) for i in items], scim_store.count_users(b)


def groups(call: scim.Call, expression: str | None, start: int, count: int) -> tuple[list[Any], int]:
    b = call.business_id
    if expression:
        def by_name(value: str) -> set[str]:
            item = scim_store.group_by_name(b, value.strip().casefold())
            return {item.group_id} if item else set()

        def by_ext(value: str) -> set[str]:
            item = scim_store.group_by_external_id(b, value)
            return {item.group_id} if item else set()

        def by_id(value: str) -> set[str]:
            return {value} if scim_store.get_group(b, value) else set()

        ids = sorted(_ids(_parse(expression), {"displayname": by_name, "externalid": by_ext, "id": by_id}))
        found = [g for g in (scim_store.get_group(b, i) for i in ids) if g is not None]
        return [scim.group_resource(call, g) for g in found[start - 1:start - 1 + count]], len(found)
    items = scim_store.groups_page(b, start - 1 + count)[start - 1:]
    return [scim.group_resource(call, g) for g in items], scim_store.count_groups(b)

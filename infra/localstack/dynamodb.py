"""DynamoDB requests made atomic, as they are in AWS, and transactions rolled back item by item."""

from __future__ import annotations

import copy
import threading
from typing import Any

from infra.localstack.process import Patch

_LOCK = threading.RLock()


def _atomic_call_action(self: Any) -> Any:
    """Each DynamoDB request is atomic in AWS; moto's are not (``transact_write_items`` checks its
    conditions, then writes, without a lock, and on cancellation restores a deep copy of the whole table,
    wiping other threads' writes). Map/Parallel states and concurrent HTTP requests run our handlers in
    threads, so every DynamoDB request is serialized here: races between our conditional writes are
    then decided as DynamoDB decides them, not by moto's internals."""
    with _LOCK:
        return CALL_ACTION.original(self)


class _TablesNotCopied:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``: moto deep-copies every table a
    transaction touches before each TransactWriteItems, to restore it on cancellation. That copy grows
    with the table (a third of a test run's CPU once a module's table holds a few thousand items);
    :func:`_transact_write_items` restores the touched items instead. Other deep copies stay real."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> Any:
    """Wraps ``moto.dynamodb.models.DynamoDBBackend.transact_write_items``: keep a copy of each item the
    transaction names and put those back if it fails. Equivalent to moto's whole-table restore because
    requests are serialized (:func:`_atomic_call_action`): nothing else wrote meanwhile."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: list[tuple[Any, Any, Any, Any]] = []
    for entry in transact_items:
        op: Any = next(iter(entry.values()), None)
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        key = op.get("Key") or op.get("Item") or {}
        try:
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = table.get_item(hash_value, range_value)
        except Exception:  # a malformed key: moto rejects it before writing anything
            continue
        saved.append((table, hash_value, range_value, copy.deepcopy(current)))
    try:
        return TRANSACT_WRITE_ITEMS.original(backend, transact_items)
    except BaseException:
        for table, hash_value, range_value, item in reversed(saved):
            _restore(table, hash_value, range_value, item)
        raise


def _restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
        return
    if item is None:
        partition = table.items.get(hash_value)
        if partition is not None:
            partition.pop(range_value, None)
    else:
        table.items[hash_value][range_value] = item


_query = threading.local()


def _query_without_table_sort(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Wraps ``moto.dynamodb.models.table.Table.query``: see :func:`_all_items`."""
    _query.active = True
    try:
        return QUERY.original(self, *args, **kwargs)
    finally:
        _query.active = False


def _all_items(self: Any) -> Any:
    """Wraps ``Table.all_items``: inside a query, the table's items unsorted.

    WHY: moto's query (on the table or an index) takes ``all_items()`` — every item of the table,
    sorted by primary key — filters them, then sorts the matches again. Sorting the whole table per
    query grows with the table (a module's tests share one); the matches' own sort gives the order.
    """
    if not getattr(_query, "active", False):
        return ALL_ITEMS.original(self)
    if not self.range_key_attr:
        return list(self.items.values())
    return [item for partition in self.items.values() for item in partition.values()]


CALL_ACTION = Patch("moto.dynamodb.responses", "DynamoHandler", "call_action", _atomic_call_action)
TRANSACT_WRITE_ITEMS = Patch("moto.dynamodb.models", "DynamoDBBackend", "transact_write_items",
                             _transact_write_items)
TABLE_SNAPSHOTS = Patch("moto.dynamodb.models", "", "copy", _TablesNotCopied)
QUERY = Patch("moto.dynamodb.models.table", "Table", "query", _query_without_table_sort)
ALL_ITEMS = Patch("moto.dynamodb.models.table", "Table", "all_items", _all_items)
PATCHES = (CALL_ACTION, TRANSACT_WRITE_ITEMS, TABLE_SNAPSHOTS, QUERY, ALL_ITEMS)

"""DynamoDB requests made atomic, as they are in AWS, and transactions rolled back item by item."""

from __future__ import annotations

import base64
import copy
import json
import threading
from datetime import datetime
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


#: Data-plane operations whose results are plain attribute values: serialized straight to JSON.
_PLAIN_RESULTS = frozenset({"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems",
                            "TransactGetItems", "BatchGetItem", "BatchWriteItem"})


def _json_result(self: Any, context: Any) -> Any:
    """Wraps ``moto.dynamodb.responses.DynamoResult.execute_result`` for the item operations.

    WHY: moto serializes every response by walking botocore's output shape, attribute value by
    attribute value (a fifth of an e2e test's CPU: an audit trail page is hundreds of items). An item
    operation's result is already DynamoDB's JSON, but for binary values (bytes) and absent members
    (None), which this converts as the shape-walking serializer does.
    """
    if context.operation_model.name not in _PLAIN_RESULTS or not isinstance(self.result, dict):
        return DYNAMO_RESULT.original(self, context)
    body = json.dumps(_plain(self.result))
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, body


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    return value


CALL_ACTION = Patch("moto.dynamodb.responses", "DynamoHandler", "call_action", _atomic_call_action)
TRANSACT_WRITE_ITEMS = Patch("moto.dynamodb.models", "DynamoDBBackend", "transact_write_items",
                             _transact_write_items)
TABLE_SNAPSHOTS = Patch("moto.dynamodb.models", "", "copy", _TablesNotCopied)
QUERY = Patch("moto.dynamodb.models.table", "Table", "query", _query_without_table_sort)
ALL_ITEMS = Patch("moto.dynamodb.models.table", "Table", "all_items", _all_items)
DYNAMO_RESULT = Patch("moto.dynamodb.responses", "DynamoResult", "execute_result", _json_result)
PATCHES = (CALL_ACTION, TRANSACT_WRITE_ITEMS, TABLE_SNAPSHOTS, QUERY, ALL_ITEMS, DYNAMO_RESULT)

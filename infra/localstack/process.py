"""What is global to the process: the one active stack, the boto3 session and moto's patched methods.

moto's backends and the methods patched here are process-wide, so only one stack can be active at
a time; every patch dispatches to :func:`active` (and behaves like plain moto when none is).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.localstack import LocalStack

_ACTIVE: LocalStack | None = None
_SESSION: Any = None
_CLIENTS: dict[tuple[str, str], Any] = {}
_ORIGINALS: dict[str, Any] = {}
_INSTALLED: list[Patch] = []


def active() -> LocalStack | None:
    return _ACTIVE


def require_active() -> LocalStack:
    if _ACTIVE is None:
        raise RuntimeError("no LocalStack is active")
    return _ACTIVE


def activate(stack: LocalStack) -> None:
    global _ACTIVE
    if _ACTIVE is not None:
        raise RuntimeError("another LocalStack is active in this process; close it first "
                           "(moto's backends and the patches are process-global)")
    _ACTIVE = stack


def deactivate(stack: LocalStack) -> None:
    global _ACTIVE
    if _ACTIVE is stack:
        _ACTIVE = None


def session() -> Any:
    """One boto3 session per process: its loader caches the service models (fast restarts)."""
    global _SESSION
    if _SESSION is None:
        import boto3

        _SESSION = boto3.session.Session()
    return _SESSION


def client(service: str, region: str) -> Any:
    """A boto3 client bound to moto's mock, cached for the process (every stack's creation would
    otherwise build a dozen clients again); requests reach whichever mock is active."""
    key = (service, region)
    if key not in _CLIENTS:
        _CLIENTS[key] = session().client(service, region_name=region, aws_access_key_id="testing",
                                         aws_secret_access_key="testing")
    return _CLIENTS[key]


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Patch:
    """``module.owner.attr`` (``module.attr`` when ``owner`` is empty) replaced by ``replacement`` while a
    stack is active."""

    module: str
    owner: str
    attr: str
    replacement: Any

    @property
    def key(self) -> str:
        return f"{self.module}.{self.owner}.{self.attr}"

    def _owner(self) -> Any:
        module = importlib.import_module(self.module)
        return getattr(module, self.owner) if self.owner else module

    def original(self, *args: Any, **kwargs: Any) -> Any:
        """Call moto's own implementation."""
        return _ORIGINALS[self.key](*args, **kwargs)  # type: ignore[operator]


def install(patches: Iterable[Patch]) -> None:
    for patch in patches:
        owner = patch._owner()
        _ORIGINALS.setdefault(patch.key, getattr(owner, patch.attr))
        setattr(owner, patch.attr, patch.replacement)
        _INSTALLED.append(patch)


def remove() -> None:
    for patch in _INSTALLED:
        setattr(patch._owner(), patch.attr, _ORIGINALS[patch.key])
    _INSTALLED.clear()

"""Deferred imports for the Lambda handler modules.

A handler module is imported at cold start, before the first invocation; everything it imports at
module level is paid there (``infra/benchmarks/cold_start.py`` measures it against ``import boto3``).
The use cases pull in pydantic, PynamoDB and botocore; a handler binds them with
:func:`lazy_module` instead, and they load on the first attribute access, inside the first
invocation. Write it as::

    if TYPE_CHECKING:
        from accessflow.usecases import offboarding
    else:
        offboarding = lazy_module("accessflow.usecases.offboarding")

so that the type checker still sees the real module.
"""

from __future__ import annotations

import importlib
import types
from typing import Any


class _LazyModule(types.ModuleType):
    """Imports ``name`` on the first attribute access (``importlib.import_module`` holds the import
    lock, so two threads of a Map state touching it at once import it once)."""

    def _load(self) -> types.ModuleType:
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return module

    def __getattr__(self, item: str) -> Any:
        return getattr(self._load(), item)


def lazy_module(name: str) -> types.ModuleType:
    return _LazyModule(name)


def preload(module: types.ModuleType) -> None:
    """Load now everything ``module`` deferred: its lazy modules, and whatever its ``__preload__()``
    builds (the API's resolver). What a first invocation would load; the cold-start benchmark
    measures it as the full import cost, and a deployment that pays init ahead of traffic
    (provisioned concurrency, SnapStart) can call it at import."""
    for value in list(vars(module).values()):
        if isinstance(value, _LazyModule):
            value._load()
    hook = vars(module).get("__preload__")
    if callable(hook):
        hook()


__all__ = ["lazy_module", "preload"]

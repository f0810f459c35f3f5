"""Root fixtures: the embedded local stack built from a SAM template on moto.

``TZ`` and ``AWS_DEFAULT_REGION`` are set here, before anything imports moto or boto3: moto's Step
Functions interpreter compares timestamps against naive local time.
"""

from __future__ import annotations

import os
import time

os.environ["TZ"] = "UTC"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
time.tzset()

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI_TEMPLATE = FIXTURES / "mini-template.yaml"


def _template_path(request: pytest.FixtureRequest) -> Path:
    """A module may set ``STACK_TEMPLATE = path``; otherwise the repo's template.yaml."""
    return Path(getattr(request.module, "STACK_TEMPLATE", REPO_ROOT / "template.yaml"))


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One stack (a fresh moto world) per test module."""
    from infra.localstack import LocalStack

    with LocalStack(_template_path(request), outbox_dir=tmp_path_factory.mktemp("outbox")) as s:
        yield s


@pytest.fixture
def fresh_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A stack of its own for one test (do not mix with ``stack`` in the same module)."""
    from infra.localstack import LocalStack

    with LocalStack(_template_path(request), outbox_dir=tmp_path / "outbox") as s:
        yield s


class Api:
    """A small ``requests`` wrapper bound to the local HTTP API."""

    def __init__(self, base_url: str) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def request(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.base_url + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture(scope="module")
def api(stack: Any) -> Api:
    assert stack.api_url, "the stack was started without its HTTP API"
    return Api(stack.api_url)

"""Request throttling: the template's HTTP API stage sets a limit per route (tighter on the two
routes a link token reaches), and the local HTTP API honours the translated settings with a token
bucket per route: 429 ``application/problem+json`` with ``Retry-After``, before the authorizer and
the function. This module's stack lowers the two tight limits through the template's parameters so a
few requests reach them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
LIMITS = {"AcceptPageThrottlingRateLimit": "0.5", "AcceptPageThrottlingBurstLimit": "3",
          "AcceptThrottlingRateLimit": "1", "AcceptThrottlingBurstLimit": "2"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from infra.localstack import LocalStack

    with LocalStack(REPO / "template.yaml", outbox_dir=tmp_path_factory.mktemp("outbox"), parameters=LIMITS) as s:
        yield s


def test_each_route_gets_the_template_stage_settings(stack: Any) -> None:
    throttles = {r.route_key: (r.throttle.rate, r.throttle.burst) for r in stack.routes if r.throttle}
    assert len(throttles) == len(stack.routes)  # every route is throttled
    assert throttles["GET /accept"] == (0.5, 3) and throttles["POST /invitations/accept"] == (1, 2)
    others = {v for k, v in throttles.items() if k not in ("GET /accept", "POST /invitations/accept")}
    assert others == {(100, 200)}  # DefaultRouteSettings, from the template's defaults


def test_the_accept_page_answers_429_problem_with_retry_after_beyond_its_burst(stack: Any, api: Any) -> None:
    secret = "link-token-never-echoed-0123456789"
    assert api.get("/openapi.json").status_code == 200  # the API function is warm: the burst is quick
    answers = [api.get("/accept", params={"token": secret}) for _ in range(4)]

    assert [r.status_code != 429 for r in answers[:3]] == [True] * 3, [r.status_code for r in answers]
    throttled = answers[3]
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == "application/problem+json"
    retry_after = int(throttled.headers["retry-after"])
    assert 1 <= retry_after <= 2  # one token back at 0.5 per second
    problem = throttled.json()
    assert problem["type"].endswith("/too-many-requests") and problem["status"] == 429
    assert problem["retry_after"] == retry_after and problem["instance"] == "/accept"
    assert "GET /accept" in problem["detail"] and "0.5 requests per second" in problem["detail"]
    assert secret not in throttled.text
    assert api.get("/openapi.json").status_code == 200  # another route has its own bucket

    # a client that waits as told gets through again
    deadline = time.monotonic() + retry_after + 1
    while api.get("/accept", params={"token": secret}).status_code == 429:
        assert time.monotonic() < deadline, "still throttled after Retry-After"
        time.sleep(0.1)


def test_accept_is_throttled_before_the_authorizer(stack: Any, api: Any) -> None:
    answers = [api.post("/invitations/accept", json={"token": "x"}) for _ in range(3)]
    assert [r.status_code for r in answers] == [401, 401, 429]  # no token: the authorizer refuses, until
    assert answers[2].headers["retry-after"] == "1"              # the throttle answers first

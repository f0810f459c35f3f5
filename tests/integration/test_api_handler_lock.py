"""Locally every function runs in one process: two functions with the same handler (the API's and the
review routes') share Powertools' module-level resolver, so the local HTTP API serves one request at
a time per handler, as Lambda serves one per execution environment. Parallel requests to both
functions' routes (a console view loads them at once) must all answer properly."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.world import make_world


def test_parallel_requests_to_two_functions_with_one_handler_all_succeed(stack: Any, api: Any) -> None:
    world = make_world(stack, accounts=1)
    b = world.business_id
    paths = [f"/businesses/{b}/reviews", f"/businesses/{b}/invitations?status=PENDING", f"/businesses/{b}/accounts",
             f"/businesses/{b}/members"] * 15
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda p: api.get(p, token=world.admin.token).status_code, paths))
    assert statuses == [200] * len(paths)

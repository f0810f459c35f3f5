"""Schemathesis against the live local API, from the committed ``docs/openapi.json``.

Every operation is fuzzed with Schemathesis' generated requests (positive and negative data), signed
in as an Admin of a real business, with the business and the other path ids sometimes the real ones
(so requests reach the use cases, not only the 404 of an unknown business) and sometimes generated.
Checks: no 5xx, the status code, content type, headers and body conform to the document. Bounded and
deterministic: a fixed number of examples per operation, derandomized, no example database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.people import onboard
from tests.world import World, make_world

pytestmark = pytest.mark.slow
DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 6}


@pytest.fixture(scope="module")
def world(stack: Any, api: Any) -> tuple[World, dict[str, str]]:
    world = make_world(stack, accounts=2)
    member = onboard(world, api, "fuzz-target@example.com", {"acct-1": "Editor"})
    r = api.get(f"/businesses/{world.business_id}/invitations", token=world.admin.token)
    invitation = r.json()["invitations"][0]["invitation_id"]
    return world, {"business_id": world.business_id, "member_id": member, "account_id": "acct-1",
                   "invitation_id": invitation}


def operations() -> list[Any]:
    schema = schemathesis.openapi.from_path(DOC)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: m.value)
def test_api_conforms_to_its_document(world: tuple[World, dict[str, str]], mode: GenerationMode) -> None:
    w, real = world
    headers = {"Authorization": f"Bearer {w.admin.token}"}
    base_url = w.stack.api_url.rstrip("/")
    calls: list[tuple[str, int]] = []
    for operation in operations():
        names = [p.name for p in operation.path_parameters]
        fuzz(operation, mode, {n: real[n] for n in names if n in real}, base_url, headers, calls)
    w.stack.wait_idle()
    assert len(calls) >= 2 * len(operations())
    assert not [c for c in calls if c[1] >= 500]
    assert any(200 <= status < 300 for _, status in calls)


def fuzz(operation: Any, mode: GenerationMode, fixed: dict[str, str], base_url: str, headers: dict[str, str],
         calls: list[tuple[str, int]]) -> None:
    @settings(max_examples=EXAMPLES[mode], derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        keep = {n: v for n, v in fixed.items() if data.draw(st.booleans(), label=f"real {n}")}
        case = data.draw(operation.as_strategy(mode, path_parameters=keep or None))
        response = case.call(base_url=base_url, headers=headers)
        calls.append((operation.label, response.status_code))
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to make invalid (e.g. GET /openapi.json)

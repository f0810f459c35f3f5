"""scim2-tester, the SCIM compliance checker, against the live local SCIM endpoint of a business,
authenticated with that business's SCIM token: every check it runs for discovery, Users and Groups
(create, read, list, attributes, replace, delete, PATCH add/replace/remove) must pass.

Checks that are not applicable are SKIPPED by the checker itself and listed here with the reason
(ServiceProviderConfig announces the same):
- POST /.search at the root (search across resource types): AccessFlow answers 501; /Users/.search
  and /Groups/.search are supported.

One adaptation, explained: AccessFlow requires ``userName`` to be the person's e-mail address (the
invitation goes there and they must sign in with it). scim2-tester fills string attributes with
UUIDs unless the model gives examples, so the test gives ``userName`` e-mail examples; everything
else is the checker's own random data, built from the schemas the server publishes.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from tests.e2e.scim_client import new_token
from tests.world import make_world

pytestmark = pytest.mark.slow


def test_scim2_tester_passes_every_check(stack: Any, api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_tester import Status, check_server, filling

    world = make_world(stack)
    token = new_token(world, api, "scim2-tester")["token"]
    original = filling.get_random_example_value

    def email_user_names(path: Any) -> Any:
        if str(path).casefold().endswith("username"):
            return f"tester-{uuid.uuid4().hex[:12]}@example.com"
        return original(path)

    monkeypatch.setattr(filling, "get_random_example_value", email_user_names)
    base = f"{stack.api_url}/scim/v2/businesses/{world.business_id}"
    with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        client = SyncSCIMClient(http)
        results = check_server(client, resource_types=["User", "Group"])
    counts = Counter(r.status.name for r in results)
    print(f"scim2-tester: {len(results)} checks: {dict(sorted(counts.items()))}")
    for r in results:
        if r.status not in (Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE):
            print(f"  {r.status.name} {r.resource_type or ''} {r.title}: {r.reason}")
    bad = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL, Status.DEVIATION)]
    assert not bad, "\n".join(f"{r.status.name} {r.resource_type} {r.title}: {r.reason}" for r in bad)
    skipped = {r.title for r in results if r.status == Status.SKIPPED}
    assert skipped <= {"search_with_attributes"}, skipped
    assert counts["SUCCESS"] >= 30

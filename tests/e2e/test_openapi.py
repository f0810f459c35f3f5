"""The committed OpenAPI document is the one the running API serves (regenerate: ``make openapi``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_document_equals_the_served_one(api: Any) -> None:
    r = api.get("/openapi.json")
    assert r.status_code == 200
    assert r.json() == json.loads(DOC.read_text()), "docs/openapi.json is stale: run `make openapi`"


def test_every_operation_documents_its_errors_as_problems() -> None:
    doc = json.loads(DOC.read_text())
    for path, item in doc["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            assert "422" not in responses, (method, path)
            for status in ("400", "403", "404", "409"):
                if path == "/accept" and "text/html" in responses[status].get("content", {}):
                    continue  # the invitee's page answers its errors as HTML pages
                assert "application/problem+json" in responses[status]["content"], (method, path, status)
            assert any(s.startswith("2") for s in responses), (method, path)

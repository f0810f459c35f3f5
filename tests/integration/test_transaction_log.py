"""Why a transaction was cancelled is logged — which item (label, model, key prefixes), which
condition (its shape, never the values it compares) — and mapped to a named error the state machines
match. A condition comparing a token hash must never put the hash in the log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from accessflow.adapters.clock import utcnow
from accessflow.domain.errors import TransactionConflict, TransactionFailed
from accessflow.store import repository as store
from tests.e2e.people import wait_sent
from tests.world import World, make_world


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    return make_world(stack, accounts=1)


def log_lines(caplog: pytest.LogCaptureFixture, message: str) -> list[str]:
    """The JSON lines the functions' logger writes for these records (its own formatter)."""
    from accessflow.observability import logger

    return [logger.registered_formatter.format(r) for r in caplog.records if r.getMessage() == message]


def test_a_failed_condition_on_a_token_hash_is_explained_without_the_hash(
    world: World, api: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    r = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                 json={"email": "hash@example.com", "display_name": "Hash",
                       "grants": [{"account_id": "acct-1", "role": "Analyst"}]})
    assert r.status_code == 201, r.text
    wait_sent(world, api, r.json()["invitation_id"])
    inv = store.get_invitation(world.business_id, r.json()["invitation_id"])
    assert inv is not None and inv.token_hash
    wrong_hash = "f00d" * 16
    caplog.clear()

    with pytest.raises(store.ConditionFailed) as failed:
        store.accept_invitation(inv, wrong_hash, "login-sub-1", store.Context(actor="test", request_id="req-1"),
                                utcnow())

    assert failed.value.labels == ["invitation"]
    [text] = log_lines(caplog, "transaction cancelled")
    assert wrong_hash not in text and inv.token_hash not in text
    line = json.loads(text)
    tx = line["transaction"]
    assert (tx["outcome"], tx["business_id"], tx["actor"], tx["request_id"]) == (
        "ConditionFailed", world.business_id, "test", "req-1")
    # the invitation, the member, the login lookup, its /me directory entry, the audit entry, and (issue 11)
    # the check that no offboarding of the member is HELD
    assert tx["items"] == 6
    [reason] = tx["cancelled"]
    assert {k: reason[k] for k in ("item", "type", "key", "operation", "code")} == {
        "item": "invitation", "type": "InvitationItem", "key": "BIZ#/INV#", "operation": "update",
        "code": "ConditionalCheckFailed"}
    assert reason["condition"] == "((status = :0 AND expires_at > :1) AND token_hash = :2)"
    assert line["level"] == "WARNING"


def _cancelled(*codes: str) -> TransactWriteError:
    reasons = [CancellationReason(code=c, message=f"{c} on 0123456789abcdef0123456789abcdef01")
               if c != "None" else None for c in codes]
    cause = VerboseClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
                               "TransactWriteItems", cancellation_reasons=reasons)
    return TransactWriteError("Failed to write transaction items", cause=cause)


@pytest.mark.parametrize(("codes", "named"), [
    (("None", "TransactionConflict"), TransactionConflict),
    (("ThrottlingError", "None"), TransactionConflict),
    (("None", "ValidationError"), TransactionFailed),
    (("ConditionalCheckFailed", "TransactionConflict"), store.ConditionFailed),
])
def test_cancellation_codes_map_to_named_errors(
    codes: tuple[str, str], named: type[Exception], caplog: pytest.LogCaptureFixture,
) -> None:
    from accessflow.store.models import MemberItem

    tx = store.Tx("biz-x", store.Context(actor="test", execution_arn="arn:exec"), utcnow())
    tx.check("member", MemberItem, "BIZ#biz-x", "MEMBER#m-1", MemberItem.status == "ACTIVE")
    tx.audit(store.AuditDraft("test"))
    caplog.clear()

    error = tx._explain(_cancelled(*codes))

    assert type(error) is named
    [text] = log_lines(caplog, "transaction cancelled")
    line = json.loads(text)
    assert line["transaction"]["outcome"] == named.__name__
    assert line["transaction"]["execution_arn"] == "arn:exec"
    cancelled = line["transaction"]["cancelled"]
    assert [c["code"] for c in cancelled] == [c for c in codes if c != "None"]
    assert all("0123456789abcdef" not in c["message"] for c in cancelled)  # token-like text redacted
    if codes[0] != "None":  # the condition check is sent first
        assert cancelled[0]["item"] == "member" and cancelled[0]["condition"] == "status = :0"
        assert cancelled[0]["key"] == "BIZ#/MEMBER#" and cancelled[0]["type"] == "MemberItem"


def test_a_conflict_is_a_503_problem_to_an_api_caller() -> None:
    error = TransactionConflict("Another change to the same data was in progress; try again.")
    assert error.status == 503 and error.problem()["retry_after"] == 1


def test_throttling_without_reasons_is_a_conflict() -> None:
    tx = store.Tx("biz-x", store.Context(actor="test"), utcnow())
    tx.audit(store.AuditDraft("test"))
    cause = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems")
    assert isinstance(tx._explain(TransactWriteError("x", cause=cause)), TransactionConflict)

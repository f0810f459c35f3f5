"""The MFA policy's rules, and the ``amr`` claim in every form it reaches the function."""

from __future__ import annotations

import pytest

from accessflow.domain import rules
from accessflow.domain.errors import MfaRequired
from accessflow.domain.policy import BusinessPolicy
from accessflow.handlers.http import parse_array_claim

ON, OFF = BusinessPolicy(require_mfa_for_admins=True), BusinessPolicy()


@pytest.mark.parametrize(("claim", "values"), [
    ("[pwd mfa]", ("pwd", "mfa")),  # API Gateway's form of an array claim
    ("[mfa]", ("mfa",)),
    ('["pwd","mfa"]', ("pwd", "mfa")),  # JSON text
    (["pwd", "otp", "mfa"], ("pwd", "otp", "mfa")),  # a list (direct invocation)
    ("pwd", ("pwd",)),
    ("[]", ()),
    (None, ()),
])
def test_amr_claim_forms(claim: object, values: tuple[str, ...]) -> None:
    assert parse_array_claim(claim) == values


def test_mfa_required_only_of_admins_and_only_when_on() -> None:
    rules.check_admin_mfa(OFF, is_admin=True, amr=("pwd",))
    rules.check_admin_mfa(ON, is_admin=False, amr=("pwd",))
    rules.check_admin_mfa(ON, is_admin=True, amr=("pwd", "mfa"))
    with pytest.raises(MfaRequired) as refused:
        rules.check_admin_mfa(ON, is_admin=True, amr=("pwd",))
    problem = refused.value.problem()
    assert problem["type"].endswith("/mfa-required") and problem["status"] == 403
    assert "second factor" in problem["detail"] and "amr" in problem["detail"]


def test_turning_it_on_needs_mfa_but_turning_it_off_or_keeping_it_does_not() -> None:
    with pytest.raises(MfaRequired, match="lock you out"):
        rules.check_policy_change(OFF, ON, amr=("pwd",))
    rules.check_policy_change(OFF, ON, amr=("mfa",))
    rules.check_policy_change(ON, OFF, amr=())
    rules.check_policy_change(ON, ON, amr=())
    assert OFF.require_mfa_for_admins is False  # the default

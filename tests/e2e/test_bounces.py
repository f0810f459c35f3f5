"""A bounced invitation is visible to the admin with its reason (moto never bounces: the test publishes
the notification SES would publish to the configuration set's topic)."""

from __future__ import annotations

import json
from typing import Any

from tests.world import eventually, invitation_link_token, mails_to, make_world


def ses_event(kind: str, tags: dict[str, str], **body: Any) -> str:
    return json.dumps({"eventType": kind, "mail": {"messageId": "m-1", "tags": {k: [v] for k, v in tags.items()}},
                       **body})


def test_bounced_invitation_is_marked_with_its_reason(stack: Any, api: Any) -> None:
    world = make_world(stack)
    created = api.post(f"/businesses/{world.business_id}/invitations", token=world.admin.token,
                       json={"email": "typo@exmaple.com", "display_name": "Typo",
                             "grants": [{"account_id": "acct-1", "role": "Analyst"}]}).json()
    invitation_link_token(stack, "typo@exmaple.com")
    ses = stack.client("ses")
    sets = ses.list_configuration_sets()["ConfigurationSets"]
    assert sets, "the template's configuration set exists"
    topic = stack.topics["MailEventsTopic"]
    tags = {"kind": "invitation", "business_id": world.business_id, "invitation_id": created["invitation_id"]}
    bounce = ses_event("Bounce", tags, bounce={"bounceType": "Permanent", "bounceSubType": "NoEmail",
                                               "bouncedRecipients": [{"emailAddress": "typo@exmaple.com",
                                                                      "diagnosticCode": "550 5.1.1 user unknown"}]})
    for _ in range(2):  # SNS delivers at least once
        stack.client("sns").publish(TopicArn=topic, Message=bounce)

    def marked() -> dict[str, Any] | None:
        inv: dict[str, Any] = api.get(f"/businesses/{world.business_id}/invitations/{created['invitation_id']}",
                                      token=world.admin.token).json()
        return inv if inv["delivery"] == "FAILED" else None

    inv = eventually(marked, what="invitation marked undeliverable")
    assert "550 5.1.1 user unknown" in inv["delivery_reason"] and inv["status"] == "PENDING"
    trail = api.get(f"/businesses/{world.business_id}/audit", token=world.admin.token,
                    params={"action": "invitation.delivery_failed"}).json()["entries"]
    assert len(trail) == 1
    notices = eventually(lambda: [m for m in mails_to(stack, world.admin.email) if "undeliverable" in m.subject],
                         what="inviter notified")
    assert len(notices) == 1 and "550 5.1.1" in notices[0].text


def test_other_events_and_untagged_mail_are_ignored(stack: Any) -> None:
    result = stack.invoke("DeliveryEventsFunction", {"Records": [
        {"Sns": {"Message": ses_event("Delivery", {"kind": "invitation", "business_id": "b", "invitation_id": "i"})}},
        {"Sns": {"Message": ses_event("Bounce", {"kind": "notification"}, bounce={})}},
        {"Sns": {"Message": "not json"}},
    ]})
    assert result == {"ignored": 2, "malformed": 1}

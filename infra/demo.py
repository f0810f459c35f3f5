"""``make demo``: a scenario a newcomer can follow, on the embedded local stack.

1. An HR joiner event asks for an Editor on two accounts → the invitation e-mail (an .eml you can
   open) → the invitee opens the link (nothing consumed), signs in and accepts → grants active.
2. An admin invites an Admin → the invitee accepts → the workflow waits for a second admin; the
   invitee's own confirmation is refused; the first admin confirms → active.
3. Someone signed in with another e-mail tries a link → refused, the invitation stays valid.
4. The audit trail, as a table.
"""

from __future__ import annotations

import os
import time

os.environ["TZ"] = "UTC"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
time.tzset()

import logging  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def say(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m")


def show(label: str, value: Any) -> None:
    print(f"   {label:24} {value}")


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c) or "")) for r in rows)) for c in columns}
    line = "  ".join(c.ljust(widths[c]) for c in columns)
    out = [line, "  ".join("-" * widths[c] for c in columns)]
    out += ["  ".join(str(r.get(c) or "").ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(out)


def main() -> int:
    import requests

    from accessflow.adapters.clock import utcnow
    from accessflow.usecases.business import bootstrap
    from accessflow.usecases.onboarding import invitation_id_for
    from infra.localstack import LocalStack
    from infra.observe import bind_store, eventually, execution_for, invitation_link_token, states_entered

    logging.disable(logging.INFO)
    outbox = ROOT / ".local" / "outbox"
    with LocalStack(ROOT / "template.yaml", outbox_dir=outbox, parameters={"LogLevel": "WARNING"}) as stack:
        api = stack.api_url
        assert api is not None
        say("The local stack (built from template.yaml on moto)")
        show("HTTP API", api)
        show("state machines", ", ".join(stack.state_machines))
        show("functions", len(stack.functions))
        show("e-mail outbox", outbox.relative_to(ROOT))

        bind_store(stack)
        business = "acme"
        accounts = [("tiktok-main", "TikTok @acme", "tiktok"), ("tiktok-ads", "TikTok Ads", "tiktok-ads"),
                    ("instagram", "Instagram @acme", "instagram")]
        bootstrap(business, "Acme Social", accounts, "alice@acme.example", "Alice Admin", now=utcnow())
        alice = stack.mint_token("alice@acme.example")

        def call(method: str, path: str, token: str | None = None, **kw: Any) -> requests.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return requests.request(method, api + path, headers=headers, timeout=30, **kw)

        say("1. HR joiner: Ben as Editor on tiktok-main and instagram")
        key = "workday-2026-11-23-ben"
        stack.put_event("member.onboarding.requested", {
            "business_id": business, "email": "Ben@Acme.example", "display_name": "Ben Baker",
            "grants": [{"account_id": "tiktok-main", "role": "Editor"},
                       {"account_id": "instagram", "role": "Editor"}],
            "employee_id": "E-1042", "requested_by": "workday", "idempotency_key": key}, source="hr.workday")
        stack.wait_idle()
        invitation = invitation_id_for(business, key)
        execution = execution_for(stack, invitation)
        token = invitation_link_token(stack, "ben@acme.example")
        mail = [m for m in stack.outbox if "ben@acme.example" in m.to][-1]
        show("execution", execution.rsplit(":", 1)[-1])
        show("invitation e-mail", mail.path.relative_to(ROOT))
        show("subject", mail.subject)
        page = call("GET", "/accept", params={"token": token})
        show("GET /accept (scanner)", f"{page.status_code}: shows the invitation, consumes nothing")
        ben = stack.mint_token("ben@acme.example")
        accepted = call("POST", "/invitations/accept", ben, json={"token": token})
        show("Ben accepts", f"{accepted.status_code} {accepted.json()['status']}")
        show("execution", stack.wait_execution(execution)["status"] + " via " + " → ".join(
            states_entered(stack, execution)))
        inv = call("GET", f"/businesses/{business}/invitations/{invitation}", alice).json()
        show("active grants", ", ".join(f"{g['role']}@{g['account_id']}" for g in inv["final_grants"]))

        say("2. Alice invites Carol as Admin of tiktok-ads: a second admin must confirm")
        created = call("POST", f"/businesses/{business}/invitations", alice, json={
            "email": "carol@acme.example", "display_name": "Carol Chen",
            "grants": [{"account_id": "tiktok-ads", "role": "Admin"}]}).json()
        execution = execution_for(stack, created["invitation_id"])
        carol = stack.mint_token("carol@acme.example")
        token = invitation_link_token(stack, "carol@acme.example")
        show("Carol accepts", call("POST", "/invitations/accept", carol, json={"token": token}).status_code)
        stack.wait_for_state(execution, "AwaitConfirmation")
        eventually(lambda: any("Confirm" in m.subject for m in stack.outbox if "alice@acme.example" in m.to))
        show("workflow", "waiting in AwaitConfirmation; Alice was e-mailed")
        own = call("POST", f"/businesses/{business}/invitations/{created['invitation_id']}/confirm", carol, json={})
        show("Carol confirms herself", f"{own.status_code} {own.json()['title']}")
        ok = call("POST", f"/businesses/{business}/invitations/{created['invitation_id']}/confirm", alice, json={})
        show("Alice confirms", f"{ok.status_code} {ok.json()['status']}")
        show("execution", stack.wait_execution(execution)["status"])

        say("3. A link opened with the wrong login")
        created = call("POST", f"/businesses/{business}/invitations", alice, json={
            "email": "dan@acme.example", "display_name": "Dan Diaz",
            "grants": [{"account_id": "instagram", "role": "Moderator"}]}).json()
        token = invitation_link_token(stack, "dan@acme.example")
        mallory = stack.mint_token("mallory@elsewhere.example")
        refused = call("POST", "/invitations/accept", mallory, json={"token": token})
        show("mallory@elsewhere", f"{refused.status_code} {refused.headers['content-type']}")
        print(textwrap.indent(textwrap.fill(refused.json()["detail"], 90), "   "))
        still = call("GET", f"/businesses/{business}/invitations/{created['invitation_id']}", alice).json()
        show("invitation", f"still {still['status']}")

        say("4. The audit trail")
        entries = call("GET", f"/businesses/{business}/audit", alice, params={"limit": 500}).json()["entries"]
        rows = [{"when": e["at"][11:23], "action": e["action"], "actor": (e.get("actor_name") or e["actor"] or "")[:24],
                 "member": (e["member_id"] or "")[:8], "subject": (e["subject"] or "")[:14],
                 "change": _change(e)} for e in entries]
        print(textwrap.indent(table(rows, ["when", "action", "actor", "member", "subject", "change"]), "   "))
        say(f"Done. Open the e-mails in {outbox.relative_to(ROOT)}/ with any mail client.")
    return 0


def _change(entry: dict[str, Any]) -> str:
    before, after = entry.get("before") or {}, entry.get("after") or {}
    if "status" in after:
        return f"{before.get('status', '∅')} → {after['status']}"
    if "role" in after:
        return f"{after['role']} on {after.get('account_id')}"
    return entry.get("reason") or ""


if __name__ == "__main__":
    raise SystemExit(main())

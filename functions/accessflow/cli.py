"""``accessflow``: the admin CLI over the HTTP API.

Every command calls the API at ``--api-url`` (or ``ACCESSFLOW_API_URL``) with the bearer token
``--token`` (or ``ACCESSFLOW_TOKEN``); it prints a readable table, or the API's JSON with ``--json``.
A refusal prints the API's problem (status, title, detail) on stderr and exits with status 1.
Standard library only (urllib): the module ships in the Lambda package.

``accessflow dev-token EMAIL`` signs in at the local stack's OpenID Connect provider (``make serve``
starts it on ``http://127.0.0.1:3001``) and prints the ID token, the bearer token the API accepts.

``accessflow bootstrap ...`` is the operator's command, the one that does not go through the API: it
creates a business with its accounts and first Admin by running the use case
(``usecases.business.bootstrap``) against the table with the caller's AWS credentials. It imports the
package's AWS dependencies only when it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

ROLES = ("Admin", "Editor", "Moderator", "Analyst")


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        problem = body if isinstance(body, dict) else {"detail": str(body)}
        title = problem.get("title") or problem.get("message") or "Error"
        super().__init__(f"{status} {title}: {problem.get('detail', '')}".rstrip(": "))
        self.status, self.problem = status, problem


class Client:
    def __init__(self, api_url: str, token: str | None, timeout: float = 30) -> None:
        self.api_url, self.token, self.timeout = api_url.rstrip("/"), token, timeout

    def call(self, method: str, path: str, *, body: Any = None, query: dict[str, Any] | None = None,
             accept: str = "application/json") -> Any:
        params = {k: v for k, v in (query or {}).items() if v is not None}
        url = self.api_url + path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        headers = {"Accept": accept}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode()
                return json.loads(text) if "json" in response.headers.get("Content-Type", "") else text
        except urllib.error.HTTPError as exc:
            raw = exc.read().decode(errors="replace")
            try:
                parsed: Any = json.loads(raw)
            except ValueError:
                parsed = raw
            raise ApiError(exc.code, parsed) from None


# --- output ----------------------------------------------------------------------------------------


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(f"{g['account_id']}:{g['role']}" if isinstance(g, dict) and "role" in g else str(g)
                         for g in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def grants_arg(text: str) -> dict[str, str]:
    """``ACCOUNT:ROLE`` → a grant."""
    account, _, role = text.partition(":")
    role = role.strip().capitalize()
    if not account or role not in ROLES:
        raise argparse.ArgumentTypeError(f"expected ACCOUNT:ROLE with ROLE one of {', '.join(ROLES)}, got {text!r}")
    return {"account_id": account.strip(), "role": role}


def _b(args: argparse.Namespace) -> str:
    return f"/businesses/{urllib.parse.quote(args.business_id, safe='')}"


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _member_id(client: Client, args: argparse.Namespace) -> str:
    """MEMBER may be a member id or an e-mail address."""
    if "@" not in args.member:
        return str(args.member)
    for member in client.call("GET", f"{_b(args)}/members")["members"]:
        if member["email"].lower() == args.member.lower():
            return str(member["member_id"])
    raise ApiError(404, {"title": "Not found", "detail": f"No member with e-mail {args.member}."})


# --- commands --------------------------------------------------------------------------------------

INVITATION_COLUMNS = ("invitation_id", "email", "status", "grants", "delivery", "send_count", "expires_at")
MEMBER_COLUMNS = ("member_id", "email", "display_name", "status", "grants")
AUDIT_COLUMNS = ("at", "action", "who", "member_id", "subject", "before", "after")
REVIEW_COLUMNS = ("email", "member_status", "account_id", "role", "invited_by", "confirmed_by", "last_change_at",
                  "last_change_by")
ACCOUNT_COLUMNS = ("account_id", "display_name", "platform", "status", "admin_count", "your_role")
ME_COLUMNS = ("business_id", "name", "member_id", "roles")


def person(name: Any, email: Any) -> str | None:
    """``Alice Admin <alice@acme.example>``, or whichever of the two is known."""
    if name and email and name != email:
        return f"{name} <{email}>"
    return str(name or email) if (name or email) else None


def _who(entry: dict[str, Any], prefix: str) -> str | None:
    return person(entry.get(f"{prefix}_name"), entry.get(f"{prefix}_email")) or entry.get(prefix)


BULK_COLUMNS = ("row", "email", "account", "role", "status", "reason", "detail")


def cmd_invite_csv(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    """``invite --csv FILE`` (issue 11): the file goes to the API as it is (the API parses and
    validates it, docs/bulk.md); with ``--wait`` the import's per-row results are shown when done."""
    try:
        with open(args.csv, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise SystemExit(f"accessflow invite: {args.csv} is not UTF-8 text (byte {exc.start}); save it as "
                         "\"CSV UTF-8\" and try again") from exc
    except OSError as exc:
        raise SystemExit(f"accessflow invite: cannot read {args.csv}: {exc.strerror or exc}") from exc
    body: dict[str, Any] = {"csv": text, "dry_run": args.dry_run}
    if args.import_id:
        body["import_id"] = args.import_id
    result = client.call("POST", f"{_b(args)}/invitations:bulk", body=body)
    if args.dry_run:
        c = result["counts"]
        summary = (f"dry run: {c['rows']} rows: {c['valid']} valid ({c['invitations']} invitations), "
                   f"{c['duplicate']} duplicate, {c['refused']} refused; nothing was written")
        flagged = [r for r in result["rows"] if r["status"] != "valid"] if not args.all_rows else result["rows"]
        return result, (table(flagged, BULK_COLUMNS) + "\n" if flagged else "") + summary
    deadline = time.monotonic() + args.timeout
    while args.wait and result["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(1)
        result = client.call("GET", f"{_b(args)}/imports/{_q(result['import_id'])}")
    c = result["counts"]
    summary = (f"import {result['import_id']}: {result['status']}: {c['created']} rows created "
               f"({result['invitations_created']} invitations), {c['duplicate']} duplicate, {c['refused']} refused, "
               f"{c['failed']} failed, {c['pending']} pending")
    if result["status"] == "RUNNING":
        summary += f" (see it again: accessflow invite {args.business_id} --csv {args.csv} --import-id " \
                   f"{result['import_id']} --wait)"
    shown = result["rows"] if args.all_rows else [r for r in result["rows"] if r["status"] != "created"]
    return result, (table(shown, BULK_COLUMNS) + "\n" if shown else "") + summary


def cmd_invite(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    if args.csv:
        if args.email or args.grant:
            raise SystemExit("accessflow invite: give either --csv FILE or an e-mail with --grant, not both")
        return cmd_invite_csv(client, args)
    if not args.email or not args.grant:
        raise SystemExit("accessflow invite: give an e-mail and at least one --grant (or --csv FILE)")
    body = {"email": args.email, "display_name": args.name or args.email.split("@")[0], "grants": args.grant}
    if args.employee_id:
        body["employee_id"] = args.employee_id
    inv = client.call("POST", f"{_b(args)}/invitations", body=body)
    return inv, table([inv], INVITATION_COLUMNS)


def cmd_invitations(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    page = client.call("GET", f"{_b(args)}/invitations", query={"status": args.status})
    return page, table(page["invitations"], INVITATION_COLUMNS)


def _invitation_action(verb: str) -> Callable[[Client, argparse.Namespace], tuple[Any, str]]:
    def run(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
        body: dict[str, Any] = {}
        if getattr(args, "grant", None):
            body["grants"] = args.grant
        if getattr(args, "reason", None):
            body["reason"] = args.reason
        result = client.call("POST", f"{_b(args)}/invitations/{_q(args.invitation_id)}/{verb}", body=body)
        return result, table([result], [k for k in result if not isinstance(result[k], dict)][:8])
    return run


def cmd_members(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    page = client.call("GET", f"{_b(args)}/members", query={"status": args.status})
    return page, table(page["members"], MEMBER_COLUMNS)


def cmd_set_role(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    path = f"{_b(args)}/members/{_q(_member_id(client, args))}/grants/{_q(args.account_id)}"
    if args.remove:
        result = client.call("DELETE", path)
    else:
        if not args.role:
            raise SystemExit("set-role: give a ROLE, or --remove")
        result = client.call("PUT", path, body={"role": grants_arg(f"x:{args.role}")["role"]})
    note = "" if result.get("changed", True) else "\n(no change: the member already held that role)"
    return result, table([result], MEMBER_COLUMNS) + note


MOVE_COLUMNS = ("account_id", "change", "before", "after")


def cmd_move(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    """A mover: the member's complete desired set (issue 11, docs/movers.md)."""
    result = client.call("PUT", f"{_b(args)}/members/{_q(_member_id(client, args))}/grants",
                         body={"grants": args.grant})
    text = f"move {result['move_id']}: {result['status']}\n\napplied now:\n" + table(result["applied"], MOVE_COLUMNS)
    if result.get("pending"):
        text += (f"\n\nawaiting another Admin's confirmation (accessflow confirm {args.business_id} "
                 f"{result['invitation_id']}):\n" + table(result["pending"], MOVE_COLUMNS))
    return result, text


def cmd_offboard(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    body = {"reason": args.reason}
    result = client.call("POST", f"{_b(args)}/members/{_q(_member_id(client, args))}/offboard", body=body)
    return result, table([result], [k for k in result if not isinstance(result[k], dict | list)][:8])


ATTEMPT_COLUMNS = ("attempt", "started_at", "source", "requested_by", "reason", "outcome", "ended_at", "error")


def _offboarding_text(result: dict[str, Any]) -> str:
    head = table([result], ("offboarding_id", "member_id", "status", "attempt", "reason", "started_at",
                            "completed_at", "reinstatable_until"))
    return head + "\n\nattempts:\n" + table(result.get("attempts") or [], ATTEMPT_COLUMNS)


def cmd_offboarding(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    result = client.call("GET", f"{_b(args)}/members/{_q(_member_id(client, args))}/offboarding")
    return result, _offboarding_text(result)


def cmd_rerun_offboarding(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    path = f"{_b(args)}/members/{_q(_member_id(client, args))}/offboarding/rerun"
    result = client.call("POST", path, body={"reason": args.reason})
    return result, _offboarding_text(result)


# --- held offboardings (the leaver guard) and reinstatement (issue 11) -----------------------------

HELD_COLUMNS = ("member_id", "email", "display_name", "source", "requested_by", "reason", "held_at")


def cmd_held(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    result = client.call("GET", f"{_b(args)}/offboardings", query={"status": "HELD"})
    rows = result["offboardings"]
    text = table(rows, HELD_COLUMNS) if rows else "No held offboardings."
    return result, text


def cmd_release(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    body = {"reason": args.reason} if args.reason else {}
    if args.all and args.member:  # a typo must not release every held offboarding
        raise SystemExit("release: give a MEMBER or --all, not both")
    if args.all:
        result = client.call("POST", f"{_b(args)}/offboardings/release", body=body)
        released = result["released"]
        return result, f"Released {len(released)} held offboarding(s)." + (
            "\n" + table(released, ("member_id", "offboarding_id", "status")) if released else "")
    if not args.member:
        raise SystemExit("release: give a MEMBER, or --all")
    path = f"{_b(args)}/members/{_q(_member_id(client, args))}/offboarding/release"
    result = client.call("POST", path, body=body)
    return result, _offboarding_text(result)


def cmd_cancel_offboarding(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    path = f"{_b(args)}/members/{_q(_member_id(client, args))}/offboarding/cancel"
    result = client.call("POST", path, body={"reason": args.reason})
    return result, _offboarding_text(result) + "\n\nThe member keeps every grant."


def cmd_reinstate(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    path = f"{_b(args)}/members/{_q(_member_id(client, args))}/reinstate"
    result = client.call("POST", path)
    return result, (table([result], ("invitation_id", "email", "status", "grants", "expires_at"))
                    + "\n\nA new invitation with the member's last grants: they accept it with the same e-mail.")


def cmd_policy(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    changes: dict[str, Any] = {}
    if args.invitation_lifetime_days is not None:
        changes["invitation_lifetime_days"] = args.invitation_lifetime_days
    if args.require_mfa_for_admins is not None:
        changes["require_mfa_for_admins"] = args.require_mfa_for_admins == "on"
    if getattr(args, "leaver_guard", None) is not None:  # issue 11: the leaver guard
        changes["leaver_guard_enabled"] = args.leaver_guard == "on"
    for name in ("leaver_guard_count", "leaver_guard_percent", "leaver_guard_window_minutes"):
        if getattr(args, name, None) is not None:
            changes[name] = getattr(args, name)
    if getattr(args, "review_undecided", None):
        changes["review_undecided"] = args.review_undecided
    for knob in ("review_cadence", "review_duration_days", "review_idle_after_days"):  # recurring reviews, idle
        if getattr(args, knob, None) is not None:
            changes[knob] = getattr(args, knob)
    path = f"{_b(args)}/policy"
    result = client.call("PATCH", path, body=changes) if changes else client.call("GET", path)
    return result, table([{"setting": k, "value": v} for k, v in result.items()], ("setting", "value"))


def cmd_audit(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    query = {"member_id": args.member_id, "action": args.action, "since": args.since, "until": args.until,
             "limit": args.limit}
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.call("GET", f"{_b(args)}/audit", query=query | {"cursor": cursor})
        entries += page["entries"]
        cursor = page.get("next_cursor")
        if not cursor or not args.all:
            break
    result = {"entries": entries, "next_cursor": cursor}
    rows = [e | {"who": _who(e, "actor")} for e in entries]
    text = table(rows, AUDIT_COLUMNS) + (f"\n(more: --cursor {cursor} or --all)" if cursor else "")
    return result, text


CAMPAIGN_COLUMNS = ("campaign_id", "name", "status", "started_at", "deadline", "undecided_policy", "items", "decided",
                    "remove", "flagged")
ITEM_COLUMNS = ("item_id", "member", "account_id", "role", "reviewers", "decision", "note", "idle", "flagged")
REPORT_COLUMNS = ("item_id", "member", "account_id", "role", "decision", "decided_by", "note", "outcome", "applied")


def _campaign_row(c: dict[str, Any]) -> dict[str, Any]:
    return c | {k: c["counts"][k] for k in ("items", "decided", "remove", "flagged")}


def _item_row(i: dict[str, Any]) -> dict[str, Any]:
    decided = i.get("decided_by") or {}
    return i | {"member": person(i.get("member_name"), i.get("member_email")) or i["member_id"],
                "reviewers": ", ".join(r.get("email") or r["member_id"] for r in i["reviewers"]) or "(nobody)",
                "decided_by": person(decided.get("name"), decided.get("email"))}


def cmd_review_campaign(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    """``review BUSINESS ACTION [CAMPAIGN]``: access review campaigns (issue 11)."""
    base = f"{_b(args)}/reviews"
    if args.action in ("show", "items", "decide", "report") and not args.campaign:
        raise ApiError(400, {"title": "Missing argument", "detail": f"review {args.action} needs a CAMPAIGN id"})
    if args.action == "start":
        c = client.call("POST", base, body={k: v for k, v in (("name", args.name), ("duration_days", args.days))
                                            if v is not None})
        return c, f"started {c['campaign_id']}: {c['counts']['items']} grants, deadline {c['deadline']}"
    if args.action == "list":
        page = client.call("GET", base)
        return page, table([_campaign_row(c) for c in page["campaigns"]], CAMPAIGN_COLUMNS)
    path = f"{base}/{_q(args.campaign)}"
    if args.action == "show":
        c = client.call("GET", path)
        return c, table([_campaign_row(c)], CAMPAIGN_COLUMNS)
    if args.action == "items":
        decided = True if args.decided else False if args.undecided else None
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = client.call("GET", f"{path}/items", query={
                "assigned_to": "me" if args.mine else None, "cursor": cursor, "limit": 500,
                "decided": None if decided is None else str(decided).lower()})
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return {"items": items}, table([_item_row(i) for i in items], ITEM_COLUMNS)
    if args.action == "decide":
        decisions = [{"item_id": i, "decision": d} | ({"note": args.note} if args.note else {})
                     for d, ids in (("keep", args.keep or []), ("remove", args.remove or [])) for i in ids]
        if not decisions:
            raise ApiError(400, {"title": "Nothing to decide", "detail": "give --keep ITEM and/or --remove ITEM"})
        result = client.call("POST", f"{path}/decisions", body={"decisions": decisions})
        rows = [r | {"why": (r.get("problem") or {}).get("detail")} for r in result["results"]]
        return result, table(rows, ("item_id", "status", "why"))
    if args.csv:
        text = client.call("GET", f"{path}/report", query={"format": "csv"}, accept="text/csv")
        return text, text.rstrip("\r\n")
    report: dict[str, Any] = {"items": []}
    cursor = None
    while True:  # page by page: a large campaign's report exceeds one response
        page = client.call("GET", f"{path}/report", query={"limit": 2000, "cursor": cursor})
        report = {"campaign": page["campaign"], "items": report["items"] + page["items"]}
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return report, table([_item_row(i) for i in report["items"]], REPORT_COLUMNS)


def cmd_review(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    if getattr(args, "action", None):
        return cmd_review_campaign(client, args)
    if args.csv:
        text = client.call("GET", f"{_b(args)}/access-review", query={"format": "csv"}, accept="text/csv")
        return text, text.rstrip("\r\n")
    review = client.call("GET", f"{_b(args)}/access-review")
    rows = [r | {k: _who(r, k) for k in ("invited_by", "confirmed_by", "last_change_by")} for r in review["rows"]]
    return review, table(rows, REVIEW_COLUMNS)


def cmd_accounts(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    page = client.call("GET", f"{_b(args)}/accounts", query={"status": args.status})
    return page, table(page["accounts"], ACCOUNT_COLUMNS)


def cmd_add_account(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    body = {"account_id": args.account_id, "display_name": args.name, "platform": args.platform.strip().lower()}
    account = client.call("POST", f"{_b(args)}/accounts", body=body)
    return account, table([account], ACCOUNT_COLUMNS)


def cmd_rename_account(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    account = client.call("PATCH", f"{_b(args)}/accounts/{_q(args.account_id)}", body={"display_name": args.name})
    return account, table([account], ACCOUNT_COLUMNS)


def cmd_retire_account(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    body = {"reason": args.reason} if args.reason else {}
    account = client.call("POST", f"{_b(args)}/accounts/{_q(args.account_id)}/retire", body=body)
    return account, table([account], ACCOUNT_COLUMNS)


def cmd_me(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    me = client.call("GET", "/me")
    rows = [b | {"roles": ", ".join(f"{r['display_name']} ({r['account_id']}): {r['role']}" for r in b["roles"])}
            for b in me["businesses"]]
    head = f"Signed in as {person(me.get('name'), me.get('email')) or me['sub']}"
    return me, head + "\n" + (table(rows, ME_COLUMNS) if rows else "No business where you are an active member.")


def account_arg(text: str) -> tuple[str, str, str]:
    """``ID:DISPLAY NAME:PLATFORM`` → an account (the display name may itself contain colons)."""
    account_id, _, rest = text.partition(":")
    display, _, platform = rest.rpartition(":")
    if not account_id or not display or not platform:
        raise argparse.ArgumentTypeError(f"expected ID:DISPLAY NAME:PLATFORM, got {text!r}")
    return account_id.strip(), display.strip(), platform.strip().lower()


def stack_outputs(stack_name: str, region: str | None) -> dict[str, str]:
    """The CloudFormation outputs of a deployed AccessFlow stack (TableName, EventBusName, ...)."""
    import boto3

    stacks = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def cmd_bootstrap(_: Client | None, args: argparse.Namespace) -> tuple[Any, str]:
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    table_name, bus = args.table or os.environ.get("TABLE_NAME"), args.bus or os.environ.get("EVENT_BUS_NAME")
    if args.stack:
        outputs = stack_outputs(args.stack, region)
        table_name, bus = table_name or outputs.get("TableName"), bus or outputs.get("EventBusName")
    if not table_name:
        raise SystemExit("bootstrap: give --table, --stack or set TABLE_NAME (the AccessFlow table)")
    if bus:
        os.environ.setdefault("EVENT_BUS_NAME", bus)
    from accessflow.adapters.clock import utcnow
    from accessflow.domain.errors import DomainError
    from accessflow.store.models import bind
    from accessflow.usecases.business import bootstrap

    bind(table_name, region)
    try:
        report = bootstrap(args.business_id, args.name, args.account, args.admin_email, args.admin_name,
                           now=utcnow(), actor=args.actor)
    except DomainError as exc:
        raise ApiError(exc.status, exc.problem()) from exc
    except Exception as exc:  # credentials, a wrong table or region: the operator's to fix, said plainly
        raise SystemExit(f"accessflow bootstrap: {type(exc).__name__}: {exc}") from exc
    admin = report.admin
    result = {"business_id": args.business_id, "table": table_name, "changed": report.changed,
              "changes": report.changes, "admin": {"member_id": admin.member_id, "email": admin.email,
                                                   "status": admin.status} if admin else None}
    if not report.changed:
        return result, (f"Nothing to change: business {args.business_id} already has these accounts and "
                        f"{args.admin_email} as a member.")
    return result, "\n".join(["Done:", *(f"  - {c}" for c in report.changes)])


TOKEN_COLUMNS = ("token_id", "name", "status", "created_at", "rotated_at", "revoked_at", "last_used_at")
BUNDLE_COLUMNS = ("group_id", "display_name", "grants", "members", "updated_at")


def cmd_scim_token(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    base = f"{_b(args)}/scim-tokens"
    if args.action == "list":
        page = client.call("GET", base)
        return page, table(page["tokens"], TOKEN_COLUMNS)
    if not args.target:
        raise SystemExit(f"scim-token {args.action}: give the token's {'NAME' if args.action == 'create' else 'ID'}")
    if args.action == "create":
        result = client.call("POST", base, body={"name": args.target})
    elif args.action == "rotate":
        result = client.call("POST", f"{base}/{_q(args.target)}/rotate")
    else:
        result = client.call("DELETE", f"{base}/{_q(args.target)}")
        return result, table([result], TOKEN_COLUMNS)
    text = (f"SCIM base URL: {result['scim_base_url']}\nToken (shown once, store it in the identity provider "
            f"now):\n{result['token']}")
    return result, text


def cmd_bundle(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    base = f"{_b(args)}/bundles"
    if args.action == "list":
        page = client.call("GET", base)
        return page, table(page["bundles"], BUNDLE_COLUMNS)
    if not args.target:
        raise SystemExit(f"bundle {args.action}: give the bundle's {'NAME' if args.action == 'create' else 'ID'}")
    if args.action == "create":
        result = client.call("POST", base, body={"display_name": args.target, "grants": args.grant or []})
    else:
        result = client.call("PUT", f"{base}/{_q(args.target)}/grants", body={"grants": args.grant or []})
    return result, table([result], BUNDLE_COLUMNS)


def cmd_dev_token(_: Client | None, args: argparse.Namespace) -> tuple[Any, str]:
    from accessflow import devlogin

    try:
        token = devlogin.id_token(args.idp_url, args.email, sub=args.sub, email_verified=not args.unverified,
                                  name=args.name, client_id=args.client_id)
    except devlogin.SignInError as exc:
        raise SystemExit(f"accessflow dev-token: {exc} (is `make serve` running? see --idp-url)") from exc
    return {"token": token}, token


# --- parser ----------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api-url", default=os.environ.get("ACCESSFLOW_API_URL"),
                        help="base URL of the AccessFlow API (default: $ACCESSFLOW_API_URL)")
    common.add_argument("--token", default=os.environ.get("ACCESSFLOW_TOKEN"),
                        help="bearer token of your login (default: $ACCESSFLOW_TOKEN)")
    common.add_argument("--json", action="store_true", help="print the API's JSON instead of a table")

    top = argparse.ArgumentParser(
        prog="accessflow", description="Administer AccessFlow: invitations, members and roles, the audit "
        "trail and the access review, over the HTTP API.",
        epilog="Example: accessflow invite biz-1 ana@example.com --grant acct-1:Editor --grant acct-2:Analyst")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, summary: str, details: str, func: Callable[..., tuple[Any, str]],
            business: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=summary, description=f"{summary} {details}".strip())
        if business:
            p.add_argument("business_id", metavar="BUSINESS", help="the business id")
        p.set_defaults(func=func)
        return p

    p = add("invite", "Invite someone by e-mail with a role per account, or up to 1,000 people from a CSV file.",
            "You must be Admin of every account you grant on. Admin roles wait for a second Admin's "
            "confirmation; lower roles are confirmed automatically unless the business says otherwise. "
            "With --csv FILE (columns email,name,account,role[,employee_id]; rows with the same e-mail are one "
            "invitation, see docs/bulk.md) the file is validated as a whole: --dry-run prints each refused or "
            "duplicate row and writes nothing; otherwise each valid person gets their own invitation.", cmd_invite)
    p.add_argument("email", nargs="?", help="the invitee's e-mail address (not with --csv)")
    p.add_argument("--grant", action="append", type=grants_arg, metavar="ACCOUNT:ROLE",
                   help=f"a role on an account (repeatable); ROLE is one of {', '.join(ROLES)}")
    p.add_argument("--csv", metavar="FILE", help="invite everyone in this CSV file (at most 1,000 rows)")
    p.add_argument("--dry-run", action="store_true", help="with --csv: only validate; print the verdicts")
    p.add_argument("--import-id", help="with --csv: your id for this import; the same id again creates nothing "
                                       "more and shows the import")
    p.add_argument("--wait", action="store_true", help="with --csv: wait until every row is done, then show results")
    p.add_argument("--timeout", type=float, default=600, help="with --wait: give up after this many seconds")
    p.add_argument("--all-rows", action="store_true", help="with --csv: list every row, not only the ones to look at")
    p.add_argument("--name", help="display name (default: the e-mail's local part)")
    p.add_argument("--employee-id", help="HR employee id, to match later leaver events")

    p = add("invitations", "List the business's invitations, newest first.",
            "Needs Admin on at least one account.", cmd_invitations)
    p.add_argument("--status", choices=["PENDING", "ACCEPTED", "CONFIRMED", "EXPIRED", "REVOKED", "REJECTED"],
                   help="only invitations with this status")

    for verb, summary, details in (
        ("resend", "Send a pending invitation again.", "Rotates the link (the old one dies) and renews its "
         "lifetime; at most 5 sends, at most once a minute."),
        ("revoke", "Revoke a pending invitation.", "The link stops working and the waiting workflow ends."),
        ("reissue", "Issue an expired invitation again, with the same grants.", "Creates a new invitation (new "
         "link, full lifetime); calling it again returns the same new invitation."),
        ("confirm", "Confirm the role of an invitee who accepted.", "Only an Admin of the accounts, never the "
         "invitee; --grant narrows the roles (a subset of accounts, roles no higher)."),
        ("reject", "Decline the proposed role of an invitee who accepted.", "Nothing is granted."),
    ):
        p = add(verb, summary, details, _invitation_action(verb))
        p.add_argument("invitation_id", metavar="INVITATION", help="the invitation id")
        if verb == "confirm":
            p.add_argument("--grant", action="append", type=grants_arg, metavar="ACCOUNT:ROLE",
                           help="narrow to these roles (repeatable)")
        if verb in ("revoke", "reject"):
            p.add_argument("--reason", help="why (kept on the audit trail)")

    p = add("members", "List the members with their active grants.",
            "Needs Admin on at least one account.", cmd_members)
    p.add_argument("--status", choices=["INVITED", "ACTIVE", "OFFBOARDING", "REMOVED", "NEVER_JOINED"],
                   help="only members with this status")

    p = add("set-role", "Change a member's role on one account, or remove it with --remove.",
            "Only an Admin of that account. At most the business's maximum of Admins per account; the last "
            "Admin of an account cannot be demoted or removed.", cmd_set_role)
    p.add_argument("member", metavar="MEMBER", help="member id or e-mail address")
    p.add_argument("account_id", metavar="ACCOUNT", help="the account id")
    p.add_argument("role", metavar="ROLE", nargs="?", help=f"the new role: {', '.join(ROLES)}")
    p.add_argument("--remove", action="store_true", help="remove the member's role on the account")

    p = add("move", "Give a member exactly these grants (a mover): what is left out is removed.",
            "Removals and lowered roles apply at once; new accounts and raised roles wait for another Admin's "
            "confirmation when they need one (Admin always). You must be Admin of every account that changes. "
            "An empty set is refused: use offboard.", cmd_move)
    p.add_argument("member", metavar="MEMBER", help="member id or e-mail address")
    p.add_argument("--grant", action="append", type=grants_arg, required=True, metavar="ACCOUNT:ROLE",
                   help=f"a role the member keeps or gets (repeatable); ROLE is one of {', '.join(ROLES)}")

    p = add("offboard", "Offboard a member: every grant revoked, pending invitations cancelled, sessions "
            "revoked.", "Runs the offboarding workflow; the receipt lists what was removed.", cmd_offboard)
    p.add_argument("member", metavar="MEMBER", help="member id or e-mail address")
    p.add_argument("--reason", required=True, help="why (kept on the receipt and the audit trail)")

    p = add("offboarding", "Show a member's offboarding: status, receipt and every attempt.",
            "Needs Admin on at least one account.", cmd_offboarding)
    p.add_argument("member", metavar="MEMBER", help="member id or e-mail address")

    p = add("rerun-offboarding", "Re-run a FAILED offboarding once its cause is fixed.",
            "The same offboarding gets a new attempt (recorded with who, when, why and its outcome); grants "
            "an earlier attempt revoked are not revoked again. Needs Admin on every account the member still "
            "holds.", cmd_rerun_offboarding)
    p.add_argument("member", metavar="MEMBER", help="member id or e-mail address")
    p.add_argument("--reason", required=True, help="what was fixed (kept on the attempt and the audit trail)")

    p = add("policy", "Show the business's policy, or change it.",
            "Changing it needs Admin on every account of the business. --require-mfa-for-admins on makes "
            "every admin route refuse a login without multi-factor authentication (your own login must "
            "have used MFA to turn it on).", cmd_policy)
    p.add_argument("--invitation-lifetime-days", type=int, help="how long an invitation link works (1-30)")
    p.add_argument("--require-mfa-for-admins", choices=["on", "off"],
                   help="refuse admin requests whose login did not use multi-factor authentication")
    p.add_argument("--leaver-guard", choices=["on", "off"], help="hold bursts of leaver requests (HR, SCIM)")
    p.add_argument("--leaver-guard-count", type=int, help="leavers that may proceed per window (default 10)")
    p.add_argument("--leaver-guard-percent", type=int,
                   help="...or this percentage of the members, whichever is larger (default 20)")
    p.add_argument("--leaver-guard-window-minutes", type=int, help="the window (default 60)")
    p.add_argument("--review-undecided", choices=["keep", "remove"],
                   help="what closing an access review does with grants nobody decided (default keep)")
    p.add_argument("--review-cadence", choices=["off", "monthly", "quarterly", "semiannual", "annual"],
                   help="how often an access review starts by itself (default quarterly)")
    p.add_argument("--review-duration-days", type=int, help="how long a scheduled review stays open (1-90)")
    p.add_argument("--review-idle-after-days", type=int,
                   help="flag reviewed members with no activity for longer than this (default 90)")

    p = add("audit", "Show the audit trail, oldest first.",
            "Filter by member, action and time range; --all follows every page.", cmd_audit)
    p.add_argument("--member-id", help="only entries about this member")
    p.add_argument("--action", help="only this action, e.g. grant.changed")
    p.add_argument("--since", help="ISO time, e.g. 2026-01-01T00:00:00Z")
    p.add_argument("--until", help="ISO time")
    p.add_argument("--limit", type=int, default=100, help="entries per page (1-500, default 100)")
    p.add_argument("--all", action="store_true", help="fetch every page")

    p = add("review", "The access review: every member, role per account, invited by, confirmed by, last "
            "change; or, with an ACTION, access review campaigns.",
            "--csv prints the CSV export (for auditors' spreadsheets). Campaigns: 'start' snapshots every "
            "active grant for its account's Admins to review; 'list'; 'show', 'items' (--mine: yours), "
            "'decide' (--keep/--remove ITEM, repeatable, --note) and 'report' (--csv) take the CAMPAIGN id.",
            cmd_review)
    p.add_argument("action", nargs="?", choices=["start", "list", "show", "items", "decide", "report"],
                   help="a campaign action (none: the current access review export)")
    p.add_argument("campaign", nargs="?", metavar="CAMPAIGN", help="the campaign id")
    p.add_argument("--csv", action="store_true", help="print CSV")
    p.add_argument("--name", help="start: the campaign's name")
    p.add_argument("--days", type=int, help="start: days until the deadline (1-90, default 14)")
    p.add_argument("--mine", action="store_true", help="items: only the grants you review")
    p.add_argument("--decided", action="store_true", help="items: only decided grants")
    p.add_argument("--undecided", action="store_true", help="items: only undecided grants")
    p.add_argument("--keep", action="append", metavar="ITEM", help="decide: keep this grant (repeatable)")
    p.add_argument("--remove", action="append", metavar="ITEM", help="decide: remove this grant (repeatable)")
    p.add_argument("--note", help="decide: a note kept with each decision (at most 500 characters)")

    p = add("accounts", "List the business's accounts: id, display name, platform, status, Admin count, your "
            "role.", "Retired accounts are listed too (--status filters). Needs Admin on at least one account.",
            cmd_accounts)
    p.add_argument("--status", choices=["ACTIVE", "RETIRED"], help="only accounts with this status")

    p = add("add-account", "Add an account to the business; you become its Admin.",
            "Needs Admin on at least one account of the business. The id is permanent (used in grants and the "
            "audit trail); the display name can be changed later with rename-account.", cmd_add_account)
    p.add_argument("account_id", metavar="ACCOUNT", help="the new account's id, e.g. tiktok-main")
    p.add_argument("--name", required=True, help="display name, e.g. 'TikTok @acme'")
    p.add_argument("--platform", required=True, help="platform slug, e.g. tiktok, instagram, meta-ads")

    p = add("rename-account", "Change an account's display name (its id stays).",
            "Only an Admin of that account; a retired account cannot be renamed.", cmd_rename_account)
    p.add_argument("account_id", metavar="ACCOUNT", help="the account id")
    p.add_argument("--name", required=True, help="the new display name")

    p = add("retire-account", "Retire an account: nobody can be invited to it or given a role on it again.",
            "Only an Admin of that account. Refused while anyone else holds a role on it or a pending or accepted "
            "invitation names it (the refusal lists them: remove or revoke them first); your own Admin grant "
            "ends with it. Its history stays.", cmd_retire_account)
    p.add_argument("account_id", metavar="ACCOUNT", help="the account id")
    p.add_argument("--reason", help="why (kept on the audit trail)")

    p = add("held", "List the held offboardings (leaver guard).",
            "Leaver requests beyond the business's limit in one window wait here for an Admin to release or "
            "cancel them. Needs Admin on at least one account.", cmd_held)

    p = add("release", "Release held offboardings: they proceed.",
            "One member (MEMBER) or every held one (--all); you must be Admin of every account each of them "
            "holds.", cmd_release)
    p.add_argument("member", metavar="MEMBER", nargs="?", help="member id or e-mail address")
    p.add_argument("--all", action="store_true", help="release every held offboarding of the business")
    p.add_argument("--reason", help="why they may proceed (kept on the audit trail)")

    p = add("cancel-offboarding", "Cancel a held offboarding: the member keeps every grant.",
            "Only a HELD offboarding (leaver guard); the reason is kept on the record and the audit trail.",
            cmd_cancel_offboarding)
    p.add_argument("member", metavar="MEMBER", help="member id or e-mail address")
    p.add_argument("--reason", required=True, help="why it is cancelled")

    p = add("reinstate", "Reinstate a REMOVED member: their last grants proposed again as a new invitation.",
            "Within the receipt's reinstatable_until (90 days by default) and while every account of the "
            "receipt is still open; otherwise refused (send a normal invitation). They accept with the same "
            "verified e-mail; Admin grants need another Admin's confirmation.", cmd_reinstate)
    p.add_argument("member", metavar="MEMBER", help="member id or e-mail address")

    p = add("me", "Who you are signed in as, and the businesses where you are an active member.",
            "With your member id and your role on each account: the business ids to give the other commands.",
            cmd_me, business=False)

    p = sub.add_parser(
        "bootstrap", help="Operator: create a business with its accounts and first Admin (AWS credentials).",
        description="Operator: create a business with its accounts and first Admin, directly in the AccessFlow "
        "table with your AWS credentials (not through the API: there is no Admin yet to call it). Idempotent: "
        "running it again with the same arguments changes nothing and says so; with new accounts or names it "
        "adds or renames them. The Admin signs in with the given e-mail (verified at the identity provider); "
        "their login is linked on their first call.",
        epilog="Example: accessflow bootstrap --stack accessflow --business-id acme --name 'Acme Social' "
        "--account 'tiktok-main:TikTok @acme:tiktok' --admin-email alice@acme.example --admin-name 'Alice Admin'")
    p.add_argument("--business-id", required=True, help="the business id (letters, digits, . _ -)")
    p.add_argument("--name", required=True, help="the business's name")
    p.add_argument("--account", action="append", type=account_arg, required=True, metavar="ID:DISPLAY NAME:PLATFORM",
                   help="an account (repeatable), e.g. 'instagram:Instagram @acme.social:instagram'")
    p.add_argument("--admin-email", required=True, help="the first Admin's e-mail (Admin of every account)")
    p.add_argument("--admin-name", required=True, help="the first Admin's display name")
    p.add_argument("--table", help="the AccessFlow table (default: $TABLE_NAME, or --stack's output TableName)")
    p.add_argument("--bus", help="the AccessFlow event bus (default: $EVENT_BUS_NAME, or --stack's EventBusName)")
    p.add_argument("--stack", help="read the table and bus from this CloudFormation stack's outputs")
    p.add_argument("--region", help="AWS region (default: $AWS_REGION / $AWS_DEFAULT_REGION)")
    p.add_argument("--actor", default="operator", help="who runs it, as the audit trail names it (default: operator)")
    p.add_argument("--json", action="store_true", help="print what was done as JSON")
    p.set_defaults(func=cmd_bootstrap)

    p = add("scim-token", "Manage the business's SCIM bearer tokens (for Okta, Entra ID, JumpCloud...).",
            "create NAME prints the token once, with the SCIM base URL; list never shows secrets; rotate ID "
            "replaces the secret (the old one dies); revoke ID ends it. Admin of every account.", cmd_scim_token)
    p.add_argument("action", choices=["create", "list", "rotate", "revoke"])
    p.add_argument("target", nargs="?", metavar="NAME|ID", help="the new token's name, or the token id")

    p = add("bundle", "Manage access bundles: the SCIM groups an identity provider assigns people to.",
            "create NAME --grant ACCOUNT:ROLE...; set-grants ID --grant ...; list. You must be Admin of every "
            "account a bundle grants on.", cmd_bundle)
    p.add_argument("action", choices=["create", "list", "set-grants"])
    p.add_argument("target", nargs="?", metavar="NAME|ID", help="the new bundle's name, or the bundle id")
    p.add_argument("--grant", action="append", type=grants_arg, metavar="ACCOUNT:ROLE",
                   help="a role on an account (repeatable)")

    p = add("dev-token", "Sign in at the LOCAL stack's identity provider and print the ID token (make serve).",
            "Registers the person's claims at the local OpenID Connect provider, signs in with the "
            "authorization-code flow and PKCE, and prints the ID token (valid 12 hours). A real IdP "
            "(Cognito, Okta, Entra) lets nobody do this: there, sign in through the console page.",
            cmd_dev_token, business=False)
    p.add_argument("email", help="the login's e-mail address")
    p.add_argument("--sub", help="subject (default: derived from the e-mail, the same as typing it at the IdP)")
    p.add_argument("--name", help="display name claim")
    p.add_argument("--unverified", action="store_true", help="email_verified = false")
    p.add_argument("--idp-url", default=os.environ.get("ACCESSFLOW_IDP_URL", "http://127.0.0.1:3001"),
                   help="the local IdP (default: $ACCESSFLOW_IDP_URL or http://127.0.0.1:3001)")
    p.add_argument("--client-id", default=os.environ.get("ACCESSFLOW_CLIENT_ID", "accessflow-api"),
                   help="the app's client id, the API's JWT audience (default: accessflow-api)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    client: Client | None = None
    if args.func not in (cmd_dev_token, cmd_bootstrap):
        if not args.api_url:
            print("accessflow: give --api-url or set ACCESSFLOW_API_URL", file=sys.stderr)
            return 2
        client = Client(args.api_url, args.token)
    try:
        result, text = args.func(client, args)
    except ApiError as exc:
        print(f"accessflow {args.command}: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps(exc.problem, indent=2), file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"accessflow {args.command}: cannot reach {args.api_url}: {exc.reason}", file=sys.stderr)
        return 1
    if args.json and not isinstance(result, str):
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

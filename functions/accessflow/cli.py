"""``accessflow``: the admin CLI over the HTTP API.

Every command calls the API at ``--api-url`` (or ``ACCESSFLOW_API_URL``) with the bearer token
``--token`` (or ``ACCESSFLOW_TOKEN``); it prints a readable table, or the API's JSON with ``--json``.
A refusal prints the API's problem (status, title, detail) on stderr and exits with status 1.
Standard library only (urllib): the module ships in the Lambda package.

``accessflow dev-token EMAIL`` mints a token for the local stack (run it from the repository: it
uses the local signing key in ``.local/``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
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
AUDIT_COLUMNS = ("at", "action", "actor", "member_id", "subject", "before", "after")
REVIEW_COLUMNS = ("email", "member_status", "account_id", "role", "invited_by", "confirmed_by", "last_change_at",
                  "last_change_by")


def cmd_invite(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
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


def cmd_offboard(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    body = {"reason": args.reason}
    result = client.call("POST", f"{_b(args)}/members/{_q(_member_id(client, args))}/offboard", body=body)
    return result, table([result], [k for k in result if not isinstance(result[k], dict | list)][:8])


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
    text = table(entries, AUDIT_COLUMNS) + (f"\n(more: --cursor {cursor} or --all)" if cursor else "")
    return result, text


def cmd_review(client: Client, args: argparse.Namespace) -> tuple[Any, str]:
    if args.csv:
        text = client.call("GET", f"{_b(args)}/access-review", query={"format": "csv"}, accept="text/csv")
        return text, text.rstrip("\r\n")
    review = client.call("GET", f"{_b(args)}/access-review")
    return review, table(review["rows"], REVIEW_COLUMNS)


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
    root = _repo_root()
    if root is None:
        raise SystemExit("dev-token: run it from the AccessFlow repository (it needs infra/ and .local/).")
    sys.path.insert(0, str(root))
    from infra import devtoken
    from infra.httpapi import jwt_settings_from_template

    issuer, audience = jwt_settings_from_template(root / "template.yaml")
    token = devtoken.mint(devtoken.load_or_create_private_key(root / ".local" / "jwt-private.pem"),
                          issuer=issuer, audience=audience, email=args.email, sub=args.sub,
                          email_verified=not args.unverified, ttl=args.ttl)
    return {"token": token}, token


def _repo_root() -> Path | None:
    for here in (Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[2]):
        if (here / "infra" / "devtoken.py").is_file() and (here / "template.yaml").is_file():
            return here
    return None


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

    p = add("invite", "Invite someone by e-mail with a role per account.",
            "You must be Admin of every account you grant on. Admin roles wait for a second Admin's "
            "confirmation; lower roles are confirmed automatically unless the business says otherwise.", cmd_invite)
    p.add_argument("email", help="the invitee's e-mail address")
    p.add_argument("--grant", action="append", type=grants_arg, required=True, metavar="ACCOUNT:ROLE",
                   help=f"a role on an account (repeatable); ROLE is one of {', '.join(ROLES)}")
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

    p = add("offboard", "Offboard a member: every grant revoked, pending invitations cancelled, sessions "
            "revoked.", "Runs the offboarding workflow; the receipt lists what was removed.", cmd_offboard)
    p.add_argument("member", metavar="MEMBER", help="member id or e-mail address")
    p.add_argument("--reason", required=True, help="why (kept on the receipt and the audit trail)")

    p = add("audit", "Show the audit trail, oldest first.",
            "Filter by member, action and time range; --all follows every page.", cmd_audit)
    p.add_argument("--member-id", help="only entries about this member")
    p.add_argument("--action", help="only this action, e.g. grant.changed")
    p.add_argument("--since", help="ISO time, e.g. 2026-01-01T00:00:00Z")
    p.add_argument("--until", help="ISO time")
    p.add_argument("--limit", type=int, default=100, help="entries per page (1-500, default 100)")
    p.add_argument("--all", action="store_true", help="fetch every page")

    p = add("review", "The access review: every member, role per account, invited by, confirmed by, last "
            "change.", "--csv prints the CSV export (for auditors' spreadsheets).", cmd_review)
    p.add_argument("--csv", action="store_true", help="print CSV")

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

    p = add("dev-token", "Mint a login token for the LOCAL stack (make serve / the tests).",
            "Signed with the local key in .local/ of the repository; the deployed API does not accept it.",
            cmd_dev_token, business=False)
    p.add_argument("email", help="the login's e-mail address")
    p.add_argument("--sub", help="subject (default: derived from the e-mail)")
    p.add_argument("--unverified", action="store_true", help="email_verified = false")
    p.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    client: Client | None = None
    if args.func is not cmd_dev_token:
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

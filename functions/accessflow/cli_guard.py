"""CLI commands of issue 11's guard part: held offboardings (release, cancel) and reinstatement.
Registered by :func:`accessflow.cli.parser` (kept apart so the shared CLI module changes little)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

HELD_COLUMNS = ("member_id", "email", "display_name", "source", "requested_by", "reason", "held_at")


def _cli() -> Any:
    from accessflow import cli

    return cli


def cmd_held(client: Any, args: argparse.Namespace) -> tuple[Any, str]:
    cli = _cli()
    result = client.call("GET", f"{cli._b(args)}/offboardings", query={"status": "HELD"})
    rows = result["offboardings"]
    text = cli.table(rows, HELD_COLUMNS) if rows else "No held offboardings."
    return result, text


def cmd_release(client: Any, args: argparse.Namespace) -> tuple[Any, str]:
    cli = _cli()
    body = {"reason": args.reason} if args.reason else {}
    if args.all and args.member:  # a typo must not release every held offboarding
        raise SystemExit("release: give a MEMBER or --all, not both")
    if args.all:
        result = client.call("POST", f"{cli._b(args)}/offboardings/release", body=body)
        released = result["released"]
        return result, f"Released {len(released)} held offboarding(s)." + (
            "\n" + cli.table(released, ("member_id", "offboarding_id", "status")) if released else "")
    if not args.member:
        raise SystemExit("release: give a MEMBER, or --all")
    path = f"{cli._b(args)}/members/{cli._q(cli._member_id(client, args))}/offboarding/release"
    result = client.call("POST", path, body=body)
    return result, cli._offboarding_text(result)


def cmd_cancel(client: Any, args: argparse.Namespace) -> tuple[Any, str]:
    cli = _cli()
    path = f"{cli._b(args)}/members/{cli._q(cli._member_id(client, args))}/offboarding/cancel"
    result = client.call("POST", path, body={"reason": args.reason})
    return result, cli._offboarding_text(result) + "\n\nThe member keeps every grant."


def cmd_reinstate(client: Any, args: argparse.Namespace) -> tuple[Any, str]:
    cli = _cli()
    path = f"{cli._b(args)}/members/{cli._q(cli._member_id(client, args))}/reinstate"
    result = client.call("POST", path)
    return result, (cli.table([result], ("invitation_id", "email", "status", "grants", "expires_at"))
                    + "\n\nA new invitation with the member's last grants: they accept it with the same e-mail.")


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
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
            cmd_cancel)
    p.add_argument("member", metavar="MEMBER", help="member id or e-mail address")
    p.add_argument("--reason", required=True, help="why it is cancelled")

    p = add("reinstate", "Reinstate a REMOVED member: their last grants proposed again as a new invitation.",
            "Within the receipt's reinstatable_until (90 days by default) and while every account of the "
            "receipt is still open; otherwise refused (send a normal invitation). They accept with the same "
            "verified e-mail; Admin grants need another Admin's confirmation.", cmd_reinstate)
    p.add_argument("member", metavar="MEMBER", help="member id or e-mail address")


def policy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--leaver-guard", choices=["on", "off"], help="hold bursts of leaver requests (HR, SCIM)")
    p.add_argument("--leaver-guard-count", type=int, help="leavers that may proceed per window (default 10)")
    p.add_argument("--leaver-guard-percent", type=int,
                   help="...or this percentage of the members, whichever is larger (default 20)")
    p.add_argument("--leaver-guard-window-minutes", type=int, help="the window (default 60)")


def policy_changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if getattr(args, "leaver_guard", None) is not None:
        changes["leaver_guard_enabled"] = args.leaver_guard == "on"
    for name in ("leaver_guard_count", "leaver_guard_percent", "leaver_guard_window_minutes"):
        if getattr(args, name, None) is not None:
            changes[name] = getattr(args, name)
    return changes

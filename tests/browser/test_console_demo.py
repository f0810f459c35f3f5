"""The README's quick start in the browser: on the stack ``make serve`` seeds, the seeded Admin opens
the console, signs in at the local IdP by typing their e-mail, and sees the team."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import sign_in_at_idp


def test_the_seeded_admin_signs_in_and_sees_the_team(browser: Any, stack: Any) -> None:
    from infra.seed import ADMIN, seed_demo

    seeded = seed_demo(stack)
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{stack.api_url}/console")
        page.get_by_role("button", name="Sign in").click()
        sign_in_at_idp(page, stack.idp.issuer, ADMIN[0])
        # One business: the console opens its team at once.
        expect(page.get_by_role("heading", level=1)).to_have_text("Team members")
        expect(page.locator("header")).to_contain_text(seeded.name)
        expect(page.locator(".signed-in")).to_contain_text(ADMIN[0])
        team = page.locator("table.team")
        for _, name, _ in seeded.accounts:
            expect(team.locator("thead")).to_contain_text(name)
        for email, name, _ in seeded.members:
            expect(team.locator("tbody tr", has_text=email)).to_contain_text(name)
    finally:
        context.close()

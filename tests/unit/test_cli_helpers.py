"""The CLI's argument parsing and people formatting (pure)."""

from __future__ import annotations

import argparse

import pytest

from accessflow.cli import account_arg, person


def test_account_arg_keeps_colons_in_the_display_name() -> None:
    assert account_arg("meta-ads:Meta Ads: Acme:Meta-Ads") == ("meta-ads", "Meta Ads: Acme", "meta-ads")
    assert account_arg(" tt : TikTok @acme : tiktok ") == ("tt", "TikTok @acme", "tiktok")


@pytest.mark.parametrize("text", ["tt", "tt:TikTok", ":TikTok:tiktok", "tt::tiktok", "tt:TikTok:"])
def test_account_arg_refuses_incomplete_accounts(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        account_arg(text)


def test_person_shows_name_and_email_or_whichever_is_known() -> None:
    assert person("Alice Admin", "alice@acme.example") == "Alice Admin <alice@acme.example>"
    assert person("system:sweep", None) == "system:sweep"
    assert person(None, "bob@acme.example") == "bob@acme.example"
    assert person(None, None) is None

"""The CLI's argument parsing and people formatting (pure)."""

from __future__ import annotations

import argparse
from typing import Any

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


@pytest.mark.parametrize(("content", "says"), [(b"email,name,account,role\nj\xe9r\xf4me@x.io,J\xe9r\xf4me,a,Editor\n",
                                                "is not UTF-8 text"), (None, "cannot read")])
def test_invite_csv_names_an_unreadable_file_instead_of_a_traceback(tmp_path: Any, content: bytes | None,
                                                                    says: str) -> None:
    """An Excel export in Windows-1252, or a mistyped path: a sentence, not a Python traceback."""
    from accessflow.cli import main

    path = tmp_path / "hires.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SystemExit) as stopped:
        main(["invite", "acme", "--csv", str(path), "--api-url", "http://127.0.0.1:9", "--token", "t"])
    assert says in str(stopped.value.code) and str(path) in str(stopped.value.code)


def test_release_with_a_member_and_all_is_refused_not_read_as_all() -> None:
    """``release acme ana@x --all`` must not release every held offboarding of the business."""
    from accessflow.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["release", "acme", "ana@example.com", "--all", "--api-url", "http://127.0.0.1:9", "--token", "t"])
    assert "not both" in str(stopped.value.code)

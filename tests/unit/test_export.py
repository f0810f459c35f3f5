"""The spreadsheet export rule (OWASP "CSV injection"): no exported cell is read as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from accessflow.domain.export import csv_text, safe_cell


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_evaluate_is_quoted(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value,text", [("Ana Lima", "Ana Lima"), ("ana+x@example.com", "ana+x@example.com"),
                                        ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z"), (None, ""), ("", ""),
                                        (3, "3"), ("a=b", "a=b")])
def test_other_cells_are_unchanged(value: object, text: str) -> None:
    assert safe_cell(value) == text


def test_every_cell_of_a_document_goes_through_the_rule() -> None:
    text = csv_text(["name", "email"], [{"name": '=HYPERLINK("http://x","y")', "email": "-a@example.com"},
                                        {"name": "Bo", "email": None}])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [{"name": '\'=HYPERLINK("http://x","y")', "email": "'-a@example.com"},
                    {"name": "Bo", "email": ""}]
    assert text.endswith("\r\n") and text.startswith("name,email\r\n")

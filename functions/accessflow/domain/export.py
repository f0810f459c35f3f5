"""Spreadsheet exports: the one rule every CSV AccessFlow writes goes through.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula ("CSV injection", OWASP): a member whose display name is
``=HYPERLINK("http://x","y")`` would become a live link in an auditor's spreadsheet. OWASP's guidance
is to prefix such a cell with a single quote, which spreadsheets show as text and do not evaluate.
The quote is added to the exported text only; what is stored and what the JSON API returns are
unchanged. Standard library only (the CLI may import it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The text of one exported cell: ``None`` is empty; a value a spreadsheet would evaluate as a
    formula is prefixed with ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV document (RFC 4180 line endings, header row first) whose every cell went through
    :func:`safe_cell`, the header included."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return out.getvalue()


__all__ = ["FORMULA_TRIGGERS", "csv_text", "safe_cell"]

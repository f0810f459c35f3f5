"""Bulk onboarding: the CSV format and the whole-file validation, as pure rules (no I/O).

A file is validated as a whole before anything is written: every row gets a verdict (``valid``,
``duplicate`` or ``refused`` with a reason), computed from the file and from a snapshot of the
business (:class:`BusinessView`) the use case reads beforehand. The same function gives the dry
run's answer and decides which rows the real run starts, so a dry run says exactly what a run
would do (barring changes made in between, which the run's conditional writes still catch).

Rows for the same e-mail are one person: one invitation whose grants are those rows' (account, role)
pairs, as the invite form proposes a role per account. See docs/bulk.md for the file format.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import EmailStr, TypeAdapter, ValidationError

from accessflow.domain.errors import InvalidInput
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Permission, Role, has_permission
from accessflow.domain.tokens import normalise_email

MAX_ROWS = 1000
REQUIRED_COLUMNS = ("email", "name", "account", "role")
OPTIONAL_COLUMNS = ("employee_id",)
MAX_NAME = 200
MAX_EMPLOYEE_ID = 128
MAX_CELL = 1000  # longer is not a name, an address or an id: the file is refused whole

VALID, DUPLICATE, REFUSED = "valid", "duplicate", "refused"

_EMAIL = TypeAdapter(EmailStr)
_ROLES = {r.value.lower(): r for r in Role}


@dataclass(frozen=True)
class Row:
    """One data row of the file, as written (trimmed). ``row`` counts data rows from 1."""

    row: int
    email: str
    name: str
    account: str
    role: str
    employee_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "email": self.email, "name": self.name, "account": self.account,
                "role": self.role, "employee_id": self.employee_id}


@dataclass
class Verdict:
    row: Row
    status: str  # valid | duplicate | refused
    reason: str | None = None  # a slug (docs/bulk.md lists them)
    detail: str | None = None
    email: str = ""  # normalised
    role: Role | None = None
    lead: int | None = None  # the first row of this person (the invitation's row); None on that row

    def as_dict(self) -> dict[str, object]:
        return {**self.row.as_dict(), "email": self.email or self.row.email, "status": self.status,
                "reason": self.reason, "detail": self.detail, "lead": self.lead,
                "role": self.role.value if self.role else self.row.role}


@dataclass(frozen=True)
class Person:
    """The invitation one person's valid rows make."""

    lead: int  # row number of their first row
    email: str
    name: str
    employee_id: str | None
    grants: tuple[tuple[str, Role], ...]  # (account_id, role), in file order
    rows: tuple[int, ...]


@dataclass
class Validation:
    verdicts: list[Verdict]
    people: list[Person] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"rows": len(self.verdicts), VALID: 0, DUPLICATE: 0, REFUSED: 0}
        for v in self.verdicts:
            out[v.status] += 1
        out["invitations"] = len(self.people)
        return out


@dataclass(frozen=True)
class BusinessView:
    """What validation needs to know about the business, read once for the whole file."""

    policy: BusinessPolicy
    accounts: Mapping[str, bool]  # account_id -> retired?
    admin_counts: Mapping[str, int]  # account_id -> Admins today
    caller_roles: Mapping[str, Role]  # the importing admin's roles
    member_status: Mapping[str, str]  # normalised e-mail -> status of the existing member
    employee_owner: Mapping[str, str]  # employee id -> e-mail of the member holding it


# --- the file --------------------------------------------------------------------------------------


def parse_csv(text: str) -> list[Row]:
    """The file's data rows. A file that cannot be read as the documented format is refused whole
    (400), naming what is wrong: a row-level problem is a verdict, a file-level one is not."""
    text = text.removeprefix("\ufeff")
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in r)]
    except csv.Error as exc:  # e.g. a NUL byte: not a text file
        raise InvalidInput(f"The file cannot be read as CSV: {exc}.") from exc
    if not records:
        raise InvalidInput("The file is empty: a header line (email,name,account,role[,employee_id]) and rows "
                           "are expected.")
    header = [h.strip().lower() for h in records[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [h for h in header if h not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if missing or unknown or repeated:
        problems = ([f"missing column(s): {', '.join(missing)}"] if missing else []) + (
            [f"unknown column(s): {', '.join(unknown)}"] if unknown else []) + (
            [f"repeated column(s): {', '.join(repeated)}"] if repeated else [])
        raise InvalidInput("The header line must name the columns email, name, account, role and optionally "
                           f"employee_id ({'; '.join(problems)}).", columns=header)
    for number, rec in enumerate(records[1:], start=1):
        if any(cell.strip() for cell in rec[len(header):]):  # trailing empty cells (spreadsheets) are fine
            raise InvalidInput(f"Row {number} has more cells than the header names ({len(rec)} for {len(header)}): "
                               "is a comma in a name not quoted (\"Doe, Ann\")?", row=number)
    return rows_from_dicts([dict(zip(header, rec, strict=False)) for rec in records[1:]])


def rows_from_dicts(items: Iterable[Mapping[str, object]]) -> list[Row]:
    """Rows given as objects (the JSON form of the API): the same columns as the file's."""
    rows = []
    for number, item in enumerate(items, start=1):
        def cell(name: str, item: Mapping[str, object] = item) -> str:
            value = item.get(name)
            return "" if value is None else str(value).strip()

        row = Row(row=number, email=cell("email"), name=cell("name"), account=cell("account"),
                  role=cell("role"), employee_id=cell("employee_id") or None)
        if any(len(c or "") > MAX_CELL for c in (row.email, row.name, row.account, row.role, row.employee_id)):
            raise InvalidInput(f"Row {number} has a cell longer than {MAX_CELL} characters; is it the right file?",
                               row=number)
        rows.append(row)
    if not rows:
        raise InvalidInput("The file has a header but no rows.")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"At most {MAX_ROWS} rows per import; this file has {len(rows)}. Split it.",
                           rows=len(rows), max_rows=MAX_ROWS)
    return rows


def digest(rows: Iterable[Row]) -> str:
    """What an import id stands for: repeating an import id with other rows is a mistake to refuse."""
    body = json.dumps([r.as_dict() for r in rows], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


# --- the verdicts ----------------------------------------------------------------------------------


def is_email(text: str) -> bool:
    try:
        _EMAIL.validate_python(text)
    except ValidationError:
        return False
    return True


def _refuse(v: Verdict, reason: str, detail: str) -> None:
    v.status, v.reason, v.detail = REFUSED, reason, detail


def _row_check(v: Verdict, view: BusinessView) -> None:
    """What one row says by itself, against the business: e-mail, name, account, role, permission."""
    row = v.row
    try:
        v.email = normalise_email(str(_EMAIL.validate_python(row.email)))
    except ValidationError:
        v.email = normalise_email(row.email)
        return _refuse(v, "invalid-email", f"'{row.email}' is not a valid e-mail address.")
    if not row.name or len(row.name) > MAX_NAME:
        return _refuse(v, "invalid-name", f"A name of 1 to {MAX_NAME} characters is required.")
    if row.employee_id is not None and len(row.employee_id) > MAX_EMPLOYEE_ID:
        return _refuse(v, "invalid-employee-id", f"An employee id has at most {MAX_EMPLOYEE_ID} characters.")
    v.role = _ROLES.get(row.role.lower())
    if v.role is None:
        return _refuse(v, "invalid-role", f"'{row.role}' is not a role; use Admin, Editor, Moderator or Analyst.")
    if row.account not in view.accounts:
        return _refuse(v, "unknown-account", f"The business has no account '{row.account}'.")
    if view.accounts[row.account]:
        return _refuse(v, "account-retired", f"Account '{row.account}' is retired; nobody can be invited to it.")
    if not has_permission(view.caller_roles.get(row.account), Permission.MANAGE_MEMBERS):
        return _refuse(v, "not-admin", f"You are not an Admin of account '{row.account}'; only its Admins invite "
                                       "to it.")
    status = view.member_status.get(v.email)
    if status in ("ACTIVE", "OFFBOARDING"):
        return _refuse(v, "already-member", f"{v.email} is already a member of this business; change their roles "
                                            "instead.")
    if status == "INVITED":
        return _refuse(v, "already-invited", f"{v.email} already has a pending invitation in this business.")
    owner = view.employee_owner.get(row.employee_id or "")
    if owner is not None and owner != v.email:
        return _refuse(v, "employee-id-taken", f"Employee id {row.employee_id} belongs to another member.")
    return None


def validate(rows: list[Row], view: BusinessView) -> Validation:
    """Every row's verdict and the invitations the valid ones make.

    In order: each row by itself (:func:`_row_check`); then rows against earlier rows: the same
    e-mail, account and role again is a ``duplicate`` (ignored, reported); the same e-mail and account
    with another role, or another name or employee id for the same e-mail, is ``conflicting-row``;
    an employee id given to two e-mails is ``employee-id-taken``. A person with any refused row is
    refused whole (``person-refused`` on their other rows: half an invitation would surprise); then the
    business's Admin limit, counting today's Admins and the file's Admin rows in file order."""
    verdicts = [Verdict(row=r, status=VALID) for r in rows]
    for v in verdicts:
        _row_check(v, view)
    first_of: dict[str, Verdict] = {}  # e-mail -> the person's first row (any status)
    seen: dict[tuple[str, str], Verdict] = {}  # (e-mail, account) -> first row naming it
    employee_email: dict[str, str] = {}
    person_id: dict[str, str] = {}  # e-mail -> the first employee id given for the person (any row)
    for v in verdicts:
        if v.reason == "invalid-email":
            continue
        lead = first_of.setdefault(v.email, v)
        if lead is not v:
            v.lead = lead.row.row
        if v.status != VALID:
            continue
        earlier = seen.get((v.email, v.row.account))
        if earlier is not None:
            if earlier.role == v.role:
                v.status, v.reason = DUPLICATE, "duplicate"
                v.detail = f"Row {earlier.row.row} already invites {v.email} as {v.role} on {v.row.account}."
            else:
                _refuse(v, "conflicting-row", f"Row {earlier.row.row} invites {v.email} on {v.row.account} as "
                                              f"{earlier.role}; one role per account.")
            continue
        seen[(v.email, v.row.account)] = v
        known_id = person_id.setdefault(v.email, v.row.employee_id) if v.row.employee_id else None
        other_id = known_id is not None and v.row.employee_id != known_id
        if lead is not v and (v.row.name != lead.row.name or other_id):
            _refuse(v, "conflicting-row", f"Row {lead.row.row} gives {v.email} another name or employee id.")
            continue
        if v.row.employee_id:
            holder = employee_email.setdefault(v.row.employee_id, v.email)
            if holder != v.email:
                _refuse(v, "employee-id-taken", f"Employee id {v.row.employee_id} is given to {holder} too.")
    refused_people = {v.email: v.row.row for v in verdicts if v.status == REFUSED}
    for v in verdicts:
        if v.status == VALID and v.email in refused_people:
            _refuse(v, "person-refused", f"Row {refused_people[v.email]} for {v.email} is refused, so nothing is "
                                         "proposed to them; fix it and import them again.")
    _admin_limit(verdicts, view)
    return Validation(verdicts, _people(verdicts))


def _admin_limit(verdicts: list[Verdict], view: BusinessView) -> None:
    """At most ``max_admins_per_account`` Admins per account: today's plus the file's, in file order;
    the excess rows (and their people) are refused. Confirmation enforces it again atomically."""
    limit = view.policy.max_admins_per_account
    count = dict(view.admin_counts)
    over: dict[str, int] = {}
    for v in verdicts:
        if v.status == VALID and v.role is Role.ADMIN:
            count[v.row.account] = count.get(v.row.account, 0) + 1
            if count[v.row.account] > limit:
                _refuse(v, "admin-limit", f"Account {v.row.account} would have more than {limit} Admins, the most "
                                          "the business allows.")
                over[v.email] = v.row.row
    for v in verdicts:
        if v.status == VALID and v.email in over:
            _refuse(v, "person-refused", f"Row {over[v.email]} for {v.email} is refused, so nothing is proposed "
                                         "to them; fix it and import them again.")


def _people(verdicts: list[Verdict]) -> list[Person]:
    by_email: dict[str, list[Verdict]] = {}
    for v in verdicts:
        if v.status == VALID:
            by_email.setdefault(v.email, []).append(v)
    people = []
    for email, rows in by_email.items():
        first = rows[0]
        employee_id = next((r.row.employee_id for r in rows if r.row.employee_id), None)
        people.append(Person(lead=first.row.row, email=email, name=first.row.name, employee_id=employee_id,
                             grants=tuple((r.row.account, r.role) for r in rows if r.role is not None),
                             rows=tuple(r.row.row for r in rows)))
    return people

"""The bulk file format and the whole-file validation (issue 11), pure."""

from __future__ import annotations

import pytest

from accessflow.domain import bulk
from accessflow.domain.errors import InvalidInput
from accessflow.domain.policy import BusinessPolicy
from accessflow.domain.roles import Role


def view(**changes: object) -> bulk.BusinessView:
    base: dict[str, object] = {
        "policy": BusinessPolicy(), "accounts": {"a1": False, "a2": False, "old": True},
        "admin_counts": {"a1": 1, "a2": 1}, "caller_roles": {"a1": Role.ADMIN, "a2": Role.ADMIN},
        "member_status": {}, "employee_owner": {},
    }
    return bulk.BusinessView(**(base | changes))  # type: ignore[arg-type]


def verdicts(text: str, v: bulk.BusinessView | None = None) -> list[tuple[str, str | None]]:
    return [(x.status, x.reason) for x in bulk.validate(bulk.parse_csv(text), v or view()).verdicts]


def test_header_is_case_insensitive_in_any_order_and_quoted_cells_are_read() -> None:
    rows = bulk.parse_csv('\ufeffRole, EMAIL ,name,account\r\nEditor,a@x.io,"Doe, Ann",a1\r\n\r\n')
    assert rows == [bulk.Row(row=1, email="a@x.io", name="Doe, Ann", account="a1", role="Editor")]


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"), ("email,name,account\n", "missing column(s): role"),
    ("email,name,account,role,team\nx@y.io,X,a1,Editor,t\n", "unknown column(s): team"),
    ("email,name,account,role,email\n", "repeated column(s): email"), ("email,name,account,role\n", "no rows"),
    ("email,name,account,role\nx@y.io,Doe, Ann,a1,Editor\n", "Row 1 has more cells than the header"),
])
def test_a_file_not_in_the_format_is_refused_whole(text: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        bulk.parse_csv(text)
    assert says in refused.value.detail


def test_more_than_1000_rows_is_refused_whole() -> None:
    with pytest.raises(InvalidInput, match="At most 1000 rows"):
        bulk.rows_from_dicts([{"email": f"p{i}@x.io"} for i in range(1001)])


def test_each_row_is_checked_against_the_business() -> None:
    v = view(member_status={"on@x.io": "ACTIVE", "inv@x.io": "INVITED", "gone@x.io": "REMOVED"},
             employee_owner={"E1": "on@x.io"}, caller_roles={"a1": Role.ADMIN, "a2": Role.EDITOR})
    text = ("email,name,account,role,employee_id\n"
            "bad,B,a1,Editor,\nn@x.io,,a1,Editor,\nr@x.io,R,a1,Owner,\nu@x.io,U,a9,Editor,\nold@x.io,O,old,Editor,\n"
            "na@x.io,N,a2,Editor,\non@x.io,On,a1,Editor,\ninv@x.io,I,a1,Editor,\ne@x.io,E,a1,Editor,E1\n"
            "gone@x.io,Back,a1,analyst,\n")
    assert verdicts(text, v) == [
        ("refused", "invalid-email"), ("refused", "invalid-name"), ("refused", "invalid-role"),
        ("refused", "unknown-account"), ("refused", "account-retired"), ("refused", "not-admin"),
        ("refused", "already-member"), ("refused", "already-invited"), ("refused", "employee-id-taken"),
        ("valid", None)]  # a former member may be invited again


def test_rows_of_one_person_make_one_invitation_with_a_role_per_account() -> None:
    result = bulk.validate(bulk.parse_csv(
        "email,name,account,role,employee_id\nA@x.io,Ann,a1,Editor,\na@x.io,Ann,a2,analyst,E7\nb@x.io,Bo,a1,Editor,\n"),
        view())
    assert [(p.email, p.lead, p.grants, p.employee_id, p.rows) for p in result.people] == [
        ("a@x.io", 1, (("a1", Role.EDITOR), ("a2", Role.ANALYST)), "E7", (1, 2)),
        ("b@x.io", 3, (("a1", Role.EDITOR),), None, (3,))]
    assert result.counts() == {"rows": 3, "valid": 3, "duplicate": 0, "refused": 0, "invitations": 2}


def test_duplicates_conflicts_and_a_refused_row_refuses_its_person() -> None:
    text = ("email,name,account,role,employee_id\n"
            "a@x.io,Ann,a1,Editor,\n"      # 1 valid
            "A@x.io,Ann,a1,editor,\n"      # 2 the same again: duplicate
            "b@x.io,Bo,a1,Editor,\n"       # 3 refused: row 4 conflicts
            "b@x.io,Bo,a1,Analyst,\n"      # 4 another role on the same account
            "c@x.io,Cy,a1,Editor,\n"       # 5 refused: row 6 is another name
            "c@x.io,Cyril,a2,Editor,\n"    # 6
            "d@x.io,Di,a1,Editor,E1\n"     # 7 valid
            "e@x.io,Ed,a1,Editor,E1\n")    # 8 the same employee id for another e-mail
    assert verdicts(text) == [("valid", None), ("duplicate", "duplicate"), ("refused", "person-refused"),
                              ("refused", "conflicting-row"), ("refused", "person-refused"),
                              ("refused", "conflicting-row"), ("valid", None), ("refused", "employee-id-taken")]


def test_the_admin_limit_counts_todays_admins_and_the_files_in_order() -> None:
    text = ("email,name,account,role\n" + "".join(f"p{i}@x.io,P,a1,Admin\n" for i in range(3))
            + "p2@x.io,P,a2,Editor\n")
    assert verdicts(text, view(admin_counts={"a1": 1})) == [
        ("valid", None), ("valid", None), ("refused", "admin-limit"), ("refused", "person-refused")]


def test_the_digest_names_the_rows() -> None:
    one = bulk.parse_csv("email,name,account,role\na@x.io,A,a1,Editor\n")
    assert bulk.digest(one) == bulk.digest(list(one))
    assert bulk.digest(one) != bulk.digest(bulk.parse_csv("email,name,account,role\na@x.io,B,a1,Editor\n"))


def test_a_file_that_is_not_text_or_has_absurd_cells_is_refused_whole() -> None:
    with pytest.raises(InvalidInput, match="cannot be read as CSV: field larger than field limit"):
        bulk.parse_csv("email,name,account,role\na@x.io," + "A" * 200_000 + ",a1,Editor\n")  # past csv's limit
    with pytest.raises(InvalidInput, match="Row 1 has a cell longer than 1000"):
        bulk.parse_csv("email,name,account,role\n" + "a" * 1001 + "@x.io,A,a1,Editor\n")


def test_trailing_empty_cells_from_a_spreadsheet_are_not_surplus_cells() -> None:
    rows = bulk.parse_csv("email,name,account,role\r\nx@y.io,Ann,a1,Editor,,\r\n")
    assert [(r.email, r.name, r.account, r.role) for r in rows] == [("x@y.io", "Ann", "a1", "Editor")]


def test_two_employee_ids_for_one_person_conflict_even_when_the_first_row_has_none() -> None:
    """"employee_id may be given on one row only or repeated identically" (docs/bulk.md): E1 then E2 for
    the same e-mail is conflicting, whichever row carries the first id; else one id is silently dropped."""
    text = ("email,name,account,role,employee_id\n"
            "a@x.io,Ann,a1,Editor,\n"      # 1 no id: refused with the person
            "a@x.io,Ann,a2,Editor,E1\n"    # 2 the person's id
            "a@x.io,Ann,a3,Editor,E2\n"    # 3 another id for the same person
            "b@x.io,Bo,a1,Editor,\n"       # 4 valid
            "b@x.io,Bo,a2,Editor,E3\n"     # 5 valid: the id on one row only
            "b@x.io,Bo,a3,Editor,E3\n")    # 6 valid: repeated identically
    three = view(accounts={"a1": False, "a2": False, "a3": False},
                 caller_roles={"a1": Role.ADMIN, "a2": Role.ADMIN, "a3": Role.ADMIN})
    assert verdicts(text, three) == [("refused", "person-refused"), ("refused", "person-refused"),
                                     ("refused", "conflicting-row"), ("valid", None), ("valid", None),
                                     ("valid", None)]

"""PynamoDB models of the single AccessFlow table.

One table, typed items distinguished by key prefixes (see ``docs/decisions.md``):

=================  ==========================  ===============================  ==========================
item               pk                          sk                               indexes
=================  ==========================  ===============================  ==========================
business           ``BIZ#{b}``                 ``META``
account            ``BIZ#{b}``                 ``ACCOUNT#{a}``                  (``admin_count``, ``version``)
member             ``BIZ#{b}``                 ``MEMBER#{m}``
lookup             ``BIZ#{b}``                 ``EMAIL#{e}`` / ``EMPLOYEE#{id}`` / ``LOGIN#{sub}``
grant              ``BIZ#{b}``                 ``GRANT#{m}#{a}``                GSI1 (active only): account
invitation         ``BIZ#{b}``                 ``INV#{i}``                      GSI1: e-mail; TokenIndex;
                                                                                DueIndex/RemindIndex (sparse)
offboarding        ``BIZ#{b}``                 ``OFFBOARD#{m}``
move (mover)       ``BIZ#{b}``                 ``MOVE#{id}``
held offboarding   ``BIZ#{b}``                 ``HELD#{m}``                     (issue 11: leaver guard)
leaver guard       ``BIZ#{b}``                 ``GUARD#LEAVERS``                (its current window)
audit entry        ``AUDIT#{b}``               ``{iso time}#{seq}``             GSI1: member
directory          ``WHO#EMAIL#{e}`` /         ``BIZ#{b}``                      (a person's memberships,
                   ``WHO#LOGIN#{sub}``                                          across businesses: GET /me)
SCIM token         ``BIZ#{b}``                 ``SCIMTOKEN#{t}``
SCIM user          ``BIZ#{b}``                 ``SCIMUSER#{u}``
SCIM lookup        ``BIZ#{b}``                 ``SCIMNAME#{e}`` / ``SCIMEXT#{x}`` /
                                               ``SCIMEMAIL#{e}#{u}`` / ``SCIMGROUP#{name}``
bundle (group)     ``BIZ#{b}``                 ``BUNDLE#{g}``
bundle membership  ``BIZ#{b}``                 ``BMEMBER#{g}#{u}`` and ``UBUNDLE#{u}#{g}``
bulk import        ``BIZ#{b}``                 ``IMPORT#{i}``
bulk import row    ``IMPORT#{b}#{i}``          ``ROW#{n:05d}`` / ``RESULT#{n:05d}``  (one partition per import)
review campaign    ``BIZ#{b}``                 ``REVIEW#{c}`` (+ ``REVIEWOPEN``, the one-open-campaign lock)
review item        ``REVIEW#{b}#{c}``          ``ITEM#{m}.{a}``                 (one per snapshotted grant)
review assignment  ``REVIEW#{b}#{c}``          ``ASSIGN#{reviewer}#{m}.{a}``    (a reviewer's inbox: keys only)
review schedule    ``BIZ#{b}``                 ``REVIEWSCHEDULE``               (cadence, next due, last start)
review due entry   ``REVIEWDUE``               ``{due iso}#{b}``                (the daily run's key query)
=================  ==========================  ===============================  ==========================

The table name comes from the environment at bind time (:func:`bind`), never from code.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model


class _Gsi1(GlobalSecondaryIndex["Any"]):
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class _TokenIndex(GlobalSecondaryIndex["Any"]):
    class Meta:
        index_name = "TokenIndex"
        projection = KeysOnlyProjection()

    token_hash = UnicodeAttribute(hash_key=True)


# What the sweep reads from each sparse index, so that an index entry is all it needs: no point read
# per due invitation, the conditional write decides (store/sweep.py). template.yaml projects the same
# attributes (tests/integration/test_template.py compares them).
DUE_INDEX_ATTRIBUTES = ("business_id", "invitation_id", "member_id", "status", "task_token")
REMIND_INDEX_ATTRIBUTES = ("business_id", "invitation_id", "member_id", "status", "email", "display_name",
                           "grants", "expires_at", "last_sent_at")


class _DueIndex(GlobalSecondaryIndex["Any"]):
    """Holds only PENDING invitations (sparse: ``due_pk`` is removed on any other status), sorted by
    expiry, so the sweep reads the due ones first and nothing else."""

    class Meta:
        index_name = "DueIndex"
        projection = IncludeProjection(list(DUE_INDEX_ATTRIBUTES))

    due_pk = UnicodeAttribute(hash_key=True)
    expires_at = UTCDateTimeAttribute(range_key=True)


class _RemindIndex(GlobalSecondaryIndex["Any"]):
    """Holds only PENDING invitations whose reminder has not gone out yet, sorted by reminder time."""

    class Meta:
        index_name = "RemindIndex"
        projection = IncludeProjection(list(REMIND_INDEX_ATTRIBUTES))

    remind_pk = UnicodeAttribute(hash_key=True)
    remind_at = UTCDateTimeAttribute(range_key=True)


class BaseItem(Model):
    class Meta:
        table_name = "unbound"  # replaced by bind()
        region: str | None = None
        host: str | None = None

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class BusinessItem(BaseItem):
    business_id = UnicodeAttribute()
    name = UnicodeAttribute()
    policy = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()


class AccountItem(BaseItem):
    business_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    platform = UnicodeAttribute(default="tiktok")
    admin_count = NumberAttribute(default=0)
    status = UnicodeAttribute(null=True, default="ACTIVE")  # ACTIVE | RETIRED (absent on old items: ACTIVE)
    # Bumped by every write that adds a holder or an invitation to the account; retiring is conditional
    # on the version it read, so nothing can slip in between its checks and its write.
    version = NumberAttribute(null=True, default=0)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    retired_at = UTCDateTimeAttribute(null=True)
    retired_by = UnicodeAttribute(null=True)


class MemberItem(BaseItem):
    business_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    email = UnicodeAttribute()
    display_name = UnicodeAttribute()
    employee_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    login_sub = UnicodeAttribute(null=True)
    invited_by = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    #: last authenticated API call in this business, written at most once an hour (store/activity.py)
    last_activity_at = UTCDateTimeAttribute(null=True)


class LookupItem(BaseItem):
    member_id = UnicodeAttribute()


class DirectoryItem(BaseItem):
    """One membership of a person, filed under their e-mail or their login (``WHO#EMAIL#{e}`` /
    ``WHO#LOGIN#{sub}``, sort key ``BIZ#{b}``): written in the same transaction as the member (or as the
    login's link), never deleted (the member item says whether the membership is still active)."""

    business_id = UnicodeAttribute()
    member_id = UnicodeAttribute()


class GrantItem(BaseItem):
    business_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    role = UnicodeAttribute()
    status = UnicodeAttribute()
    invited_by = UnicodeAttribute(null=True)
    confirmed_by = UnicodeAttribute(null=True)
    invitation_id = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute(null=True)  # actor of the last change (the access review's "last change")
    last_action = UnicodeAttribute(null=True)  # audit action of the last change
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_account = _Gsi1()


class InvitationItem(BaseItem):
    business_id = UnicodeAttribute()
    invitation_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    email = UnicodeAttribute()
    display_name = UnicodeAttribute()
    grants = JSONAttribute()
    final_grants = JSONAttribute(null=True)
    status = UnicodeAttribute()
    source = UnicodeAttribute()  # "hr", "api" or "scim"
    requested_by = UnicodeAttribute()
    inviter_email = UnicodeAttribute(null=True)
    idempotency_key = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    token_hash = UnicodeAttribute(null=True)
    delivery = UnicodeAttribute(default="NOT_SENT")  # NOT_SENT | SENDING | SENT | FAILED
    delivery_reason = UnicodeAttribute(null=True)
    send_count = NumberAttribute(default=0)
    last_sent_at = UTCDateTimeAttribute(null=True)
    reminder_sent_at = UTCDateTimeAttribute(null=True)
    task_token = UnicodeAttribute(null=True)
    confirm_task_token = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    accepted_sub = UnicodeAttribute(null=True)
    accepted_at = UTCDateTimeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    needs_confirmation = BooleanAttribute(default=False)
    outcome_notified = BooleanAttribute(default=False)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    due_pk = UnicodeAttribute(null=True)
    remind_pk = UnicodeAttribute(null=True)
    remind_at = UTCDateTimeAttribute(null=True)
    ttl = TTLAttribute(null=True)
    by_email = _Gsi1()
    by_token = _TokenIndex()
    due = _DueIndex()
    remind = _RemindIndex()


class OffboardingItem(BaseItem):
    business_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    offboarding_id = UnicodeAttribute()
    status = UnicodeAttribute()
    source = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    reason = UnicodeAttribute()
    requester_email = UnicodeAttribute(null=True)  # who asked, as they were (the workflow's audit entries)
    requester_name = UnicodeAttribute(null=True)
    started_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    receipt = JSONAttribute(null=True)
    #: the current attempt (1 for the first run; a re-run of a FAILED offboarding adds one)
    attempt = NumberAttribute(null=True)
    #: every attempt: ``{attempt, started_at, requested_by, source, reason, outcome, ended_at, error}``
    attempts = JSONAttribute(null=True)
    # --- issue 11: guard (store/leaver_guard.py): a HELD offboarding, then released or CANCELLED ---
    held_at = UTCDateTimeAttribute(null=True)
    burst_id = UnicodeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    decision_reason = UnicodeAttribute(null=True)


class GuardWindowItem(BaseItem):
    """The leaver guard's window of one business (``BIZ#{b}`` / ``GUARD#LEAVERS``): how many guarded
    leaver requests it admitted and held, against the limit fixed when the window opened."""

    business_id = UnicodeAttribute()
    burst_id = UnicodeAttribute()
    window_start = UTCDateTimeAttribute()
    window_end = UTCDateTimeAttribute()
    limit = NumberAttribute()
    members = NumberAttribute()
    admitted = NumberAttribute(default=0)
    held = NumberAttribute(default=0)
    notified_at = UTCDateTimeAttribute(null=True)  # ``offboarding.held`` announced (once per burst)
    mailed_at = UTCDateTimeAttribute(null=True)  # the Admins' e-mail sent (once per burst)


class HeldOffboardingItem(BaseItem):
    """One held offboarding (``BIZ#{b}`` / ``HELD#{m}``), written and deleted with the offboarding
    record's moves, so listing the held ones is a key query over only them."""

    business_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    offboarding_id = UnicodeAttribute()
    email = UnicodeAttribute()
    display_name = UnicodeAttribute()
    source = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    reason = UnicodeAttribute()
    burst_id = UnicodeAttribute()
    held_at = UTCDateTimeAttribute()


class AuditItem(BaseItem):
    business_id = UnicodeAttribute()
    entry_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    actor_email = UnicodeAttribute(null=True)  # the actor's e-mail and name as they were at the time
    actor_name = UnicodeAttribute(null=True)
    member_id = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_member = _Gsi1()


class ScimTokenItem(BaseItem):
    """A business's SCIM bearer token: only its SHA-256 is kept (the secret is shown once)."""

    business_id = UnicodeAttribute()
    token_id = UnicodeAttribute()
    name = UnicodeAttribute()
    token_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # ACTIVE | REVOKED
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    rotated_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    last_used_at = UTCDateTimeAttribute(null=True)


class ScimUserItem(BaseItem):
    """A user as the identity provider provisioned it (its SCIM attributes), linked to the member
    the workflows create for it (``member_id``, the same uuid5 of the e-mail the invitation uses)."""

    business_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    user_name = UnicodeAttribute()  # the e-mail, normalised
    external_id = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    attributes = JSONAttribute(default=dict)  # the stored SCIM representation (without id/meta/groups)
    member_id = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class ScimLookupItem(BaseItem):
    """A uniqueness or filter key of a SCIM resource (userName, externalId, e-mail, group name)."""

    target_id = UnicodeAttribute()


class BundleItem(BaseItem):
    """An access bundle: a set of (account, role) grants Admins define; a SCIM Group."""

    business_id = UnicodeAttribute()
    group_id = UnicodeAttribute()
    display_name = UnicodeAttribute()
    external_id = UnicodeAttribute(null=True)
    grants = JSONAttribute(default=list)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    version = NumberAttribute(default=1)


class BundleMemberItem(BaseItem):
    """One membership, written twice (by group and by user) so both sides are key queries."""

    group_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    display = UnicodeAttribute(null=True)
    added_at = UTCDateTimeAttribute()


class MoveItem(BaseItem):
    """A mover request (issue 11): ``BIZ#{b}`` / ``MOVE#{id}``. Written with the reductions it applied,
    so any retry or duplicate delivery finds it and applies nothing twice; its proposals wait in an
    invitation of the same id (``source`` ``mover``) for the confirmation queue."""

    business_id = UnicodeAttribute()
    move_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    source = UnicodeAttribute()  # hr | api | cli (the API's client)
    requested_by = UnicodeAttribute()
    status = UnicodeAttribute()  # APPLIED | AWAITING_CONFIRMATION | CONFIRMED | REJECTED | EXPIRED
    desired = JSONAttribute()
    reductions = JSONAttribute(default=list)  # [{account_id, change, before, after}] applied at once
    proposals = JSONAttribute(default=list)  # awaiting confirmation (the invitation's grants)
    confirmed = JSONAttribute(null=True)  # what the confirmation applied
    needs_confirmation = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    decided_by = UnicodeAttribute(null=True)


class MovePendingItem(BaseItem):
    """``BIZ#{b}`` / ``MOVEPENDING#{member}``: the member's latest move with a proposal. Written in the
    move's transaction, conditional on not existing or naming a move no longer waiting: two moves of one
    member at once cannot both record a proposal (the open-proposals index query is only a pre-check)."""

    move_id = UnicodeAttribute()


class ImportItem(BaseItem):
    """A bulk import (issue 11): who asked, what the file held (``digest``), the counts at submission
    and, once the workflow finished, the final counts. Its rows are :class:`ImportRowItem`."""

    business_id = UnicodeAttribute()
    import_id = UnicodeAttribute()
    status = UnicodeAttribute()  # RUNNING | COMPLETED | FAILED
    digest = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    counts = JSONAttribute(default=dict)  # at submission: rows, valid, duplicate, refused, invitations
    final_counts = JSONAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    ttl = TTLAttribute(null=True)


class ImportRowItem(BaseItem):
    """One row of a bulk import as written, with its verdict at submission (never changed after). A
    person's first valid row (the lead) carries the invitation's grants; their other rows point at it
    (``lead``) and share its result, an :class:`ImportResultItem` the workflow writes once."""

    row = NumberAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    employee_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # pending | created | duplicate | refused | failed
    reason = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    lead = NumberAttribute(null=True)
    grants = JSONAttribute(null=True)  # on a lead: the person's invitation grants
    invitation_id = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    ttl = TTLAttribute(null=True)


class ReviewScheduleItem(BaseItem):
    """A business's recurring access review (``BIZ#{b}`` / ``REVIEWSCHEDULE``): when the next one is
    due; its due entry below is moved in the same transaction (store/review_schedule.py)."""

    business_id = UnicodeAttribute()
    cadence = UnicodeAttribute()
    next_at = UTCDateTimeAttribute(null=True)  # None: cadence off
    updated_at = UTCDateTimeAttribute()
    last_started_at = UTCDateTimeAttribute(null=True)
    last_campaign_id = UnicodeAttribute(null=True)


class ReviewDueItem(BaseItem):
    """One due entry per scheduled business, all in one partition (``REVIEWDUE`` / ``{iso}#{b}``), so
    the daily run finds the due ones with one key query (``sk <= now``), never a Scan."""

    business_id = UnicodeAttribute()
    due_at = UTCDateTimeAttribute()


# --- issue 11: access review campaigns (store/reviews.py) ---------------------------------------------


class ReviewCampaignItem(BaseItem):
    """One campaign. Its counters move in the same transaction as each decision, so reading a
    campaign never reads its items."""

    business_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute()  # OPEN | CLOSING | CLOSED
    started_at = UTCDateTimeAttribute()
    started_by = UnicodeAttribute()
    halfway_at = UTCDateTimeAttribute()
    deadline = UTCDateTimeAttribute()
    closed_at = UTCDateTimeAttribute(null=True)
    undecided_policy = UnicodeAttribute()
    idle_after_days = NumberAttribute(default=90)
    items = NumberAttribute(default=0)
    decided = NumberAttribute(default=0)
    keep = NumberAttribute(default=0)
    remove = NumberAttribute(default=0)
    flagged = NumberAttribute(default=0)
    assigned = JSONAttribute(default=dict)  # {reviewer member id: items assigned}
    execution_arn = UnicodeAttribute(null=True)
    notified_at = UTCDateTimeAttribute(null=True)
    reminder_sent_at = UTCDateTimeAttribute(null=True)
    applied = JSONAttribute(null=True)  # what the close did: {revoked, kept_last_admin, unchanged...}


class ReviewLockItem(BaseItem):
    """``REVIEWOPEN``: exists while a campaign of the business is open (a conditional put starts one)."""

    campaign_id = UnicodeAttribute()


class ReviewItem(BaseItem):
    """One snapshotted grant under review."""

    business_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    item_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    role = UnicodeAttribute()
    since = UTCDateTimeAttribute(null=True)  # the grant's last change before the snapshot
    reviewers = JSONAttribute(default=list)
    flagged = BooleanAttribute(default=False)
    escalated = BooleanAttribute(default=False)
    decision = UnicodeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)  # written at close for the grants it removes (or tried to)
    applied = UnicodeAttribute(null=True)  # revoked | already-revoked | changed-since-snapshot | kept-last-admin
    applied_at = UTCDateTimeAttribute(null=True)


class ReviewAssignmentItem(BaseItem):
    """A reviewer's pointer to an item (``assigned_to=me`` is one key-range query)."""

    item_id = UnicodeAttribute()


class ImportResultItem(BaseItem):
    """What the bulk workflow did with a lead row (``RESULT#{n}``): written once, conditionally, so a
    retried task or a repeated submission (which rewrites the rows) never changes or loses it."""

    row = NumberAttribute()
    status = UnicodeAttribute()  # created | refused | failed
    reason = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    invitation_id = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    ttl = TTLAttribute(null=True)


ALL_MODELS: tuple[type[BaseItem], ...] = (
    BusinessItem,
    AccountItem,
    MemberItem,
    LookupItem,
    DirectoryItem,
    GrantItem,
    InvitationItem,
    OffboardingItem,
    AuditItem,
    ScimTokenItem,
    ScimUserItem,
    ScimLookupItem,
    BundleItem,
    BundleMemberItem,
    MoveItem,
    GuardWindowItem,
    HeldOffboardingItem,
    ImportItem,
    ImportRowItem,
    ReviewScheduleItem,
    ReviewDueItem,
    ReviewCampaignItem,
    ReviewLockItem,
    ReviewItem,
    ReviewAssignmentItem,
    ImportResultItem,
)


def bind(table_name: str, region: str | None = None, host: str | None = None) -> None:
    """Point every model at the table the template created (name from the environment)."""
    models: tuple[type[BaseItem], ...] = (BaseItem, *ALL_MODELS)
    for model in models:
        model.Meta.table_name = table_name
        if region:
            model.Meta.region = region
        model.Meta.host = host
        model._connection = None  # type: ignore[assignment]


def describe_keys() -> dict[str, Any]:
    """Key schema the models expect; a test compares it with the template's table."""
    return {
        "keys": ["pk", "sk"],
        "indexes": {"GSI1": ["gsi1pk", "gsi1sk"], "TokenIndex": ["token_hash"],
                    "DueIndex": ["due_pk", "expires_at"], "RemindIndex": ["remind_pk", "remind_at"]},
        "projections": {"GSI1": {"ProjectionType": "ALL"}, "TokenIndex": {"ProjectionType": "KEYS_ONLY"},
                        "DueIndex": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(DUE_INDEX_ATTRIBUTES)},
                        "RemindIndex": {"ProjectionType": "INCLUDE",
                                        "NonKeyAttributes": list(REMIND_INDEX_ATTRIBUTES)}},
    }

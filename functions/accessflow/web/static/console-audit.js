// The audit trail (filter by member, action, dates; cursor paging; people by name and e-mail) and
// the access review (table, and the CSV export fetched with the bearer and saved through a Blob).

import * as api from "./console-api.js";
import { announce, field, focusOn, h, noteBox, person, problemBox, replace, saveResponse, when } from "./console-dom.js";
import { roleBadge, statusBadge } from "./console-team.js";

const ACTIONS = [
  "invitation.created", "invitation.sent", "invitation.resent", "invitation.accepted", "invitation.confirmed",
  "invitation.rejected", "invitation.expired", "invitation.revoked", "invitation.reminded", "invitation.delivery_failed",
  "grant.added", "grant.changed", "grant.removed", "grant.revoked",
  "offboarding.requested", "offboarding.completed", "offboarding.failed", "member.offboarding", "member.login_linked",
  "account.added", "account.renamed", "account.retired", "policy.changed", "notification.sent",
];
const ACTION_PLAIN = {
  "invitation.created": "Invited", "invitation.sent": "Invitation e-mailed", "invitation.resent": "Invitation sent again",
  "invitation.accepted": "Invitation accepted", "invitation.confirmed": "Roles confirmed", "invitation.rejected": "Roles declined",
  "invitation.expired": "Invitation expired", "invitation.revoked": "Invitation revoked", "invitation.reminded": "Reminder sent",
  "invitation.delivery_failed": "E-mail not delivered", "grant.added": "Role added", "grant.changed": "Role changed",
  "grant.removed": "Role removed", "grant.revoked": "Role revoked (offboarding)", "offboarding.requested": "Offboarding requested",
  "offboarding.completed": "Offboarding completed", "offboarding.failed": "Offboarding failed",
  "member.login_linked": "Login linked", "policy.changed": "Policy changed", "notification.sent": "Inviter notified",
  "account.added": "Account added", "account.renamed": "Account renamed", "account.retired": "Account retired",
};
const PAGE_SIZE = 25;

function dayStart(value) { return value ? `${value}T00:00:00Z` : undefined; }
function dayEnd(value) { return value ? `${value}T23:59:59.999Z` : undefined; }

/** One line of what changed, from the entry's before/after. */
function describe(app, index, entry) {
  const b = entry.before || {};
  const a = entry.after || {};
  const acct = (id) => app.accountLabel(index, id);
  const bits = [];
  if (entry.action.startsWith("grant.")) {
    const id = a.account_id || b.account_id;
    if (b.role && a.role) bits.push(`${acct(id)}: ${b.role} → ${a.role}`);
    else if (a.role) bits.push(`${a.role} on ${acct(id)}`);
    else if (b.role) bits.push(`${b.role} on ${acct(id)} removed`);
  }
  const grants = a.grants || (entry.action === "invitation.created" ? a.proposed_grants : null);
  if (Array.isArray(grants) && grants.length) bits.push(grants.map((g) => `${g.role} on ${acct(g.account_id)}`).join(", "));
  if (a.status && b.status && a.status !== b.status) bits.push(`${b.status} → ${a.status}`);
  else if (a.status && !bits.length) bits.push(String(a.status));
  if (typeof a.send_count === "number") bits.push(`send ${a.send_count}`);
  if (a.expires_at) bits.push(`expires ${new Date(a.expires_at).toLocaleDateString()}`);
  if (a.delivery_reason) bits.push(String(a.delivery_reason));
  if (typeof a.grants_revoked === "number") bits.push(`${a.grants_revoked} role(s) removed`);
  if (entry.action === "policy.changed") bits.push(Object.entries(a).map(([k, v]) => `${k.replaceAll("_", " ")}: ${b[k] ?? "—"} → ${v}`).join("; "));
  if (entry.reason) bits.push(`reason: ${entry.reason}`);
  return bits.filter(Boolean).join(" · ") || "—";
}

export async function auditView(app) {
  const [members, index] = await Promise.all([app.members().catch(() => []), app.accountIndex()]);
  const people = new Map(members.map((m) => [m.member_id, m]));
  const q = new URLSearchParams(app.param || "");
  const filters = { member_id: q.get("member") || "", action: q.get("action") || "", since: q.get("since") || "", until: q.get("until") || "" };
  const cursors = (q.get("cursors") || "").split(",").filter(Boolean); // the pages before this one
  const cursor = q.get("cursor") || "";

  const memberSelect = h("select", { name: "member" }, h("option", { value: "" }, "Everyone"),
    [...members].sort((x, y) => (x.display_name || x.email).localeCompare(y.display_name || y.email))
      .map((m) => h("option", { value: m.member_id, selected: m.member_id === filters.member_id }, `${m.display_name} <${m.email}>`)));
  const actionSelect = h("select", { name: "action" }, h("option", { value: "" }, "Any action"),
    ACTIONS.map((a) => h("option", { value: a, selected: a === filters.action }, `${ACTION_PLAIN[a] || a} (${a})`)));
  const since = h("input", { type: "date", name: "since", value: filters.since });
  const until = h("input", { type: "date", name: "until", value: filters.until });
  const fm = field("Member", memberSelect);
  const fa = field("Action", actionSelect);
  const fs = field("From", since);
  const fu = field("To (inclusive)", until);
  const toParam = (extra = {}) => {
    const p = new URLSearchParams();
    const values = { member: memberSelect.value, action: actionSelect.value, since: since.value, until: until.value, ...extra };
    for (const [k, v] of Object.entries(values)) if (v) p.set(k, v);
    return p.toString();
  };
  const form = h("form", { class: "filters card", "aria-label": "Filter the audit trail" },
    fm.wrap, fa.wrap, fs.wrap, fu.wrap,
    h("div", { class: "filter-buttons" }, h("button", { type: "submit", class: "primary" }, "Apply filters"),
      h("a", { href: app.href("audit"), class: "button-link secondary" }, "Clear")));
  form.addEventListener("submit", (e) => { e.preventDefault(); app.go("audit", toParam()); });

  const results = h("div", { id: "audit-results" });
  let page;
  try {
    page = await api.get(api.biz(app.businessId, "audit"), { query: {
      member_id: filters.member_id, action: filters.action, since: dayStart(filters.since), until: dayEnd(filters.until),
      limit: PAGE_SIZE, cursor,
    } });
  } catch (error) {
    if (!(error instanceof api.ApiProblem)) throw error;
    replace(results, problemBox(error.problem));
    page = null;
  }
  if (page) {
    const entries = page.entries || [];
    const pageNo = cursors.length + 1;
    const rows = entries.map((e) => h("tr", {},
      h("td", {}, when(e.at, { seconds: true })),
      h("td", {}, h("span", { class: "action-name" }, ACTION_PLAIN[e.action] || e.action), h("span", { class: "action-code" }, e.action)),
      h("td", {}, app.who(people, e.actor, { name: e.actor_name, email: e.actor_email })),
      h("td", {}, e.member_id ? app.who(people, `member:${e.member_id}`, { name: e.member_name || e.subject_name, email: e.member_email || e.subject_email }) : (e.subject || "—")),
      h("td", { class: "details" }, describe(app, index, e))));
    const nav = h("nav", { class: "pager", "aria-label": "Audit trail pages" });
    if (cursors.length) {
      const prev = cursors.slice(0, -1);
      nav.append(h("a", { href: app.href("audit", toParam({ cursor: cursors[cursors.length - 1] === "-" ? "" : cursors[cursors.length - 1], cursors: prev.join(",") })), class: "button-link secondary" }, "← Previous page"));
    }
    nav.append(h("span", { class: "page-no" }, `Page ${pageNo}`));
    if (page.next_cursor) {
      nav.append(h("a", { href: app.href("audit", toParam({ cursor: page.next_cursor, cursors: [...cursors, cursor || "-"].join(",") })), class: "button-link secondary" }, "Next page →"));
    }
    replace(results,
      entries.length ? h("div", { class: "table-wrap" }, h("table", { class: "grid audit" },
        h("caption", {}, `Audit entries, oldest first — page ${pageNo}, ${entries.length} entr${entries.length === 1 ? "y" : "ies"}`),
        h("thead", {}, h("tr", {}, ["When", "Action", "By", "Member", "Details"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows))) : h("p", { class: "empty" }, "No entry matches these filters."),
      nav);
  }
  return h("section", { "aria-labelledby": "audit-title" },
    h("h1", { id: "audit-title" }, "Audit trail"),
    h("p", { class: "lede" }, "Every change, who made it and when. Entries are never edited or deleted."),
    form, results);
}

// --- access review ----------------------------------------------------------------------------------

/** The "Download CSV" button of an export page (the access review, a review campaign's report):
 * fetches `path` as CSV, saves it as `filename()` and says so in `message`, or shows the problem there. */
export function csvDownloadButton(message, path, filename) {
  const download = h("button", { type: "button", class: "primary" }, "Download CSV");
  download.addEventListener("click", async () => {
    replace(message);
    download.disabled = true;
    try {
      const response = await api.call("GET", path, { query: { format: "csv" }, headers: { Accept: "text/csv" }, raw: true });
      const name = filename();
      await saveResponse(response, name);
      replace(message, noteBox(`Downloaded ${name}.`));
      announce(`Downloaded ${name}.`);
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      replace(message, problemBox(error.problem));
      focusOn(message.firstChild);
    } finally {
      download.disabled = false;
    }
  });
  return download;
}

export async function reviewView(app) {
  const [review, index] = await Promise.all([api.get(api.biz(app.businessId, "access-review")), app.accountIndex()]);
  const rows = review.rows || [];
  const message = h("div", { class: "form-message" });
  const download = csvDownloadButton(message, api.biz(app.businessId, "access-review"),
    () => `access-review-${app.businessId}-${new Date().toISOString().slice(0, 10)}.csv`);
  const table = h("table", { class: "grid review" },
    h("caption", {}, `${rows.length} row${rows.length === 1 ? "" : "s"}: one per active role; generated `, when(review.generated_at)),
    h("thead", {}, h("tr", {}, ["Member", "Status", "Account", "Role", "Invited by", "Confirmed by", "Last change"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {},
      h("th", { scope: "row" }, person(r.display_name, r.email)),
      h("td", {}, statusBadge(r.member_status)),
      h("td", {}, r.account_id ? app.accountLabel(index, r.account_id) : "—"),
      h("td", {}, roleBadge(r.role)),
      h("td", {}, r.invited_by || r.invited_by_email ? person(r.invited_by_name, r.invited_by_email || r.invited_by) : "—"),
      h("td", {}, r.confirmed_by || r.confirmed_by_email ? person(r.confirmed_by_name, r.confirmed_by_email || r.confirmed_by) : "—"),
      h("td", {}, when(r.last_change_at), r.last_change_by ? h("div", { class: "muted" }, "by ", person(r.last_change_by_name, r.last_change_by_email || r.last_change_by)) : null,
        r.last_change_action ? h("div", { class: "action-code" }, r.last_change_action) : null)))));
  return h("section", { "aria-labelledby": "review-title" },
    h("div", { class: "view-head" }, h("h1", { id: "review-title" }, "Access review"), download),
    h("p", { class: "lede" }, "Who holds which role on which account, who invited and confirmed them, and the last change. The CSV has the same rows, for your auditors."),
    message,
    h("div", { class: "table-wrap" }, table));
}

// Access review campaigns: the campaigns of the business (start one now, set the recurring schedule),
// a campaign's inbox (the caller's assigned grants with last activity and an idle badge; keep or
// remove each with an optional note, or many at once) and its report (every grant, decision,
// reviewer, outcome; the CSV). Everything goes through the documented API; refusals show as problems.

import * as api from "./console-api.js";
import { csvDownloadButton } from "./console-audit.js";
import { announce, field, focusOn, h, noteBox, person, problemBox, replace, setFieldError, when } from "./console-dom.js";
import { roleBadge } from "./console-team.js";

const CADENCES = [
  ["off", "Off (start reviews by hand only)"], ["monthly", "Every month"], ["quarterly", "Every quarter"],
  ["semiannual", "Every six months"], ["annual", "Every year"],
];
const STATUS_PLAIN = { OPEN: "Open", CLOSING: "Closing", CLOSED: "Closed" };
const OUTCOME_PLAIN = {
  kept: "Kept", removed: "Removed", "kept-undecided": "Kept (undecided)", "removed-undecided": "Removed (undecided)",
};
const PAGE = 200;

// What the last decision request said, per campaign, shown after the inbox re-renders.
const lastResults = new Map();

function campaignStatus(status) {
  return h("span", { class: `badge review-${String(status || "").toLowerCase()}` }, STATUS_PLAIN[status] || status || "—");
}

function idleBadge() {
  return h("span", { class: "badge idle" }, "Idle");
}

function lastActivity(item) {
  return h("span", { class: "activity" }, item.last_activity_at ? when(item.last_activity_at) : h("span", { class: "muted" }, "never"),
    item.idle ? [" ", idleBadge()] : null);
}

function decisionText(item) {
  if (!item.decision) return h("span", { class: "muted" }, "Not decided");
  return h("span", {}, h("span", { class: `badge decision-${item.decision}` }, item.decision === "keep" ? "Keep" : "Remove"),
    item.decided_by ? h("div", { class: "muted" }, "by ", person(item.decided_by.name, item.decided_by.email)) : null);
}

async function allItems(app, campaignId, query) {
  const items = [];
  let cursor = "";
  for (let page = 0; page < 50; page += 1) {
    const body = await api.get(api.biz(app.businessId, "reviews", campaignId, "items"), { query: { ...query, limit: PAGE, cursor } });
    items.push(...(body.items || []));
    if (!body.next_cursor) break;
    cursor = body.next_cursor;
  }
  return items;
}

function counts(c) {
  const n = c.counts || {};
  return `${n.decided ?? 0} of ${n.items ?? 0} decided (${n.keep ?? 0} keep, ${n.remove ?? 0} remove)`
    + (n.flagged ? `, ${n.flagged} without an eligible reviewer` : "");
}

// --- campaigns ---------------------------------------------------------------------------------------

export async function reviewsView(app) {
  if (app.param) return inboxView(app, app.param);
  const [listing, policy, schedule] = await Promise.all([
    api.get(api.biz(app.businessId, "reviews")),
    api.get(api.biz(app.businessId, "policy")).catch(() => null),
    api.get(api.biz(app.businessId, "review-schedule")).catch(() => null),
  ]);
  const campaigns = listing.campaigns || [];
  const open = campaigns.find((c) => c.status === "OPEN");
  const table = campaigns.length ? h("div", { class: "table-wrap" }, h("table", { class: "grid campaigns" },
    h("caption", {}, `${campaigns.length} campaign${campaigns.length === 1 ? "" : "s"}, newest first`),
    h("thead", {}, h("tr", {}, ["Campaign", "Status", "Started", "Deadline", "Progress", "Pages"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, campaigns.map((c) => h("tr", {},
      h("th", { scope: "row" }, c.name || c.campaign_id,
        h("div", { class: "muted" }, c.started_by === "schedule" ? "started by the schedule" : "started by an Admin")),
      h("td", {}, campaignStatus(c.status)),
      h("td", {}, when(c.started_at)),
      h("td", {}, when(c.deadline)),
      h("td", {}, counts(c)),
      h("td", { class: "actions-cell" }, h("div", { class: "actions" },
        h("a", { href: app.href("reviews", c.campaign_id), class: "button-link secondary" }, c.status === "OPEN" ? "Review" : "Items",
          h("span", { class: "visually-hidden" }, ` ${c.name || c.campaign_id}`)),
        h("a", { href: app.href("review-report", c.campaign_id), class: "button-link secondary" }, "Report",
          h("span", { class: "visually-hidden" }, ` of ${c.name || c.campaign_id}`))))))))) : h("p", { class: "empty" }, "No campaign yet.");
  return h("section", { "aria-labelledby": "reviews-title" },
    h("h1", { id: "reviews-title" }, "Access review campaigns"),
    h("p", { class: "lede" }, "Each campaign asks the Admins of every account to keep or remove each active role on it. Nobody reviews their own role. At the deadline removals are applied and undecided roles follow the policy."),
    open ? h("p", { class: "note" }, "A campaign is open: ", h("a", { href: app.href("reviews", open.campaign_id) }, `review your items in ${open.name || "it"}`), ".") : null,
    table,
    startForm(app, policy, Boolean(open)),
    policy ? scheduleForm(app, policy, schedule) : null);
}

function nextReview(schedule) {
  if (!schedule) return null;
  if (!schedule.enrolled) return "Not on the schedule yet: saving any change below puts it on.";
  if (!schedule.next_at) return "No review starts by itself.";
  return ["The next review starts by itself on ", when(schedule.next_at), "."];
}

function startForm(app, policy, isOpen) {
  const name = field("Name (optional)", h("input", { type: "text", name: "name", maxlength: "200", autocomplete: "off" }),
    { hint: "e.g. Q1 access review. Without one, the date is used." });
  const days = field("Open for (days)", h("input", { type: "number", name: "duration_days", min: "1", max: "90",
    value: String(policy?.review_duration_days ?? 14) }), { hint: "1 to 90 days; reviewers get a reminder halfway." });
  const message = h("div", { class: "form-message" });
  const submit = h("button", { type: "submit", class: "primary" }, "Start a review now");
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "start-review-title" },
    h("h2", { id: "start-review-title" }, "Start a review now"),
    isOpen ? h("p", { class: "hint" }, "A campaign is already open: a new one can start once it has closed.") : null,
    name.wrap, days.wrap, message, submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const f of [name, days]) setFieldError(f, null);
    replace(message);
    const body = {};
    if (name.input.value.trim()) body.name = name.input.value.trim();
    if (days.input.value !== "") body.duration_days = Number(days.input.value);
    submit.disabled = true;
    try {
      const campaign = await api.post(api.biz(app.businessId, "reviews"), body);
      announce(`Review ${campaign.name || ""} started.`);
      app.go("reviews", campaign.campaign_id);
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      submit.disabled = false;
      const where = (error.problem.errors || []).map((x) => String(x.where || ""));
      if (where.some((w) => w.endsWith("duration_days"))) setFieldError(days, (error.problem.errors || []).find((x) => String(x.where).endsWith("duration_days")).problem);
      if (where.some((w) => w.endsWith("name"))) setFieldError(name, (error.problem.errors || []).find((x) => String(x.where).endsWith("name")).problem);
      replace(message, problemBox(error.problem));
      focusOn(message.firstChild);
    }
  });
  return form;
}

function scheduleForm(app, policy, schedule) {
  const cadence = field("Recurring review", h("select", { name: "review_cadence" },
    CADENCES.map(([value, label]) => h("option", { value, selected: value === policy.review_cadence }, label))),
  { hint: "A campaign starts by itself one period after the last scheduled one (the first one period after the schedule began)." });
  const duration = field("Scheduled campaigns stay open (days)", h("input", { type: "number", name: "review_duration_days", min: "1", max: "90",
    value: String(policy.review_duration_days ?? 14) }));
  const idle = field("Flag as idle after (days without activity)", h("input", { type: "number", name: "review_idle_after_days", min: "1", max: "3650",
    value: String(policy.review_idle_after_days ?? 90) }), { hint: "Activity: the member's last signed-in use of AccessFlow in this business." });
  const fields = { review_cadence: cadence, review_duration_days: duration, review_idle_after_days: idle };
  const message = h("div", { class: "form-message" });
  const save = h("button", { type: "submit", class: "primary" }, "Save schedule");
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "schedule-title" },
    h("h2", { id: "schedule-title" }, "Schedule"),
    h("p", { id: "next-review" }, nextReview(schedule)),
    h("p", { class: "hint" }, "Changing it needs Admin on every account of the business."),
    cadence.wrap, duration.wrap, idle.wrap, message, save);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const f of Object.values(fields)) setFieldError(f, null);
    replace(message);
    const changes = {};
    if (cadence.input.value !== policy.review_cadence) changes.review_cadence = cadence.input.value;
    for (const [key, f] of [["review_duration_days", duration], ["review_idle_after_days", idle]]) {
      if (f.input.value === "" || Number(f.input.value) !== policy[key]) changes[key] = f.input.value === "" ? null : Number(f.input.value);
    }
    if (!Object.keys(changes).length) {
      replace(message, noteBox("Nothing changed."));
      return;
    }
    save.disabled = true;
    try {
      const saved = await api.patch(api.biz(app.businessId, "policy"), changes);
      Object.assign(policy, saved);
      const next = await api.get(api.biz(app.businessId, "review-schedule")).catch(() => null);
      const line = document.getElementById("next-review");
      if (line) replace(line, nextReview(next));
      save.disabled = false;
      replace(message, noteBox("Schedule saved."));
      announce("Schedule saved.");
      focusOn(message.firstChild);
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      save.disabled = false;
      const placed = [];
      for (const x of error.problem.errors || []) {
        const key = String(x.where || "").split(".").filter((p) => p !== "body")[0];
        if (fields[key]) { setFieldError(fields[key], x.problem); placed.push(fields[key].input); }
      }
      replace(message, problemBox(error.problem));
      focusOn(placed[0] || message.firstChild);
    }
  });
  return form;
}

// --- inbox -------------------------------------------------------------------------------------------

async function inboxView(app, campaignId) {
  const [campaign, items, index] = await Promise.all([
    api.get(api.biz(app.businessId, "reviews", campaignId)),
    allItems(app, campaignId, { assigned_to: "me" }),
    app.accountIndex(),
  ]);
  const isOpen = campaign.status === "OPEN";
  const results = lastResults.get(campaignId) || { summary: null, byItem: new Map() };
  lastResults.delete(campaignId);
  const message = h("div", { class: "form-message", id: "inbox-message" });
  if (results.summary) replace(message, results.summary);
  const selected = new Set();
  const undecidedOnly = h("input", { type: "checkbox", id: "undecided-only" });
  const count = h("span", { class: "selected-count", "aria-live": "polite" }, "0 selected");
  const bulkNote = h("input", { type: "text", id: "bulk-note", maxlength: "500", autocomplete: "off" });
  const keepSelected = h("button", { type: "button", disabled: true }, "Keep selected");
  const removeSelected = h("button", { type: "button", class: "danger", disabled: true }, "Remove selected");
  const selectAll = h("input", { type: "checkbox", "aria-label": "Select every item shown" });
  const rowBoxes = [];

  const refreshSelection = () => {
    count.textContent = `${selected.size} selected`;
    keepSelected.disabled = removeSelected.disabled = selected.size === 0;
    const shown = rowBoxes.filter((b) => !b.closest("tr").hidden);
    selectAll.checked = shown.length > 0 && shown.every((b) => b.checked);
  };

  const decide = async (decisions, button) => {
    replace(message);
    button.disabled = true;
    let summary;
    const byItem = new Map();
    try {
      const body = await api.post(api.biz(app.businessId, "reviews", campaignId, "decisions"), { decisions });
      const outcome = body.results || [];
      const recorded = outcome.filter((r) => r.status === "recorded").length;
      const refused = outcome.filter((r) => r.status !== "recorded");
      for (const r of refused) byItem.set(r.item_id, r.problem || { title: "Refused" });
      const text = `${recorded} decision${recorded === 1 ? "" : "s"} recorded`
        + (refused.length ? `; ${refused.length} refused (see the rows marked below).` : ".");
      summary = refused.length ? problemBox({ title: text, detail: refused[0].problem?.detail || "" }) : noteBox(text);
      announce(text);
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      summary = problemBox(error.problem);
    }
    lastResults.set(campaignId, { summary, byItem });
    app.invalidate();
    await app.rerender();
    const msg = document.getElementById("inbox-message");
    if (msg && msg.firstChild) focusOn(msg.firstChild);
  };

  const rows = items.map((item) => {
    const label = `${item.member_name || item.member_email} on ${item.account_name || app.accountLabel(index, item.account_id)}`;
    const box = h("input", { type: "checkbox", "aria-label": `Select ${label}`, disabled: !isOpen });
    rowBoxes.push(box);
    box.addEventListener("change", () => {
      if (box.checked) selected.add(item.item_id); else selected.delete(item.item_id);
      refreshSelection();
    });
    const note = h("input", { type: "text", maxlength: "500", autocomplete: "off", value: item.note || "", "aria-label": `Note for ${label} (optional)`, disabled: !isOpen });
    const keep = h("button", { type: "button" }, "Keep", h("span", { class: "visually-hidden" }, ` ${label}`));
    const remove = h("button", { type: "button", class: "danger" }, "Remove", h("span", { class: "visually-hidden" }, ` ${label}`));
    const one = (decision, button) => decide([{ item_id: item.item_id, decision, ...(note.value.trim() ? { note: note.value.trim() } : {}) }], button);
    keep.addEventListener("click", () => one("keep", keep));
    remove.addEventListener("click", () => one("remove", remove));
    const refusal = results.byItem.get(item.item_id);
    const row = h("tr", { dataset: { item: item.item_id, decided: item.decision ? "true" : "false" } },
      h("td", {}, box),
      h("th", { scope: "row" }, person(item.member_name, item.member_email)),
      h("td", {}, item.account_name || app.accountLabel(index, item.account_id)),
      h("td", {}, roleBadge(item.role)),
      h("td", {}, lastActivity(item)),
      h("td", {}, decisionText(item)),
      h("td", {}, note),
      h("td", { class: "actions-cell" }, isOpen ? h("div", { class: "actions" }, keep, remove) : h("span", { class: "muted" }, "Closed"),
        refusal ? h("div", { class: "result" }, problemBox(refusal)) : null));
    return row;
  });

  const applyFilter = () => {
    for (const row of rows) row.hidden = undecidedOnly.checked && row.dataset.decided === "true";
    refreshSelection();
  };
  undecidedOnly.addEventListener("change", applyFilter);
  selectAll.addEventListener("change", () => {
    for (const b of rowBoxes) {
      if (b.closest("tr").hidden || b.disabled) continue;
      b.checked = selectAll.checked;
      b.dispatchEvent(new Event("change"));
    }
  });
  const bulk = (decision, button) => {
    const note = bulkNote.value.trim();
    decide([...selected].map((item_id) => ({ item_id, decision, ...(note ? { note } : {}) })), button);
  };
  keepSelected.addEventListener("click", () => bulk("keep", keepSelected));
  removeSelected.addEventListener("click", () => bulk("remove", removeSelected));

  const decided = items.filter((i) => i.decision).length;
  const idle = items.filter((i) => i.idle).length;
  return h("section", { "aria-labelledby": "inbox-title" },
    h("p", { class: "breadcrumb" }, h("a", { href: app.href("reviews") }, "Access review campaigns"), " › ", campaign.name || campaign.campaign_id),
    h("div", { class: "view-head" }, h("h1", { id: "inbox-title" }, `Review: ${campaign.name || campaign.campaign_id}`),
      h("a", { href: app.href("review-report", campaignId), class: "button-link secondary" }, "Campaign report")),
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, campaignStatus(campaign.status)),
      h("dt", {}, "Deadline"), h("dd", {}, when(campaign.deadline)),
      h("dt", {}, "Your items"), h("dd", {}, `${items.length} (${decided} decided${idle ? `, ${idle} idle` : ""})`),
      h("dt", {}, "Undecided at the deadline"), h("dd", {}, campaign.undecided_policy === "remove" ? "removed" : "kept")),
    message,
    items.length ? [
      isOpen ? h("div", { class: "card bulk-bar", role: "group", "aria-label": "Decide the selected items" },
        h("div", { class: "field inline" }, h("label", { for: "bulk-note" }, "Note for the selected (optional)"), bulkNote),
        count, " ", keepSelected, " ", removeSelected) : null,
      h("p", {}, h("label", { for: "undecided-only" }, undecidedOnly, " Show undecided only")),
      h("div", { class: "table-wrap" }, h("table", { class: "grid inbox" },
        h("caption", {}, `Roles assigned to you for review: ${items.length}. Idle: no activity for more than ${campaign.idle_after_days ?? 90} days.`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, isOpen ? selectAll : h("span", { class: "visually-hidden" }, "Select")),
          ["Member", "Account", "Role", "Last activity", "Decision", "Note", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows)))]
      : h("p", { class: "empty" }, "Nothing is assigned to you in this campaign."));
}

// --- report ------------------------------------------------------------------------------------------

export async function reviewReportView(app) {
  const campaignId = app.param;
  const [report, index] = await Promise.all([api.get(api.biz(app.businessId, "reviews", campaignId, "report")), app.accountIndex()]);
  const campaign = report.campaign || {};
  const rows = report.items || [];
  const message = h("div", { class: "form-message" });
  const download = csvDownloadButton(message, api.biz(app.businessId, "reviews", campaignId, "report"),
    () => `review-${campaignId}.csv`);
  const table = h("table", { class: "grid review-report" },
    h("caption", {}, `${rows.length} role${rows.length === 1 ? "" : "s"} reviewed, one row each`),
    h("thead", {}, h("tr", {}, ["Member", "Account", "Role", "Last activity", "Decision", "Reviewer", "Note", "Outcome"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {},
      h("th", { scope: "row" }, person(r.member_name, r.member_email)),
      h("td", {}, r.account_name || app.accountLabel(index, r.account_id)),
      h("td", {}, roleBadge(r.role)),
      h("td", {}, lastActivity(r)),
      h("td", {}, r.decision ? [h("span", { class: `badge decision-${r.decision}` }, r.decision === "keep" ? "Keep" : "Remove"), h("div", { class: "muted" }, when(r.decided_at))]
        : h("span", { class: "muted" }, r.flagged ? "No eligible reviewer" : "Not decided")),
      h("td", {}, r.decided_by ? person(r.decided_by.name, r.decided_by.email)
        : (r.reviewers || []).length ? h("span", { class: "muted" }, "Assigned: ", (r.reviewers || []).map((x) => x.name || x.email).join(", ")) : "—"),
      h("td", {}, r.note || "—"),
      h("td", {}, r.outcome ? [OUTCOME_PLAIN[r.outcome] || r.outcome, r.applied_at ? h("div", { class: "muted" }, "applied ", when(r.applied_at)) : null]
        : h("span", { class: "muted" }, "at the deadline"))))));
  return h("section", { "aria-labelledby": "report-title" },
    h("p", { class: "breadcrumb" }, h("a", { href: app.href("reviews") }, "Access review campaigns"), " › ",
      h("a", { href: app.href("reviews", campaignId) }, campaign.name || campaignId), " › Report"),
    h("div", { class: "view-head" }, h("h1", { id: "report-title" }, `Report: ${campaign.name || campaignId}`), download),
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, campaignStatus(campaign.status)),
      h("dt", {}, "Started"), h("dd", {}, when(campaign.started_at), campaign.started_by === "schedule" ? " by the schedule" : ""),
      h("dt", {}, "Deadline"), h("dd", {}, when(campaign.deadline)),
      h("dt", {}, "Closed"), h("dd", {}, campaign.closed_at ? when(campaign.closed_at) : "not yet"),
      h("dt", {}, "Progress"), h("dd", {}, counts(campaign)),
      h("dt", {}, "Undecided roles"), h("dd", {}, campaign.undecided_policy === "remove" ? "removed at the deadline" : "kept at the deadline")),
    message,
    rows.length ? h("div", { class: "table-wrap" }, table) : h("p", { class: "empty" }, "The campaign has no items."));
}

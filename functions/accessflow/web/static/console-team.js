// Team members (members × accounts, the role in each cell) and one member's page: change a role,
// remove a grant (refusals such as last-Admin or Admin-limit shown next to the control), offboard
// with a reason, follow the offboarding until its receipt.

import * as api from "./console-api.js";
import { announce, field, focusOn, h, nextId, noteBox, person, platformLabel, problemBox, replace, when } from "./console-dom.js";
import { reinstatePanel } from "./console-guard.js";

export const ROLES = ["Admin", "Editor", "Moderator", "Analyst"];
export const ROLE_PLAIN = {
  Admin: "manages members, billing, settings, content, community and analytics",
  Editor: "creates, schedules and publishes content; reads analytics",
  Moderator: "replies to and moderates comments and messages; reads content",
  Analyst: "reads analytics only",
};
const STATUS_PLAIN = {
  ACTIVE: "Active", INVITED: "Invited", OFFBOARDING: "Offboarding", REMOVED: "Removed", NEVER_JOINED: "Never joined",
};

// The offboarding a POST just started, by member id: the member's page shows it as its first state
// (IN_PROGRESS) however fast the workflow then completes.
const justStarted = new Map();

export function statusBadge(status) {
  return h("span", { class: `badge status-${String(status || "").toLowerCase()}` }, STATUS_PLAIN[status] || status || "—");
}

export function roleBadge(role) {
  if (!role) return h("span", { class: "no-access" }, h("span", { "aria-hidden": "true" }, "—"), h("span", { class: "visually-hidden" }, "No access"));
  return h("span", { class: `badge role-${role.toLowerCase()}` }, role);
}

function unique(list) {
  return [...new Set(list.filter(Boolean))];
}

export async function teamView(app) {
  const [members, accounts, people] = await Promise.all([app.members(), app.accounts(), app.peopleIndex()]);
  const index = new Map(accounts.map((a) => [a.account_id, a]));
  const accountIds = unique([...accounts.filter((a) => a.status !== "RETIRED").map((a) => a.account_id),
    ...members.flatMap((m) => m.grants.map((g) => g.account_id))]);
  const showRemoved = app.param === "all";
  const shown = members
    .filter((m) => showRemoved || m.status !== "REMOVED")
    .sort((a, b) => (a.display_name || a.email).localeCompare(b.display_name || b.email));
  const removedCount = members.filter((m) => m.status === "REMOVED").length;

  const captionId = nextId("team");
  const table = h("table", { class: "grid team", "aria-describedby": captionId },
    h("caption", { id: captionId }, `${shown.length} member${shown.length === 1 ? "" : "s"} × ${accountIds.length} account${accountIds.length === 1 ? "" : "s"}: the role each member holds on each account.`),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Member"),
      h("th", { scope: "col" }, "Status"),
      accountIds.map((id) => {
        const a = index.get(id);
        return h("th", { scope: "col", class: "account-col" }, app.accountLabel(index, id),
          a?.platform ? h("span", { class: "platform" }, platformLabel(a.platform)) : null);
      }),
      h("th", { scope: "col" }, "Invited by"),
      h("th", { scope: "col" }, "Confirmed by"),
      h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
    h("tbody", {}, shown.map((m) => {
      const byAccount = new Map(m.grants.map((g) => [g.account_id, g]));
      // Who invited / confirmed, by name and e-mail as the API gives them (one line per person).
      const byActor = (pairs) => {
        const seen = new Map();
        for (const [actor, name, email] of pairs) if (actor && !seen.has(actor)) seen.set(actor, { name, email });
        return [...seen].map(([actor, who]) => app.who(people, actor, who));
      };
      const inviters = byActor([[m.invited_by, m.invited_by_name, m.invited_by_email],
        ...m.grants.map((g) => [g.invited_by, g.invited_by_name, g.invited_by_email])]);
      const confirmers = byActor(m.grants.map((g) => [g.confirmed_by, g.confirmed_by_name, g.confirmed_by_email]));
      const mine = m.member_id === app.myMemberId;
      return h("tr", {},
        h("th", { scope: "row" }, person(m.display_name, m.email), mine ? h("span", { class: "you" }, " (you)") : null),
        h("td", {}, statusBadge(m.status)),
        accountIds.map((id) => h("td", { class: "role-cell", dataset: { account: id } }, roleBadge(byAccount.get(id)?.role))),
        h("td", {}, inviters.length ? inviters.map((w) => h("div", {}, w)) : "—"),
        h("td", {}, confirmers.length ? confirmers.map((w) => h("div", {}, w)) : "—"),
        h("td", {}, h("a", { href: app.href("member", m.member_id), class: "button-link" },
          "Manage", h("span", { class: "visually-hidden" }, ` ${m.display_name || m.email}`))));
    })));

  return h("section", { "aria-labelledby": "team-title" },
    h("div", { class: "view-head" },
      h("h1", { id: "team-title" }, "Team members"),
      h("a", { href: app.href("invite"), class: "button-link primary" }, "Invite a member")),
    h("p", { class: "lede" }, "Roles per account. Choose Manage to change a role, remove access or offboard someone."),
    h("div", { class: "table-wrap" }, table),
    removedCount ? h("p", {}, showRemoved
      ? h("a", { href: app.href("team") }, "Hide removed members")
      : h("a", { href: app.href("team", "all") }, `Show ${removedCount} removed member${removedCount === 1 ? "" : "s"}`)) : null);
}

// --- one member ----------------------------------------------------------------------------------

export async function memberView(app) {
  const [members, accounts, people] = await Promise.all([app.members(), app.accounts(), app.peopleIndex()]);
  const member = members.find((m) => m.member_id === app.param);
  if (!member) {
    return h("section", {}, h("h1", {}, "Member not found"),
      problemBox({ title: "Not found", detail: "This member is not in the business (any more)." }),
      h("p", {}, h("a", { href: app.href("team") }, "Back to the team")));
  }
  const index = new Map(accounts.map((a) => [a.account_id, a]));
  const grants = new Map(member.grants.map((g) => [g.account_id, g]));
  const accountIds = unique([...member.grants.map((g) => g.account_id),
    ...accounts.filter((a) => a.status !== "RETIRED").map((a) => a.account_id)]);
  const active = member.status === "ACTIVE" && !justStarted.has(member.member_id);
  const name = member.display_name || member.email;

  const rows = accountIds.map((accountId) => roleRow(app, member, accountId, grants.get(accountId), index, active));
  const rolesTable = h("table", { class: "grid roles" },
    h("caption", {}, `${name}'s role on each account`),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Account"),
      h("th", { scope: "col" }, "Current role"),
      h("th", { scope: "col" }, "Change"),
      h("th", { scope: "col" }, "Result"))),
    h("tbody", {}, rows));

  const details = h("dl", { class: "facts" },
    h("dt", {}, "E-mail"), h("dd", {}, member.email),
    h("dt", {}, "Status"), h("dd", {}, statusBadge(member.status)),
    member.employee_id ? [h("dt", {}, "Employee id"), h("dd", {}, member.employee_id)] : null,
    h("dt", {}, "Invited by"), h("dd", {}, app.who(people, member.invited_by, { name: member.invited_by_name, email: member.invited_by_email })),
    h("dt", {}, "Member since"), h("dd", {}, when(member.created_at)),
    h("dt", {}, "Last activity"), h("dd", {}, member.last_activity_at ? when(member.last_activity_at) : "none recorded"));

  const leaving = ["OFFBOARDING", "REMOVED"].includes(member.status) || justStarted.has(member.member_id);
  const offboardSection = h("section", { class: leaving ? "offboarding-section" : "card danger-zone", "aria-labelledby": "offboard-title" },
    h("h2", { id: "offboard-title" }, ["OFFBOARDING", "REMOVED"].includes(member.status) ? "Offboarding" : "Offboard"));
  // Just started here: the workflow marks the member OFFBOARDING a moment after the 202.
  const initial = justStarted.get(member.member_id);
  justStarted.delete(member.member_id);
  if (initial || ["OFFBOARDING", "REMOVED"].includes(member.status)) {
    offboardSection.append(await offboardingPanel(app, member, { poll: member.status !== "REMOVED" || Boolean(initial), initial }));
  } else {
    offboardSection.append(offboardForm(app, member));
  }

  return h("section", { "aria-labelledby": "member-title" },
    h("p", { class: "breadcrumb" }, h("a", { href: app.href("team") }, "Team members"), " › ", name),
    h("h1", { id: "member-title" }, name, member.member_id === app.myMemberId ? h("span", { class: "you" }, " (you)") : null),
    details,
    h("section", { "aria-labelledby": "roles-title" },
      h("h2", { id: "roles-title" }, "Roles"),
      member.status === "REMOVED" ? h("p", {}, `${name} was offboarded and holds no role.`) : [
        active ? h("p", { class: "hint" }, "Only an Admin of an account can change roles on it. An account keeps at least one Admin.")
          : h("p", { class: "hint" }, "Roles can be changed only while the member is active."),
        h("div", { class: "table-wrap" }, rolesTable)]),
    offboardSection);
}

function roleRow(app, member, accountId, grant, index, active) {
  const label = app.accountLabel(index, accountId);
  const platform = index.get(accountId)?.platform;
  const current = grant?.role || "";
  const yours = index.get(accountId)?.your_role;
  const mine = yours === undefined || yours === "Admin";
  active = active && mine;
  const selectId = nextId("role");
  const resultId = `${selectId}-result`;
  const select = h("select", { id: selectId, disabled: !active, "aria-describedby": resultId },
    h("option", { value: "", selected: !current }, current ? "Remove access" : "No access"),
    ROLES.map((r) => h("option", { value: r, selected: r === current }, r)));
  const result = h("div", { id: resultId, class: "result" });
  const apply = h("button", { type: "button", disabled: !active }, "Apply",
    h("span", { class: "visually-hidden" }, ` role on ${label}`));
  apply.addEventListener("click", async () => {
    const role = select.value;
    replace(result);
    if (role === current) {
      replace(result, noteBox("No change."));
      return;
    }
    apply.disabled = true;
    try {
      const path = api.biz(app.businessId, "members", member.member_id, "grants", accountId);
      if (role) await api.put(path, { role });
      else await api.del(path);
      app.invalidate();
      const message = role ? `${member.display_name || member.email} is now ${role} on ${label}.`
        : `${member.display_name || member.email} no longer has access to ${label}.`;
      announce(message);
      await app.rerender();
      const again = document.querySelector(`[data-account-row="${CSS.escape(accountId)}"] .result`);
      if (again) {
        replace(again, noteBox(message));
        focusOn(again.firstChild);
      }
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      apply.disabled = false;
      replace(result, problemBox(error.problem));
      select.setAttribute("aria-invalid", "true");
      focusOn(result.firstChild);
    }
  });
  return h("tr", { dataset: { accountRow: accountId } },
    h("th", { scope: "row" }, label, platform ? h("span", { class: "platform" }, platformLabel(platform)) : null),
    h("td", {}, roleBadge(current)),
    h("td", { class: "change" },
      h("label", { for: selectId, class: "visually-hidden" }, `Role on ${label}`), select, " ", apply),
    h("td", {}, mine ? null : h("span", { class: "muted" }, "Only an Admin of this account can change it."), result));
}

function offboardForm(app, member) {
  const name = member.display_name || member.email;
  const reason = field("Reason (kept on the receipt and the audit trail)",
    h("textarea", { name: "reason", rows: "2", maxlength: "500", required: true }));
  const message = h("div", { class: "form-message" });
  const submit = h("button", { type: "submit", class: "danger" }, `Offboard ${name}`);
  const form = h("form", { novalidate: true },
    h("p", {}, `Removes every role ${name} holds on every account, cancels their pending invitations and signs them out everywhere; then verifies nothing is left and keeps a receipt.`),
    reason.wrap, message, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(message);
    reason.error.hidden = true;
    reason.input.removeAttribute("aria-invalid");
    const text = reason.input.value.trim();
    if (!text) {
      reason.error.hidden = false;
      reason.error.textContent = "Say why this person leaves.";
      reason.input.setAttribute("aria-invalid", "true");
      reason.input.focus();
      return;
    }
    submit.disabled = true;
    try {
      const started = await api.post(api.biz(app.businessId, "members", member.member_id, "offboard"), { reason: text });
      justStarted.set(member.member_id, started);
      app.invalidate();
      announce(`Offboarding of ${name} started.`);
      await app.rerender();
      focusOn(document.querySelector(".offboarding h3"));
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      submit.disabled = false;
      const reasonError = (error.problem.errors || []).find((e) => String(e.where || "").endsWith("reason"));
      if (reasonError) {
        reason.error.hidden = false;
        reason.error.textContent = reasonError.problem;
        reason.input.setAttribute("aria-invalid", "true");
        reason.input.focus();
      } else {
        replace(message, problemBox(error.problem));
        focusOn(message.firstChild);
      }
    }
  });
  return form;
}

const OFFBOARDING_STEPS = [
  "Revoking every role on every account",
  "Cancelling pending invitations",
  "Signing the member out everywhere",
  "Verifying that nothing is left",
  "Writing the receipt",
];

/** The offboarding of a member: progress while IN_PROGRESS (polling), then the receipt. */
async function offboardingPanel(app, member, { poll, initial }) {
  const panel = h("div", { class: "offboarding" });
  const path = api.biz(app.businessId, "members", member.member_id, "offboarding");
  const started = Date.now();
  let delay = 400;
  const elapsedText = h("span", {});
  const show = (off) => {
    if (off.status === "IN_PROGRESS") {
      if (!panel.querySelector("progress")) {
        replace(panel,
          h("h3", {}, "Offboarding in progress"),
          h("progress", { "aria-label": "Offboarding progress" }),
          h("ol", { class: "steps" }, OFFBOARDING_STEPS.map((s) => h("li", {}, s))),
          h("p", { class: "muted" }, "Started ", when(off.started_at), elapsedText,
            ". You can leave this page; the offboarding continues."));
      }
      const elapsed = Math.floor((Date.now() - started) / 1000);
      elapsedText.textContent = elapsed ? ` · ${elapsed} s so far` : "";
      return false;
    }
    replace(panel, receipt(app, off));
    return true;
  };
  let off = initial;
  if (!off) {
    try {
      off = await api.get(path);
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      return problemBox(error.problem);
    }
  }
  const done = show(off);
  if (!done && poll) {
    const tick = async () => {
      if (!panel.isConnected && Date.now() - started > 1000) return; // the admin navigated away
      try {
        off = await api.get(path);
      } catch (error) {
        if (error instanceof api.ApiProblem) replace(panel, problemBox(error.problem));
        return;
      }
      if (show(off)) {
        app.invalidate();
        announce(off.status === "COMPLETED" ? `Offboarding of ${member.display_name || member.email} completed.`
          : "The offboarding failed; see the receipt.");
        if (app.view === "member" && app.param === member.member_id && panel.isConnected) {
          await app.rerender(); // the member's status and roles as they are now, with the receipt
          focusOn(document.querySelector(".receipt h3"));
        }
        return;
      }
      delay = Math.min(delay * 1.5, 3000);
      window.setTimeout(tick, delay);
    };
    window.setTimeout(tick, delay);
  }
  return panel;
}

function receipt(app, off) {
  const r = off.receipt || {};
  const failed = off.status === "FAILED";
  const grants = r.grants_revoked || [];
  const invitations = r.invitations_revoked || [];
  const orphaned = r.orphaned_accounts || [];
  const section = h("div", { class: `receipt ${failed ? "failed" : ""}` },
    h("h3", {}, failed ? "Offboarding failed" : "Offboarding receipt"),
    failed ? problemBox({ title: "Access may be left behind",
      detail: r.cause || r.error || "The verification found access left; an operator has been alerted." }) : null,
    h("dl", { class: "facts" },
      h("dt", {}, "Member"), h("dd", {}, person(r.member?.display_name, r.member?.email) ),
      h("dt", {}, "Status"), h("dd", {}, failed ? "Failed" : "Completed: nothing left"),
      h("dt", {}, "Why"), h("dd", {}, off.reason || r.reason || "—"),
      h("dt", {}, "Requested by"), h("dd", { class: "requested-by" }, off.requested_by_name || off.requested_by_email
        ? person(off.requested_by_name, off.requested_by_email) : (off.requested_by || "—")),
      h("dt", {}, "Started"), h("dd", {}, when(off.started_at)),
      h("dt", {}, "Completed"), h("dd", {}, when(off.completed_at || r.completed_at)),
      h("dt", {}, "Sessions"), h("dd", {}, r.sessions_revoked ? "Signed out everywhere (sessions revoked)" : "—"),
      h("dt", {}, "Execution"), h("dd", { class: "mono" }, (off.execution_arn || r.execution_arn || "—").split(":").slice(-1)[0])));
  const ids = [];
  section.append(h("h4", {}, `Roles removed (${grants.length})`));
  section.append(grants.length ? h("ul", {}, grants.map((g) => { ids.push(g.account_id); return h("li", {}, `${g.role} on ${g.account_name || g.account_id}`); })) : h("p", {}, "None."));
  section.append(h("h4", {}, `Invitations cancelled (${invitations.length})`));
  section.append(invitations.length ? h("ul", {}, invitations.map((i) => h("li", {}, i.invitation_id || String(i)))) : h("p", {}, "None."));
  if (off.status === "COMPLETED" && off.reinstatement) section.append(reinstatePanel(app, off)); // issue 11
  if (orphaned.length) {
    section.append(problemBox({ title: "Accounts left without an Admin",
      detail: `${orphaned.join(", ")}: appoint a new Admin on ${orphaned.length === 1 ? "it" : "them"}.` }));
  }
  // People by name and e-mail, account names for the removed roles, once known.
  if (!off.requested_by_name && !off.requested_by_email && off.requested_by) {
    app.peopleIndex().then((people) => {
      replace(section.querySelector(".requested-by"), app.who(people, off.requested_by));
    }).catch(() => {});
  }
  app.accountIndex().then((index) => {
    const items = section.querySelectorAll("ul li");
    grants.forEach((g, i) => { if (items[i]) items[i].textContent = `${g.role} on ${app.accountLabel(index, g.account_id)}`; });
  }).catch(() => {});
  return section;
}

// Invitations (status, delivery and bounces, resend with its cooldown and sends left, revoke,
// re-issue an expired one) and the queue of accepted invitations waiting for an Admin's confirmation.

import * as api from "./console-api.js";
import { announce, field, focusOn, h, nextId, noteBox, person, problemBox, remaining, replace, when } from "./console-dom.js";
import { ROLES, roleBadge } from "./console-team.js";

const STATUSES = ["PENDING", "ACCEPTED", "CONFIRMED", "EXPIRED", "REVOKED", "REJECTED"];
const STATUS_PLAIN = {
  PENDING: "Waiting for the invitee", ACCEPTED: "Accepted", CONFIRMED: "Active", EXPIRED: "Expired",
  REVOKED: "Revoked", REJECTED: "Declined by an Admin",
};
const DELIVERY_PLAIN = { SENT: "Sent", FAILED: "Not delivered", NOT_SENT: "Being sent…", SENDING: "Being sent…" };

function statusCell(inv) {
  const label = inv.status === "ACCEPTED" && inv.needs_confirmation ? "Accepted — waiting for confirmation" : (STATUS_PLAIN[inv.status] || inv.status);
  return h("span", { class: `badge inv-${inv.status.toLowerCase()}` }, label);
}

function deliveryCell(inv) {
  if (!inv.delivery) return h("span", { class: "muted" }, inv.status === "PENDING" ? "Sending…" : "—");
  const label = DELIVERY_PLAIN[inv.delivery] || inv.delivery;
  if (inv.delivery === "FAILED") {
    return h("div", { class: "delivery-failed" }, h("strong", {}, label),
      inv.delivery_reason ? h("p", { class: "reason" }, inv.delivery_reason) : null,
      h("p", { class: "hint" }, "Check the address; revoke and invite again with the right one."));
  }
  return h("div", {}, label, inv.last_sent_at ? h("div", { class: "muted" }, when(inv.last_sent_at)) : null);
}

function grantsList(app, index, grants) {
  return h("ul", { class: "grant-list" }, (grants || []).map((g) =>
    h("li", {}, roleBadge(g.role), " on ", app.accountLabel(index, g.account_id))));
}

/** Sends left and when the next send is possible: the API's fields, else derived from the policy. */
function resendInfo(inv, policy) {
  const maxSends = policy?.resend_max_sends ?? 5;
  const interval = policy?.resend_min_interval_seconds ?? 60;
  const sendsLeft = inv.sends_left ?? Math.max(0, maxSends - (inv.send_count || 0));
  let availableAt = inv.resend_available_at ? new Date(inv.resend_available_at) : null;
  if (!availableAt && inv.last_sent_at) availableAt = new Date(new Date(inv.last_sent_at).getTime() + interval * 1000);
  return { sendsLeft, availableAt };
}

export async function invitationsView(app) {
  const filter = STATUSES.includes(app.param) ? app.param : "";
  const [page, index, people, policy] = await Promise.all([
    api.get(api.biz(app.businessId, "invitations"), { query: { status: filter } }),
    app.accountIndex(), app.peopleIndex(),
    api.get(api.biz(app.businessId, "policy")).catch(() => null),
  ]);
  const invitations = page.invitations || [];
  const timers = [];

  const filterSelect = h("select", { id: "inv-filter" },
    h("option", { value: "", selected: !filter }, "All"),
    STATUSES.map((s) => h("option", { value: s, selected: s === filter }, STATUS_PLAIN[s])));
  const filterForm = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); app.go("invitations", filterSelect.value); } },
    h("label", { for: "inv-filter" }, "Show"), filterSelect, h("button", { type: "submit" }, "Filter"));

  const rows = invitations.map((inv) => {
    const result = h("div", { class: "result", id: nextId("inv-result") });
    const actions = h("div", { class: "actions" });
    const resendNote = h("p", { class: "hint resend-note" });
    const who = inv.display_name || inv.email;
    /** Run an action; its result (or refusal) appears in this row, and focus moves to it. */
    const act = async (button, doIt) => {
      button.disabled = true;
      replace(result);
      try {
        const message = await doIt();
        app.invalidate();
        await app.rerender();
        announce(message);
        const target = document.querySelector(`tr[data-invitation="${CSS.escape(inv.invitation_id)}"] .result`);
        if (target) {
          replace(target, noteBox(message));
          focusOn(target.firstChild);
        }
      } catch (error) {
        if (!(error instanceof api.ApiProblem)) throw error;
        button.disabled = false;
        const p = { ...error.problem };
        if (p.retry_after && !/\d+ ?s\b/.test(p.detail || "")) p.detail = `${p.detail || ""} Try again in ${remaining(p.retry_after * 1000)}.`.trim();
        replace(result, problemBox(p));
        focusOn(result.firstChild);
      }
    };
    if (inv.status === "PENDING") {
      const { sendsLeft, availableAt } = resendInfo(inv, policy);
      const sent = `sent ${inv.send_count === 1 ? "once" : `${inv.send_count} times`}`;
      const resend = h("button", { type: "button" }, "Resend", h("span", { class: "visually-hidden" }, ` invitation to ${who}`));
      const update = () => {
        const wait = availableAt ? availableAt.getTime() - Date.now() : 0;
        if (!inv.send_count) {
          resend.disabled = true;
          resendNote.textContent = "The first e-mail is being sent.";
        } else if (sendsLeft <= 0) {
          resend.disabled = true;
          resendNote.textContent = `Sent ${inv.send_count || 0} times: no sends left. Revoke it and invite again if needed.`;
        } else if (wait > 0) {
          resend.disabled = true;
          resendNote.textContent = `${sent} · ${sendsLeft} send${sendsLeft === 1 ? "" : "s"} left · next send possible in ${remaining(wait)}`;
        } else {
          resend.disabled = false;
          resendNote.textContent = `${sent} · ${sendsLeft} send${sendsLeft === 1 ? "" : "s"} left · can be sent again now`;
        }
        return wait > 0 && sendsLeft > 0;
      };
      if (update()) timers.push(update);
      resend.addEventListener("click", () => act(resend, async () => {
        await api.post(api.biz(app.businessId, "invitations", inv.invitation_id, "resend"));
        return `Invitation to ${who} sent again with a new link; the previous link no longer works.`;
      }));
      const revoke = h("button", { type: "button", class: "danger" }, "Revoke", h("span", { class: "visually-hidden" }, ` invitation to ${who}`));
      revoke.addEventListener("click", () => {
        const yes = h("button", { type: "button", class: "danger" }, "Yes, revoke");
        const no = h("button", { type: "button", class: "secondary" }, "Keep it");
        const ask = h("div", { class: "confirm-box", role: "group", "aria-label": `Revoke the invitation to ${who}?` },
          h("p", {}, `Revoke the invitation to ${who}? The link stops working at once.`), yes, " ", no);
        replace(result, ask);
        yes.focus();
        no.addEventListener("click", () => { replace(result); revoke.focus(); });
        yes.addEventListener("click", () => act(yes, async () => {
          await api.post(api.biz(app.businessId, "invitations", inv.invitation_id, "revoke"), {});
          return `Invitation to ${who} revoked; its link no longer works.`;
        }));
      });
      actions.append(resend, " ", revoke);
    } else if (inv.status === "EXPIRED") {
      const reissue = h("button", { type: "button" }, "Re-issue", h("span", { class: "visually-hidden" }, ` invitation to ${who}`));
      reissue.addEventListener("click", () => act(reissue, async () => {
        await api.post(api.biz(app.businessId, "invitations", inv.invitation_id, "reissue"));
        return `A new invitation was sent to ${who} with the same roles.`;
      }));
      actions.append(reissue);
    } else if (inv.status === "ACCEPTED" && inv.needs_confirmation) {
      actions.append(h("a", { href: app.href("confirmations") }, "Review in the confirmation queue"));
    }
    return h("tr", { dataset: { invitation: inv.invitation_id } },
      h("th", { scope: "row" }, person(inv.display_name, inv.email)),
      h("td", {}, grantsList(app, index, inv.final_grants || inv.grants)),
      h("td", {}, statusCell(inv)),
      h("td", {}, deliveryCell(inv)),
      h("td", {}, ["PENDING", "ACCEPTED", "EXPIRED"].includes(inv.status) ? when(inv.expires_at) : "—"),
      h("td", {}, app.who(people, inv.requested_by, { name: inv.inviter_name, email: inv.inviter_email })),
      h("td", { class: "actions-cell" }, actions, resendNote.textContent ? resendNote : null, result));
  });

  const table = invitations.length ? h("div", { class: "table-wrap" }, h("table", { class: "grid invitations" },
    h("caption", {}, filter ? `Invitations: ${STATUS_PLAIN[filter]} (${invitations.length})` : `All invitations, newest first (${invitations.length})`),
    h("thead", {}, h("tr", {},
      ["Invitee", "Roles offered", "Status", "Delivery (last sent)", "Expires", "Invited by", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows))) : h("p", { class: "empty" }, filter ? "No invitation with this status." : "No invitations yet.");

  const section = h("section", { "aria-labelledby": "inv-title" },
    h("div", { class: "view-head" }, h("h1", { id: "inv-title" }, "Invitations"),
      h("a", { href: app.href("invite"), class: "button-link primary" }, "Invite a member")),
    policy ? h("p", { class: "lede" }, `Links work for ${policy.invitation_lifetime_days} days. Each invitation can be sent ${policy.resend_max_sends} times, at most once every ${remaining((policy.resend_min_interval_seconds || 0) * 1000)}; resending gives a new link and a new expiry.`) : null,
    filterForm, table);

  if (timers.length) {
    const interval = window.setInterval(() => {
      if (!section.isConnected) { window.clearInterval(interval); return; }
      for (let i = timers.length - 1; i >= 0; i -= 1) if (!timers[i]()) timers.splice(i, 1);
      if (!timers.length) window.clearInterval(interval);
    }, 1000);
  }
  return section;
}

// --- confirmation queue --------------------------------------------------------------------------

export async function confirmationsView(app) {
  const [page, index, people] = await Promise.all([
    api.get(api.biz(app.businessId, "invitations"), { query: { status: "ACCEPTED" } }),
    app.accountIndex(), app.peopleIndex(),
  ]);
  const waiting = (page.invitations || []).filter((i) => i.needs_confirmation !== false);
  const region = h("div", { class: "queue" });
  const items = waiting.map((inv) => queueItem(app, index, people, inv));
  replace(region, items.length ? items : h("p", { class: "empty" }, "Nothing is waiting for confirmation."));
  return h("section", { "aria-labelledby": "queue-title" },
    h("h1", { id: "queue-title" }, "Waiting for confirmation"),
    h("p", { class: "lede" }, "These people accepted their invitation. Their roles become active when an Admin of the accounts — not the invitee — confirms them. You may confirm fewer accounts or a lower role."),
    region);
}

function queueItem(app, index, people, inv) {
  const who = inv.display_name || inv.email;
  const headingId = nextId("q");
  const own = (app.myMemberId && inv.member_id === app.myMemberId) || (inv.email || "").toLowerCase() === app.myEmail;
  const result = h("div", { class: "result" });
  const card = h("article", { class: "card queue-item", "aria-labelledby": headingId, dataset: { invitation: inv.invitation_id } },
    h("h2", { id: headingId }, person(inv.display_name, inv.email)),
    inv.source === "mover"  // a mover's raise or new account (issue 11): the member is already active
      ? h("p", { class: "muted" }, "Role change for an active member, requested by ", app.who(people, inv.requested_by, { name: inv.inviter_name, email: inv.inviter_email }),
        inv.created_at ? [" on ", when(inv.created_at)] : null, "; waiting for confirmation.")
      : h("p", { class: "muted" }, "Invited by ", app.who(people, inv.requested_by, { name: inv.inviter_name, email: inv.inviter_email }),
        inv.created_at ? [" on ", when(inv.created_at)] : null, "; accepted, waiting for confirmation."));
  if (own) {
    card.append(h("p", { class: "note" }, "This is your own invitation: another Admin of these accounts must confirm it."),
      grantsList(app, index, inv.grants));
    return card;
  }
  const selects = [];
  const rows = (inv.grants || []).map((g) => {
    const allowed = ROLES.slice(ROLES.indexOf(g.role));
    const select = h("select", {},
      allowed.map((r) => h("option", { value: r, selected: r === g.role }, r === g.role ? `${r} (as proposed)` : r)),
      h("option", { value: "" }, "Don't grant"));
    selects.push([g.account_id, select]);
    const f = field(`${app.accountLabel(index, g.account_id)}`, select);
    return f.wrap;
  });
  const confirm = h("button", { type: "button", class: "primary" }, "Confirm", h("span", { class: "visually-hidden" }, ` ${who}`));
  const reason = field("Reason for declining (optional, kept on the audit trail)", h("input", { type: "text", maxlength: "500" }));
  const reject = h("button", { type: "button", class: "danger" }, "Decline", h("span", { class: "visually-hidden" }, ` ${who}`));
  const done = async (message) => {
    app.invalidate();
    announce(message);
    replace(card, h("h2", { id: headingId }, person(inv.display_name, inv.email)), noteBox(message));
    focusOn(card.querySelector(".note"));
  };
  const fail = (error, button) => {
    if (!(error instanceof api.ApiProblem)) throw error;
    button.disabled = false;
    replace(result, problemBox(error.problem));
    focusOn(result.firstChild);
  };
  confirm.addEventListener("click", async () => {
    replace(result);
    const grants = selects.filter(([, s]) => s.value).map(([account_id, s]) => ({ account_id, role: s.value }));
    if (!grants.length) {
      replace(result, problemBox({ title: "Nothing to confirm", detail: "Keep at least one account, or decline instead." }));
      focusOn(result.firstChild);
      return;
    }
    const narrowed = grants.length !== inv.grants.length || grants.some((g) => inv.grants.find((p) => p.account_id === g.account_id)?.role !== g.role);
    confirm.disabled = true;
    try {
      await api.post(api.biz(app.businessId, "invitations", inv.invitation_id, "confirm"), narrowed ? { grants } : {});
      const what = grants.map((g) => `${g.role} on ${app.accountLabel(index, g.account_id)}`).join(", ");
      await done(`Confirmed: ${who} is now ${what}.`);
    } catch (error) { fail(error, confirm); }
  });
  reject.addEventListener("click", async () => {
    replace(result);
    reject.disabled = true;
    try {
      const text = reason.input.value.trim();
      await api.post(api.biz(app.businessId, "invitations", inv.invitation_id, "reject"), text ? { reason: text } : {});
      await done(`Declined: ${who} gets no access.`);
    } catch (error) { fail(error, reject); }
  });
  card.append(
    h("fieldset", { class: "narrow-grants" }, h("legend", {}, "Roles to confirm"), rows),
    h("div", { class: "actions" }, confirm),
    h("details", { class: "decline" }, h("summary", {}, "Decline instead"), reason.wrap, reject),
    result);
  return card;
}

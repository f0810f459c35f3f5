// Issue 11, the guard part: the "Held offboardings" page (leaver requests beyond the business's
// limit, waiting for an Admin: release all, release one, cancel one with a reason) and the
// reinstate panel on a removed member's receipt (until when, and the button).

import * as api from "./console-api.js";
import { announce, field, focusOn, h, noteBox, person, problemBox, replace, when } from "./console-dom.js";

const SOURCES = { hr: "HR system", scim: "Identity provider (SCIM)", api: "An Admin" };

function requester(o) {
  const source = SOURCES[o.source] || o.source;
  return o.requested_by ? `${source} (${o.requested_by})` : source;
}

/** The held offboardings of the business, with what an Admin can do about them. */
export async function heldView(app) {
  const message = h("div", { class: "form-message", id: "held-message" });
  const section = h("section", { "aria-labelledby": "held-title" },
    h("h1", { id: "held-title" }, "Held offboardings"),
    h("p", { class: "lede" },
      "More leaver requests arrived in one window than the business allows (policy: leaver guard). The extra ones wait here: ",
      "nobody's access has been removed for them and their invitations are frozen. Release them to proceed, or cancel one ",
      "that should not happen (the person keeps every role)."),
    message);
  let held;
  try {
    held = (await api.get(api.biz(app.businessId, "offboardings"), { query: { status: "HELD" } })).offboardings;
  } catch (error) {
    if (!(error instanceof api.ApiProblem)) throw error;
    section.append(problemBox(error.problem));
    return section;
  }
  if (!held.length) {
    section.append(h("p", { class: "empty" }, "No offboardings are held."));
    return section;
  }

  const releaseAll = h("button", { type: "button", class: "danger" }, `Release all ${held.length}`);
  releaseAll.addEventListener("click", async () => {
    releaseAll.disabled = true;
    try {
      const done = await api.post(api.biz(app.businessId, "offboardings", "release"), {});
      app.invalidate();
      await app.rerender();
      const note = noteBox(`Released ${done.released.length} offboarding(s): they proceed now.`);
      replace(document.getElementById("held-message"), note);
      announce(note.textContent);
      focusOn(document.getElementById("held-title"));
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      releaseAll.disabled = false;
      replace(message, problemBox(error.problem));
      focusOn(message.firstChild);
    }
  });

  const rows = held.map((o) => heldRow(app, o, message));
  section.append(
    h("div", { class: "actions" }, releaseAll),
    h("div", { class: "table-wrap" },
      h("table", { class: "grid held" },
        h("caption", {}, `${held.length} held offboarding(s)`),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Member"),
          h("th", { scope: "col" }, "Requested by"),
          h("th", { scope: "col" }, "Reason"),
          h("th", { scope: "col" }, "Held since"),
          h("th", { scope: "col" }, "Decide"))),
        h("tbody", {}, rows))));
  return section;
}

function heldRow(app, o, message) {
  const name = o.display_name || o.email;
  const release = h("button", { type: "button" }, "Release");
  release.setAttribute("aria-label", `Release the offboarding of ${name}`);
  const cancelToggle = h("button", { type: "button", class: "secondary", "aria-expanded": "false" }, "Cancel…");
  cancelToggle.setAttribute("aria-label", `Cancel the offboarding of ${name}`);
  const reason = field(`Why cancel the offboarding of ${name}?`,
    h("input", { type: "text", name: "reason", maxlength: "500", required: true }));
  const confirm = h("button", { type: "submit", class: "danger" }, "Cancel offboarding");
  const form = h("form", { class: "cancel-form", novalidate: true, hidden: true }, reason.wrap, confirm);
  const result = h("div", { class: "row-result" });

  const done = async (text) => {
    app.invalidate();
    await app.rerender();
    const note = noteBox(text);
    replace(document.getElementById("held-message"), note);
    announce(text);
    focusOn(document.getElementById("held-title"));
  };
  const refused = (error) => {
    if (!(error instanceof api.ApiProblem)) throw error;
    replace(result, problemBox(error.problem));
    focusOn(result.firstChild);
  };
  release.addEventListener("click", async () => {
    release.disabled = true;
    try {
      await api.post(api.biz(app.businessId, "members", o.member_id, "offboarding", "release"), {});
      await done(`The offboarding of ${name} was released: it proceeds now.`);
    } catch (error) {
      release.disabled = false;
      refused(error);
    }
  });
  cancelToggle.addEventListener("click", () => {
    form.hidden = !form.hidden;
    cancelToggle.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) reason.input.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = reason.input.value.trim();
    if (!text) {
      reason.error.hidden = false;
      reason.error.textContent = "Say why it is cancelled (kept on the audit trail).";
      reason.input.setAttribute("aria-invalid", "true");
      reason.input.focus();
      return;
    }
    confirm.disabled = true;
    try {
      await api.post(api.biz(app.businessId, "members", o.member_id, "offboarding", "cancel"), { reason: text });
      await done(`The offboarding of ${name} was cancelled; they keep every role.`);
    } catch (error) {
      confirm.disabled = false;
      refused(error);
    }
  });
  return h("tr", { "data-member": o.member_id },
    h("td", {}, h("a", { href: app.href("member", o.member_id) }, person(o.display_name, o.email))),
    h("td", {}, requester(o)),
    h("td", {}, o.reason || "—"),
    h("td", {}, when(o.held_at)),
    h("td", { class: "decide" }, h("div", { class: "actions" }, release, cancelToggle), form, result));
}

/** On a removed member's receipt: until when they can be reinstated, and the button (or why not). */
export function reinstatePanel(app, off) {
  const info = off.reinstatement || {};
  const until = info.reinstatable_until || off.reinstatable_until;
  const panel = h("div", { class: "reinstate", "aria-labelledby": "reinstate-title" },
    h("h4", { id: "reinstate-title" }, "Reinstate"));
  if (!info.available) {
    panel.append(h("p", {}, info.detail || "This member can no longer be reinstated; send a normal invitation."),
      h("p", {}, h("a", { href: app.href("invite") }, "Send a normal invitation")));
    return panel;
  }
  const message = h("div", { class: "form-message" });
  const button = h("button", { type: "button" }, "Reinstate with the same roles");
  panel.append(
    h("p", {}, "Possible until ", when(until), ": the roles above are proposed again as a new invitation. ",
      "The person accepts it with the same e-mail; Admin roles still need another Admin's confirmation."),
    button, message);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const inv = await api.post(api.biz(app.businessId, "members", off.member_id, "reinstate"));
      app.invalidate();
      const text = `Invitation sent to ${inv.email} with the same roles; it waits for their acceptance.`;
      replace(message, noteBox(text));
      announce(text);
      focusOn(message.firstChild);
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      button.disabled = false;
      replace(message, problemBox(error.problem));
      focusOn(message.firstChild);
    }
  });
  return panel;
}

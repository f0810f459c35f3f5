// Invite a member: e-mail, name, a role per account ("No access" by default). The API validates;
// its problem's errors[].where are mapped back onto the fields they concern.

import * as api from "./console-api.js";
import { announce, field, focusOn, h, nextId, noteBox, platformLabel, problemBox, replace, setFieldError } from "./console-dom.js";
import { ROLES, ROLE_PLAIN } from "./console-team.js";

/**
 * A role per account ("No access" by default): {roleFields: Map(account_id → field), rows: [wrap]}.
 * Shared by the Invite form and the access bundles' forms. `selected` preselects roles
 * ({account_id: role}); an account where the caller is not Admin is disabled with `notAdminHint`.
 */
export function accountRolePicker(accounts, { selected = {}, notAdminHint = "only its Admins can invite to it" } = {}) {
  const roleFields = new Map();
  const rows = accounts.map((a) => {
    const mine = a.your_role === undefined || a.your_role === "Admin";
    const current = selected[a.account_id] || "";
    const select = h("select", { name: `role-${a.account_id}`, disabled: !mine },
      h("option", { value: "", selected: !current }, "No access"),
      ROLES.map((r) => h("option", { value: r, selected: r === current }, r)));
    const where = a.platform ? platformLabel(a.platform) : a.account_id;
    const f = field(a.display_name || a.account_id, select,
      { hint: mine ? where : `${where} — ${notAdminHint}` });
    f.wrap.classList.add("account-role");
    roleFields.set(a.account_id, f);
    return f.wrap;
  });
  return { roleFields, rows };
}

export async function inviteView(app) {
  const accounts = (await app.accounts()).filter((a) => a.status !== "RETIRED");
  const email = field("E-mail address", h("input", { type: "email", name: "email", autocomplete: "off", required: true, maxlength: "254" }),
    { hint: "They must sign in with this address to accept." });
  const name = field("Name", h("input", { type: "text", name: "display_name", autocomplete: "off", required: true, maxlength: "200" }));
  const employee = field("Employee id (optional)", h("input", { type: "text", name: "employee_id", autocomplete: "off", maxlength: "128" }),
    { hint: "Lets an HR leaver event name this person." });

  const { roleFields, rows } = accountRolePicker(accounts);
  const grantsError = h("p", { class: "field-error", id: nextId("grants-error"), hidden: true });
  const grantsSet = h("fieldset", { class: "grants", "aria-describedby": grantsError.id },
    h("legend", {}, "Role per account"),
    h("p", { class: "hint" }, "Choose a role on each account they need; the others stay at No access. An Admin role needs a second Admin's confirmation."),
    h("ul", { class: "role-legend" }, ROLES.map((r) => h("li", {}, h("strong", {}, r), `: ${ROLE_PLAIN[r]}`))),
    accounts.length ? h("div", { class: "account-roles" }, rows) : h("p", {}, "This business has no accounts yet."),
    grantsError);

  const formMessage = h("div", { class: "form-message" });
  const submit = h("button", { type: "submit", class: "primary" }, "Send invitation");
  const form = h("form", { class: "card invite-form", novalidate: true, "aria-labelledby": "invite-title" },
    email.wrap, name.wrap, grantsSet, employee.wrap, formMessage, submit);

  // An error goes away as soon as its field is changed.
  for (const f of [email, name, employee, ...roleFields.values()]) {
    f.input.addEventListener(f.input.tagName === "SELECT" ? "change" : "input", () => setFieldError(f, null));
  }
  grantsSet.addEventListener("change", () => { grantsError.hidden = true; });
  const clearSummary = () => { if (formMessage.querySelector(".problem")) replace(formMessage); };
  form.addEventListener("input", clearSummary);
  form.addEventListener("change", clearSummary);

  const clearErrors = () => {
    for (const f of [email, name, employee, ...roleFields.values()]) setFieldError(f, null);
    grantsError.hidden = true;
    grantsError.textContent = "";
    replace(formMessage);
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const order = [];
    const grants = [];
    for (const [accountId, f] of roleFields) {
      if (f.input.value) {
        grants.push({ account_id: accountId, role: f.input.value });
        order.push(accountId);
      }
    }
    const body = { email: email.input.value.trim(), display_name: name.input.value.trim(), grants };
    if (employee.input.value.trim()) body.employee_id = employee.input.value.trim();
    submit.disabled = true;
    try {
      const created = await api.post(api.biz(app.businessId, "invitations"), body);
      app.invalidate();
      const index = await app.accountIndex();
      const what = grants.map((g) => `${g.role} on ${app.accountLabel(index, g.account_id)}`).join(", ");
      const message = `Invitation sent to ${created.email || body.email}: ${what}.`;
      form.reset();
      replace(formMessage, noteBox(message), h("p", {}, h("a", { href: app.href("invitations") }, "See the invitations")));
      announce(message);
      focusOn(formMessage.firstChild);
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      const first = showErrors(error.problem, { email, name, employee, roleFields, grantsError, order, formMessage });
      focusOn(first);
    } finally {
      submit.disabled = false;
    }
  });

  return h("section", { "aria-labelledby": "invite-title" },
    h("h1", { id: "invite-title" }, "Invite a member"),
    h("p", { class: "lede" }, "They receive an e-mail with a link; after they accept with their own sign-in, the roles become active (an Admin role once another Admin confirms it)."),
    form);
}

/**
 * Put each of the problem's errors at its field; returns the element to move focus to. A 400's
 * `errors[].where` is "body.email", "body.grants.1.role", ...; a 403's `accounts` names the accounts
 * where the caller is not Admin; anything else is shown above the button as title + detail.
 */
function showErrors(problem, { email, name, employee, roleFields, grantsError, order, formMessage }) {
  const placed = [];
  const at = (f, message) => {
    const prior = f.error.hidden ? "" : `${f.error.textContent} `;
    setFieldError(f, prior + message);
    placed.push(f.input);
  };
  for (const e of problem.errors || []) {
    const where = String(e.where || "").split(".").filter((p) => p !== "body");
    const message = e.problem || problem.detail;
    if (where[0] === "email") at(email, message);
    else if (where[0] === "display_name") at(name, message);
    else if (where[0] === "employee_id") at(employee, message);
    else if (where[0] === "grants" && where.length > 1 && /^\d+$/.test(where[1]) && roleFields.get(order[Number(where[1])])) {
      at(roleFields.get(order[Number(where[1])]), message);
    } else if (where[0] === "grants") {
      grantsError.hidden = false;
      grantsError.textContent = where.length === 1 && /at least 1/.test(message) ? "Choose a role on at least one account." : message;
      placed.push(grantsError);
    }
  }
  const accounts = problem.accounts || (problem.account_id ? [problem.account_id] : []);
  for (const accountId of accounts) {
    const f = roleFields.get(accountId);
    if (f) at(f, problem.title + (problem.detail ? `: ${problem.detail}` : ""));
  }
  if (!placed.length) {
    replace(formMessage, problemBox(problem));
    return formMessage.firstChild;
  }
  if (!(problem.errors || []).length) replace(formMessage, problemBox(problem));
  else replace(formMessage, problemBox({ title: problem.title, detail: "Correct the fields marked above." }));
  return placed[0];
}

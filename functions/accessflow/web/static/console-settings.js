// The business's accounts (list, add, rename, retire) and its policy (invitation lifetime, Admin
// limit, confirmation rule). The API decides who may change them; a refusal shows as its problem.

import * as api from "./console-api.js";
import { announce, field, focusOn, h, nextId, noteBox, platformLabel, problemBox, replace, setFieldError } from "./console-dom.js";

/** Map a 400 problem's errors[].where ("body.display_name") onto {name: fieldObject}. */
function placeErrors(problem, fields, message) {
  const placed = [];
  for (const e of problem.errors || []) {
    const key = String(e.where || "").split(".").filter((p) => p !== "body")[0];
    if (fields[key]) {
      setFieldError(fields[key], e.problem);
      placed.push(fields[key].input);
    }
  }
  replace(message, problemBox(placed.length ? { title: problem.title, detail: "Correct the fields marked above." } : problem));
  return placed[0] || message.firstChild;
}

export async function accountsView(app) {
  const accounts = await app.accounts();
  const message = h("div", { class: "form-message", id: "accounts-message" });

  const rows = accounts.map((a) => {
    const result = h("div", { class: "result" });
    const retired = a.status === "RETIRED";
    const mayChange = !retired && (a.your_role === undefined || a.your_role === "Admin");
    const nameInput = h("input", { type: "text", value: a.display_name || "", maxlength: "200", disabled: retired });
    const nameId = nextId("acct");
    nameInput.id = nameId;
    const rename = h("button", { type: "submit", disabled: retired }, "Rename", h("span", { class: "visually-hidden" }, ` ${a.display_name || a.account_id}`));
    const renameForm = h("form", { class: "inline-form" },
      h("label", { for: nameId, class: "visually-hidden" }, `Name of ${a.account_id}`), nameInput, " ", rename);
    const act = async (button, doIt) => {
      replace(result);
      button.disabled = true;
      try {
        const text = await doIt();
        app.invalidate();
        await app.rerender();
        announce(text);
        const msg = document.getElementById("accounts-message");
        if (msg) { replace(msg, noteBox(text)); focusOn(msg.firstChild); }
      } catch (error) {
        if (!(error instanceof api.ApiProblem)) throw error;
        button.disabled = false;
        replace(result, problemBox(error.problem));
        focusOn(result.firstChild);
      }
    };
    renameForm.addEventListener("submit", (e) => {
      e.preventDefault();
      act(rename, async () => {
        await api.patch(api.biz(app.businessId, "accounts", a.account_id), { display_name: nameInput.value.trim() });
        return `Account ${a.account_id} renamed to ${nameInput.value.trim()}.`;
      });
    });
    const retire = h("button", { type: "button", class: "danger", disabled: retired }, "Retire", h("span", { class: "visually-hidden" }, ` ${a.display_name || a.account_id}`));
    retire.addEventListener("click", () => act(retire, async () => {
      await api.post(api.biz(app.businessId, "accounts", a.account_id, "retire"), {});
      return `Account ${a.display_name || a.account_id} retired.`;
    }));
    return h("tr", {},
      h("th", { scope: "row" }, h("span", { class: "mono" }, a.account_id)),
      h("td", {}, mayChange ? renameForm : (a.display_name || "—")),
      h("td", {}, platformLabel(a.platform) || "—"),
      h("td", {}, retired ? "Retired" : "Active", typeof a.admin_count === "number" ? h("div", { class: "muted" }, `${a.admin_count} Admin${a.admin_count === 1 ? "" : "s"}`) : null),
      h("td", {}, mayChange ? retire : h("span", { class: "muted" }, retired ? "—" : "Only its Admins can rename or retire it"), result));
  });

  const id = field("Account id", h("input", { type: "text", name: "account_id", maxlength: "128", autocomplete: "off" }),
    { hint: "Letters, digits and . _ - (e.g. tiktok-main); cannot be changed later." });
  const name = field("Name", h("input", { type: "text", name: "display_name", maxlength: "200", autocomplete: "off" }),
    { hint: "How people see it, e.g. TikTok @acme." });
  const platform = field("Platform", h("input", { type: "text", name: "platform", maxlength: "40", autocomplete: "off", list: "platforms" }),
    { hint: "Lower case, e.g. tiktok, instagram, meta-ads." });
  const addMessage = h("div", { class: "form-message" });
  const add = h("form", { class: "card", novalidate: true, "aria-labelledby": "add-account-title" },
    h("h2", { id: "add-account-title" }, "Add an account"),
    id.wrap, name.wrap, platform.wrap,
    h("datalist", { id: "platforms" }, ["tiktok", "instagram", "facebook", "youtube", "linkedin", "x", "google-ads", "meta-ads"].map((p) => h("option", { value: p }))),
    addMessage, h("button", { type: "submit", class: "primary" }, "Add account"));
  add.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const f of [id, name, platform]) setFieldError(f, null);
    replace(addMessage);
    try {
      const body = { account_id: id.input.value.trim(), display_name: name.input.value.trim(), platform: platform.input.value.trim() };
      await api.post(api.biz(app.businessId, "accounts"), body);
      app.invalidate();
      await app.rerender();
      const text = `Account ${body.display_name || body.account_id} added.`;
      announce(text);
      const msg = document.getElementById("accounts-message");
      if (msg) { replace(msg, noteBox(text)); focusOn(msg.firstChild); }
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      focusOn(placeErrors(error.problem, { account_id: id, display_name: name, platform }, addMessage));
    }
  });

  return h("section", { "aria-labelledby": "accounts-title" },
    h("h1", { id: "accounts-title" }, "Accounts"),
    h("p", { class: "lede" }, "The social-media and ads accounts people get roles on. Only Admins of an account can rename or retire it; an account with active roles must be emptied first."),
    message,
    accounts.length ? h("div", { class: "table-wrap" }, h("table", { class: "grid accounts" },
      h("caption", {}, `${accounts.length} account${accounts.length === 1 ? "" : "s"}`),
      h("thead", {}, h("tr", {}, ["Account id", "Name", "Platform", "Status", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows))) : h("p", { class: "empty" }, "No accounts yet."),
    add);
}

// --- policy ------------------------------------------------------------------------------------------

export async function policyView(app) {
  const [policy, accounts] = await Promise.all([api.get(api.biz(app.businessId, "policy")), app.accounts()]);
  const active = accounts.filter((a) => a.status !== "RETIRED");
  const notAdminOf = active.filter((a) => a.your_role !== undefined && a.your_role !== "Admin");
  const lifetime = field("Invitation lifetime (days)", h("input", { type: "number", name: "invitation_lifetime_days", min: "1", max: "30", value: String(policy.invitation_lifetime_days) }),
    { hint: "How long an invitation link works: 1 to 30 days. Pending invitations keep the expiry their e-mail announced." });
  const maxAdmins = field("Admins per account (at most)", h("input", { type: "number", name: "max_admins_per_account", min: "1", max: "100", value: String(policy.max_admins_per_account) }),
    { hint: "A limited number of trusted administrators." });
  const confirmRule = h("select", { name: "auto_confirm_non_admin" },
    h("option", { value: "true", selected: policy.auto_confirm_non_admin !== false }, "Only Admin roles need a second Admin's confirmation"),
    h("option", { value: "false", selected: policy.auto_confirm_non_admin === false }, "Every role needs an Admin's confirmation"));
  const rule = field("Confirmation rule", confirmRule);
  const message = h("div", { class: "form-message" });
  const save = h("button", { type: "submit", class: "primary" }, "Save policy");
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "policy-form-title" },
    h("h2", { id: "policy-form-title" }, "Change the policy"),
    lifetime.wrap, maxAdmins.wrap, rule.wrap, message, save);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const f of [lifetime, maxAdmins, rule]) setFieldError(f, null);
    replace(message);
    const changes = {};
    const days = Number(lifetime.input.value);
    const admins = Number(maxAdmins.input.value);
    const auto = confirmRule.value === "true";
    if (lifetime.input.value === "" || days !== policy.invitation_lifetime_days) changes.invitation_lifetime_days = lifetime.input.value === "" ? null : days;
    if (maxAdmins.input.value === "" || admins !== policy.max_admins_per_account) changes.max_admins_per_account = maxAdmins.input.value === "" ? null : admins;
    if (auto !== (policy.auto_confirm_non_admin !== false)) changes.auto_confirm_non_admin = auto;
    if (!Object.keys(changes).length) {
      replace(message, noteBox("Nothing changed."));
      return;
    }
    save.disabled = true;
    try {
      await api.patch(api.biz(app.businessId, "policy"), changes);
      await app.rerender();
      announce("Policy saved.");
      const note = document.querySelector("#policy-saved");
      if (note) { note.hidden = false; focusOn(note); }
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      save.disabled = false;
      focusOn(placeErrors(error.problem, { invitation_lifetime_days: lifetime, max_admins_per_account: maxAdmins, auto_confirm_non_admin: rule }, message));
    }
  });
  const facts = h("dl", { class: "facts" },
    h("dt", {}, "Invitation lifetime"), h("dd", {}, `${policy.invitation_lifetime_days} days`),
    h("dt", {}, "Admins per account"), h("dd", {}, `at most ${policy.max_admins_per_account}`),
    h("dt", {}, "Confirmation"), h("dd", {}, policy.auto_confirm_non_admin === false ? "every role is confirmed by an Admin" : "Admin roles are confirmed by a second Admin; lower roles automatically"),
    h("dt", {}, "Resending"), h("dd", {}, `at most ${policy.resend_max_sends} sends, ${policy.resend_min_interval_seconds} s apart`),
    h("dt", {}, "Reminder"), h("dd", {}, `${policy.reminder_before_hours} h before expiry`),
    h("dt", {}, "Expired invitations kept"), h("dd", {}, `${policy.retention_days} days`));
  return h("section", { "aria-labelledby": "policy-title" },
    h("h1", { id: "policy-title" }, "Business policy"),
    h("p", { class: "note", id: "policy-saved", role: "status", hidden: true }, "Policy saved."),
    facts,
    notAdminOf.length
      ? h("div", { class: "card" }, h("h2", {}, "Change the policy"),
        h("p", {}, "Only someone who is Admin on every account of the business can change its policy. You are not Admin on: ",
          notAdminOf.map((a) => a.display_name || a.account_id).join(", "), "."))
      : [h("p", { class: "hint" }, "Changing the policy needs Admin on every account of the business."), form]);
}

// Provisioning (SCIM): the business's SCIM bearer tokens (create, rotate, revoke; a secret is shown
// once, in the answer that made it) and the access bundles that SCIM Groups are (their grants).
// Each part loads on its own: a refusal of one (a 403 for an Admin of some accounts only) is shown
// as its problem while the other still works.

import * as api from "./console-api.js";
import { announce, field, focusOn, h, nextId, noteBox, problemBox, replace, setFieldError, when } from "./console-dom.js";
import { accountRolePicker } from "./console-invite.js";
import { roleBadge } from "./console-team.js";

export async function scimView(app) {
  const accounts = await app.accounts();
  const index = new Map(accounts.map((a) => [a.account_id, a]));
  return h("section", { "aria-labelledby": "scim-title" },
    h("h1", { id: "scim-title" }, "Provisioning (SCIM)"),
    h("p", { class: "lede" },
      "Your identity provider (Okta, Entra ID…) creates, updates and removes people through SCIM 2.0 with a token made here. ",
      "Its groups are the access bundles below: assigning someone to a group proposes the bundle's roles, through the same invitation and confirmation as any other."),
    await tokensPart(app),
    await bundlesPart(app, accounts.filter((a) => a.status !== "RETIRED"), index));
}

// --- tokens ------------------------------------------------------------------------------------------

const TOKEN_STATUS = { ACTIVE: "Active", REVOKED: "Revoked" };

async function tokensPart(app) {
  const secret = h("div", { id: "scim-secret" });
  const listSlot = h("div", { id: "scim-tokens" });
  const part = h("section", { class: "scim-tokens", "aria-labelledby": "scim-tokens-title" },
    h("h2", { id: "scim-tokens-title" }, "SCIM tokens"),
    h("p", { class: "hint" }, "Only an Admin of every account of the business manages tokens: a token can onboard and offboard people on any account."),
    secret, listSlot);

  /** The new secret, once: the list never shows it and this box goes with the page. */
  const showSecret = (answer, verb) => {
    const tokenInput = h("input", { type: "text", readonly: true, value: answer.token, class: "mono secret", spellcheck: "false", autocomplete: "off" });
    const urlInput = h("input", { type: "text", readonly: true, value: answer.scim_base_url, class: "mono", spellcheck: "false", autocomplete: "off" });
    const tokenField = field("Token (secret)", tokenInput);
    const urlField = field("SCIM base URL (tenant URL)", urlInput);
    const copied = h("span", { class: "muted", role: "status" });
    const copy = h("button", { type: "button" }, "Copy token");
    copy.addEventListener("click", async () => {
      tokenInput.select();
      try {
        await navigator.clipboard.writeText(answer.token);
        copied.textContent = "Copied.";
      } catch {
        copied.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
      }
    });
    const done = h("button", { type: "button", class: "secondary" }, "I have stored it");
    const heading = h("h3", { id: nextId("secret-title") }, `${verb} token “${answer.name}”`);
    const box = h("div", { class: "secret-box", role: "region", "aria-labelledby": heading.id },
      heading,
      h("p", { class: "secret-warning" }, h("strong", {}, "Copy it now: it will not be shown again."),
        " Paste the token and the base URL into your identity provider's provisioning settings."),
      urlField.wrap, tokenField.wrap,
      h("div", { class: "actions" }, copy, done, copied));
    done.addEventListener("click", () => { replace(secret); focusOn(document.getElementById("scim-tokens-title")); });
    replace(secret, box);
    tokenInput.addEventListener("focus", () => tokenInput.select());
    focusOn(heading);
  };

  const refresh = async () => {
    let tokens;
    try {
      tokens = (await api.get(api.biz(app.businessId, "scim-tokens"))).tokens || [];
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      replace(listSlot, problemBox(error.problem));
      return false;
    }
    replace(listSlot, tokensTable(app, tokens, { refresh, showSecret }), createTokenForm(app, { refresh, showSecret }));
    return true;
  };
  await refresh();
  return part;
}

function tokensTable(app, tokens, { refresh, showSecret }) {
  if (!tokens.length) return h("p", { class: "empty" }, "No SCIM token yet.");
  const rows = tokens.map((t) => {
    const result = h("div", { class: "result" });
    const actions = h("div", { class: "actions" });
    const act = async (button, doIt) => {
      replace(result);
      button.disabled = true;
      try {
        await doIt();
      } catch (error) {
        if (!(error instanceof api.ApiProblem)) throw error;
        button.disabled = false;
        replace(result, problemBox(error.problem));
        focusOn(result.firstChild);
      }
    };
    const confirmFirst = (trigger, question, yesLabel, run) => {
      const yes = h("button", { type: "button", class: "danger" }, yesLabel);
      const no = h("button", { type: "button", class: "secondary" }, "Cancel");
      replace(result, h("div", { class: "confirm-box", role: "group", "aria-label": question }, h("p", {}, question), yes, " ", no));
      yes.focus();
      no.addEventListener("click", () => { replace(result); trigger.focus(); });
      yes.addEventListener("click", () => act(yes, run));
    };
    if (t.status === "ACTIVE") {
      const rotate = h("button", { type: "button" }, "Rotate", h("span", { class: "visually-hidden" }, ` token ${t.name}`));
      rotate.addEventListener("click", () => confirmFirst(rotate,
        `Rotate the token “${t.name}”? Its current secret stops working at once; you then paste the new one into your identity provider.`,
        "Yes, rotate", async () => {
          const answer = await api.post(api.biz(app.businessId, "scim-tokens", t.token_id, "rotate"), {});
          await refresh();
          showSecret(answer, "New secret for");
          announce(`Token ${t.name} rotated. Copy the new secret now: it will not be shown again.`);
        }));
      const revoke = h("button", { type: "button", class: "danger" }, "Revoke", h("span", { class: "visually-hidden" }, ` token ${t.name}`));
      revoke.addEventListener("click", () => confirmFirst(revoke,
        `Revoke the token “${t.name}”? Your identity provider's next call is refused; this cannot be undone.`,
        "Yes, revoke", async () => {
          await api.del(api.biz(app.businessId, "scim-tokens", t.token_id));
          await refresh();
          const text = `Token ${t.name} revoked.`;
          announce(text);
          const msg = document.getElementById("scim-tokens-message");
          if (msg) { replace(msg, noteBox(text)); focusOn(msg.firstChild); }
        }));
      actions.append(rotate, revoke);
    }
    return h("tr", { dataset: { token: t.token_id } },
      h("th", { scope: "row" }, t.name),
      h("td", {}, h("span", { class: `badge status-${t.status === "ACTIVE" ? "active" : "removed"}` }, TOKEN_STATUS[t.status] || t.status),
        t.revoked_at ? h("div", { class: "muted" }, when(t.revoked_at)) : null),
      h("td", {}, when(t.created_at)),
      h("td", {}, when(t.rotated_at)),
      h("td", {}, t.last_used_at ? when(t.last_used_at) : h("span", { class: "muted" }, "never")),
      h("td", { class: "actions-cell" }, actions, result));
  });
  return h("div", {},
    h("div", { class: "form-message", id: "scim-tokens-message" }),
    h("div", { class: "table-wrap" }, h("table", { class: "grid scim-tokens" },
      h("caption", {}, `${tokens.length} token${tokens.length === 1 ? "" : "s"} (their secrets are never shown again)`),
      h("thead", {}, h("tr", {}, ["Name", "Status", "Created", "Rotated", "Last used", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows))));
}

function createTokenForm(app, { refresh, showSecret }) {
  const name = field("Token name", h("input", { type: "text", name: "name", maxlength: "64", autocomplete: "off", required: true }),
    { hint: "Who uses it, e.g. okta or entra-id. Changes it makes are audited as scim:<name>." });
  const message = h("div", { class: "form-message" });
  const submit = h("button", { type: "submit", class: "primary" }, "Create token");
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "scim-new-token-title" },
    h("h3", { id: "scim-new-token-title" }, "Create a token"), name.wrap, message, submit);
  name.input.addEventListener("input", () => setFieldError(name, null));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setFieldError(name, null);
    replace(message);
    submit.disabled = true;
    try {
      const answer = await api.post(api.biz(app.businessId, "scim-tokens"), { name: name.input.value.trim() });
      await refresh();
      showSecret(answer, "Your new");
      announce(`Token ${answer.name} created. Copy it now: it will not be shown again.`);
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      submit.disabled = false;
      const nameError = (error.problem.errors || []).find((e) => String(e.where || "").endsWith("name"));
      if (nameError) {
        setFieldError(name, nameError.problem || error.problem.detail);
        replace(message, problemBox({ title: error.problem.title, detail: "Correct the field marked above." }));
        focusOn(name.input);
      } else {
        replace(message, problemBox(error.problem));
        focusOn(message.firstChild);
      }
    }
  });
  return form;
}

// --- access bundles ---------------------------------------------------------------------------------

async function bundlesPart(app, accounts, index) {
  const listSlot = h("div", { id: "scim-bundles" });
  const editSlot = h("div", { id: "bundle-edit" });
  const part = h("section", { class: "scim-bundles", "aria-labelledby": "scim-bundles-title" },
    h("h2", { id: "scim-bundles-title" }, "Access bundles (SCIM groups)"),
    h("p", { class: "hint" }, "A bundle is a set of roles on accounts. You can only give roles on accounts where you are Admin. Changing a bundle's roles proposes the new ones to its members and removes those it no longer gives."),
    h("div", { class: "form-message", id: "bundles-message" }),
    listSlot, editSlot);
  const label = (id) => app.accountLabel(index, id);

  const said = (text) => {
    announce(text);
    const msg = document.getElementById("bundles-message");
    if (msg) { replace(msg, noteBox(text)); focusOn(msg.firstChild); }
  };

  const openEditor = (bundle) => {
    const selected = Object.fromEntries(bundle.grants.map((g) => [g.account_id, g.role]));
    const form = grantsForm(app, accounts, {
      title: `Change the roles of “${bundle.display_name}”`, submitLabel: "Save roles", selected,
      send: (grants) => api.put(api.biz(app.businessId, "bundles", bundle.group_id, "grants"), { grants }),
      done: async (saved) => {
        replace(editSlot);
        await refresh();
        said(`Bundle ${saved.display_name} now gives: ${describe(saved.grants, label)}.`);
      },
      cancel: () => { replace(editSlot); focusOn(document.getElementById("scim-bundles-title")); },
    });
    replace(editSlot, form);
    focusOn(form.querySelector("h3"));
  };

  const refresh = async () => {
    let bundles;
    try {
      bundles = (await api.get(api.biz(app.businessId, "bundles"))).bundles || [];
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      replace(listSlot, problemBox(error.problem));
      return;
    }
    const rows = bundles.map((b) => {
      const change = h("button", { type: "button" }, "Change roles", h("span", { class: "visually-hidden" }, ` of ${b.display_name}`));
      change.addEventListener("click", () => openEditor(b));
      return h("tr", { dataset: { bundle: b.group_id } },
        h("th", { scope: "row" }, b.display_name),
        h("td", {}, b.grants.length
          ? h("ul", { class: "grant-list" }, b.grants.map((g) => h("li", {}, roleBadge(g.role), " on ", label(g.account_id))))
          : h("span", { class: "muted" }, "No roles yet")),
        h("td", { class: "members-count" }, String(b.members ?? 0)),
        h("td", {}, change));
    });
    const create = grantsForm(app, accounts, {
      title: "Create a bundle", submitLabel: "Create bundle", withName: true,
      send: (grants, name) => api.post(api.biz(app.businessId, "bundles"), { display_name: name, grants }),
      done: async (created) => {
        await refresh();
        said(`Bundle ${created.display_name} created: ${describe(created.grants, label)}.`);
      },
    });
    replace(listSlot,
      bundles.length ? h("div", { class: "table-wrap" }, h("table", { class: "grid bundles" },
        h("caption", {}, `${bundles.length} bundle${bundles.length === 1 ? "" : "s"}`),
        h("thead", {}, h("tr", {}, ["Bundle (group name)", "Roles it gives", "Members", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows))) : h("p", { class: "empty" }, "No bundle yet."),
      create);
  };
  await refresh();
  return part;
}

function describe(grants, label) {
  return grants.length ? grants.map((g) => `${g.role} on ${label(g.account_id)}`).join(", ") : "no roles";
}

/** A bundle's form: (a name and) a role per account; the API's refusals at the field they concern. */
function grantsForm(app, accounts, { title, submitLabel, withName = false, selected = {}, send, done, cancel }) {
  const titleId = nextId("bundle-form");
  const name = withName
    ? field("Bundle name", h("input", { type: "text", name: "display_name", maxlength: "200", autocomplete: "off", required: true }),
      { hint: "The group name your identity provider shows, e.g. Social media team." })
    : null;
  const { roleFields, rows } = accountRolePicker(accounts, { selected, notAdminHint: "only its Admins can give roles on it" });
  const grantsError = h("p", { class: "field-error", id: nextId("grants-error"), hidden: true });
  const message = h("div", { class: "form-message" });
  const submit = h("button", { type: "submit", class: "primary" }, submitLabel);
  const form = h("form", { class: "card bundle-form", novalidate: true, "aria-labelledby": titleId },
    h("h3", { id: titleId }, title),
    name ? name.wrap : null,
    h("fieldset", { class: "grants", "aria-describedby": grantsError.id },
      h("legend", {}, "Role per account"),
      accounts.length ? h("div", { class: "account-roles" }, rows) : h("p", {}, "This business has no accounts yet."),
      grantsError),
    message,
    h("div", { class: "actions" }, submit,
      cancel ? h("button", { type: "button", class: "secondary", onclick: cancel }, "Cancel") : null));
  const fields = [name, ...roleFields.values()].filter(Boolean);
  for (const f of fields) f.input.addEventListener(f.input.tagName === "SELECT" ? "change" : "input", () => setFieldError(f, null));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const f of fields) setFieldError(f, null);
    grantsError.hidden = true;
    replace(message);
    const order = [];
    const grants = [];
    for (const [accountId, f] of roleFields) {
      if (f.input.value) {
        grants.push({ account_id: accountId, role: f.input.value });
        order.push(accountId);
      }
    }
    submit.disabled = true;
    try {
      const saved = await send(grants, name ? name.input.value.trim() : undefined);
      app.invalidate();
      await done(saved);
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      submit.disabled = false;
      const problem = error.problem;
      const placed = [];
      const at = (f, text) => { setFieldError(f, text); placed.push(f.input); };
      for (const e of problem.errors || []) {
        const where = String(e.where || "").split(".").filter((p) => p !== "body");
        const f = where[0] === "display_name" ? name
          : where[0] === "grants" && /^\d+$/.test(where[1] || "") ? roleFields.get(order[Number(where[1])]) : null;
        if (f) at(f, e.problem || problem.detail);
        else if (where[0] === "grants") {
          grantsError.hidden = false;
          grantsError.textContent = e.problem || problem.detail;
          placed.push(grantsError);
        }
      }
      for (const accountId of problem.accounts || []) {
        const f = roleFields.get(accountId);
        if (f) at(f, problem.title + (problem.detail ? `: ${problem.detail}` : ""));
      }
      replace(message, problemBox(placed.length && (problem.errors || []).length
        ? { title: problem.title, detail: "Correct the fields marked above." } : problem));
      focusOn(placed[0] || message.firstChild);
    }
  });
  return form;
}

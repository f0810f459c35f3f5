// The admin console: one page, views chosen by the URL's hash (#/{business}/{view}/{param}),
// everything read and changed through the documented HTTP API with the signed-in admin's token.

import * as api from "./console-api.js";
import * as auth from "./console-auth.js";
import { announce, focusOn, h, person, problemBox, replace } from "./console-dom.js";
import { auditView, reviewView } from "./console-audit.js";
import { bulkView } from "./console-bulk.js";
import { inviteView } from "./console-invite.js";
import { scimView } from "./console-scim.js";
import { confirmationsView, invitationsView } from "./console-invitations.js";
import { accountsView, policyView } from "./console-settings.js";
import { memberView, teamView } from "./console-team.js";
import { heldView } from "./console-guard.js";
import { reviewReportView, reviewsView } from "./console-reviews.js";

const VIEWS = [
  { id: "team", label: "Team members", render: teamView },
  { id: "invite", label: "Invite", render: inviteView },
  { id: "bulk", label: "Bulk import", render: bulkView },
  { id: "invitations", label: "Invitations", render: invitationsView },
  { id: "confirmations", label: "Waiting for confirmation", render: confirmationsView },
  { id: "audit", label: "Audit trail", render: auditView },
  { id: "review", label: "Access review", render: reviewView },
  { id: "reviews", label: "Review campaigns", render: reviewsView },
  { id: "accounts", label: "Accounts", render: accountsView },
  { id: "policy", label: "Policy", render: policyView },
  { id: "scim", label: "Provisioning (SCIM)", render: scimView },
  { id: "held", label: "Held offboardings", render: heldView },
];
const HIDDEN_VIEWS = { member: memberView, "review-report": reviewReportView };
const NAV_PARENT = { member: "team", "review-report": "reviews" }; // a hidden view highlights its section

const state = { me: null, user: null, cache: new Map(), renderSeq: 0 };

/** What every view receives: the business, the caller, cached reads and navigation. */
function context(businessId, view, param) {
  const business = (state.me?.businesses || []).find((b) => b.business_id === businessId) || null;
  const cached = (key, load) => {
    const k = `${businessId}:${key}`;
    if (!state.cache.has(k)) state.cache.set(k, load().catch((e) => { state.cache.delete(k); throw e; }));
    return state.cache.get(k);
  };
  const app = {
    businessId, business, view, param, me: state.me,
    myMemberId: business?.member_id || null,
    myEmail: (state.me?.email || state.user?.profile?.email || "").toLowerCase(),
    /** The business's accounts [{account_id, display_name, platform, status}], cached per render pass. */
    accounts: () => cached("accounts", async () => {
      try {
        const body = await api.get(api.biz(businessId, "accounts"));
        return body.accounts || [];
      } catch (e) {
        if (!(e instanceof api.ApiProblem) || e.status !== 404) throw e;
        // An API without the accounts route: the accounts that appear in members' grants.
        const members = await app.members();
        const ids = [...new Set(members.flatMap((m) => m.grants.map((g) => g.account_id)))].sort();
        return ids.map((account_id) => ({ account_id, display_name: account_id, status: "ACTIVE" }));
      }
    }),
    members: () => cached("members", async () => (await api.get(api.biz(businessId, "members"))).members),
    invalidate: () => { for (const k of [...state.cache.keys()]) if (k.startsWith(`${businessId}:`)) state.cache.delete(k); },
    href: (v, p) => `#/${encodeURIComponent(businessId)}/${v}${p ? `/${encodeURIComponent(p)}` : ""}`,
    go: (v, p) => { window.location.hash = app.href(v, p); },
    rerender: () => route({ keepFocus: true }),
  };
  /** Lookup helpers: account display names, people by member id. */
  app.accountIndex = async () => {
    const accounts = await app.accounts();
    return new Map(accounts.map((a) => [a.account_id, a]));
  };
  app.accountLabel = (index, accountId) => {
    const a = index.get(accountId);
    return a ? (a.display_name || a.name || accountId) : accountId;
  };
  app.peopleIndex = async () => {
    const members = await app.members().catch(() => []);
    return new Map(members.map((m) => [m.member_id, m]));
  };
  /**
   * An actor as a person: API views may already carry names ({actor_name, actor_email} or
   * {name, email}); otherwise "member:ID" resolves through the member list; anything else as is.
   */
  app.who = (people, actor, { name, email } = {}) => {
    if (email) return person(name, email);
    if (name && actor && name !== actor && !actor.startsWith("system")) return person(name, null);
    if (!actor) return name || "—";
    const id = actor.startsWith("member:") ? actor.slice(7) : actor;
    const m = people.get(id);
    if (m) return person(m.display_name, m.email);
    if (actor.includes("@")) return person(null, actor);
    return h("span", { class: "system-actor" }, describeActor(actor));
  };
  return app;
}

function describeActor(actor) {
  if (actor.startsWith("login:")) return "a signed-in user";
  if (actor === "operator") return "set up by an operator";
  if (actor === "system" || actor === "system:auto-confirm") return "automatically (AccessFlow)";
  if (actor.startsWith("system:")) return `AccessFlow (${actor.slice(7).replaceAll("-", " ")})`;
  if (actor.startsWith("hr.") || actor.startsWith("hr:")) return `HR system (${actor.split(/[.:]/)[1] || actor})`;
  if (actor === "system" || actor.startsWith("workflow") || actor.startsWith("sweep")) return "AccessFlow (automatic)";
  return actor;
}

// --- layout -----------------------------------------------------------------------------------

function layout() {
  const header = document.querySelector("header.site") || document.body.prepend(h("header", { class: "site" })) || document.querySelector("header.site");
  let session = document.getElementById("session");
  if (!session) {
    session = h("div", { id: "session", class: "session" });
    header.append(session);
  }
  const main = document.getElementById("main");
  let nav = document.getElementById("console-nav");
  if (!nav) {
    nav = h("nav", { id: "console-nav", class: "console-nav", "aria-label": "Console sections", hidden: true });
    main.before(nav);
  }
  let view = document.getElementById("view");
  if (!view) {
    view = h("div", { id: "view" });
    replace(main, view);
  }
  if (!document.getElementById("status")) {
    document.body.append(h("div", { id: "status", class: "status-bar", role: "status", "aria-live": "polite" }));
  }
  return { header, session, nav, view, main };
}

function renderSession(parts, businessId) {
  const { session } = parts;
  if (!state.user) {
    replace(session);
    return;
  }
  const profile = state.user.profile || {};
  const businesses = state.me?.businesses || [];
  let picker = null;
  if (businesses.length > 1 || (businesses.length === 1 && !businessId)) {
    const select = h("select", { id: "business-picker", onchange: (e) => { window.location.hash = `#/${encodeURIComponent(e.target.value)}/team`; } },
      !businessId ? h("option", { value: "" }, "Choose a business…") : null,
      businesses.map((b) => h("option", { value: b.business_id, selected: b.business_id === businessId }, b.name || b.business_id)));
    picker = h("div", { class: "picker" }, h("label", { for: "business-picker" }, "Business"), select);
  } else if (businesses.length === 1) {
    picker = h("p", { class: "picker" }, h("span", { class: "label" }, "Business "), h("strong", {}, businesses[0].name || businesses[0].business_id));
  }
  replace(session, picker,
    h("p", { class: "signed-in" }, "Signed in as ", person(state.me?.name || profile.name, state.me?.email || profile.email)),
    h("button", { type: "button", class: "secondary", onclick: onSignOut }, "Sign out"));
}

function renderNav(parts, app) {
  const { nav } = parts;
  if (!app) {
    nav.hidden = true;
    return;
  }
  nav.hidden = false;
  replace(nav, h("ul", {}, VIEWS.map((v) => h("li", {},
    h("a", { href: app.href(v.id), "aria-current": (app.view === v.id || NAV_PARENT[app.view] === v.id) ? "page" : null }, v.label)))));
}

// --- screens without a business ----------------------------------------------------------------

function signInScreen(problem) {
  const button = h("button", { type: "button", class: "primary", onclick: () => auth.signIn() }, "Sign in");
  return h("section", { class: "card narrow", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "AccessFlow admin console"),
    h("p", {}, "Run your team's access to your business's accounts: invite people, confirm roles, offboard, review the audit trail."),
    problem ? problemBox(problem) : null,
    h("p", {}, "Sign in with your organisation's account to continue."),
    button);
}

function pickBusinessScreen() {
  const businesses = state.me?.businesses || [];
  if (!businesses.length) {
    return h("section", { class: "card narrow", "aria-labelledby": "pick-title" },
      h("h1", { id: "pick-title" }, "No business yet"),
      h("p", {}, `You are signed in as ${state.me?.email || state.user?.profile?.email || "this user"}, but you are not a member of any business. Ask one of its admins to invite you.`));
  }
  return h("section", { class: "card narrow", "aria-labelledby": "pick-title" },
    h("h1", { id: "pick-title" }, "Choose a business"),
    h("ul", { class: "business-list" }, businesses.map((b) => h("li", {},
      h("a", { href: `#/${encodeURIComponent(b.business_id)}/team` }, b.name || b.business_id),
      b.is_admin === false ? h("span", { class: "muted" }, " — you hold no Admin role here: the console shows nothing you may not read") : null))));
}

// --- routing -------------------------------------------------------------------------------------

function parseHash() {
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").map((p) => decodeURIComponent(p));
  return { businessId: parts[0] || null, view: parts[1] || "team", param: parts[2] || null };
}

async function route({ keepFocus = false } = {}) {
  const parts = layout();
  const seq = ++state.renderSeq;
  if (!state.user) {
    renderSession(parts, null);
    renderNav(parts, null);
    replace(parts.view, signInScreen(state.signInProblem));
    return;
  }
  const { businessId, view, param } = parseHash();
  const businesses = state.me?.businesses || [];
  if (!businessId) {
    if (businesses.length === 1) {
      window.location.replace(`#/${encodeURIComponent(businesses[0].business_id)}/team`);
      return;
    }
    renderSession(parts, null);
    renderNav(parts, null);
    replace(parts.view, pickBusinessScreen());
    document.title = "Choose a business · AccessFlow";
    return;
  }
  const app = context(businessId, view, param);
  renderSession(parts, businessId);
  renderNav(parts, app);
  const entry = VIEWS.find((v) => v.id === view);
  const render = entry ? entry.render : HIDDEN_VIEWS[view];
  if (!render) {
    replace(parts.view, problemBox({ title: "No such page", detail: "Choose a section in the menu." }));
    return;
  }
  if (!keepFocus) replace(parts.view, h("p", { class: "loading", role: "status" }, "Loading…"));
  let content;
  try {
    content = await render(app);
  } catch (error) {
    if (!(error instanceof api.ApiProblem)) throw error;
    content = h("section", {}, h("h1", {}, entry ? entry.label : "Error"), problemBox(error.problem));
  }
  if (seq !== state.renderSeq) return; // a newer navigation won
  replace(parts.view, content);
  const heading = parts.view.querySelector("h1");
  const businessName = app.business?.name || businessId;
  document.title = `${heading ? heading.textContent : "Console"} · ${businessName} · AccessFlow`;
  if (!keepFocus && state.navigated) focusOn(heading || parts.main);
  state.navigated = true;
}

async function onSignOut() {
  await auth.signOut();
  state.user = null;
  state.me = null;
  state.cache.clear();
  window.location.hash = "";
  await route();
  announce("You are signed out.");
}

async function loadMe() {
  try {
    state.me = await api.get("/me");
  } catch (error) {
    if (error instanceof api.ApiProblem && error.status === 404) {
      state.me = { businesses: [] };
      return;
    }
    throw error;
  }
}

async function unauthorized(problem) {
  state.cache.clear();
  const redirected = await auth.signInAgain();
  if (!redirected) {
    state.user = null;
    state.signInProblem = problem;
    await route();
  }
}

export async function start() {
  api.configure({ user: auth.currentUser, unauthorized });
  layout();
  state.user = await auth.currentUser();
  if (state.user) {
    try {
      await loadMe();
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      state.signInProblem = error.problem;
      if (error.status === 401) state.user = null;
    }
  }
  window.addEventListener("hashchange", () => route());
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.skip");
    if (link) {
      event.preventDefault();
      focusOn(document.getElementById("main"));
    }
  });
  await route();
}

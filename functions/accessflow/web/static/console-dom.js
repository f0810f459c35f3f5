// DOM helpers for the console. Every piece of text goes through textContent (never innerHTML), so
// a display name or account name containing HTML renders as text.

let uid = 0;

/** Save a fetched export (a `raw` API response) as a download named `filename`: a temporary link the
 * browser follows, its object URL released once the download has surely started. */
export async function saveResponse(response, filename) {
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: filename, class: "visually-hidden" }, filename);
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A unique id for label/aria wiring. */
export function nextId(prefix = "af") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * h("button", {type: "button", onclick: fn, class: "primary"}, "Save") — an element with
 * attributes, properties (on* handlers, hidden, disabled, value, checked) and children (strings
 * become text nodes; null/false are skipped; arrays are flattened).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (["hidden", "disabled", "checked", "selected", "required", "value", "open"].includes(key)) {
      el[key] = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's content. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Say something to screen-reader users (the polite live region) and show it in the status bar. */
export function announce(message) {
  const region = document.getElementById("status");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick so the same message twice is announced twice; the visible
  // toast then goes away by itself (the result also stays next to the control that caused it).
  window.clearTimeout(announce.timer);
  window.setTimeout(() => { region.textContent = message; }, 30);
  announce.timer = window.setTimeout(() => { region.textContent = ""; }, 8000);
}

/** Move keyboard focus to an element that is not normally focusable (a heading, a message). */
export function focusOn(el) {
  if (!el) return;
  if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
  el.focus();
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
});
const DATE_TIME_YEAR = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
});

const DATE_TIME_SECONDS = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
});

/** An ISO timestamp as a <time> element in the reader's locale ({seconds: true} for the audit trail). */
export function when(iso, { seconds = false } = {}) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const format = seconds ? DATE_TIME_SECONDS : (date.getFullYear() === new Date().getFullYear() ? DATE_TIME : DATE_TIME_YEAR);
  return h("time", { datetime: iso, title: date.toISOString() }, format.format(date));
}

/** "in 42 s", "in 3 min" — a short remaining duration. */
export function remaining(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 90) return `${s} s`;
  const m = Math.ceil(s / 60);
  if (m < 90) return `${m} min`;
  return `${Math.ceil(m / 60)} h`;
}

/** A person as "Name <e-mail>" (two spans so the e-mail can be styled), or the raw text. */
export function person(name, email) {
  if (!name && !email) return "—";
  if (!email) return name;
  if (!name || name === email) return h("span", { class: "person" }, h("span", { class: "email" }, email));
  return h("span", { class: "person" }, h("span", { class: "name" }, name), " ",
    h("span", { class: "email" }, email));
}

/** A problem+json shown as its title and detail, in a role=alert box. */
export function problemBox(problem, { id } = {}) {
  return h("div", { class: "problem", role: "alert", id },
    h("p", { class: "problem-title" }, problem.title || "Something went wrong"),
    problem.detail ? h("p", { class: "problem-detail" }, problem.detail) : null);
}

/** A success note (role=status). */
export function noteBox(text, { id } = {}) {
  return h("div", { class: "note", role: "status", id }, text);
}

/** A labelled form field: returns {wrap, input, error} where error is the inline message slot. */
export function field(label, input, { hint } = {}) {
  const id = input.id || nextId("f");
  input.id = id;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const error = h("p", { class: "field-error", id: errorId, hidden: true });
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  const wrap = h("div", { class: "field" },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    input, error);
  return { wrap, input, error };
}

/** Show (or clear, with null) an inline error at a field. */
export function setFieldError(f, message) {
  if (!f) return;
  f.error.hidden = !message;
  f.error.textContent = message ? message.charAt(0).toUpperCase() + message.slice(1) : "";
  if (f.input) {
    if (message) f.input.setAttribute("aria-invalid", "true");
    else f.input.removeAttribute("aria-invalid");
  }
}

const PLATFORMS = {
  tiktok: "TikTok", instagram: "Instagram", facebook: "Facebook", youtube: "YouTube", linkedin: "LinkedIn",
  x: "X", twitter: "X", threads: "Threads", pinterest: "Pinterest", snapchat: "Snapchat",
  "meta-ads": "Meta Ads", "google-ads": "Google Ads", "tiktok-ads": "TikTok Ads", "linkedin-ads": "LinkedIn Ads",
};

/** A platform slug as people write it ("meta-ads" → "Meta Ads"). */
export function platformLabel(slug) {
  if (!slug) return "";
  return PLATFORMS[slug] || slug.split(/[-_.]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(" ");
}

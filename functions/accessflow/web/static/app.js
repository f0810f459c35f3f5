/* AccessFlow's shared browser helpers (accept page, console). No framework, no inline script:
 * every page loads oidc-client-ts.min.js, this file, then its own script (all deferred).
 *
 * window.AccessFlow:
 *   config()                    the page's OIDC settings (from <body data-oidc-authority / -client-id>)
 *   userManager(callbackPath)   an oidc-client-ts UserManager: authorization code + PKCE, state and
 *                               nonce checked by the library; user and state kept in sessionStorage
 *   signedInUser(mgr)           the signed-in, unexpired user, or null
 *   signIn(mgr, returnTo, opts) redirect to the IdP; returnTo (a same-origin path) comes back in the
 *                               state data, which stays in this tab's sessionStorage (the IdP sees
 *                               only the random state id)
 *   api(method, path, {user, json})  fetch the API with the user's bearer token; resolves to
 *                               {ok, status, data, problem} where problem = {title, detail, slug, ...}
 *   renderProblem(container, problem)  the problem's title and detail, as text
 *   el(tag, attrs, ...children) build DOM without HTML strings (text stays text)
 *   safePath(path, fallback)    same-origin path or the fallback (no open redirect)
 */
"use strict";
(function () {
  const body = document.body;

  function config() {
    return { authority: body.dataset.oidcAuthority || "", clientId: body.dataset.oidcClientId || "" };
  }

  function userManager(callbackPath) {
    const c = config();
    return new oidc.UserManager({
      authority: c.authority,
      client_id: c.clientId,
      redirect_uri: window.location.origin + callbackPath,
      response_type: "code",
      scope: "openid email profile",
      loadUserInfo: false,
      automaticSilentRenew: false,
      monitorSession: false,
      userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage, prefix: "accessflow.oidc.user." }),
      stateStore: new oidc.WebStorageStateStore({ store: window.sessionStorage, prefix: "accessflow.oidc.state." }),
    });
  }

  async function signedInUser(mgr) {
    const user = await mgr.getUser();
    return user && !user.expired ? user : null;
  }

  function signIn(mgr, returnTo, opts) {
    const extra = Object.assign({}, opts || {});
    return mgr.signinRedirect(Object.assign(extra, { state: { return_to: returnTo } }));
  }

  /* The API's JWT authorizer expects a token whose audience is the client id: the ID token. */
  function bearer(user) {
    return user.id_token || user.access_token;
  }

  function slugOf(type) {
    if (!type) return "";
    const parts = String(type).split("/");
    return parts[parts.length - 1];
  }

  async function api(method, path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json, application/problem+json" };
    if (opts.user) headers.Authorization = "Bearer " + bearer(opts.user);
    const init = { method: method, headers: headers, credentials: "omit", referrerPolicy: "no-referrer" };
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.json);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      return { ok: false, status: 0, data: null,
        problem: { title: "The service cannot be reached", detail: "Check your connection and try again.", slug: "network" } };
    }
    const ctype = response.headers.get("Content-Type") || "";
    let data = null;
    if (ctype.indexOf("json") !== -1) {
      try { data = await response.json(); } catch (err) { data = null; }
    } else {
      data = await response.text();
    }
    if (response.ok) return { ok: true, status: response.status, data: data, problem: null };
    let problem;
    if (data && typeof data === "object" && (data.title || data.detail)) {
      problem = Object.assign({}, data, { slug: slugOf(data.type) });
    } else if (response.status === 401) {
      problem = { title: "Please sign in again", detail: "Your sign-in has expired or was not accepted.", slug: "unauthenticated" };
    } else {
      problem = { title: "Something went wrong", detail: "The service answered with an error (" + response.status + ").", slug: "error" };
    }
    problem.status = response.status;
    return { ok: false, status: response.status, data: data, problem: problem };
  }

  function el(tag, attrs) {
    const node = document.createElement(tag);
    const a = attrs || {};
    Object.keys(a).forEach(function (key) {
      const value = a[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.slice(0, 2) === "on" && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    for (let i = 2; i < arguments.length; i += 1) {
      const child = arguments[i];
      if (child === undefined || child === null || child === false) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function renderProblem(container, problem) {
    container.replaceChildren(
      el("div", { class: "problem", role: "alert", dataset: { problem: problem.slug || "" } },
        el("p", { class: "problem-title" }, el("strong", { text: problem.title || "Error" })),
        problem.detail ? el("p", { text: problem.detail }) : null));
  }

  function safePath(path, fallback) {
    return typeof path === "string" && path.charAt(0) === "/" && path.charAt(1) !== "/" && path.charAt(1) !== "\\"
      ? path : fallback;
  }

  window.AccessFlow = {
    config: config, userManager: userManager, signedInUser: signedInUser, signIn: signIn, bearer: bearer,
    api: api, el: el, renderProblem: renderProblem, safePath: safePath,
  };
})();

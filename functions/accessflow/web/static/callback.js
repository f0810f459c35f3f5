/* The IdP sends the browser back here (/accept/callback, /console/callback) with code and state.
 * oidc-client-ts checks the state against this tab's sessionStorage, redeems the code with the
 * PKCE verifier and checks the ID token's nonce; then we return to the path kept in the state. */
"use strict";
(async function () {
  const A = window.AccessFlow;
  const box = document.getElementById("callback");
  const home = window.location.pathname.replace(/\/callback$/, "") || "/";
  const mgr = A.userManager(window.location.pathname);
  try {
    const user = await mgr.signinRedirectCallback();
    window.location.replace(A.safePath(user.state && user.state.return_to, home));
  } catch (err) {
    const back = A.safePath(err && err.state && err.state.return_to, home);
    history.replaceState(null, "", window.location.pathname);
    box.replaceChildren(
      A.el("div", { class: "problem", role: "alert", dataset: { problem: "sign-in-failed" } },
        A.el("p", { class: "problem-title" }, A.el("strong", { text: "Sign-in did not complete" })),
        A.el("p", { text: (err && err.message) || "The identity provider did not sign you in." }),
        A.el("p", {}, A.el("a", { href: back }, "Go back and try again"))));
  }
})();

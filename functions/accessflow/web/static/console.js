/* The admin console (filled in by the console: sign-in, businesses, team, invitations, ...). */
"use strict";
(async function () {
  const A = window.AccessFlow;
  const root = document.getElementById("console");
  const mgr = A.userManager("/console/callback");
  const user = await A.signedInUser(mgr);
  if (!user) {
    root.replaceChildren(A.el("p", {}, A.el("button", { type: "button", id: "sign-in",
      onclick: function () { A.signIn(mgr, "/console"); } }, "Sign in")));
    return;
  }
  root.replaceChildren(A.el("p", {}, "Signed in as ", A.el("strong", { text: user.profile.email || user.profile.sub })));
})();

/* The invitee's accept page, enhanced. The server renders the invitation (or why the link cannot be
 * used); this script keeps the link token in this tab's sessionStorage and removes it from the
 * address bar, signs in at the IdP (authorization code + PKCE through oidc-client-ts; the token
 * travels only inside the state data kept in sessionStorage), and accepts with a POST carrying the
 * bearer token. Every outcome is said in plain words with the next step. */
"use strict";
(async function () {
  const A = window.AccessFlow;
  const KEY = "accessflow.accept.token";
  const fromUrl = new URLSearchParams(window.location.search).get("token");
  const refusal = document.getElementById("refusal");
  const invitation = document.getElementById("invitation");

  if (refusal) {
    const kept = sessionStorage.getItem(KEY);
    if (refusal.dataset.problem === "no-token" && kept) {
      window.location.replace("/accept?token=" + encodeURIComponent(kept));  // reloaded after we tidied the URL
      return;
    }
    sessionStorage.removeItem(KEY);
    if (fromUrl) history.replaceState(null, "", "/accept");
    return;
  }
  if (!invitation) return;

  const token = fromUrl || sessionStorage.getItem(KEY);
  if (fromUrl) {
    sessionStorage.setItem(KEY, fromUrl);
    history.replaceState(null, "", "/accept");
  }
  const business = invitation.dataset.business;
  const invited = invitation.dataset.invitedEmail;
  const inviter = invitation.dataset.inviter;
  const returnTo = "/accept?token=" + encodeURIComponent(token);
  const mgr = A.userManager("/accept/callback");
  const signedOut = document.getElementById("signed-out");
  const signedIn = document.getElementById("signed-in");
  const who = document.getElementById("signed-in-as");
  const acceptButton = document.getElementById("accept");
  const outcome = document.getElementById("outcome");

  async function signIn(another) {
    const opts = { login_hint: invited };
    if (another) opts.prompt = "login";
    try {
      await A.signIn(mgr, returnTo, opts);
    } catch (err) {
      say("error", "Sign-in could not start",
        ["The sign-in service did not answer (" + ((err && err.message) || "unknown error") + ").",
         "Nothing was accepted and the invitation is still valid. Try again in a moment."]);
    }
  }

  async function useAnotherAccount() {
    await mgr.removeUser();  // signs out here only; the IdP decides whether to ask again (prompt=login)
    await signIn(true);
  }

  function say(kind, title, lines, actions) {
    const heading = A.el("h2", { tabindex: "-1", text: title });
    const box = A.el("div", { class: "outcome outcome-" + kind, dataset: { outcome: kind } }, heading);
    lines.forEach(function (line) { box.appendChild(A.el("p", { text: line })); });
    if (actions && actions.length) box.appendChild(A.el("p", { class: "actions" }, ...actions));
    outcome.replaceChildren(box);
    heading.focus();
  }

  function anotherAccountButton() {
    return A.el("button", { type: "button", class: "secondary", id: "outcome-switch-account",
      onclick: useAnotherAccount }, "Use another account");
  }

  function showSignedOut() {
    signedIn.hidden = true;
    signedOut.hidden = false;
  }

  function showSignedIn(user) {
    who.textContent = user.profile.email || user.profile.sub;
    signedOut.hidden = true;
    signedIn.hidden = false;
    acceptButton.hidden = false;
  }

  function refused(result, user) {
    const p = result.problem;
    const newInvitation = "Ask your admin to send you a new invitation.";
    signedIn.hidden = true;
    switch (p.slug) {
      case "email-mismatch":
        say("email-mismatch", "This invitation is for " + invited,
          ["You are signed in as " + (user.profile.email || "another account") + ", which is not the address this "
            + "invitation was sent to. Nothing was accepted and the invitation is still valid.",
           "Use another account and sign in as " + invited + "."], [anotherAccountButton()]);
        return;
      case "email-not-verified":
        say("email-not-verified", "Your e-mail address is not verified",
          ["Your sign-in provider has not confirmed that " + (user.profile.email || "your address") + " is yours. "
            + "Nothing was accepted and the invitation is still valid.",
           "Verify your address with your sign-in provider, then sign in again."], [anotherAccountButton()]);
        return;
      case "login-already-linked":
        say("login-already-linked", "This login already belongs to someone else here",
          [p.detail, "Sign in with the login you use for " + business + ", or ask your admin for help."],
          [anotherAccountButton()]);
        return;
      case "invitation-already-used":
        sessionStorage.removeItem(KEY);
        say("already-used", "This invitation was already used",
          ["It has already been accepted. If you accepted it, there is nothing more to do.",
           "If you still need access, " + newInvitation.charAt(0).toLowerCase() + newInvitation.slice(1)]);
        return;
      case "invitation-expired":
        sessionStorage.removeItem(KEY);
        if (p.reason === "revoked") {
          say("revoked", "This invitation was withdrawn",
            ["An admin of " + business + " revoked it; the link no longer works.", newInvitation]);
        } else {
          say("expired", "This invitation has expired",
            ["It was not accepted in time.", "Ask an admin of " + business + " to send it again."]);
        }
        return;
      case "not-found":
        sessionStorage.removeItem(KEY);
        say("not-found", "This invitation link is not valid", [newInvitation]);
        return;
      case "unauthenticated":
        mgr.removeUser().then(showSignedOut);
        say("signed-out", "Please sign in again", ["Your sign-in has expired. Sign in again, then accept."]);
        return;
      default:
        signedIn.hidden = false;
        say("error", p.title, [p.detail || "", "Nothing was accepted. Try again in a moment."]);
    }
  }

  async function accept() {
    const user = await A.signedInUser(mgr);
    if (!user) {
      showSignedOut();
      return;
    }
    acceptButton.disabled = true;
    acceptButton.setAttribute("aria-busy", "true");
    outcome.replaceChildren(A.el("p", { text: "Accepting…" }));
    const result = await A.api("POST", "/invitations/accept", { user: user, json: { token: token } });
    acceptButton.disabled = false;
    acceptButton.removeAttribute("aria-busy");
    if (!result.ok) {
      refused(result, user);
      return;
    }
    sessionStorage.removeItem(KEY);
    signedIn.hidden = true;
    if (result.data && result.data.needs_confirmation) {
      say("waiting", "Accepted: waiting for an admin to confirm",
        ["You accepted the invitation to " + business + ". An admin of " + business + " other than you must "
          + "confirm the role before it takes effect.",
         "There is nothing more for you to do; you will have access once it is confirmed. If it takes long, "
          + "ask " + inviter + "."]);
    } else {
      say("active", "Your access is active",
        ["You accepted the invitation to " + business + ". You can now work on its accounts with the roles above.",
         "There is nothing more to do; you can close this page."]);
    }
  }

  document.getElementById("sign-in").addEventListener("click", function () { signIn(false); });
  document.getElementById("switch-account").addEventListener("click", useAnotherAccount);
  acceptButton.addEventListener("click", accept);

  const user = await A.signedInUser(mgr);
  if (user) showSignedIn(user);
  else showSignedOut();
})();

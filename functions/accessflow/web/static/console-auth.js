// Sign-in for the console, through the shared browser helpers (app.js: window.AccessFlow), which
// drive the vendored oidc-client-ts: authorization code + PKCE at the issuer the API's JWT
// authorizer trusts, state and nonce checked by the library, the user kept in sessionStorage only.
// The IdP comes back to /console/callback (callback.js), which returns to the path + hash kept in
// the state, so the admin lands on the view they were on.

const RETRY_FLAG = "accessflow.console.signin-at";
let manager = null;

function mgr() {
  if (!manager) manager = window.AccessFlow.userManager("/console/callback");
  return manager;
}

/** The signed-in, unexpired user, or null. */
export function currentUser() {
  return window.AccessFlow.signedInUser(mgr());
}

export async function signIn() {
  window.sessionStorage.setItem(RETRY_FLAG, String(Date.now()));
  await window.AccessFlow.signIn(mgr(), window.location.pathname + window.location.hash);
}

/**
 * After a 401: sign in again, unless the last sign-in was moments ago (then the API does not accept
 * this issuer's tokens and looping would not help: the caller shows the problem instead).
 */
export async function signInAgain() {
  const last = Number(window.sessionStorage.getItem(RETRY_FLAG) || 0);
  await mgr().removeUser();
  if (Date.now() - last < 15000) return false;
  await signIn();
  return true;
}

/** Forget the session in this tab (the ID token is dropped; the IdP's own session is the IdP's). */
export async function signOut() {
  window.sessionStorage.removeItem(RETRY_FLAG);
  await mgr().removeUser();
}

// The console's only way to the backend: the documented public HTTP API, same origin, with the
// signed-in user's ID token as the bearer (through the shared AccessFlow.api helper of app.js). Every refusal becomes an ApiProblem carrying the
// RFC 9457 problem (title, detail, errors, accounts, retry_after...); a 401 asks the app to sign in again.

export class ApiProblem extends Error {
  constructor(problem, status) {
    super(problem.title || "Request failed");
    this.problem = problem;
    this.status = status;
  }
}

let userSource = async () => null;
let onUnauthorized = () => {};

/** Wire the signed-in user provider and what to do on a 401 (both set by the app at start). */
export function configure({ user, unauthorized }) {
  userSource = user;
  onUnauthorized = unauthorized;
}

/** A refusal the body does not explain (a proxy's, API Gateway's own 401): plain words, no bare code. */
function fallbackProblem(status) {
  const known = {
    401: ["Please sign in again", "Your sign-in has expired or was not accepted."],
    403: ["Not allowed", "You may not do this here."],
    404: ["Not found", "It does not exist, or not any more."],
    409: ["Conflict with the current state", "Someone changed it meanwhile; reload and try again."],
    429: ["Too many requests", "Wait a moment and try again."],
  };
  const [title, detail] = known[status] || (status >= 500
    ? ["The service is not answering properly", "Try again in a moment; nothing was changed, or the change was completed whole."]
    : ["The request was refused", "Reload the page and try again."]);
  return { title, detail, status };
}

function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") params.set(k, v);
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/**
 * call("GET", "/businesses/acme/members", {query, body}) → the parsed JSON (through the shared
 * AccessFlow.api helper); throws ApiProblem on any refusal. {raw: true} returns the fetch Response
 * (the CSV export), fetched with the same bearer.
 */
export async function call(method, path, { body, query, raw, headers } = {}) {
  const user = await userSource();
  const url = withQuery(path, query);
  if (raw) {
    let response;
    try {
      response = await fetch(url, { method, credentials: "omit", referrerPolicy: "no-referrer",
        headers: { ...(headers || {}), ...(user ? { Authorization: `Bearer ${window.AccessFlow.bearer(user)}` } : {}) } });
    } catch {
      throw new ApiProblem({ title: "The service cannot be reached", detail: "Check your connection and try again." }, 0);
    }
    if (response.ok) return response;
    let problem = null;
    try { problem = await response.json(); } catch { problem = null; }
    return fail(problem && problem.title ? problem : fallbackProblem(response.status), response.status);
  }
  const result = await window.AccessFlow.api(method, url, { user, json: body });
  if (result.ok) return result.data;
  const data = result.data;
  const explained = data && typeof data === "object" && data.title;
  return fail(explained || result.status === 0 ? result.problem : fallbackProblem(result.status), result.status);
}

function fail(problem, status) {
  if (status === 401) onUnauthorized(problem);
  throw new ApiProblem(problem, status);
}

export const get = (path, opts) => call("GET", path, opts);
export const post = (path, body, opts) => call("POST", path, { ...opts, body: body === undefined ? {} : body });
export const put = (path, body, opts) => call("PUT", path, { ...opts, body });
export const patch = (path, body, opts) => call("PATCH", path, { ...opts, body });
export const del = (path, opts) => call("DELETE", path, opts);

/** "/businesses/{b}" + the rest, every segment escaped. */
export function biz(businessId, ...parts) {
  return ["", "businesses", businessId, ...parts].map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join("/");
}

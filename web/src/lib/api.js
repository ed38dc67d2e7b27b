// JSON client for the EXOS /api routes. It sends the CSRF token on every state-changing
// request, turns the API's `{"error": {"kind", "message"}}` answers into ApiError, and
// sends the browser to the sign-in page on 401.

let csrfToken = null;

export function setCsrfToken(token) {
  csrfToken = token;
}

// The CSRF header for requests made with fetch directly (streamed answers).
export function csrfHeaders() {
  return csrfToken ? { "x-csrf-token": csrfToken } : {};
}

export class ApiError extends Error {
  constructor(status, kind, message, body) {
    super(message);
    this.status = status;
    this.kind = kind;
    this.body = body;
  }
}

// Redirects to the sign-in page, asking it to come back to the current page afterwards.
export function redirectToLogin() {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

// Builds a query string; array values become repeated parameters (`filter=a&filter=b`).
export function queryString(params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((item) => search.append(key, item));
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Calls one API route and returns its parsed JSON body.
// Options: method, params (query string), body (sent as JSON), signal.
export async function api(path, { method = "GET", params, body, signal } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["x-csrf-token"] = csrfToken;

  let response;
  try {
    response = await fetch(path + queryString(params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", `The server could not be reached (${error.message}).`);
  }

  if (response.status === 401 && path !== "/api/login") {
    redirectToLogin();
    throw new ApiError(401, "unauthorized", "Your session has ended. Sign in again.");
  }

  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data?.error;
    const message = error?.message || `${method} ${path} failed with HTTP ${response.status} ${response.statusText}`.trim();
    throw new ApiError(response.status, error?.kind || "http", message, data);
  }
  return data;
}

// True when a failed call was cancelled because its page was left or its data replaced.
export function isAbort(error) {
  return error?.name === "AbortError";
}

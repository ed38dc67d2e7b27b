// The sign-in page: posts the user name and password to POST /api/login, shows why a
// sign-in failed (with a countdown while the account is locked), then goes to `next`.

const form = document.getElementById("login-form");
const message = document.getElementById("login-message");
const submit = document.getElementById("login-submit");
let countdown = null;
// The server locks sign-in per user name (and per address after more failures), so the
// button stays disabled only while the locked name is in the field.
let lockedUser = null;

// Accepts only a path on this site as the place to go after signing in.
function nextPath() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

function showMessage(text, kind = "error", icon = null) {
  message.className = kind === "error" ? "error-box flex items-start gap-2" : "info-box";
  message.replaceChildren(...(icon ? [icon] : []), document.createTextNode(text));
}

function lockIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "shrink-0 mt-0.5");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M6 11h12v10H6z M8 11V7a4 4 0 0 1 8 0v4");
  svg.append(path);
  return svg;
}

function lockedFor(seconds, user) {
  clearInterval(countdown);
  lockedUser = user;
  const until = Date.now() + seconds * 1000;
  submit.disabled = true;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(countdown);
      countdown = null;
      lockedUser = null;
      submit.disabled = false;
      showMessage("You can try again now.", "info");
      return;
    }
    const minutes = Math.floor(left / 60);
    const time = minutes > 0 ? `${minutes} min ${left % 60} s` : `${left} s`;
    showMessage(`Too many failed sign-ins. Sign-in is locked for ${time}.`, "error", lockIcon());
  };
  tick();
  countdown = setInterval(tick, 1000);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const user = form.user.value.trim();
  const password = form.password.value;
  if (!user || !password) {
    showMessage("Enter your user name and password.");
    (user ? form.password : form.user).focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = "Signing in…";
  try {
    const response = await fetch("/api/login", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ user, password }),
      credentials: "same-origin",
    });
    const body = await response.json().catch(() => null);
    if (response.ok) {
      location.assign(nextPath());
      return;
    }
    const error = body?.error || {};
    if (response.status === 429) {
      const retryAfter = Number(error.retry_after_s ?? response.headers.get("retry-after") ?? 60);
      lockedFor(retryAfter, user);
      return;
    }
    showMessage(error.message || `Sign-in failed (HTTP ${response.status}).`);
    form.password.select();
  } catch (error) {
    showMessage(`The server could not be reached (${error.message}).`);
  } finally {
    submit.textContent = "Sign in";
    submit.disabled = Boolean(countdown) && form.user.value.trim() === lockedUser;
  }
});

form.user.addEventListener("input", () => {
  if (countdown) submit.disabled = form.user.value.trim() === lockedUser;
});

if (new URLSearchParams(location.search).has("next")) {
  showMessage("Sign in to continue.", "info");
}

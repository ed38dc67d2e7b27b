// Settings (/settings): the signed-in account (change password), and for admins the
// users (GET/POST /api/users, DELETE /api/users/{name}) and ingest keys (GET/POST /api/keys,
// DELETE /api/keys/{id}), plus facts about this server.

import { h, replace, copyText } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { card, dataTable, errorBox, skeleton, field, toast, badge } from "../lib/ui.js";
import { formatTime } from "../lib/format.js";
import { changePasswordDialog } from "../lib/account.js";

function usersSection(me, signal) {
  const target = h("div", {}, skeleton({ lines: 3 }));
  async function refresh() {
    try {
      const data = await api("/api/users", { signal });
      const users = data.users || [];
      replace(target, dataTable([
        { label: "User", value: (u) => u.name },
        { label: "Role", value: (u) => badge(u.role, u.role === "admin" ? "brand" : "neutral") },
        { label: "Created", value: (u) => formatTime(u.created_at * 1000, { seconds: false }) },
        { label: "", value: (u) => (u.name === me.user ? h("span", { class: "muted text-xs" }, "you") : h("button", {
          class: "btn btn-sm btn-danger", "aria-label": `Delete user ${u.name}`,
          onclick: async () => {
            if (!confirm(`Delete user ${u.name}? Their sessions end at once.`)) return;
            try { await api(`/api/users/${encodeURIComponent(u.name)}`, { method: "DELETE" }); refresh(); } catch (error) { toast(error.message, { kind: "error" }); }
          },
        }, "Delete")) },
      ], users, { caption: "Users" }));
    } catch (error) {
      if (!isAbort(error)) replace(target, errorBox(error, { retry: refresh }));
    }
  }
  const name = h("input", { class: "input", required: true, autocomplete: "off" });
  const password = h("input", { class: "input", type: "password", required: true, autocomplete: "new-password", minlength: "8" });
  const role = h("select", { class: "input" }, h("option", { value: "viewer" }, "viewer: reads data, runs SQL"), h("option", { value: "admin" }, "admin: also manages users and keys"));
  const message = h("p", { class: "text-sm text-red-600 dark:text-red-400", role: "alert" });
  const add = async (event) => {
    event.preventDefault();
    try {
      await api("/api/users", { method: "POST", body: { name: name.value.trim(), password: password.value, role: role.value } });
      toast(`Added user ${name.value.trim()}.`);
      name.value = "";
      password.value = "";
      replace(message);
      refresh();
    } catch (error) {
      replace(message, error.message);
    }
  };
  refresh();
  return card("Users", [target, h("form", { class: "grid gap-3 md:grid-cols-4 items-end mt-4", onsubmit: add },
    field("User name", name), field("Password", password), field("Role", role), h("button", { class: "btn btn-primary", type: "submit" }, "Add user"), message)]);
}

function keysSection(signal) {
  const target = h("div", {}, skeleton({ lines: 3 }));
  const secret = h("div");
  async function refresh() {
    try {
      const data = await api("/api/keys", { signal });
      const keys = data.keys || [];
      replace(target, keys.length === 0 ? h("p", { class: "muted text-sm" }, "No ingest keys yet.") : dataTable([
        { label: "Name", value: (k) => k.name },
        { label: "ID", value: (k) => h("span", { class: "font-mono text-xs" }, k.id) },
        { label: "Created", value: (k) => formatTime(k.created_at * 1000, { seconds: false }) },
        { label: "State", value: (k) => (k.revoked ? badge("revoked", "error") : badge("active", "ok")) },
        { label: "", value: (k) => (k.revoked ? null : h("button", {
          class: "btn btn-sm btn-danger", "aria-label": `Revoke key ${k.name}`,
          onclick: async () => {
            if (!confirm(`Revoke key ${k.name}? Senders using it are rejected from now on.`)) return;
            try { await api(`/api/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" }); refresh(); } catch (error) { toast(error.message, { kind: "error" }); }
          },
        }, "Revoke")) },
      ], keys, { caption: "Ingest keys" }));
    } catch (error) {
      if (!isAbort(error)) replace(target, errorBox(error, { retry: refresh }));
    }
  }
  const name = h("input", { class: "input", required: true, placeholder: "e.g. web-frontend" });
  const create = async (event) => {
    event.preventDefault();
    try {
      const created = await api("/api/keys", { method: "POST", body: { name: name.value.trim() } });
      const copy = h("button", { class: "btn btn-sm", type: "button" }, "Copy");
      copy.addEventListener("click", () => copyText(created.key, copy));
      replace(secret, h("div", { class: "info-box mt-3 flex flex-wrap items-center gap-2" },
        h("span", {}, "New key (shown only once):"), h("code", { class: "font-mono text-xs break-all" }, created.key), copy));
      name.value = "";
      refresh();
    } catch (error) {
      replace(secret, errorBox(error));
    }
  };
  refresh();
  return card("Ingest keys", [target, h("form", { class: "flex gap-2 items-end mt-4", onsubmit: create }, field("Key name", name), h("button", { class: "btn btn-primary", type: "submit" }, "Create key")), secret]);
}

function accountSection(me) {
  const row = (label, value) => [h("dt", { class: "muted" }, label), h("dd", {}, value)];
  return card("Your account", [
    h("dl", { class: "grid grid-cols-[10rem_1fr] gap-y-2 text-sm" },
      row("User", me.user), row("Role", badge(me.role, me.role === "admin" ? "brand" : "neutral"))),
    h("button", { class: "btn mt-4", onclick: changePasswordDialog }, "Change password")]);
}

function serverSection(me) {
  const row = (label, value) => [h("dt", { class: "muted" }, label), h("dd", { class: "font-mono text-xs" }, value || "—")];
  return card("This server", h("dl", { class: "grid grid-cols-[10rem_1fr] gap-y-2 text-sm" },
    row("Version", me.version), row("Store", me.store), row("OTLP over HTTP", me.otlp_http), row("OTLP over gRPC", me.otlp_grpc)));
}

export function mount(root, { me, signal }) {
  const admin = me.role === "admin";
  replace(root, h("div", { class: "max-w-5xl space-y-4" },
    h("div", { class: "grid gap-4 md:grid-cols-2" }, accountSection(me), serverSection(me)),
    admin ? usersSection(me, signal) : null,
    admin ? keysSection(signal) : h("p", { class: "text-sm muted" }, "Users and ingest keys are managed by admins.")));
}

// The signed-in user's own account: changing the password (POST /api/me/password).

import { h, replace } from "./dom.js";
import { api } from "./api.js";
import { modal, field, toast } from "./ui.js";

export function changePasswordDialog() {
  modal("Change password", (close) => {
    const current = h("input", { type: "password", class: "input", autocomplete: "current-password", required: true });
    const next = h("input", { type: "password", class: "input", autocomplete: "new-password", required: true, minlength: "8" });
    const repeat = h("input", { type: "password", class: "input", autocomplete: "new-password", required: true });
    const message = h("p", { class: "text-sm text-red-600 dark:text-red-400", role: "alert" });
    const submit = async (event) => {
      event.preventDefault();
      if (next.value !== repeat.value) return replace(message, "The new passwords do not match.");
      try {
        await api("/api/me/password", { method: "POST", body: { current: current.value, new: next.value } });
        close();
        toast("Password changed. Sign in again with the new password.");
        setTimeout(() => location.assign("/login"), 1500);
      } catch (error) {
        replace(message, error.message);
      }
    };
    return h("form", { class: "space-y-3 w-80", onsubmit: submit },
      field("Current password", current), field("New password", next, { hint: "Changing it signs you out everywhere." }),
      field("Repeat new password", repeat), message,
      h("div", { class: "flex justify-end gap-2" },
        h("button", { type: "button", class: "btn", onclick: close }, "Cancel"),
        h("button", { type: "submit", class: "btn btn-primary" }, "Change password")));
  });
}

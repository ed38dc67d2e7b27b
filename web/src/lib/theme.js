// Light and dark mode: follows the system until the user picks one, and remembers the pick.

const KEY = "exos-theme";
const systemDark = matchMedia("(prefers-color-scheme: dark)");

// Returns "light", "dark" or "system".
export function themeChoice() {
  const saved = localStorage.getItem(KEY);
  return saved === "light" || saved === "dark" ? saved : "system";
}

export function isDark() {
  return document.documentElement.classList.contains("dark");
}

function apply() {
  const choice = themeChoice();
  const dark = choice === "dark" || (choice === "system" && systemDark.matches);
  document.documentElement.classList.toggle("dark", dark);
  window.dispatchEvent(new CustomEvent("exos:theme", { detail: { dark } }));
}

// Saves a choice ("light", "dark" or "system") and applies it.
export function setTheme(choice) {
  if (choice === "system") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, choice);
  apply();
}

systemDark.addEventListener("change", () => {
  if (themeChoice() === "system") apply();
});

// Runs before the page paints (a blocking script in <head>) so the first paint already has
// the right colour scheme: the choice saved in localStorage, or the system's.
const saved = localStorage.getItem("exos-theme");
const dark = saved === "dark" || (saved !== "light" && matchMedia("(prefers-color-scheme: dark)").matches);
document.documentElement.classList.toggle("dark", dark);

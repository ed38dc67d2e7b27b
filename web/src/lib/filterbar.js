// The global filter bar: chips of `key=value` / `key!=value` kept as repeated `filter`
// parameters in the URL, and an input that suggests keys (GET /api/filters) and then values
// with their counts (GET /api/filters?key=…&prefix=…).

import { h, replace, uid, debounce } from "./dom.js";
import { api, isAbort } from "./api.js";
import { apiParams, currentFilters, formatFilter, params, updateQuery } from "./state.js";
import { formatCount } from "./format.js";
import { icon } from "./icons.js";

// Text typed as a filter: key, `=` or `!=`, and the value (perhaps only its start).
const TYPED_FILTER = /^(.+?)\s*(!=|=)\s*(.*)$/;

function setFilters(filters) {
  updateQuery({ filter: filters.map(formatFilter) });
}

function chip(filter, index) {
  const toggleOp = () => {
    const filters = currentFilters();
    filters[index] = { ...filter, op: filter.op === "=" ? "!=" : "=" };
    setFilters(filters);
  };
  const remove = () => setFilters(currentFilters().filter((_, i) => i !== index));
  return h("span", { class: `chip ${filter.op === "!=" ? "chip-negated" : ""}` },
    h("span", { class: "chip-key" }, filter.key),
    h("button", { class: "chip-op", title: "Switch between equals and not equals", "aria-label": `Switch ${filter.key} between equals and not equals`, onclick: toggleOp }, filter.op === "=" ? "=" : "≠"),
    h("span", { class: "chip-value" }, filter.value === "" ? "(empty)" : filter.value),
    h("button", { class: "chip-remove", "aria-label": `Remove filter ${filter.text}`, onclick: remove }, "×"));
}

export function filterBar() {
  const chips = h("div", { class: "flex flex-wrap gap-1 items-center" });
  const listId = uid("filter-options");
  const input = h("input", {
    class: "input input-bare flex-1 min-w-[12rem]", type: "text", placeholder: "Filter: key = value   (press / to search)",
    role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId, "aria-label": "Add a filter",
    autocomplete: "off", spellcheck: "false", dataset: { globalSearch: "true" },
  });
  const list = h("ul", { class: "popover filter-options", id: listId, role: "listbox", hidden: true });
  let options = [];
  let active = -1;
  // True once the user moved through the suggestions with the arrow keys; until then Enter
  // adds a complete `key=value` as typed, unless a suggested value starts with it.
  let navigated = false;
  let controller = null;
  let keysCache = null;

  function source() {
    return params().get("source") === "logs" ? "logs" : "spans";
  }

  async function suggestions(text) {
    controller?.abort();
    controller = new AbortController();
    const match = TYPED_FILTER.exec(text);
    if (!match) {
      if (!keysCache || keysCache.source !== source()) {
        const data = await api("/api/filters", { params: apiParams({ source: source() }), signal: controller.signal });
        keysCache = { source: source(), keys: data.keys || [] };
      }
      const needle = text.trim().toLowerCase();
      return keysCache.keys
        .filter((item) => item.key.toLowerCase().includes(needle))
        .slice(0, 50)
        .map((item) => ({ label: item.key, count: item.count, apply: () => setInput(`${item.key}=`) }));
    }
    const [, key, op, prefix] = match;
    const data = await api("/api/filters", { params: apiParams({ source: source(), key, prefix }), signal: controller.signal });
    const values = (data.values || []).map((item) => ({
      label: item.value === "" ? "(empty)" : item.value, count: item.count, key, value: item.value,
      apply: () => commit({ key, op, value: item.value }),
    }));
    // The text as typed comes last: Enter takes a stored value that starts with it.
    if (prefix && !values.some((item) => item.value === prefix)) {
      values.push({ label: `${key} ${op} "${prefix}" (as typed)`, apply: () => commit({ key, op, value: prefix }) });
    }
    return values;
  }

  function setInput(text) {
    input.value = text;
    input.focus();
    refresh();
  }

  function commit(filter) {
    input.value = "";
    hide();
    setFilters([...currentFilters(), filter]);
    input.focus();
  }

  function hide() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function renderOptions() {
    replace(list, options.map((option, index) => h("li", {
      id: `${listId}-${index}`, role: "option", class: "filter-option", "aria-selected": String(index === active),
      onpointerdown: (event) => { event.preventDefault(); option.apply(); },
    }, h("span", { class: "truncate" }, option.label), option.count !== undefined ? h("span", { class: "muted tabular-nums" }, formatCount(option.count)) : null)));
    if (options.length === 0) list.append(h("li", { class: "filter-option muted" }, input.value ? "No suggestions. Press Enter to add it as typed." : "No filter keys in this range."));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (active >= 0) input.setAttribute("aria-activedescendant", `${listId}-${active}`);
  }

  const refresh = debounce(async () => {
    if (document.activeElement !== input) return;
    try {
      options = await suggestions(input.value);
      const typed = TYPED_FILTER.exec(input.value);
      const exact = typed ? options.findIndex((option) => option.value === typed[3]) : -1;
      if (exact >= 0) active = exact;
      else active = options.length ? 0 : -1;
      navigated = false;
      renderOptions();
    } catch (error) {
      if (isAbort(error)) return;
      options = [];
      replace(list, h("li", { class: "filter-option text-red-600" }, `Suggestions failed: ${error.message}`));
      list.hidden = false;
    }
  }, 150);

  input.addEventListener("input", refresh);
  input.addEventListener("focus", refresh);
  input.addEventListener("blur", () => setTimeout(hide, 100));
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!options.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + options.length) % options.length;
      navigated = true;
      renderOptions();
    } else if (event.key === "Enter") {
      event.preventDefault();
      const typed = TYPED_FILTER.exec(input.value);
      const suggestion = active >= 0 && !list.hidden ? options[active] : null;
      // A stored value of the typed key that starts with the typed text is what was
      // meant. The key and prefix are checked again, because the list may be older
      // than the text.
      const fits = suggestion && typed && suggestion.key === typed[1]
        && suggestion.value.toLowerCase().startsWith(typed[3].toLowerCase());
      if (suggestion && (navigated || !typed || fits)) suggestion.apply();
      else if (typed) commit({ key: typed[1], op: typed[2], value: typed[3] });
    } else if (event.key === "Escape") {
      hide();
    } else if (event.key === "Backspace" && input.value === "" && currentFilters().length) {
      setFilters(currentFilters().slice(0, -1));
    }
  });

  function update() {
    keysCache = null;
    replace(chips, currentFilters().map(chip));
  }
  update();
  window.addEventListener("exos:state", update);
  window.addEventListener("popstate", update);

  return h("div", { class: "filter-bar", role: "search", "aria-label": "Filters" },
    h("span", { class: "muted" }, icon("filter")), chips,
    h("div", { class: "relative flex-1 flex" }, input, list));
}

// DOM helpers: build elements from plain values, so page code never assembles HTML
// strings from data (which would open the door to script injection).

// Creates an element. `props` sets attributes, with these special keys:
// `class`, `text` (textContent), `style` (object), `dataset` (object),
// `on<event>` (listener) and `ref` (called with the element).
// Children may be nodes, strings, numbers, arrays, or null/false (skipped).
// A button is `type="button"` unless `props` sets another type, so that Enter in a
// form's fields presses only its own submit button (`type: "submit"`).
export function h(tag, props = {}, ...children) {
  const el = tag.includes(":")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.split(":")[1])
    : document.createElement(tag);
  if (tag === "button") el.type = "button";
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = String(value);
    else if (key === "style") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "ref") value(el);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "selected" || key === "disabled") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// Replaces all children of `el`.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// Returns a new id, unique within the page, for label and ARIA wiring.
let idCounter = 0;
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// Copies text to the clipboard and briefly marks the button as done.
export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h("textarea", { class: "sr-only", "aria-hidden": "true" }, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  if (button) {
    const before = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = before), 1500);
  }
}

// Returns a function that calls `fn` once calls stop for `ms` milliseconds.
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

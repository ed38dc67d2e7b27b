// Line icons drawn as inline SVG (24×24 grid, stroked with the current text colour), so
// they look the same on every system and need no icon font.

const PATHS = {
  overview: "M4 4h7v7H4z M13 4h7v4h-7z M13 10h7v10h-7z M4 13h7v7H4z",
  events: "M4 6h16 M4 12h16 M4 18h10",
  visitor: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M4 20c1.5-4 4.5-6 8-6s6.5 2 8 6",
  engineering: "M4 19V9 M10 19V5 M16 19v-7 M22 19H2",
  errors: "M12 3l9 16H3z M12 10v4 M12 17v.5",
  architecture: "M3 5h6v4H3z M15 5h6v4h-6z M9 15h6v4H9z M6 9v3h12V9 M12 12v3",
  query: "M5 7l4 4-4 4 M11 17h8",
  compare: "M4 4h7v16H4z M13 4h7v16h-7z M6 8h3 M15 12h3",
  funnels: "M3 4h18l-7 8v7l-4 2v-9z",
  paths: "M4 6h5c4 0 4 12 8 12h3 M4 18h5c4 0 4-12 8-12h3",
  retention: "M4 4h4v4H4z M10 4h4v4h-4z M16 4h4v4h-4z M4 10h4v4H4z M10 10h4v4h-4z M4 16h4v4H4z",
  analytics: "M4 18l5-6 4 3 7-9 M4 21h16",
  processes: "M5 6a2 2 0 1 0 0 .1z M19 6a2 2 0 1 0 0 .1z M12 18a2 2 0 1 0 0 .1z M7 6h10 M6 8l5 8 M18 8l-5 8",
  operators: "M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M17 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M2 20c1-3 3.5-5 6-5s5 2 6 5 M13 15.5c1-.3 2.5-.5 4-.5 2.5 0 4.5 2 5 5",
  opportunities: "M13 2L4 14h7l-1 8 9-12h-7z",
  ocpm: "M6 6a2 2 0 1 0 0 .1z M18 6a2 2 0 1 0 0 .1z M6 18a2 2 0 1 0 0 .1z M18 18a2 2 0 1 0 0 .1z M8 6h8 M6 8v8 M18 8v8 M8 18h8 M8 8l8 8",
  workspaces: "M4 4h16v16H4z M4 10h16 M10 10v10",
  docs: "M6 3h9l4 4v14H6z M15 3v4h4 M9 12h7 M9 16h7",
  start: "M5 12h14 M13 6l6 6-6 6",
  settings: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M19 12l2-1-1-3-2.2.2-1.3-1.3L16.7 4.7 14 3.5 13 5.5h-2L10 3.5 7.3 4.7l.2 2.2-1.3 1.3L4 8l-1 3 2 1v0l-2 1 1 3 2.2-.2 1.3 1.3-.2 2.2 2.7 1.2 1-2h2l1 2 2.7-1.2-.2-2.2 1.3-1.3 2.2.2 1-3z",
  clock: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M12 7v5l3 2",
  filter: "M4 5h16l-6 7v6l-4 2v-8z",
  sun: "M12 16a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M12 2v2 M12 20v2 M4.9 4.9l1.4 1.4 M17.7 17.7l1.4 1.4 M2 12h2 M20 12h2 M4.9 19.1l1.4-1.4 M17.7 6.3l1.4-1.4",
  moon: "M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z",
  system: "M3 5h18v11H3z M8 20h8 M12 16v4",
  menu: "M4 6h16 M4 12h16 M4 18h16",
  refresh: "M20 11a8 8 0 0 0-14.9-3 M4 4v4h4 M4 13a8 8 0 0 0 14.9 3 M20 20v-4h-4",
  close: "M6 6l12 12 M18 6L6 18",
  play: "M7 5l12 7-12 7z",
  pause: "M8 5v14 M16 5v14",
  expand: "M4 9V4h5 M20 9V4h-5 M4 15v5h5 M20 15v5h-5",
  sessions: "M3 5h18v14H3z M3 9h18 M7 13h6 M7 16h4",
  replay: "M4 5h16v12H4z M10 8.5l5 2.5-5 2.5z M8 21h8",
  download: "M12 4v11 M7 10l5 5 5-5 M5 20h14",
  link: "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1 M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
  save: "M5 4h11l3 3v13H5z M8 4v5h7V4 M8 20v-6h8v6",
  copy: "M8 8h12v12H8z M16 8V4H4v12h4",
  search: "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14z M20 20l-4-4",
};

export function icon(name, { size = 16, className = "" } = {}) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", size);
  svg.setAttribute("height", size);
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "1.8");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon ${className}`);
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", PATHS[name] || "");
  svg.append(path);
  return svg;
}

// Docs (/docs): the documentation pages from GET /api/docs, rendered from Markdown with
// marked (and cleaned with DOMPurify), with full-text search over every page in the
// browser. `doc` in the URL names the open page, `q` the search.

import { marked } from "marked";
import DOMPurify from "dompurify";
import { h, replace, debounce } from "../lib/dom.js";
import { api, isAbort } from "../lib/api.js";
import { params, updateQuery } from "../lib/state.js";
import { card, emptyState, errorBox, skeleton } from "../lib/ui.js";

const cache = new Map();

function fetchDoc(name, signal) {
  if (!cache.has(name)) {
    const request = api(`/api/docs/${encodeURIComponent(name)}`, { signal });
    request.catch(() => cache.delete(name));
    cache.set(name, request);
  }
  return cache.get(name);
}

function terms(query) {
  return query.toLowerCase().split(/\s+/).filter((term) => term.length > 1);
}

// Scores each page by how often the search terms occur (a title hit counts ten times) and
// returns the matches with a snippet around the first hit.
function search(pages, query) {
  const words = terms(query);
  if (words.length === 0) return [];
  return pages.map((page) => {
    const text = page.markdown.toLowerCase();
    let score = 0;
    for (const word of words) {
      if (!text.includes(word) && !page.title.toLowerCase().includes(word)) return null;
      score += text.split(word).length - 1 + (page.title.toLowerCase().includes(word) ? 10 : 0);
    }
    const first = text.indexOf(words[0]);
    const start = Math.max(0, first - 60);
    const snippet = (start > 0 ? "…" : "") + page.markdown.slice(start, first + 140).replace(/[#*`|>\n]+/g, " ").trim() + "…";
    return { page, score, snippet };
  }).filter(Boolean).sort((a, b) => b.score - a.score);
}

// Wraps search terms found in the rendered page's text in <mark>.
function highlight(root, query) {
  const words = terms(query);
  if (words.length === 0) return;
  const pattern = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`, "gi");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    if (!pattern.test(node.nodeValue)) continue;
    pattern.lastIndex = 0;
    const parts = node.nodeValue.split(pattern);
    node.replaceWith(...parts.map((part, i) => (i % 2 ? h("mark", {}, part) : part)));
  }
  root.querySelector("mark")?.scrollIntoView({ block: "center" });
}

function renderMarkdown(doc, names) {
  const article = h("article", { class: "markdown" });
  article.innerHTML = DOMPurify.sanitize(marked.parse(doc.markdown || ""));
  // Links between pages (`ARCHITECTURE.md`) open in this viewer; other links leave the app.
  for (const link of article.querySelectorAll("a[href]")) {
    const target = /^(?:\.\/)?(?:docs\/)?([\w-]+)\.md(#.*)?$/i.exec(link.getAttribute("href"));
    if (target && names.has(target[1])) link.setAttribute("href", `/docs?doc=${encodeURIComponent(target[1])}${target[2] || ""}`);
    else if (/^https?:/i.test(link.getAttribute("href"))) link.setAttribute("rel", "noopener noreferrer");
  }
  return article;
}

export function mount(root, { signal, onState }) {
  const list = h("nav", { class: "space-y-0.5", "aria-label": "Documentation pages" });
  const body = h("div");
  const searchInput = h("input", { class: "input", type: "search", placeholder: "Search all docs (press /)", "aria-label": "Search the documentation", dataset: { pageSearch: "true" }, value: params().get("q") || "" });
  let docs = [];

  async function showSearch(query) {
    replace(body, card(null, skeleton({ lines: 4 })));
    try {
      const pages = await Promise.all(docs.map((doc) => fetchDoc(doc.name, signal)));
      const hits = search(pages, query);
      replace(body, card(`${hits.length} pages match “${query}”`, hits.length === 0
        ? emptyState("No page contains every word.", "Try fewer or different words.", { compact: true, showGettingStarted: false })
        : h("ul", { class: "space-y-3" }, hits.map((hit) => h("li", {},
          h("a", { class: "font-medium", href: `/docs?doc=${encodeURIComponent(hit.page.name)}&q=${encodeURIComponent(query)}` }, hit.page.title || hit.page.name),
          h("p", { class: "text-sm muted" }, hit.snippet))))));
    } catch (error) {
      if (!isAbort(error)) replace(body, errorBox(error));
    }
  }

  async function showDoc(name) {
    replace(body, card(null, skeleton({ lines: 12 })));
    try {
      const doc = await fetchDoc(name, signal);
      const article = renderMarkdown(doc, new Set(docs.map((d) => d.name)));
      replace(body, card(null, article));
      const query = params().get("q");
      if (query) highlight(article, query);
      else if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
    } catch (error) {
      if (!isAbort(error)) replace(body, errorBox(error));
    }
  }

  function draw() {
    const current = params().get("doc") || docs[0]?.name;
    const query = params().get("q") || "";
    if (document.activeElement !== searchInput) searchInput.value = query;
    replace(list, docs.map((doc) => h("a", {
      class: `nav-link ${doc.name === current && !(!params().get("doc") && query) ? "active" : ""}`, href: `/docs?doc=${encodeURIComponent(doc.name)}`,
      "aria-current": doc.name === current ? "page" : undefined,
    }, doc.title || doc.name)));
    if (docs.length === 0) replace(body, card(null, emptyState("No documentation pages are installed.", null, { showGettingStarted: false })));
    else if (query && !params().get("doc")) showSearch(query);
    else showDoc(current);
  }

  searchInput.addEventListener("input", debounce(() => updateQuery({ q: searchInput.value.trim() || null, doc: null }, { replace: true }), 300));
  replace(root, h("div", { class: "grid gap-4 lg:grid-cols-[16rem_1fr]" },
    h("aside", { class: "space-y-3" }, searchInput, list),
    body));

  api("/api/docs", { signal }).then((data) => {
    docs = data.docs || [];
    onState(draw);
    draw();
  }).catch((error) => { if (!isAbort(error)) replace(body, errorBox(error)); });
}

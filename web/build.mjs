// Builds the web UI into dist/: Tailwind CSS compiles the styles, esbuild bundles the
// scripts (ES modules, one lazily loaded chunk per page), fonts and WebAssembly files,
// and the HTML templates get the hashed asset names written into them.
//
// Usage: node build.mjs [--dev]   (--dev keeps code unminified and adds source maps)

import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = dirname(fileURLToPath(import.meta.url));
const DIST = join(ROOT, "dist");
const ASSETS = join(DIST, "assets");
const WORK = join(ROOT, ".build");
const dev = process.argv.includes("--dev");

// Every page loads its own chunk, so the shell stays small; these are the entry points
// whose hashed names the HTML templates refer to.
const ENTRY_POINTS = {
  app: "src/app.js",
  login: "src/login.js",
  theme: "src/theme.js",
  styles: ".build/tailwind.css",
  fonts: "src/styles/fonts.css",
};

// Imports ending in `?inline` become the file's text, for style sheets that a page adds to
// the document only when it opens (Perspective's themes).
const inlineTextPlugin = {
  name: "inline-text",
  setup(build) {
    build.onResolve({ filter: /\?inline$/ }, async (args) => {
      const path = args.path.replace(/\?inline$/, "");
      const resolved = await build.resolve(path, { kind: args.kind, resolveDir: args.resolveDir });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, namespace: "inline-text" };
    });
    build.onLoad({ filter: /.*/, namespace: "inline-text" }, (args) => ({
      contents: readFileSync(args.path, "utf8"),
      loader: "text",
    }));
  },
};

function compileTailwind() {
  mkdirSync(WORK, { recursive: true });
  const cli = join(ROOT, "node_modules", ".bin", "tailwindcss");
  const args = ["-i", "src/styles/app.css", "-o", ".build/tailwind.css"];
  if (!dev) args.push("--minify");
  execFileSync(cli, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
}

async function bundle() {
  return esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ENTRY_POINTS,
    outdir: ASSETS,
    publicPath: "/assets/",
    entryNames: "[name]-[hash]",
    chunkNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    minify: !dev,
    sourcemap: dev ? "linked" : false,
    legalComments: "linked",
    metafile: true,
    logLevel: "warning",
    loader: { ".wasm": "file", ".woff2": "file", ".woff": "file", ".ttf": "file" },
    define: { "process.env.NODE_ENV": dev ? '"development"' : '"production"' },
    plugins: [inlineTextPlugin],
  });
}

// Maps each entry point name to the URL of its output file, from esbuild's metafile.
function entryUrls(metafile) {
  const urls = {};
  for (const [outPath, output] of Object.entries(metafile.outputs)) {
    if (!output.entryPoint) continue;
    const name = Object.entries(ENTRY_POINTS).find(([, src]) => src === output.entryPoint)?.[0];
    if (name) urls[name] = "/assets/" + relative(ASSETS, join(ROOT, outPath));
  }
  return urls;
}

function writeHtml(template, urls) {
  let html = readFileSync(join(ROOT, "src", template), "utf8");
  html = html.replace(/\{\{(\w+)\}\}/g, (match, name) => {
    if (!urls[name]) throw new Error(`${template} refers to {{${name}}}, which is not an entry point: add it to ENTRY_POINTS`);
    return urls[name];
  });
  writeFileSync(join(DIST, template), html);
}

rmSync(DIST, { recursive: true, force: true });
compileTailwind();
const result = await bundle();
const urls = entryUrls(result.metafile);
writeHtml("index.html", urls);
writeHtml("login.html", urls);
cpSync(join(ROOT, "src", "static"), ASSETS, { recursive: true });

let total = 0;
for (const output of Object.values(result.metafile.outputs)) total += output.bytes;
console.log(`built dist/: ${Object.keys(result.metafile.outputs).length} files, ${(total / 1048576).toFixed(1)} MiB`);

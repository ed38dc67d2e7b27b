# Shared set-up for the scripts in this folder: source it, don't run it.
# It installs DuckDB's C library from the npm lockfile (never compiled from
# source) and points cargo at a target folder outside the clone.

set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/exos-target}"
cd "$REPO"

install_duckdb_library() {
  if [[ ! -f node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so ]]; then
    echo "==> installing DuckDB's C library (npm ci)"
    npm ci --ignore-scripts --no-audit --no-fund
  fi
}

# Builds the web UI (web/dist) that the server embeds: npm ci from the lockfile, then
# esbuild and Tailwind CSS through `npm run build`. Skipped when web/dist is newer than
# every source file and the lockfile.
build_web() {
  if [[ -f web/dist/index.html ]] \
    && [[ -z "$(find web/src web/build.mjs web/package-lock.json -newer web/dist/index.html -print -quit)" ]]; then
    echo "==> web UI is up to date (web/dist)"
    return
  fi
  echo "==> building the web UI (web/dist)"
  (cd web && npm ci --no-audit --no-fund && npm run build)
}

#!/usr/bin/env bash
# Runs every test of the repository on a fresh machine: installs what the tests
# need (npm packages, a Python venv with the OpenTelemetry SDK and chdb, the
# ClickHouse engine in-process), checks formatting and lints, then runs the
# Rust and the end-to-end suites, the end-to-end ones once per store: on the
# embedded DuckDB store and on ClickHouse (EXOS_TEST_STORE=clickhouse, served by
# tests/clickhouse/chdb_server.py), and last the web pages in headless Chromium
# (installed with apt-get when missing; screenshots go to target-screenshots/).
# Set EXOS_SKIP_LINT=1 to skip fmt and clippy while iterating.
source "$(dirname "$0")/common.sh"
# The public event logs the mining tests compare with PM4Py: next to the clone, as the
# team's machines keep them, unless EXOS_EVENT_LOGS names another folder.
if [[ -z "${EXOS_EVENT_LOGS:-}" ]]; then
  for dir in "$REPO/../shared/data/event-logs" /work/shared/data/event-logs; do
    if [[ -d "$dir" ]]; then
      EXOS_EVENT_LOGS="$(cd "$dir" && pwd)"
      export EXOS_EVENT_LOGS
      break
    fi
  done
fi
install_duckdb_library
build_web

echo "==> Python test environment (.venv)"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

echo "==> Node test packages"
(cd tests/node && npm ci --no-audit --no-fund --silent)
(cd tests/browser && npm ci --no-audit --no-fund --silent)

if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Chromium for the browser tests (apt-get)"
  SUDO=""
  [[ "$(id -u)" != "0" ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

if [[ "${EXOS_SKIP_LINT:-0}" != "1" ]]; then
  echo "==> cargo fmt --check"
  cargo fmt --all -- --check
  echo "==> cargo clippy"
  cargo clippy --workspace --all-targets -- -D warnings
fi

echo "==> Rust tests"
cargo build -p exos
# The funnel differential test (tests/python/test_funnels_chdb.py) runs this example.
cargo build -p exos-funnels --examples
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

echo "==> Rust end-to-end and analytics tests on ClickHouse"
if command -v cargo-nextest >/dev/null 2>&1; then
  EXOS_TEST_STORE=clickhouse cargo nextest run -p exos -p exos-analytics -p exos-process --no-fail-fast
else
  EXOS_TEST_STORE=clickhouse cargo test -p exos -p exos-analytics -p exos-process --no-fail-fast
fi

echo "==> ClickHouse HTTP harness tests"
.venv/bin/python -m pytest tests/clickhouse -q

export EXOS_BIN="$CARGO_TARGET_DIR/debug/exos"
echo "==> end-to-end tests (pytest) on DuckDB"
.venv/bin/python -m pytest tests/python -q
echo "==> end-to-end tests (pytest) on ClickHouse"
EXOS_TEST_STORE=clickhouse .venv/bin/python -m pytest tests/python -q

echo "==> browser tests (headless Chromium)"
export EXOS_SCREENSHOTS="${EXOS_SCREENSHOTS:-$REPO/target-screenshots}"
(cd tests/browser && npm test)

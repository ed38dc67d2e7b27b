#!/usr/bin/env bash
# Runs every test of the repository on a fresh machine: installs what the tests
# need (npm packages, a Python venv with the OpenTelemetry SDK, pm4py-free for
# now, and chdb), checks formatting and lints, then runs the Rust and the
# end-to-end suites. Set EXOS_SKIP_LINT=1 to skip fmt and clippy while iterating.
source "$(dirname "$0")/common.sh"
install_duckdb_library

echo "==> Python test environment (.venv)"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

echo "==> Node test packages"
(cd tests/node && npm ci --no-audit --no-fund --silent)

if [[ "${EXOS_SKIP_LINT:-0}" != "1" ]]; then
  echo "==> cargo fmt --check"
  cargo fmt --all -- --check
  echo "==> cargo clippy"
  cargo clippy --workspace --all-targets -- -D warnings
fi

echo "==> Rust tests"
cargo build -p exos
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

echo "==> end-to-end tests (pytest)"
export EXOS_BIN="$CARGO_TARGET_DIR/debug/exos"
.venv/bin/python -m pytest tests/python -q

#!/usr/bin/env bash
# The README's run command: builds exos in release mode and runs `exos demo`, which
# starts the server on the embedded store, backfills 30 days of simulated order
# operations through its own OTLP receivers (with a progress bar), then keeps sending
# live traffic. Extra arguments go to `exos demo` (for example --data-dir /tmp/demo).
source "$(dirname "$0")/common.sh"
install_duckdb_library
build_web
echo "==> building exos (release)"
cargo build --release -p exos
exec "$CARGO_TARGET_DIR/release/exos" demo "$@"

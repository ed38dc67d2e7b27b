#!/usr/bin/env bash
# Builds exos in release mode and runs `exos serve` on the embedded store.
# Extra arguments go to `exos serve` (for example --data-dir /tmp/exos).
source "$(dirname "$0")/common.sh"
install_duckdb_library
build_web
echo "==> building exos (release)"
cargo build --release -p exos
exec "$CARGO_TARGET_DIR/release/exos" serve "$@"

#!/usr/bin/env bash
# make test (after make setup): every test of the workspace. API integration
# tests start real servers on random ports against real SQLite files and the
# real Docker engine; the e2e crate drives headless Chromium against them.
# Then the API integration suite runs again on PostgreSQL (one throwaway
# database per test), since the schema must hold on both.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
rm -rf target/e2e-shots
cargo test --workspace --locked
echo "==> API integration tests on PostgreSQL"
BERTH_TEST_POSTGRES=$(scripts/pg-up.sh) cargo test --locked -p berth-api --tests
echo "screenshots: target/e2e-shots/"

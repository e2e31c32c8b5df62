#!/usr/bin/env bash
# make test (after make setup): every test of the workspace. API integration
# tests start real servers on random ports against real SQLite files and the
# real Docker engine; the e2e crate drives headless Chromium against them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
rm -rf target/e2e-shots
cargo test --workspace --locked
echo "screenshots: target/e2e-shots/"

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
BERTH_TEST_EXPECT_BACKEND=sqlite cargo test --workspace --locked
echo "==> API integration tests on PostgreSQL"
# --workspace keeps the feature set of the first run, so nothing is rebuilt;
# --test picks targets by name in every package, so the e2e crate's test
# files must not share a name with the API's (they would run again here).
api_tests=()
for f in crates/api/tests/*.rs; do api_tests+=(--test "$(basename "$f" .rs)"); done
pg=$(scripts/pg-up.sh)
drop_test_dbs() {
  psql "$pg/postgres" -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'berth_test_%'" |
    while read -r db; do psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; done
}
drop_test_dbs
trap drop_test_dbs EXIT
BERTH_TEST_EXPECT_BACKEND=postgres BERTH_TEST_POSTGRES=$pg cargo test --workspace --locked "${api_tests[@]}"
echo "screenshots: target/e2e-shots/"

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
# The binaries the first pass built, run again as they are: asking cargo for
# only the API's tests would resolve features for fewer packages and build
# berth-shared, berth-api and every suite a second time (minutes on 2 cores).
api_bins=()
while IFS= read -r line; do
  case $line in
    *'"kind":["test"]'*'/crates/api/tests/'*'"executable":"'*)
      exe=${line##*\"executable\":\"}
      api_bins+=("${exe%%\"*}")
      ;;
  esac
done < <(cargo test --workspace --locked --no-run --message-format=json 2>/dev/null)
[ ${#api_bins[@]} -gt 0 ] || { echo "no API test binaries found"; exit 1; }
pg=$(scripts/pg-up.sh)
drop_test_dbs() {
  psql "$pg/postgres" -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'berth_test_%'" |
    while read -r db; do psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; done
}
drop_test_dbs
trap drop_test_dbs EXIT
failed=()
for bin in "${api_bins[@]}"; do
  name=$(basename "$bin"); name=${name%-*}
  echo "     Running $name on PostgreSQL"
  # as cargo runs them: from the package's folder
  (cd crates/api && BERTH_TEST_EXPECT_BACKEND=postgres BERTH_TEST_POSTGRES=$pg "$bin") || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed on PostgreSQL: ${failed[*]}"
  exit 1
fi
echo "screenshots: target/e2e-shots/"

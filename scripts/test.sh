#!/usr/bin/env bash
# make test (after make setup): formatting, lints, that the benches build,
# then every test of the workspace with cargo-nextest (.config/nextest.toml:
# a process per test, all binaries in one pool). API integration tests
# start real servers on random ports against real SQLite files and the
# real Docker engine; the browser tests drive headless Chromium against
# them. Then the API suites that touch the database run again on
# PostgreSQL (one throwaway database per test), since the schema must hold
# on both. Last, nothing a test server made may be left on the engine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
rm -rf target/e2e-shots
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
t0=$(date +%s)
took() { echo "    ($(( $(date +%s) - t0 )) s so far)"; }

step "formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# every bench still builds and links (with the test build's profile: the
# release build `make bench` measures with takes minutes more)
cargo bench --workspace --locked --no-run --profile dev
took

# What test servers leave on the engine is checked against what was there
# before (a developer's own `make run` may have sessions running).
labelled() {
  {
    docker ps -aq --no-trunc --filter label=berth.instance | sed 's/^/container /'
    docker network ls -q --no-trunc --filter label=berth.instance | sed 's/^/network /'
    docker images -q --no-trunc --filter label=berth.customized.owner | sort -u | sed 's/^/image /'
  } | sort
}
before=$(mktemp)
labelled >"$before"

step "tests on SQLite"
status=0
# (the replicas' test needs PostgreSQL: it runs in the pass below)
BERTH_TEST_EXPECT_BACKEND=sqlite cargo nextest run --workspace --locked -E '!test(/^replicas::/)' || status=$?
cp target/nextest/default/junit.xml target/nextest/junit-sqlite.xml 2>/dev/null || true
took

step "API tests on PostgreSQL"
pg=$(scripts/pg-up.sh)
drop_test_dbs() {
  psql "$pg/postgres" -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'berth_test_%'" |
    while read -r db; do psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; done
}
drop_test_dbs
trap drop_test_dbs EXIT
# against a pair of replicas on one database behind a balancer (each
# request a connection of its own: they alternate); the same binaries (no
# rebuild); without the suites that never open the
# server's database: the binary as a process (always SQLite), the source
# checks, the engine's own checks, the UI's files
pg_filter='binary(api) & !(test(/^process::/) | test(/^architecture::/) | test(/^docker::/) | test(/^ui_assets::/))'
BERTH_TEST_EXPECT_BACKEND=postgres BERTH_TEST_POSTGRES=$pg BERTH_TEST_REPLICAS=2 \
  cargo nextest run --workspace --locked -E "$pg_filter" || status=$?
cp target/nextest/default/junit.xml target/nextest/junit-postgres.xml 2>/dev/null || true
took

step "the ten slowest tests"
python3 scripts/slowest.py target/nextest/junit-sqlite.xml target/nextest/junit-postgres.xml || true

step "what the tests left on the engine"
after=$(mktemp)
labelled >"$after"
left=$(comm -13 "$before" "$after")
if [ -n "$left" ]; then
  echo "left behind by a test server (a killed test cannot clean up):"
  while read -r kind id; do
    case $kind in
      container) docker inspect -f '  container {{.Name}} instance={{index .Config.Labels "berth.instance"}} session={{index .Config.Labels "berth.session"}}' "$id" ;;
      network) docker network inspect -f '  network {{.Name}} instance={{index .Labels "berth.instance"}}' "$id" ;;
      image) docker image inspect -f '  image {{index .RepoTags 0}} owner={{index .Config.Labels "berth.customized.owner"}}' "$id" ;;
    esac
  done <<<"$left"
  echo "made by:"
  instances=$(while read -r kind id; do
    case $kind in
      container) docker inspect -f '{{index .Config.Labels "berth.instance"}}' "$id" ;;
      network) docker network inspect -f '{{index .Labels "berth.instance"}}' "$id" ;;
      image) docker image inspect -f '{{index .Config.Labels "berth.instance"}}' "$id" ;;
    esac
  done <<<"$left" | sort -u)
  # shellcheck disable=SC2086
  python3 scripts/leftovers.py $instances -- target/nextest/junit-sqlite.xml target/nextest/junit-postgres.xml
  # removed now, so the next run starts clean; the run still fails
  while read -r kind id; do
    case $kind in
      container) docker rm -f -v "$id" >/dev/null ;;
      network) docker network rm "$id" >/dev/null ;;
      image) docker rmi -f "$id" >/dev/null ;;
    esac
  done <<<"$left"
  status=1
else
  echo "nothing: every container, network and image a test made is gone"
fi
rm -f "$before" "$after"
echo "screenshots: target/e2e-shots/; per-test timings: target/nextest/junit-*.xml"
echo "make test took $(( $(date +%s) - t0 )) s"
exit $status

#!/usr/bin/env bash
# make setup: everything `make run` and `make test` need, idempotent and fast
# when already done. Installs Debian packages, the wasm toolchain (trunk,
# wasm-bindgen at the Cargo.lock version, wasm-opt from npm's binaryen),
# starts dockerd when no engine answers, builds the environment images
# offline, and builds the web UI with Trunk (release).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132
TOOLS_DIR=${BERTH_TOOLS_DIR:-$HOME/.cache/berth-tools}
export PATH="$HOME/.cargo/bin:$TOOLS_DIR/node_modules/.bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- Debian packages --------------------------------------------------------
pkgs=(docker.io docker-registry busybox-static debootstrap chromium chromium-driver fonts-noto-cjk brotli openssl iproute2)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Rust/wasm toolchain ----------------------------------------------------
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  step "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi
# Build tools, not shipped code: without trunk's own release profile (fat
# LTO, one codegen unit) its install takes 3 min 55 s instead of 4 min 52 s on
# two cores. wasm-bindgen-cli builds alongside it.
tool_profile=(env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16)
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
wb_pid=
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
  step "installing wasm-bindgen-cli $wb_version in the background (log: /tmp/berth-wasm-bindgen-install.log)"
  # not --locked: its lockfile names a crate version the registry here lacks;
  # --force: a tracked install whose binary is gone would be skipped
  "${tool_profile[@]}" cargo install --force wasm-bindgen-cli --version "$wb_version" \
    >/tmp/berth-wasm-bindgen-install.log 2>&1 &
  wb_pid=$!
fi
if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
  step "installing trunk $TRUNK_VERSION (a few minutes the first time)"
  "${tool_profile[@]}" cargo install --force trunk --version "$TRUNK_VERSION" --locked
fi
# the test runner (make test); machines of this kind come with it
if ! cargo nextest --version >/dev/null 2>&1; then
  step "installing cargo-nextest (a few minutes the first time)"
  "${tool_profile[@]}" cargo install --locked cargo-nextest
fi
if [ -n "$wb_pid" ]; then
  wait "$wb_pid" || { tail -40 /tmp/berth-wasm-bindgen-install.log; echo "installing wasm-bindgen-cli failed"; exit 1; }
  echo "wasm-bindgen-cli $wb_version installed"
fi
XTERM_VERSION=5.5.0
XTERM_FIT_VERSION=0.10.0
xterm_dir=$TOOLS_DIR/node_modules/@xterm
if ! grep -q "\"version\": \"$XTERM_VERSION\"" "$xterm_dir/xterm/package.json" 2>/dev/null ||
   ! grep -q "\"version\": \"$XTERM_FIT_VERSION\"" "$xterm_dir/addon-fit/package.json" 2>/dev/null; then
  step "installing xterm.js (npm @xterm/xterm@$XTERM_VERSION, @xterm/addon-fit@$XTERM_FIT_VERSION)"
  mkdir -p "$TOOLS_DIR"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" \
    "@xterm/xterm@$XTERM_VERSION" "@xterm/addon-fit@$XTERM_FIT_VERSION" >/dev/null
fi
# axe-core: the e2e run injects it into every page and dialog it visits
AXE_VERSION=4.10.3
if ! grep -q "\"version\": \"$AXE_VERSION\"" "$TOOLS_DIR/node_modules/axe-core/package.json" 2>/dev/null; then
  step "installing axe-core (npm axe-core@$AXE_VERSION, for the e2e accessibility checks)"
  mkdir -p "$TOOLS_DIR"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" "axe-core@$AXE_VERSION" >/dev/null
fi
# Swagger UI: the page at /api/v1/docs that renders the OpenAPI document
SWAGGER_UI_VERSION=5.36.0
swagger_dir=$TOOLS_DIR/node_modules/swagger-ui-dist
if ! grep -q "\"version\": \"$SWAGGER_UI_VERSION\"" "$swagger_dir/package.json" 2>/dev/null; then
  step "installing Swagger UI (npm swagger-ui-dist@$SWAGGER_UI_VERSION, for the API's docs page)"
  mkdir -p "$TOOLS_DIR"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" "swagger-ui-dist@$SWAGGER_UI_VERSION" >/dev/null
fi
# schemathesis (PyPI), in its own venv: make test runs it against a live
# server for every operation of the OpenAPI document
SCHEMATHESIS_VERSION=4.32.5
if ! "$TOOLS_DIR/schemathesis/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  step "installing schemathesis $SCHEMATHESIS_VERSION (PyPI, in $TOOLS_DIR/schemathesis)"
  python3 -m venv "$TOOLS_DIR/schemathesis"
  "$TOOLS_DIR/schemathesis/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
# the reference platform's client (PyPI), in its own venv: make test runs
# its CLI and SDK against the /backend.ai facade. Its yarl must predate 1.10
# (the client reads a yarl internal that later releases changed).
BACKENDAI_CLIENT_VERSION=23.9.10
# pip's output is read whole first: `grep -q` would close the pipe early and,
# under pipefail, pip's SIGPIPE would read as "not installed" on every run
bai_installed=$("$TOOLS_DIR/backendai/bin/pip" show backend.ai-client 2>/dev/null || true)
if ! grep -q "^Version: $BACKENDAI_CLIENT_VERSION\$" <<<"$bai_installed"; then
  step "installing backend.ai-client $BACKENDAI_CLIENT_VERSION (PyPI, in $TOOLS_DIR/backendai)"
  python3 -m venv "$TOOLS_DIR/backendai"
  "$TOOLS_DIR/backendai/bin/pip" install -q --disable-pip-version-check \
    "backend.ai-client==$BACKENDAI_CLIENT_VERSION" "yarl<1.10"
fi
if ! "$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  step "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
  mkdir -p "$TOOLS_DIR"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" "binaryen@$BINARYEN_VERSION" >/dev/null
fi

# --- Docker engine ----------------------------------------------------------
scripts/docker-up.sh

# --- Environment images (offline) -------------------------------------------
scripts/build-images.sh

# --- Web UI -----------------------------------------------------------------
stamp=dist/.berth-build-stamp
if [ -f "$stamp" ] && [ -z "$(find crates/frontend crates/shared style Trunk.toml Cargo.toml Cargo.lock .cargo -newer "$stamp" -type f 2>/dev/null | head -1)" ]; then
  echo "web UI up to date (dist/)"
else
  step "building the web UI (trunk build --release: the first visit's build and the whole UI)"
  trunk_failed() { tail -40 /tmp/berth-trunk.log; echo "trunk build failed (full log: /tmp/berth-trunk.log)"; exit 1; }
  # both wasm binaries in one cargo run, so their link steps share the cores;
  # trunk then finds them built
  cargo build --offline -q -p berth-frontend --bins --target wasm32-unknown-unknown \
    --profile wasm-release >/tmp/berth-trunk.log 2>&1 || trunk_failed
  # the first visit's build is the UI's index.html; the whole UI's page is
  # full.html beside it, its hashed files in the same directory
  TRUNK_SKIP_VERSION_CHECK=true trunk build crates/frontend/index.html --release --offline \
    --dist dist >>/tmp/berth-trunk.log 2>&1 || trunk_failed
  TRUNK_SKIP_VERSION_CHECK=true trunk build crates/frontend/full.html --release --offline \
    --dist target/ui-full >>/tmp/berth-trunk.log 2>&1 || trunk_failed
  cp target/ui-full/berth-full-* dist/
  cp target/ui-full/index.html dist/full.html
  touch "$stamp"
fi
# the web terminal's emulator, served as static files (no CDN)
mkdir -p dist/xterm
cp -u "$xterm_dir/xterm/lib/xterm.js" "$xterm_dir/xterm/css/xterm.css" \
  "$xterm_dir/addon-fit/lib/addon-fit.js" dist/xterm/
# the API's docs page (Swagger UI, no CDN)
mkdir -p dist/api-docs
cp -u "$swagger_dir/swagger-ui-bundle.js" "$swagger_dir/swagger-ui.css" \
  crates/api/api-docs/init.js dist/api-docs/
# brotli and gzip forms, made once here and served as they are (the server
# never compresses the UI per request)
for f in dist/*.js dist/*.wasm dist/*.css dist/index.html dist/full.html dist/xterm/*.js dist/xterm/*.css dist/api-docs/*.js dist/api-docs/*.css; do
  [ -f "$f" ] || continue
  { [ -f "$f.br" ] && ! [ "$f" -nt "$f.br" ]; } || brotli -f -k -q 11 "$f"
  { [ -f "$f.gz" ] && ! [ "$f" -nt "$f.gz" ]; } || gzip -f -k -9 "$f"
done
echo "setup done"

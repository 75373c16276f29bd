# kv-manager: `make run` serves the console, `make test` runs every test. Both install what is
# missing first (scripts/setup.sh).

SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# cargo-leptos sets this while it compiles; setting it for every cargo command keeps one set of
# build artifacts for tests, lints and the site instead of rebuilding Leptos each time.
export LEPTOS_OUTPUT_NAME := kv-manager
# Leptos's erased component types: faster compiles, and a wasm bundle 60 KB (gzip) smaller.
# Every cargo command gets the same flags, so tests, lints and site builds share artifacts
# (cargo-leptos is told not to add the flag itself: disable-erase-components in Cargo.toml).
export RUSTFLAGS := --cfg erase_components

# Packages built for the server (ssr) and for the browser (hydrate, wasm32).
SSR_PACKAGES := -p domain -p migration -p app -p kv-manager
WASM_PACKAGES := -p frontend -p app

.PHONY: setup setup-test build run test test-rust fuzz-api lint e2e bench

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

build: setup
	cargo leptos build --release --split

run: build
	./target/release/kv-manager serve --site-root target/site

test: setup-test lint test-rust fuzz-api e2e

lint:
	cargo fmt --all -- --check
	cargo clippy $(SSR_PACKAGES) --all-targets -- -D warnings
	cargo clippy $(WASM_PACKAGES) --target wasm32-unknown-unknown -- -D warnings

# Every Rust test; the PostgreSQL ones run when KVM_TEST_POSTGRES_URL is set. The server's tests
# each start a real server on a tokio runtime of their own; Leptos renders pages through global
# state, and several runtimes rendering pages at once in one process can leave a render waiting
# forever (about one run in six hung before; one server per process, as in production, never
# did under load). So the server's test files run their tests one after another.
test-rust:
	cargo test -p domain -p migration -p app
	cargo test -p kv-manager -- --test-threads=1

# Schemathesis (PyPI) drives /v1/kv from the server's own /openapi.json with a real service token
# for two minutes: no server error, every response as documented (scripts/schemathesis.toml).
fuzz-api:
	cargo build -p kv-manager
	scripts/fuzz-api.sh target/debug/kv-manager 120

# The browser tests: a debug build of the site, served by Playwright's webServer.
e2e:
	cargo leptos build --split
	cd end2end && npx playwright test

bench:
	@scripts/setup.sh bench
	cargo bench -p domain --bench storage
	cargo bench -p domain --bench search
	cargo bench -p domain --bench jobs
	cargo leptos build --release --split
	cargo bench -p kv-manager --bench ssr
	cargo bench -p kv-manager --bench cloudflare
	cargo bench -p kv-manager --bench kevi

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

.PHONY: setup setup-test build release run test test-rust test-release fuzz-api lint lint-deploy image-check e2e bench

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

build: setup release

run: build
	./target/release/kv-manager serve --site-root target/site

test: setup-test lint lint-deploy test-rust test-release image-check fuzz-api e2e

lint:
	cargo fmt --all -- --check
	cargo clippy $(SSR_PACKAGES) --all-targets -- -D warnings
	cargo clippy $(WASM_PACKAGES) --target wasm32-unknown-unknown -- -D warnings

# The container files (no container engine needed): hadolint on the Dockerfile, and compose.yaml's
# structure with .env.example beside it (deploy/check-compose.py). Tools from `scripts/setup.sh test`.
lint-deploy:
	@[ -x target/lint-venv/bin/hadolint ] || { echo "hadolint is not installed: run scripts/setup.sh test (make setup-test)" >&2; exit 1; }
	target/lint-venv/bin/hadolint Dockerfile
	target/lint-venv/bin/python deploy/check-compose.py
	target/lint-venv/bin/python deploy/test-check-compose.py

# Every Rust test. The server's tests each start a real server on a tokio runtime of their own,
# several at once in one process: the console's route list is made once per process, because
# making it suppresses resource loading for the whole process (leptos-rs/leptos#4773; see
# server/tests/stall.rs and upstream_suppress.rs).
# With KVM_TEST_POSTGRES_URL, the domain tests run on PostgreSQL too and the HTTP suites (server
# functions, /client/v4, /v1/kv, jobs, the crash and shutdown tests, security, audit) run a second time with
# every test server on a PostgreSQL database of its own. Without it they skip PostgreSQL and say
# how many tests did; KVM_REQUIRE_POSTGRES=1 (CI) makes that an error.
HTTP_SUITES := --test api --test cf_api --test kevi --test versions --test jobs --test crash --test shutdown --test upgrade --test security --test audit --test metrics
test-rust:
	@if [ -z "$$KVM_TEST_POSTGRES_URL" ] && [ "$$KVM_REQUIRE_POSTGRES" = 1 ]; then \
	  echo "KVM_REQUIRE_POSTGRES=1 but KVM_TEST_POSTGRES_URL is not set: name a PostgreSQL server for the tests" >&2; exit 1; fi
	cargo test -p domain -p migration -p app
	cargo test -p kv-manager
	@if [ -n "$$KVM_TEST_POSTGRES_URL" ]; then \
	  echo "The HTTP suites again, each server on PostgreSQL"; \
	  KVM_TEST_SERVER_DATABASE=postgres cargo test -p kv-manager $(HTTP_SUITES); \
	else \
	  skipped=$$(cargo test -q -p domain -- --list 2>/dev/null | grep -c '^on_postgres::'); \
	  echo "KVM_TEST_POSTGRES_URL is not set: $$skipped PostgreSQL tests of the domain were skipped (they show as passed) and the HTTP suites ran on SQLite only"; \
	fi

# Schemathesis (PyPI) drives /v1/kv from the server's own /openapi.json with a real service token
# for two minutes: no server error, every response as documented (scripts/schemathesis.toml).
# It runs the release binary, as `make run` serves it.
fuzz-api: release
	scripts/fuzz-api.sh target/release/kv-manager 120

# Tests of the release binary as a child process: pages rendered by 32 clients for a minute
# while /v1/kv writes run (load.rs: no stall, no error, p99 printed), and peak memory while
# importing a 1 GiB file and exporting 1 GiB of 25 MiB values (memory.rs).
test-release: release
	KVM_TEST_BIN=$(CURDIR)/target/release/kv-manager cargo test -p kv-manager --test load --test memory -- --ignored --test-threads=1 --nocapture

# The release build laid out and started as the container image's final stage does (its paths,
# ENV, ENTRYPOINT, CMD, USER and HEALTHCHECK, read from the Dockerfile): the default start on
# 0.0.0.0 without sign-in is refused; with --insecure-no-auth it is healthy, serves the console and
# takes a write; with Access (TEAM_DOMAIN, POLICY_AUD) it is healthy and / wants a token.
image-check: release
	scripts/image-check.sh
	scripts/image-check-selftest.sh

# The browser tests, on what `make run` serves: the release build of the server and the site
# (end2end/server-env.ts). Servers on SQLite, in Access mode and over the Cloudflare backend, and
# one on PostgreSQL when KVM_TEST_POSTGRES_URL is set; an ERROR line or a panic in any server's
# log fails the run (end2end/server-logs.ts).
e2e: release
	cd end2end && npx playwright test

# The release build of the server and the site, as `make run` serves them (skipped when both are
# newer than every source: scripts/release.sh).
release:
	scripts/release.sh

# Every bench records its figures beside their goals; the table is printed at the end and the
# run fails when a goal was missed (scripts/bench-goals.sh).
bench:
	@scripts/setup.sh bench
	rm -f target/bench-goals.tsv
	cargo bench -p domain --bench storage
	cargo bench -p domain --bench search
	cargo bench -p domain --bench jobs
	$(MAKE) release
	cargo bench -p kv-manager --bench ssr
	cargo bench -p kv-manager --bench cloudflare
	cargo bench -p kv-manager --bench kevi
	scripts/bench-goals.sh target/bench-goals.tsv

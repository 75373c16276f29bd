#!/usr/bin/env bash
# Drives the documented /v1/kv contract with Schemathesis (a third-party API fuzzer, from PyPI),
# generated from the server's own /openapi.json, with a real service token on a real server:
# no server error, and every status, header and body as documented. Usage:
#   scripts/fuzz-api.sh [path to the kv-manager binary] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/debug/kv-manager}
SECONDS_BUDGET=${2:-120}
SCHEMATHESIS_VERSION=4.32.0
VENV=target/schemathesis-venv
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

DIR=$(mktemp -d)
PORT=${KVM_FUZZ_PORT:-3190}
DB="sqlite://$DIR/kv.db?mode=rwc"
SETTINGS=(--database-url "$DB" --data-dir "$DIR/data" --config /dev/null)
# The rate limit is part of the contract (429 with Retry-After), but a fuzzer that only ever
# hears 429 tests nothing else: the service gets a high rate here.
"$BIN" serve --addr "127.0.0.1:$PORT" --site-root "$DIR" --kevi-rate 100000 "${SETTINGS[@]}" >"$DIR/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS -H 'Content-Type: application/json' -H 'Accept: application/json' \
  "http://127.0.0.1:$PORT/api/create_namespace" -d '{"title":"fuzz"}' >/dev/null
TOKEN=$("$BIN" service create fuzz --storage fuzz --role admin --prefix fuzz --origin '*' "${SETTINGS[@]}" | tail -n1)

run() {
  "$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/openapi.json" \
    --header "X-Kevi-Token: $TOKEN" \
    --checks all \
    --max-time "$SECONDS_BUDGET" \
    --workers 1 \
    --warnings off 2>&1 | tee "$DIR/schemathesis.log"
  return "${PIPESTATUS[0]}"
}
status=0
run || status=$?
# Schemathesis runs one worker: with two, its threads parse Python source at the same time, and
# CPython 3.11 then stops it with "AST constructor recursion depth mismatch" (a Runtime Error of
# its own, seen in most two-worker runs here). Should such an error still come, a run with no
# failure but that error is run again, once. A failure of the server's is never retried.
if [ $status -ne 0 ] && ! grep -qE "[0-9]+ failures? in" "$DIR/schemathesis.log" && grep -q "Runtime Error" "$DIR/schemathesis.log"; then
  echo "fuzz-api: Schemathesis stopped on an error of its own; running it again" >&2
  status=0
  run || status=$?
fi
if [ $status -ne 0 ]; then
  echo "fuzz-api: the server's log:" >&2
  tail -n 50 "$DIR/server.log" >&2
fi
exit $status

#!/usr/bin/env bash
# Runs the release build as the container image would, without a container engine (`make
# image-check`, part of `make test`, after `make release`).
#
# It reads the Dockerfile's final stage and lays out a temporary root as that stage does: every
# file it copies from the build (/src/...) or from the context at the same path under the root,
# and a fresh, empty /data. Then it starts the binary as ENTRYPOINT + CMD do, in WORKDIR, with
# only the stage's ENV (paths moved under the root, a free port instead of 3000), as the stage's
# USER when this runs as root, and checks:
#   1. as the image starts by default (0.0.0.0, no sign-in configured): refused, with the reason;
#   2. with `serve --insecure-no-auth` (one person): the HEALTHCHECK command answers healthy, the
#      console page `/` and its stylesheet are served, a namespace and a key are written through
#      the script API and the key reads back, the database file is under /data; SIGTERM stops it;
#   3. with the seed console's Access settings (TEAM_DOMAIN, POLICY_AUD): healthy, `/` is 401;
#   4. with HTTPS (KVM_TLS_CERT, KVM_TLS_KEY: a certificate made here with openssl): the HEALTHCHECK
#      command answers healthy over HTTPS, and plain HTTP is not answered.
# Any failure stops the run with a message saying what went wrong, and the server's log.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  if [ -n "${log:-}" ] && [ -f "$log" ]; then
    echo "image-check: the end of the server's log:" >&2
    tail -n 40 "$log" >&2
  fi
  echo "image-check: FAILED: $*" >&2
  exit 1
}

[ -x target/release/kv-manager ] && [ -d target/site/pkg ] ||
  fail "no release build (target/release/kv-manager, target/site): run make release first"

# The final stage: from the last FROM to the end.
# KVM_CHECK_DOCKERFILE reads another (scripts/image-check-selftest.sh checks broken copies).
dockerfile=${KVM_CHECK_DOCKERFILE:-Dockerfile}
[ -f "$dockerfile" ] || fail "no Dockerfile at $dockerfile"
stage=$(awk '/^FROM /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$dockerfile")
instr() { printf '%s\n' "$stage" | sed -n "s/^$1 //p"; }
json_words() { python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])))' "$1"; }

root=$(mktemp -d "${TMPDIR:-/tmp}/kvm-image-check.XXXXXX")
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$root"
}
trap cleanup EXIT
chmod 755 "$root"

# The files the stage copies. The build stage works in /src (its WORKDIR): /src/<path> is <path>
# here; other build-stage files (the CA bundle) are the system's and are left out.
while read -r line; do
  read -ra words <<<"$line"
  from=""
  args=()
  for w in "${words[@]}"; do
    case $w in
      --from=*) from=${w#--from=} ;;
      --*) ;;
      *) args+=("$w") ;;
    esac
  done
  src=${args[0]}
  dst=${args[1]}
  if [ -n "$from" ]; then
    case $src in
      /src/*) src=${src#/src/} ;;
      *) continue ;;
    esac
  fi
  [ -e "$src" ] || fail "the Dockerfile copies $src, which is not here"
  mkdir -p "$root$(dirname "$dst")"
  cp -a "$src" "$root$dst"
done < <(instr COPY)
mkdir -p "$root/data"

entrypoint=$(instr ENTRYPOINT)
cmd=$(instr CMD)
workdir=$(instr WORKDIR | tail -n1)
user=$(instr USER | tail -n1)
expose=$(instr EXPOSE | tail -n1)
health=$(printf '%s\n' "$stage" | sed -n 's/^HEALTHCHECK .*CMD //p')
[ -n "$entrypoint" ] && [ -n "$cmd" ] && [ -n "$health" ] && [ -n "$workdir" ] ||
  fail "the Dockerfile's final stage lacks ENTRYPOINT, CMD, HEALTHCHECK or WORKDIR"
mapfile -t entry_words < <(json_words "$entrypoint")
mapfile -t cmd_words < <(json_words "$cmd")
mapfile -t health_words < <(json_words "$health")
entry_words[0]=$root${entry_words[0]}
health_words[0]=$root${health_words[0]}
[ -x "${entry_words[0]}" ] || fail "ENTRYPOINT ${entry_words[0]#"$root"} is not a file the stage copies"
[ -x "${health_words[0]}" ] || fail "the HEALTHCHECK command ${health_words[0]#"$root"} is not a file the stage copies"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The stage's ENV, each absolute path moved under the root and the port replaced.
image_env=()
while read -r assignment; do
  name=${assignment%%=*}
  value=${assignment#*=}
  for dir in /app /data; do value=${value//$dir/$root$dir}; done
  if [ "$name" = KVM_ADDR ]; then
    [ "${value##*:}" = "$expose" ] || fail "KVM_ADDR ($value) does not listen on the EXPOSEd port $expose"
    value=${value%:*}:$port
  fi
  image_env+=("$name=$value")
done < <(instr ENV)
[ ${#image_env[@]} -gt 0 ] || fail "the Dockerfile's final stage sets no ENV"

case ${user%%:*} in
  "" | 0 | root) fail "the final stage must run as a user other than root (USER)" ;;
esac
# As the image's user when this runs as root (it owns /data only, as in the image).
as_user=()
if [ "$(id -u)" = 0 ] && [ -n "$user" ] && command -v setpriv >/dev/null; then
  uid=${user%%:*}
  gid=${user#*:}
  chown "$uid:$gid" "$root/data"
  as_user=(setpriv --reuid="$uid" --regid="$gid" --clear-groups)
else
  echo "image-check: not root: the server runs as $(id -un), not as the image's user $user"
fi
# Nothing else from this shell's environment: the image's ENV, a PATH, and HOME (the user's, /data).
base_env=(env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$root/data" "${image_env[@]}")
url=http://127.0.0.1:$port

start() { # start <log> <extra environment...> -- <extra arguments...>
  log=$1
  shift
  local extra_env=() extra_args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do extra_env+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  extra_args=("$@")
  (cd "$root${workdir}" && exec "${as_user[@]}" "${base_env[@]}" "${extra_env[@]}" \
    "${entry_words[@]}" "${cmd_words[@]}" "${extra_args[@]}") >"$log" 2>&1 &
  server=$!
}

wait_healthy() { # wait_healthy <extra environment...>: the HEALTHCHECK command sees what the server sees
  for _ in $(seq 1 100); do
    kill -0 "$server" 2>/dev/null || fail "the server exited before it was healthy"
    if "${base_env[@]}" "$@" "${health_words[@]}" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "the HEALTHCHECK command did not report healthy within 20 s"
}

stop() {
  kill -TERM "$server"
  for _ in $(seq 1 50); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$server" 2>/dev/null && fail "the server did not stop within 10 s of SIGTERM"
  wait "$server" || fail "the server exited with status $? after SIGTERM"
  server=""
}

api() { # api <function> <json>: POST /api/<function>, prints the body; fails unless 200
  local out status
  out=$(curl -sS -o - -w '\n%{http_code}' -H 'Content-Type: application/json' -H 'Accept: application/json' \
    "$url/api/$1" -d "$2") || fail "POST /api/$1: no answer"
  status=${out##*$'\n'}
  [ "$status" = 200 ] || fail "POST /api/$1 answered $status: ${out%$'\n'*}"
  printf '%s' "${out%$'\n'*}"
}
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

echo "image-check: the image's layout under $root: ${entry_words[0]#"$root"}, $(instr ENV | grep '^KVM_SITE_ROOT=' || true), /data"

# 1. As the image starts by default: 0.0.0.0 without sign-in is refused.
start "$root/refused.log" --
for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.2; done
kill -0 "$server" 2>/dev/null && fail "the default start (0.0.0.0, no sign-in) was not refused"
if wait "$server"; then fail "the default start (0.0.0.0, no sign-in) exited with status 0"; fi
server=""
grep -q 'refusing to listen' "$log" || fail "the default start was refused without saying why"
echo "image-check: ok: 0.0.0.0 without sign-in is refused: $(grep -o 'refusing to listen on [^ ]*' "$log")"

# 2. One person: `serve --insecure-no-auth`.
start "$root/no-auth.log" -- --insecure-no-auth
wait_healthy
echo "image-check: ok: the HEALTHCHECK command reports healthy"
page=$(curl -sS -f "$url/") || fail "GET / did not answer 200"
grep -q '<html' <<<"$page" || fail "GET / is not an HTML page"
css=$(grep -o '/pkg/[^"]*\.css' <<<"$page" | head -n1)
[ -n "$css" ] || fail "the console page links no stylesheet under /pkg/"
curl -sS -f -o /dev/null "$url$css" || fail "the stylesheet $css is not served from the site files"
echo "image-check: ok: GET / and $css"
namespace=$(api create_namespace '{"title":"image-check"}' | json_field id)
api put_key "{\"namespace_id\":\"$namespace\",\"key\":\"greeting\",\"value\":\"hello from the image\"}" >/dev/null
value=$(api get_key "{\"namespace_id\":\"$namespace\",\"key\":\"greeting\"}" | json_field value)
[ "$value" = "hello from the image" ] || fail "get_key read back \"$value\", not what put_key wrote"
[ -f "$root/data/kv-manager.db" ] || fail "the database is not under /data"
if [ ${#as_user[@]} -gt 0 ]; then
  [ "$(stat -c %u "$root/data/kv-manager.db")" = "$uid" ] || fail "the database is not owned by the image's user $uid"
fi
echo "image-check: ok: a key written and read back; the database is /data/kv-manager.db"
stop
echo "image-check: ok: stopped by SIGTERM"

# 3. Access sign-in with the seed console's names: healthy, and the console asks for a token.
start "$root/access.log" TEAM_DOMAIN=https://image-check.cloudflareaccess.com POLICY_AUD=image-check --
wait_healthy
status=$(curl -sS -o /dev/null -w '%{http_code}' "$url/") || fail "GET / with Access sign-in: no answer"
[ "$status" = 401 ] || fail "GET / without an Access token answered $status, not 401"
stop
echo "image-check: ok: with TEAM_DOMAIN and POLICY_AUD it listens on 0.0.0.0, is healthy, and / wants a token"

# 4. HTTPS without a proxy: a certificate for the host name users reach, not the loopback.
command -v openssl >/dev/null || fail "openssl (the command) is needed to make the test certificate"
mkdir -p "$root/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=kv.example.com \
  -keyout "$root/tls/key.pem" -out "$root/tls/cert.pem" 2>/dev/null || fail "openssl could not make a certificate"
chmod a+r "$root/tls/key.pem"
tls_env=(KVM_TLS_CERT="$root/tls/cert.pem" KVM_TLS_KEY="$root/tls/key.pem")
start "$root/tls.log" "${tls_env[@]}" -- --insecure-no-auth
wait_healthy "${tls_env[@]}"
status=$(curl -sS -k -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/health") || fail "GET /health over HTTPS: no answer"
[ "$status" = 200 ] || fail "GET /health over HTTPS answered $status"
if "${base_env[@]}" "${health_words[@]}" >/dev/null 2>&1; then
  fail "the HEALTHCHECK command without the TLS settings said healthy (plain HTTP to an HTTPS port)"
fi
stop
echo "image-check: ok: with KVM_TLS_CERT and KVM_TLS_KEY the HEALTHCHECK command reports healthy over HTTPS"
echo "image-check: passed"

#!/usr/bin/env bash
# Shows that scripts/image-check.sh fails on what it is meant to catch (`make image-check`, after the
# check itself passed): each case runs it on a copy of the Dockerfile with one thing broken and
# expects a failure whose message names it.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvm-image-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0
case_no=0

expect_failure() { # expect_failure <title> <expected message> <sed expression>
  local title=$1 expected=$2 edit=$3 copy out
  case_no=$((case_no + 1))
  copy="$tmp/Dockerfile.$case_no"
  sed -e "$edit" Dockerfile >"$copy"
  if cmp -s Dockerfile "$copy"; then
    echo "image-check-selftest: $title: the edit changed nothing in the Dockerfile: update this case" >&2
    failed=1
    return
  fi
  if out=$(KVM_CHECK_DOCKERFILE="$copy" scripts/image-check.sh 2>&1); then
    echo "image-check-selftest: $title: image-check passed a broken Dockerfile" >&2
    failed=1
  elif ! grep -qF -- "$expected" <<<"$out"; then
    echo "image-check-selftest: $title: image-check failed without naming it (expected \"$expected\"):" >&2
    tail -n 5 <<<"$out" >&2
    failed=1
  else
    echo "image-check-selftest: ok: $title"
  fi
}

expect_failure "a HEALTHCHECK command the stage does not copy" "is not a file the stage copies" \
  's|^HEALTHCHECK \(.*\) CMD \["/app/kv-manager", "health"\]|HEALTHCHECK \1 CMD ["/app/probe"]|'
expect_failure "running as root" "must run as a user other than root" 's|^USER .*|USER root|'
expect_failure "the site files where the server does not look" "is not served from the site files" \
  's|^ENV KVM_SITE_ROOT=/app/site|ENV KVM_SITE_ROOT=/app/elsewhere|'
expect_failure "the database outside the volume (where the image's user cannot write)" "the server exited before it was healthy" \
  's|^ENV KVM_DATABASE_URL=sqlite:///data/|ENV KVM_DATABASE_URL=sqlite:///app/|'
expect_failure "a listening port other than the exposed one" "does not listen on the EXPOSEd port" \
  's|^EXPOSE 3000|EXPOSE 8080|'
[ "$failed" = 0 ] || exit 1
echo "image-check-selftest: passed ($case_no broken Dockerfiles caught)"

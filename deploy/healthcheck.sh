#!/bin/bash
# The container image's HEALTHCHECK: GET /health from the kv-manager in this container, with bash
# alone (the final stage has no curl or wget). Exits 0 when the answer is 200 (the server is up and
# its database answers); 1 otherwise. The port is KVM_ADDR's; a wildcard address is reached on the
# loopback, which every sign-in mode answers, with `Host: localhost` (always allowed).
# scripts/image-check.sh runs this same file against the release build.
set -u
addr=${KVM_ADDR:-127.0.0.1:3000}
port=${addr##*:}
host=${addr%:*}
host=${host#[}
host=${host%]}
case $host in
  0.0.0.0 | "") host=127.0.0.1 ;;
  ::) host=::1 ;;
esac
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
read -r -t 5 _ status _ <&3 || exit 1
[ "$status" = 200 ]

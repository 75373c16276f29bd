# kv-manager's container image.
#
# The build stage runs `make build`, the very target `make run` builds with: scripts/setup.sh
# (tools), then scripts/release.sh (`cargo leptos build --release --split`) with the Makefile's
# RUSTFLAGS. CI (`make test`) runs the same release build and then scripts/image-check.sh, which
# lays the binary and the site out as the final stage below does, starts it as ENTRYPOINT and CMD
# do with the ENV below, and checks /health (through the HEALTHCHECK command), a page and a write.
# No container engine was available where this file was written: hadolint checks it, the image
# itself has not been built there.
#
# The final stage holds the binary, the site (target/site: JS, WASM, CSS, public assets), the CA
# bundle for outgoing TLS (Cloudflare's API, Access signing keys, S3) and the health probe. The
# migrations are compiled into the binary (the `migration` crate) and run at start-up: no files.

ARG RUST_VERSION=1.95
# Node.js runs build tools only (Tailwind, wasm-opt via `npm ci`): the major version of the
# developers' machines and CI.
ARG NODE_VERSION=20
ARG DEBIAN=bookworm

FROM node:${NODE_VERSION}-${DEBIAN}-slim AS node

FROM rust:${RUST_VERSION}-${DEBIAN} AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && node --version && npm --version
WORKDIR /src
# The tools first, in a layer of their own (they depend only on these files): cargo-leptos, the
# wasm-bindgen CLI matching Cargo.lock, the wasm32 target and the npm packages.
COPY scripts/setup.sh scripts/setup.sh
COPY Cargo.lock package.json package-lock.json ./
RUN scripts/setup.sh
COPY . .
# `make build` runs scripts/setup.sh again (everything is there: it only checks) and then the
# release build of the server and the site.
RUN make build

# Debian slim: the same Debian as the build stage, so the same glibc, and nothing installed. The
# HEALTHCHECK is the binary itself (`kv-manager health`: GET /health over HTTP or HTTPS, as the
# server's own settings say), so no curl or shell is needed; a distroless base would do too, but
# no image has been built on the machines this project is tested on, and this one is the proven
# choice.
FROM debian:${DEBIAN}-slim
RUN groupadd --system --gid 10001 kvm \
    && useradd --system --uid 10001 --gid kvm --home-dir /data --no-create-home --shell /usr/sbin/nologin kvm \
    && mkdir /data \
    && chown kvm:kvm /data
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /src/target/release/kv-manager /app/kv-manager
COPY --from=build /src/target/site /app/site
# Settings come from the environment (README, Configuration): any KVM_* variable, and the seed
# console's names TEAM_DOMAIN, POLICY_AUD (Cloudflare Access), ACCOUNT_ID and API_KEY (the
# cloudflare backend). The database and every file the server writes live under /data.
# Listening on 0.0.0.0 is refused unless Access sign-in is configured (TEAM_DOMAIN and POLICY_AUD)
# or `serve --insecure-no-auth` is asked for (and then only this container's own requests are
# answered), as outside a container.
ENV KVM_ADDR=0.0.0.0:3000
ENV KVM_DATABASE_URL=sqlite:///data/kv-manager.db?mode=rwc
ENV KVM_DATA_DIR=/data
ENV KVM_SITE_ROOT=/app/site
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["/app/kv-manager", "health"]
ENTRYPOINT ["/app/kv-manager"]
CMD ["serve"]

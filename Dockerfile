# syntax=docker/dockerfile:1
# The token handler's image: the BFF (`bff`, the default) and the standalone
# OAuth proxy (`proxy`), both static musl binaries, on an empty base.
#
#   docker build -t token-handler .
#   docker run -p 8080:8080 -e TH_OIDC__ISSUER=… token-handler
#   docker run --entrypoint /usr/local/bin/proxy token-handler --config …
#
# Builder: the official Rust image on Alpine, whose host target is musl, so
# `cargo build` links statically (crt-static is musl's default) on amd64 and
# arm64 alike. It carries gcc and musl-dev, which ring's C code needs.
ARG RUST_VERSION=1.95
ARG ALPINE_VERSION=3.23

FROM rust:${RUST_VERSION}-alpine${ALPINE_VERSION} AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and target/ between builds; the binaries
# are copied out of the mounted target/ in the same step. /out is laid out as
# the final image's root.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p th-bff --bin bff -p th-proxy --bin proxy \
 && mkdir -p /out/usr/local/bin /out/etc/ssl/certs \
 && cp target/release/bff target/release/proxy /out/usr/local/bin/ \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/

# Final stage: nothing but the two binaries and the CA bundle; no shell, no
# package manager, no libc. scripts/test.d/70-container.sh builds this very
# stage (everything from the next FROM on) around binaries built on the host.
FROM scratch
COPY --from=builder /out/ /
# A numeric, non-root user (no /etc/passwd is needed for a number).
USER 65532:65532
ENV TH_LISTEN=0.0.0.0:8080 \
    TH_LOG__FORMAT=json \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EXPOSE 8080
# No curl in a scratch image: the binary probes its own /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/bff", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
# SIGTERM (docker stop, ECS) lets in-flight requests finish.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/bff"]

# rampart's image, for machines with a container engine. The test suite builds the same image
# without one (scripts/image: the static binary packed by tools/deploy-tools/ocipack).
#
#   docker build -t rampart:0.1.0 .
#
# Stage 1: a statically linked release binary (glibc with crt-static: no loader, no shared
# libraries at run time).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --target x86_64-unknown-linux-gnu --bin rampart \
 && cp target/x86_64-unknown-linux-gnu/release/rampart /rampart

# Stage 2: distroless/static (CA certificates, time zones, passwd; no shell), as non-root.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /rampart /rampart
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/rampart", "run"]

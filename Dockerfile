# lowcode-emu in a container: a fully static release binary on a static, distroless, non-root base.
#   docker build -t lowcode-emu .
#   docker run --rm -p 8080:8080 -e LOWCODE_EMU_ADMIN_TOKEN=change-me lowcode-emu     # the embedded demo
#   docker run --rm -p 8080:8080 -e LOWCODE_EMU_ADMIN_TOKEN=change-me -v $PWD/my.toml:/scenario.toml:ro \
#     -e LOWCODE_EMU_SCENARIO=/scenario.toml lowcode-emu
# The container listens on 0.0.0.0, so set LOWCODE_EMU_ADMIN_TOKEN: without it anyone who reaches the port
# can read, reset and replace everything under /__emu/ (the health check needs no token).
# The build is the one .ci/run checks (static-pie, glibc linked in; see docs/ci.md), for the builder's own
# architecture, so the runtime image needs no libc at all.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN target="$(rustc -vV | sed -n 's/^host: //p')" \
 && RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --bin lowcode-emu --target "$target" \
 && cp "target/$target/release/lowcode-emu" /lowcode-emu

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /lowcode-emu /usr/local/bin/lowcode-emu
# Inside the container only: listen on every interface so the published port reaches it.
ENV LOWCODE_EMU_HOST=0.0.0.0 \
    LOWCODE_EMU_PORT=8080 \
    LOWCODE_EMU_LOG_FORMAT=json
EXPOSE 8080
USER nonroot
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 CMD ["/usr/local/bin/lowcode-emu", "health"]
ENTRYPOINT ["/usr/local/bin/lowcode-emu"]
CMD ["serve"]

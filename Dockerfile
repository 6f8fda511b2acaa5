# dockman agent: the static binary alone, in an empty image (no shell, no libc,
# no package to patch). Build it with `make image`, which runs `make static`
# first: the build context is bin/dockman-static and nothing else (see
# .dockerignore), so the classic builder of engine 20.10 builds it with no
# registry. How to run it: docs/deployment.md.
FROM scratch

ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown

LABEL org.opencontainers.image.title="dockman" \
      org.opencontainers.image.description="dockman agent: keeps every container's log in a file, enforces a snapshot, serves a read-only status API and Prometheus metrics" \
      org.opencontainers.image.source="https://github.com/dockman/dockman" \
      org.opencontainers.image.documentation="https://github.com/dockman/dockman/blob/main/docs/deployment.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"

COPY bin/dockman-static /dockman

# Enforcement never touches a dockman agent's container, whichever agent
# enforces: during a start-first upgrade the old agent must not remove the
# new one as an intruder, nor the new one start the old one again.
LABEL dockman.enforce="ignore"

# The deployment mounts the token file here (a compose or Swarm secret, a
# Kubernetes Secret); the API listens on :8080, which needs a token.
ENV DOCKMAN_API_TOKEN_FILE=/run/secrets/dockman-api-token

EXPOSE 8080

# `dockman health` asks 127.0.0.1:8080/readyz: healthy while the API answers
# and the engine does. A 5 s interval makes a new container healthy about 5 s
# after it starts (engine 20.10 has no --start-interval); each probe is one
# short exec of a static binary.
HEALTHCHECK --interval=5s --timeout=3s --start-period=15s --retries=3 \
    CMD ["/dockman", "health"]

# SIGTERM ends the agent cleanly (exit 0): the deployments give it 30 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/dockman"]
CMD ["agent", "--api", ":8080", "--state-dir", "/var/lib/dockman", "--log-dir", "/var/log/dockman", "--log-format", "json"]

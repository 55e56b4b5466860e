# cap-token-refresh: the image the CronJob runs (manifests/cap-cronjob.yaml).
#
#   podman build -t cap-token-refresh:0.1.0 .
#
# Base images are arguments so that a disconnected (C2S/SC2S) build can point at a mirror:
#   podman build --build-arg NODE_IMAGE=mirror.example/library/node:20-bookworm-slim \
#                --build-arg BASE_IMAGE=mirror.example/library/debian:bookworm-slim -t ... .
ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

# --- build: install the locked dependencies and bundle everything into dist/ ---------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: the bundle needs none (esbuild finds its binary in its platform package).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build \
 && find dist -name '*.map' -delete \
 && node dist/cap-token-refresh.js --version

# --- final: Node.js and the bundle, nothing else (no npm, no node_modules) ------------------
# The official node:20-bookworm-slim image is this same Debian with the node binary added;
# node needs only glibc, libstdc++ and libgcc_s, which bookworm-slim has.
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="cap-token-refresh" \
      org.opencontainers.image.description="Keeps OpenShift AWS credential Secrets alive with STS credentials from a CAP over mutual TLS" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /usr/local/bin/node /usr/local/bin/node
# Owned by root and world-readable (0644/0755 as built): the user cannot change the code, and
# OpenShift's random UID (group 0) can read it.
COPY --from=build /src/dist /app/dist
ENV NODE_ENV=production
WORKDIR /app
USER 1001:0
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/dist/cap-token-refresh.js"]
CMD ["refresh"]

# cap-token-refresh: the image the CronJob runs (manifests/cap-cronjob.yaml).
#
#   podman build -t cap-token-refresh:0.1.0 .
#
# Disconnected (C2S/SC2S) builds: the Node.js image from a mirror, npm ci through a registry
# mirror whose certificate is signed by a private CA (a build secret; a token, if the mirror
# wants one, in an .npmrc given as a build secret too, so neither lands in a layer):
#   podman build --build-arg NODE_IMAGE=<mirror>/library/node:20-bookworm-slim \
#                --build-arg NPM_REGISTRY=https://<npm mirror>/ \
#                --secret id=npm_ca,src=/path/to/ca.crt [--secret id=npmrc,src=$HOME/.npmrc] -t ... .
# `npm run test:image` builds it this way from a base image made with debootstrap.
ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim

# --- build: install the locked dependencies and bundle everything into dist/ ---------------
FROM ${NODE_IMAGE} AS build
ARG NPM_REGISTRY=
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: the bundle needs none (esbuild finds its binary in its platform package).
# The CA is added to Node's own list (NODE_EXTRA_CA_CERTS), so the public registry still works.
RUN --mount=type=secret,id=npm_ca --mount=type=secret,id=npmrc \
    if [ -n "$NPM_REGISTRY" ]; then export npm_config_registry="$NPM_REGISTRY"; fi; \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    if [ -s /run/secrets/npmrc ]; then export npm_config_userconfig=/run/secrets/npmrc; fi; \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && find dist -name '*.map' -delete
# The final stage's root: node and exactly the shared libraries it links (ldd), at the paths
# its ELF interpreter and the loader's default search look in; an empty /tmp.
RUN set -e; mkdir -p /rootfs/usr/local/bin /rootfs/tmp /rootfs/app; chmod 1777 /rootfs/tmp; \
    cp /usr/local/bin/node /rootfs/usr/local/bin/node; \
    for lib in $(ldd /usr/local/bin/node | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do \
      mkdir -p "/rootfs$(dirname "$lib")"; cp -L "$lib" "/rootfs$lib"; \
    done; \
    ls -lR /rootfs

# --- final: node, the libraries it links, and the bundle; no shell, no npm, no node_modules --
FROM scratch
LABEL org.opencontainers.image.title="cap-token-refresh" \
      org.opencontainers.image.description="Keeps OpenShift AWS credential Secrets alive with STS credentials from a CAP over mutual TLS" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /rootfs/ /
# Owned by root and world-readable (0644/0755 as built): the user cannot change the code, and
# OpenShift's random UID (group 0) can read it.
COPY --from=build /src/dist /app/dist
ENV NODE_ENV=production PATH=/usr/local/bin
WORKDIR /app
# The check runs in this stage, on what ships: a missing library or module fails the build.
RUN ["/usr/local/bin/node", "/app/dist/cap-token-refresh.js", "--version"]
USER 1001:0
ENTRYPOINT ["/usr/local/bin/node", "--max-semi-space-size=1", "/app/dist/cap-token-refresh.js"]
CMD ["refresh"]

# clusterdns image: Node.js 24 on Debian slim, production dependencies only, non-root.
# Build and push: see deploy/README.md ("The image").

# Stage 1: production dependencies (no devDependencies, no install scripts).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Stage 2: the compiled build (dist/): the server runs plain JavaScript, so Node's type stripper
# (~17 MiB RSS) is never loaded. Same compiler and options as `npm run build`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
COPY scripts ./scripts
RUN node scripts/build-dist.ts

# Stage 3: the runtime.
FROM node:24-bookworm-slim
# Port 53 as a non-root user needs CAP_NET_BIND_SERVICE on the binary (as CoreDNS's image does with
# setcap); the manifests add the capability to the container and drop all others. npm, npx and yarn
# are not needed at run time: removed. One layer, so the setcap tool leaves nothing behind.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/local/bin/node \
 && apt-get purge -y --auto-remove libcap2-bin \
 && rm -rf /var/lib/apt/lists/* /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
# The compiled build only (bin/server-entry.js runs dist/ when there is no src/); tests and benchmarks stay out.
COPY --from=build /app/dist ./dist
# The demo cluster, for `clusterdns demo` (a few KB).
COPY examples ./examples
USER 65534:65534
EXPOSE 53/udp 53/tcp 9153 8080 8181
ENTRYPOINT ["node", "/app/bin/clusterdns.js"]
CMD ["-conf", "/etc/coredns/Corefile"]

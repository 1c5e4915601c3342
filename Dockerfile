# clusterdns image: Node.js 24, production dependencies only, runs as non-root.
FROM node:24-bookworm-slim
WORKDIR /app
# Port 53 as a non-root user: give node the one capability it needs (the Deployment adds NET_BIND_SERVICE).
RUN apt-get update && apt-get install -y --no-install-recommends libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/local/bin/node \
 && apt-get purge -y libcap2-bin && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY examples ./examples
USER 65534:65534
EXPOSE 53 53/udp 9153 8080 8181
ENTRYPOINT ["node", "/app/bin/clusterdns.js"]
CMD ["-conf", "/etc/coredns/Corefile"]

# FAMOS 2FA. The build stage compiles dist/ and makes the runtime tree with deploy/runtime-tree.sh,
# the script test/ops/runtime-tree.test.ts runs to prove that tree read-only as an unprivileged user;
# the final stage holds that tree and nothing else (no compiler, no sources, no dev dependencies).
#
#   docker build -t famos .
#   docker run --read-only --tmpfs /tmp --stop-timeout 30 -v famos-data:/data -p 3000:3000 \
#     -e FAMOS_SECRET_FILE=/run/secrets/famos_secret … famos
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
# node-gyp builds better-sqlite3's addon against the image's own Node headers.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY package.json package-lock.json ./
# The build needs esbuild only: install scripts are skipped here, so SQLite is compiled once, by
# runtime-tree.sh's `npm ci --omit=dev`, for the tree the image ships.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && deploy/runtime-tree.sh /app && chmod -R a-w /app

FROM node:${NODE_VERSION}-bookworm-slim
# A system account of its own, no login shell; it owns only the data volume.
RUN groupadd --system --gid 10001 famos \
 && useradd --system --uid 10001 --gid famos --home-dir /data --shell /usr/sbin/nologin famos \
 && mkdir /data && chown famos:famos /data && chmod 0700 /data
COPY --from=build /app /app
ENV NODE_ENV=production \
    FAMOS_HOST=0.0.0.0 \
    FAMOS_PORT=3000 \
    FAMOS_DATABASE_URL=sqlite:/data/famos.db \
    UV_THREADPOOL_SIZE=2 \
    MALLOC_ARENA_MAX=2
# SQLite's database (the default); with PostgreSQL the volume stays empty.
VOLUME ["/data"]
WORKDIR /data
USER famos:famos
EXPOSE 3000
# The image has no curl: Node's own fetch asks the liveness endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.FAMOS_PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/bin/famos.js"]
CMD ["serve"]

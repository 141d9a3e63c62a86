# emitter-ts: the broker in a container.
#   docker build -t emitter-ts .        (or podman build)
#   docker run -p 8080:8080 -e EMITTER_LICENSE=<licence> -v emitter-data:/var/lib/emitter emitter-ts
# BASE is any Debian-based image with Node.js 20 and npm in /usr/local (node:20-slim); scripts/container-check.sh
# builds one locally where no registry image can be pulled.
ARG BASE=node:20-slim

FROM ${BASE} AS build
# better-sqlite3 downloads a prebuilt binary when it can and compiles SQLite otherwise: have the compiler,
# and Node's headers from the image itself rather than a download.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
# Behind a TLS-intercepting proxy, npm needs its certificate authority: pass the file's path in the build
# container (and mount it there), e.g. --build-arg NODE_EXTRA_CA_CERTS=/run/proxy-ca.crt.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
# Sources first: npm ci builds dist/ (the package's `prepare` script).
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/
COPY examples/build-bundle.mjs examples/
COPY src src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM ${BASE}
ENV NODE_ENV=production
RUN groupadd --system emitter \
  && useradd --system --gid emitter --home-dir /var/lib/emitter --shell /usr/sbin/nologin emitter \
  && mkdir -p /var/lib/emitter \
  && chown emitter:emitter /var/lib/emitter
WORKDIR /app
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY package.json LICENSE README.md emitter.conf.example ./
# The working directory is the data volume: storage.provider "ssd" keeps its database in ./data there, and an
# emitter.conf put there is read (or pass -config <file>).
WORKDIR /var/lib/emitter
VOLUME /var/lib/emitter
EXPOSE 8080
USER emitter
# /health answers 200 while the broker serves, 503 once it is stopping. The port follows EMITTER_LISTEN.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const port = (process.env.EMITTER_LISTEN || ':8080').split(':').pop(); fetch('http://127.0.0.1:' + port + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/cli/main.js"]

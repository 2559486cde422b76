# syntax=docker/dockerfile:1
# The Foresight image (docs/deployment.md). Three stages:
#   build  compiles TypeScript with the dev dependencies,
#   deps   installs the production dependencies only (npm ci --omit=dev),
#   run    a distroless Node 20 base (no shell, no package manager) running as uid 65532 (nonroot),
#          made to run on a read-only root file system.
# test/integration/image.test.ts stages exactly what the run stage copies and starts it as uid 65532
# on a read-only tree; keep the two in step.
ARG NODE_BUILD_IMAGE=docker.io/library/node:20-bookworm-slim
ARG NODE_RUN_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

FROM ${NODE_BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install script of ours needs to run (core-js and protobufjs only print notices).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_BUILD_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# The run stage has no shell: its writable folder is made here and copied over with its owner.
RUN mkdir -p /state/models

FROM ${NODE_RUN_IMAGE} AS run
ARG FORESIGHT_REVISION=unknown
LABEL org.opencontainers.image.title="foresight" \
      org.opencontainers.image.description="Predictive autoscaling for Kubernetes and Prometheus" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="${FORESIGHT_REVISION}"
ENV NODE_ENV=production \
    FORESIGHT_REVISION=${FORESIGHT_REVISION}
# The application tree is owned by root and read-only to the service.
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The KEDA external scaler's service definition, read at run time from beside dist/.
COPY src/publish/keda/externalscaler.proto ./src/publish/keda/
COPY package.json ./
COPY demo ./demo
COPY policies ./policies
# Everything the service writes goes under its working directory (relative scaling.modelPath
# "models", externalMetrics.pkiDir ".foresight"): a volume, so that the root file system can be
# read-only. Relative rule files are looked up here first, then under /app.
WORKDIR /var/lib/foresight
COPY --from=deps --chown=65532:65532 /state /var/lib/foresight
VOLUME ["/var/lib/foresight", "/tmp"]
USER 65532:65532
EXPOSE 8000 6443 9000
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli/main.js"]
CMD ["serve"]

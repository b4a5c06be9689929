# The product's image: the prediction API (default command) and the pipeline worker
# (`node dist/worker/main.js`). Node only: MLflow and Temporal are reached over the network.
# Build (CI passes the three build args; see .github/workflows/release.yml):
#   docker build \
#     --build-arg ICECREAM_GIT_COMMIT=$(git rev-parse HEAD) \
#     --build-arg ICECREAM_PACKAGE_LOCK_SHA256=$(sha256sum package-lock.json | cut -c1-64) \
#     --build-arg ICECREAM_PYTHON_TOOLS_LOCK_SHA256=$(sha256sum python-tools.lock | cut -c1-64) \
#     --build-arg ICECREAM_GIT_DIRTY=$(test -z "$(git status --porcelain)" && echo false || echo true) \
#     --build-arg ICECREAM_DATA_DVC_SHA256=$(sha256sum data.dvc | cut -c1-64) \
#     -t icecream-mlops .
# The image has no .git: the commit enters as a build arg, is kept as an OCI label and in the
# environment, and the pipeline's provenance (src/pipeline/provenance.ts) records it on every run.
FROM node:20.19.5-bookworm-slim AS build
ARG ICECREAM_PACKAGE_LOCK_SHA256=
ARG ICECREAM_PYTHON_TOOLS_LOCK_SHA256=
WORKDIR /app
COPY package.json package-lock.json python-tools.lock tsconfig.json tsconfig.build.json ./
# lock hashes given as build args must be the hashes of the files this image is built from
RUN for pair in "package-lock.json:$ICECREAM_PACKAGE_LOCK_SHA256" "python-tools.lock:$ICECREAM_PYTHON_TOOLS_LOCK_SHA256"; do \
      file="${pair%%:*}"; want="${pair#*:}"; \
      if [ -n "$want" ]; then echo "$want  $file" | sha256sum -c - || exit 1; fi; \
    done
COPY src ./src
# npm ci runs the prepare script, which compiles src/ to dist/
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20.19.5-bookworm-slim
ARG ICECREAM_GIT_COMMIT=unknown
# whether the checkout was clean, and data.dvc's hash: what lets a run in the image be promoted
ARG ICECREAM_GIT_DIRTY=unknown
ARG ICECREAM_DATA_DVC_SHA256=
ARG ICECREAM_PACKAGE_LOCK_SHA256=
ARG ICECREAM_PYTHON_TOOLS_LOCK_SHA256=
LABEL org.opencontainers.image.title="icecream-mlops" \
      org.opencontainers.image.description="Ice cream sales forecasting: prediction API and Temporal pipeline worker" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.revision="${ICECREAM_GIT_COMMIT}" \
      org.opencontainers.image.base.name="docker.io/library/node:20.19.5-bookworm-slim" \
      io.icecream.package-lock.sha256="${ICECREAM_PACKAGE_LOCK_SHA256}" \
      io.icecream.python-tools-lock.sha256="${ICECREAM_PYTHON_TOOLS_LOCK_SHA256}"
ENV NODE_ENV=production \
    API_HOST=0.0.0.0 \
    API_PORT=8080 \
    LOG_LEVEL=info \
    ICECREAM_GIT_COMMIT=${ICECREAM_GIT_COMMIT} \
    ICECREAM_PACKAGE_LOCK_SHA256=${ICECREAM_PACKAGE_LOCK_SHA256} \
    ICECREAM_PYTHON_TOOLS_LOCK_SHA256=${ICECREAM_PYTHON_TOOLS_LOCK_SHA256} \
    ICECREAM_GIT_DIRTY=${ICECREAM_GIT_DIRTY} \
    ICECREAM_DATA_DVC_SHA256=${ICECREAM_DATA_DVC_SHA256}
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# work folders and the API's model cache (a volume in docker-compose.yml)
RUN mkdir /work && chown node:node /work
ENV ICECREAM_LOCAL_DIR=/work
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.API_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/server/main.js"]

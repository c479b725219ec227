# dumper: backup and restore for MySQL/MariaDB. Three stages: UI build, Python venv, small runtime.
# Build: docker build -t dumper .   Run: see README.md (port 8080, volumes /data/app and /data/backups).

# 1. The Vue UI -> web/public. Static output, so it is built once on the build machine's platform
#    (no npm under QEMU for the arm64 image).
FROM --platform=$BUILDPLATFORM node:20-bookworm-slim AS web
WORKDIR /src/web/app
COPY web/app/package.json web/app/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/app/ ./
RUN npm run build

# 2. The package and its runtime dependencies (PyMySQL, cryptography, isal) in a venv without pip.
#    Same base as the runtime so the musl wheels and the venv's python symlink match.
FROM python:3.11-alpine3.20 AS python
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY dumper/ dumper/
RUN python -m venv --without-pip /opt/venv \
 && pip --python /opt/venv/bin/python install --no-cache-dir . \
 && find /opt/venv -depth -name tests -type d -exec rm -rf {} +

# 3. Runtime: the venv, the built UI, a non-root user owning the two data volumes.
FROM python:3.11-alpine3.20
LABEL org.opencontainers.image.title="dumper" \
      org.opencontainers.image.description="Self-hosted backup and restore for MySQL and MariaDB" \
      org.opencontainers.image.licenses="MIT"
RUN addgroup -S -g 10001 dumper \
 && adduser -S -D -H -u 10001 -G dumper -h /data/app dumper \
 && mkdir -p /data/app /data/backups \
 && chown dumper:dumper /data/app /data/backups
COPY --from=python /opt/venv /opt/venv
COPY --from=web /src/web/public /app/web/public
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_PORT=8080 \
    SQLITE_PATH=/data/app/app.db \
    BACKUP_DIR=/data/backups \
    WEB_DIR=/app/web/public
USER 10001:10001
WORKDIR /data/app
EXPOSE 8080
VOLUME ["/data/app", "/data/backups"]
# No curl in the image: the interpreter that runs the service does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('APP_PORT', '8080'), timeout=4)"]
CMD ["dumper", "serve"]

# syntax=docker/dockerfile:1
# The service as a container: `docker build -t videoberatung-bot .` (docs/deploy.md).
# Two stages: the first builds the virtual environment, the second carries only Python, that
# environment and the app — no compiler, no pip cache, no source tree, no tests, no Node.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY cards ./cards
COPY manifest ./manifest
# A non-editable install: the package data (catalogs, card templates, the tech-check page)
# goes into the environment, so the runtime stage needs no source tree.
RUN /opt/venv/bin/pip install --no-cache-dir . \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="videoberatung-bot" \
      org.opencontainers.image.description="Teams bot preparing Jobcenter clients for a video consultation"
# HOST=0.0.0.0 is refused without Bot Framework credentials (local mode listens on loopback
# only): the container starts only with MicrosoftAppId (and a password or UserAssignedMSI).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOG_FORMAT=json \
    BOT_STORAGE=sqlite:////var/lib/videoberatung/videoberatung.db \
    BOT_UPLOAD_DIR=/var/lib/videoberatung/uploads
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /nonexistent --shell /usr/sbin/nologin bot \
    && install -d -o bot -g bot -m 0700 /var/lib/videoberatung
COPY --from=build /opt/venv /opt/venv
WORKDIR /var/lib/videoberatung
USER 10001:10001
EXPOSE 8080
# Liveness only (the process answers); readiness (/readyz) is the orchestrator's probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]
# SIGTERM: /readyz turns 503, turns in flight finish, schedulers stop, exit 0 (bot/__main__.py).
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]

# Driftline: one image for every role (`driftline serve | sidecar | monitor | db upgrade | ...`).
#
#   docker build -t driftline:dev .
#   docker build --build-arg DRIFTLINE_EXTRAS=onnx,xgboost -t driftline:dev .   # more model formats
#
# No HEALTHCHECK: each role answers on other routes, and docker-compose.yml checks each.

FROM python:3.11-slim AS build
ARG DRIFTLINE_EXTRAS=""
WORKDIR /src
# What the wheel is built from: its metadata, the build hook that ships the migrations (alembic/
# as storage/_migrations, for `driftline db upgrade`), and every package of
# [tool.hatch.build.targets.wheel] in pyproject.toml (tests/integration/test_compose.py checks
# that none is missing). The dashboard's templates and static files are inside dashboards/.
COPY pyproject.toml hatch_build.py README.md alembic.ini ./
COPY alembic ./alembic
COPY monitor ./monitor
COPY collectors ./collectors
COPY detectors ./detectors
COPY storage ./storage
COPY dashboards ./dashboards
COPY serving ./serving
# A virtual environment, copied whole into the final image: no wheels or compilers left behind.
RUN python -m venv /opt/driftline \
    && /opt/driftline/bin/pip install --no-cache-dir ".${DRIFTLINE_EXTRAS:+[$DRIFTLINE_EXTRAS]}"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 driftline
COPY --from=build /opt/driftline /opt/driftline
USER driftline
WORKDIR /home/driftline
# Created by the driftline user, so that named volumes mounted on them (the spool under the
# data directory, compose's token folder) start out writable by it.
RUN mkdir -p /home/driftline/.driftline /home/driftline/secrets
ENV PATH=/opt/driftline/bin:$PATH \
    DRIFTLINE_DATA_DIR=/home/driftline/.driftline \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
EXPOSE 8000 8001
ENTRYPOINT ["driftline"]
CMD ["--help"]

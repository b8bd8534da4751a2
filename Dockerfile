# Driftline: one image for every role (`driftline serve | sidecar | monitor | ...`).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml hatch_build.py README.md alembic.ini ./
COPY alembic ./alembic
COPY monitor ./monitor
COPY collectors ./collectors
COPY detectors ./detectors
COPY storage ./storage
COPY dashboards ./dashboards
COPY serving ./serving
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 driftline
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER driftline
WORKDIR /home/driftline
ENV DRIFTLINE_DATA_DIR=/home/driftline/.driftline \
    PYTHONUNBUFFERED=1
ENTRYPOINT ["driftline"]
CMD ["--help"]

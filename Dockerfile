# syntax=docker/dockerfile:1
# Two images from one file:
#   target `airflow` - the project (Airflow 3.3, dbt, GX, duckdb 2.0.0) installed from uv.lock
#   target `bi`      - Apache Superset with duckdb-engine and the SAME duckdb pin (files written by
#                      duckdb 2.0 cannot be opened by older versions)

ARG PYTHON_VERSION=3.11
ARG UV_VERSION=0.9.5
ARG SUPERSET_VERSION=5.0.0

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---------------------------------------------------------------------------------------------- airflow
FROM python:${PYTHON_VERSION}-slim-bookworm AS airflow
ARG AIRFLOW_UID=50000
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/kam/.venv \
    PATH=/opt/kam/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    DO_NOT_TRACK=1
COPY --from=uv /uv /usr/local/bin/uv
RUN useradd --create-home --uid "${AIRFLOW_UID}" --gid 0 airflow \
    && mkdir -p /opt/kam /opt/airflow /data/landing /data/warehouse \
    && chown -R "${AIRFLOW_UID}:0" /opt/kam /opt/airflow /data
WORKDIR /opt/kam
# dependencies first (cached layer), exactly as locked; no dev tools in the image
COPY --chown=${AIRFLOW_UID}:0 pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY --chown=${AIRFLOW_UID}:0 . .
RUN uv sync --frozen --no-dev
USER ${AIRFLOW_UID}
# the manifest the nightly DAG reads at parse time (the command `make manifest` runs)
RUN KAM_WAREHOUSE_DIR=/tmp/kam-parse kam manifest && rm -rf /tmp/kam-parse
EXPOSE 8080

# ---------------------------------------------------------------------------------------------- bi
FROM apache/superset:${SUPERSET_VERSION} AS bi
ARG DUCKDB_VERSION=2.0.0
ARG DUCKDB_ENGINE_VERSION=0.17.0
ARG PSYCOPG2_VERSION=2.9.13
USER root
# drivers for both warehouse engines: the serving DuckDB file, or the PostgreSQL serving database
RUN pip install --no-cache-dir "duckdb==${DUCKDB_VERSION}" "duckdb-engine==${DUCKDB_ENGINE_VERSION}" \
        "psycopg2-binary==${PSYCOPG2_VERSION}"
USER superset

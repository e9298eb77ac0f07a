#!/usr/bin/env bash
# The KAM warehouse on the compose PostgreSQL, next to (and apart from) Airflow's metadata database.
# Runs once, when the postgres volume is first initialised (/docker-entrypoint-initdb.d), as the
# server's superuser. Creates, when KAM_WAREHOUSE_PASSWORD is set:
#   role  kam         (LOGIN)  owns the serving database `kam` and the build database `kam_build`
#   role  kam_reader  (LOGIN)  the BI role: CONNECT on `kam` only; read-only on the published schemas
#                              (publish grants SELECT on each new marts/ops schema before it swaps them in)
# Both databases use the C collation (ties in rankings order as on DuckDB). Nobody else may connect to
# them, and the warehouse roles cannot connect to Airflow's database.
# Select this warehouse with KAM_WAREHOUSE_URL=postgresql://kam@postgres:5432/kam in .env.
set -euo pipefail
if [[ -z "${KAM_WAREHOUSE_PASSWORD:-}" ]]; then
  echo "kam warehouse: KAM_WAREHOUSE_PASSWORD not set; not creating the warehouse databases (embedded DuckDB)"
  exit 0
fi
: "${KAM_READER_PASSWORD:?set KAM_READER_PASSWORD in .env (the BI role kam_reader)}"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
     -v owner_pw="$KAM_WAREHOUSE_PASSWORD" -v reader_pw="$KAM_READER_PASSWORD" \
     -v airflow_db="${POSTGRES_DB:-airflow}" <<'SQL'
CREATE ROLE kam LOGIN PASSWORD :'owner_pw';
CREATE ROLE kam_reader LOGIN PASSWORD :'reader_pw';
CREATE DATABASE kam OWNER kam TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
CREATE DATABASE kam_build OWNER kam TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
REVOKE ALL ON DATABASE kam FROM PUBLIC;
REVOKE ALL ON DATABASE kam_build FROM PUBLIC;
GRANT CONNECT ON DATABASE kam TO kam_reader;
REVOKE CONNECT ON DATABASE :"airflow_db" FROM PUBLIC;
SQL
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname kam <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
echo "kam warehouse: databases kam (serving) and kam_build (build), roles kam and kam_reader created"

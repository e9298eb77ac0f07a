-- The read-only BI role of a PostgreSQL serving warehouse (issue 16; docs/bi.md "PostgreSQL").
--
-- What `kam warehouse grant-reader kam_reader --create` does, as a script a DBA can read and run:
--
--   psql "host=db port=5432 user=kam dbname=kam" -v reader=kam_reader -v db=kam \
--        -f scripts/postgres-reader-role.sql
--
-- Run it as the warehouse's owner (the role in KAM_WAREHOUSE_URL). Afterwards create the BI logins as
-- members of the reader role, e.g.  CREATE ROLE metabase LOGIN PASSWORD '...' IN ROLE kam_reader;
--
-- The reader role gets CONNECT on the serving database, USAGE + SELECT on marts and ops and on every
-- kept build's schemas (marts__<build>, ops__<build>: rollback targets), and nothing else: no write,
-- no CREATE anywhere, no access to the build database (<db>_build, where the raw PII lives). The role
-- is recorded in kam_publish.readers, so every later publish grants it on the new build's schemas
-- BEFORE the swap (grants belong to the tables and survive the renames).
\set ON_ERROR_STOP on
\if :{?reader}
\else
  \set reader kam_reader
\endif
\if :{?db}
\else
  SELECT current_database() AS db \gset
\endif
SELECT :'db' || '_build' AS db_build \gset
SELECT set_config('kam.reader', :'reader', false), set_config('kam.db', :'db', false),
       set_config('kam.db_build', :'db_build', false);

DO $$
DECLARE
  reader text := current_setting('kam.reader');
  schema_name text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
    EXECUTE format('CREATE ROLE %I NOLOGIN', reader);
  END IF;
  -- only granted roles connect: the build database holds raw contact data
  EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_setting('kam.db'));
  IF EXISTS (SELECT 1 FROM pg_database WHERE datname = current_setting('kam.db_build')) THEN
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_setting('kam.db_build'));
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_setting('kam.db'), reader);

  -- every publish grants the roles listed here on the new build (kam_warehouse.core.warehouse.postgres_publish)
  CREATE SCHEMA IF NOT EXISTS kam_publish;
  CREATE TABLE IF NOT EXISTS kam_publish.readers (role text PRIMARY KEY, granted_at timestamp NOT NULL);
  INSERT INTO kam_publish.readers VALUES (reader, now() AT TIME ZONE 'UTC') ON CONFLICT (role) DO NOTHING;

  -- the served build and every kept one
  FOR schema_name IN SELECT nspname FROM pg_namespace
                     WHERE nspname IN ('marts', 'ops') OR nspname LIKE 'marts\_\_%' OR nspname LIKE 'ops\_\_%' LOOP
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', schema_name, reader);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', schema_name, reader);
  END LOOP;

  -- belt and braces: what this owner creates later is readable too
  EXECUTE format('ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO %I', reader);
  EXECUTE format('ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO %I', reader);
END
$$;

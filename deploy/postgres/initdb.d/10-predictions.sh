#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d): the
# prediction log's own role and database, so the API never holds the MLflow/Temporal owner's
# password. On an existing volume run the same statements by hand (docs/operations.md).
set -eu
: "${PREDICTIONS_DB_PASSWORD:?set PREDICTIONS_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  --set=pw="$PREDICTIONS_DB_PASSWORD" <<'SQL'
CREATE ROLE icecream_predictions LOGIN PASSWORD :'pw';
CREATE DATABASE predictions OWNER icecream_predictions;
REVOKE ALL ON DATABASE predictions FROM PUBLIC;
SQL

#!/bin/sh
# Creates or updates one tenant's role and database on the stack's PostgreSQL. Idempotent: the
# provisioning Job runs it on every change, and running it twice changes nothing.
#
# Input (environment):
#   PGHOST, PGPORT, PGSSLMODE        the server
#   MASTER_SECRET_ARN                Secrets Manager secret RDS keeps the master credentials in; read
#                                    with the Job's own IAM role. When unset, PGUSER/PGPASSWORD are used.
#   TENANT_ROLE, TENANT_DB           names (lower case, [a-z0-9_])
#   TENANT_PASSWORD_FILE             file holding the role's password
#   TENANT_CONNECTION_LIMIT          the most connections the role may hold (its share of the budget)
set -eu

: "${TENANT_ROLE:?}" "${TENANT_DB:?}" "${TENANT_PASSWORD_FILE:?}" "${TENANT_CONNECTION_LIMIT:?}"
case "$TENANT_ROLE$TENANT_DB" in
  *[!a-z0-9_]*) echo "role and database names must match [a-z0-9_]+" >&2; exit 2 ;;
esac

. "$(dirname "$0")/credentials.sh"

# The password goes through a psql variable read from the file, never through argv.
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
  -v role="$TENANT_ROLE" -v db="$TENANT_DB" -v conn_limit="$TENANT_CONNECTION_LIMIT" <<'SQL'
\set password `cat "$TENANT_PASSWORD_FILE"`
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT %s PASSWORD %L',
              :'role', :'conn_limit', :'password') \gexec
-- On RDS the master is no superuser: it needs membership to create a database owned by the role.
SELECT format('GRANT %I TO %I', :'role', current_user)
  WHERE NOT pg_has_role(current_user, :'role', 'MEMBER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'role', 'UTF8')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'role') \gexec
-- Nobody but the tenant's role (and the master) may connect.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'role') \gexec
SQL

psql -X -q -v ON_ERROR_STOP=1 -d "$TENANT_DB" -v role="$TENANT_ROLE" <<'SQL'
-- Odoo uses unaccent and pg_trgm; only the master may create extensions.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SELECT format('ALTER SCHEMA public OWNER TO %I', :'role') \gexec
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL

echo "tenant database $TENANT_DB ready for role $TENANT_ROLE"

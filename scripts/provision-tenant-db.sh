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
case "$TENANT_CONNECTION_LIMIT" in
  '' | *[!0-9]*) echo "the connection limit must be a whole number" >&2; exit 2 ;;
esac

. "$(dirname "$0")/credentials.sh"

# Runs as RDS's master: CREATEROLE and CREATEDB, a member of rds_superuser, but no superuser. On
# PostgreSQL 15 and later such a role may not name SUPERUSER, REPLICATION or BYPASSRLS in ALTER ROLE,
# not even to turn them off, so the role is created without them and checked for them afterwards.
# The password goes through a psql variable read from the file, never through argv.
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
  -v role="$TENANT_ROLE" -v db="$TENANT_DB" -v conn_limit="$TENANT_CONNECTION_LIMIT" <<'SQL'
\set password `cat "$TENANT_PASSWORD_FILE"`
SELECT current_setting('server_version_num')::int >= 160000 AS pg16 \gset
-- CREATE ROLE accepts the NO forms from a non-superuser; they are the defaults, spelled out.
SELECT format('CREATE ROLE %I NOSUPERUSER NOREPLICATION NOBYPASSRLS', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
-- A role someone else gave one of them is refused: the master cannot take them away.
SELECT format('DO $$BEGIN RAISE EXCEPTION %L; END$$',
              format('role %s holds SUPERUSER, REPLICATION or BYPASSRLS, which only a superuser can remove', :'role'))
  FROM pg_roles WHERE rolname = :'role' AND (rolsuper OR rolreplication OR rolbypassrls) \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT %s', :'role', :'conn_limit') \gexec
-- The password in a statement of its own: the server log shows a failing statement's text, and
-- pgAudit (model/postgres-audit.ts) redacts it in the audit only.
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'password') \gexec
-- The master must be able to SET ROLE to it (to create a database it owns) and use its privileges
-- (to hand it the public schema). PostgreSQL 16 grants a role's creator ADMIN OPTION only.
\if :pg16
SELECT format('GRANT %I TO %I WITH INHERIT TRUE, SET TRUE', :'role', current_user)
  WHERE NOT (pg_has_role(current_user, :'role', 'SET') AND pg_has_role(current_user, :'role', 'USAGE')) \gexec
\else
SELECT format('GRANT %I TO %I', :'role', current_user)
  WHERE NOT pg_has_role(current_user, :'role', 'USAGE') \gexec
\endif
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'role', 'UTF8')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'role') \gexec
-- Nobody but the tenant's role (and the master, through its membership) may connect: PUBLIC loses
-- the CONNECT and TEMPORARY every new database gives it, and so does any role granted them since.
-- The master revokes as a member of the owner, so grants the owner made go too.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM %I', :'db', pg_get_userbyid(a.grantee))
  FROM pg_database d, aclexplode(d.datacl) a
  WHERE d.datname = :'db' AND a.grantee NOT IN (0, d.datdba) GROUP BY a.grantee \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'role') \gexec
-- The maintenance databases: every role may connect to them by default, and from there read the
-- catalogues of every role and database. The master owns them on RDS; rdsadmin, a superuser,
-- connects whatever the grants. REVOKE only warns where it has nothing of the master's to revoke,
-- so the result is checked: PUBLIC must hold no CONNECT on `postgres`.
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
SELECT 'REVOKE ALL ON DATABASE template1 FROM PUBLIC'
  FROM pg_database WHERE datname = 'template1' AND pg_has_role(current_user, datdba, 'USAGE') \gexec
SELECT 'DO $$BEGIN RAISE EXCEPTION ''every role may still connect to the postgres database (its owner is not the master)''; END$$'
  FROM pg_database d
  WHERE d.datname = 'postgres'
    AND EXISTS (SELECT FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT') \gexec
SQL

psql -X -q -v ON_ERROR_STOP=1 -d "$TENANT_DB" -v role="$TENANT_ROLE" <<'SQL'
-- Odoo uses unaccent and pg_trgm; only the master may create extensions.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SELECT format('ALTER SCHEMA public OWNER TO %I', :'role') \gexec
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL

echo "tenant database $TENANT_DB ready for role $TENANT_ROLE"

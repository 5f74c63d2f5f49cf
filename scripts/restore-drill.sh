#!/bin/sh
# Restore drill of one tenant: restores its latest backup into a scratch database, verifies it
# (checksums, row counts of key Odoo tables, Odoo's registry loads), drops the scratch database and
# records when it succeeded and how long the restore took, against the tier's RTO.
#
# A dump is the tenant's code: its functions run during the restore (CHECK constraints, index
# expressions, materialized views) and a crafted dump holds any SQL. So nothing of it ever runs as the
# master. The master only creates, for this drill, a role that belongs to no role and may create
# nothing outside the scratch database it owns (NOCREATEDB NOCREATEROLE), and afterwards drops both;
# pg_restore, the checks and Odoo all connect as that role. The master never connects to the scratch
# database, and the drill fails when the role was granted to anyone or owns anything elsewhere.
#
# Phases, so that no container running the tenant's image holds the master's or cloud credentials:
#   DRILL_PHASE=prepare   (platform tools image: AWS CLI, master secret) fetches and checks the newest
#                         backup, creates the drill role and the scratch database, restores into it as
#                         the drill role and counts key tables; leaves the dump and the drill role's
#                         password (never the master's) in $DRILL_DIR, its own state in $STATE_DIR
#   DRILL_PHASE=registry  (the tenant's Odoo image, no credentials) loads Odoo's registry on the
#                         scratch database as the drill role; writes its exit status to $DRILL_DIR
#   DRILL_PHASE=finish    (platform tools image) waits for the registry phase, drops the scratch
#                         database and the drill role, checks nothing outside changed, records
#   DRILL_PHASE=all       (default) every phase in one place
#
# Input (environment):
#   PGHOST, PGPORT, PGSSLMODE; MASTER_SECRET_ARN, or PGUSER + PGPASSWORD(_FILE): a role that may create
#                                             roles and databases (prepare, finish)
#   BACKUP_BUCKET, BACKUP_PREFIX, TENANT      where the tenant's backups are
#   RTO_SECONDS                               the tier's recovery time objective
#   DRILL_DIR                                 folder the phases share with the registry phase (default: a temporary one)
#   STATE_DIR                                 folder only prepare and finish share (default: $DRILL_DIR/.state when all)
#   REGISTRY_CHECK                            "odoo" (default): odoo --stop-after-init on the restored database; "none" to skip
#   PUSHGATEWAY_URL (optional)                where to record the result (prepare, finish)
#   PUSHGATEWAY_NETRC (optional)              netrc file with the drill's push credential for this tenant
set -eu

: "${TENANT:?}" "${RTO_SECONDS:?}"
phase=${DRILL_PHASE:-all}
work=${DRILL_DIR:-$(mktemp -d)}
state=${STATE_DIR:-$work/.state}
mkdir -p "$work"
(umask 077 && mkdir -p "$state")
safe=$(printf '%s' "$TENANT" | tr -c 'a-z0-9\n' '_')
# Every name the master acts on must match this: the shared folder is writable by the tenant's image.
own_name="^drill_${safe}_[0-9]+\$"

push_metrics() {
  [ -n "${PUSHGATEWAY_URL:-}" ] || return 0
  # The credential comes from a file, never the command line (other processes could read that).
  set -- -fsS --max-time 10 --data-binary @-
  [ -z "${PUSHGATEWAY_NETRC:-}" ] || set -- "$@" --netrc-file "$PUSHGATEWAY_NETRC"
  curl "$@" "$PUSHGATEWAY_URL/metrics/job/odoo_restore_drill/tenant/$TENANT" || echo "warning: could not push metrics" >&2
}
record_failure() {
  printf 'odoo_fleet_restore_drill_last_failure_timestamp_seconds %s\n' "$(date +%s)" | push_metrics
}

# The master's session on the maintenance database; it never connects to the scratch database.
master_sql() {
  psql -X -w -q -v ON_ERROR_STOP=1 -d postgres "$@"
}
# A session as the drill role, with its password from its own pgpass file (never the master's).
as_drill() {
  env -u PGPASSWORD PGPASSFILE="$work/drill.pgpass" PGUSER="$(cat "$work/drill.role")" PGDATABASE="$(cat "$work/drill.database")" "$@"
}

# Drops this tenant's drill databases and roles: the current drill's, and any a killed drill left.
drop_drills() {
  master_sql -v pattern="$own_name" <<'SQL'
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', datname) FROM pg_database WHERE datname ~ :'pattern' \gexec
SELECT format('DROP ROLE IF EXISTS %I', rolname) FROM pg_roles WHERE rolname ~ :'pattern' \gexec
SQL
}

fetch() {
  : "${BACKUP_BUCKET:?}" "${BACKUP_PREFIX:?}"
  # The newest backup: prefixes are UTC timestamps, so they sort by time. Only names backup-tenant.sh
  # writes and none from the future: a planted "zzz/" or "99991231T000000Z/" would otherwise win forever.
  now=$(date -u +%Y%m%dT%H%M%SZ)
  latest=$(aws s3 ls "s3://$BACKUP_BUCKET/$BACKUP_PREFIX" | awk '$1 == "PRE" {print $2}' | grep -E '^[0-9]{8}T[0-9]{6}Z/$' | awk -v now="$now/" '$0 <= now' | sort | tail -n 1)
  [ -n "$latest" ] || { echo "no backup of $TENANT under s3://$BACKUP_BUCKET/$BACKUP_PREFIX" >&2; return 3; }
  for file in database.dump filestore.tar.gz SHA256SUMS manifest.json; do
    aws s3 cp --only-show-errors "s3://$BACKUP_BUCKET/$BACKUP_PREFIX$latest$file" "$work/$file" || return $?
  done
  (cd "$work" && sha256sum -c --quiet SHA256SUMS) || { echo "checksums of $latest do not match" >&2; return 4; }
  echo "$latest" > "$state/backup"
}

# The drill role: LOGIN for this drill only, member of nothing, no CREATEDB/CREATEROLE, a random
# password. INHERIT only for pg_database_owner, which owns a PostgreSQL 15 database's public schema
# (https://www.postgresql.org/docs/15/ddl-schemas.html). The master must be a member of the role to
# create a database owned by it (https://www.postgresql.org/docs/15/sql-createdatabase.html);
# PostgreSQL 16 grants a role's creator ADMIN only, so the master asks for SET without INHERIT.
create_drill_role() {
  role=$1
  password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  (umask 077 && printf '*:*:%s:%s:%s\n' "$role" "$role" "$password" > "$work/drill.pgpass")
  printf '%s\n' "$role" > "$work/drill.role"
  printf '%s\n' "$role" > "$work/drill.database"
  printf '%s\n' "$role" > "$state/drill"
  master_sql -v role="$role" -v password="$password" <<'SQL' || return $?
SELECT current_setting('server_version_num')::int >= 160000 AS pg16 \gset
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 8 PASSWORD %L', :'role', :'password') \gexec
\if :pg16
SELECT format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', :'role', current_user) \gexec
\else
SELECT format('GRANT %I TO %I', :'role', current_user) \gexec
\endif
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'role', :'role', 'UTF8') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'role') \gexec
SQL
  unset password
}

prepare() {
  . "$(dirname "$0")/credentials.sh"
  date +%s > "$state/started"
  # Each step returns on failure: set -e does not act inside a function called before ||.
  fetch || return $?
  drop_drills || return $?
  create_drill_role "drill_${safe}_$(cat "$state/started")" || return $?
  as_drill pg_restore --no-password --no-owner --no-privileges --exit-on-error --dbname="$(cat "$work/drill.database")" "$work/database.dump" \
    || { echo "the backup $(cat "$state/backup") does not restore as the drill role" >&2; return 7; }
  # Key tables must exist and hold rows: users, partners and the installed modules.
  for table in res_users res_partner ir_module_module; do
    rows=$(as_drill psql -X -w -tA -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM $table") || return 5
    [ "$rows" -gt 0 ] || { echo "table $table of the restored database is empty" >&2; return 5; }
    echo "$table: $rows rows"
  done
  installed=$(as_drill psql -X -w -tA -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM ir_module_module WHERE state = 'installed'") || return 5
  [ "$installed" -gt 0 ] || { echo "no installed module in the restored database" >&2; return 5; }
}

# Runs in the tenant's image: only the drill role's password and the backup are here.
registry() {
  rc=0
  database=$(cat "$work/drill.database")
  mkdir -p "$work/data/filestore/$database" && tar -C "$work/data/filestore/$database" --strip-components=1 -xzf "$work/filestore.tar.gz" || rc=$?
  if [ "$rc" -eq 0 ]; then
    # Connection from the libpq environment (PGHOST, PGPASSFILE...); no config file of the tenant's needed.
    as_drill odoo --database="$database" --db_host="$PGHOST" --db_port="${PGPORT:-5432}" --db_user="$(cat "$work/drill.role")" --db_sslmode="${PGSSLMODE:-require}" \
      --data-dir="$work/data" --no-http --stop-after-init --log-level=warn || rc=$?
  fi
  echo "$rc" > "$work/registry.status"
  return "$rc"
}

# The registry phase's verdict, waited for at most until the RTO is spent. It comes from the tenant's
# own image, so it is read as one number and can only fail (or pass) the tenant's own drill.
registry_verdict() {
  [ "${REGISTRY_CHECK:-odoo}" = "odoo" ] || return 0
  deadline=$(($(cat "$state/started") + RTO_SECONDS))
  while [ ! -s "$work/registry.status" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "Odoo's registry did not load within the RTO" >&2; return 6; }
    sleep 5
  done
  verdict=$(head -c 8 "$work/registry.status" | tr -cd '0-9')
  [ "$verdict" = "0" ] || { echo "Odoo's registry did not load on the restored database (status ${verdict:-unknown})" >&2; return 8; }
}

# Drops the scratch database and the drill role, and fails when the role reached outside them: a
# member other than the master, a role it joined, or anything it owns elsewhere (DROP ROLE refuses).
cleanup() {
  drill=$(cat "$state/drill" 2>/dev/null || true)
  [ -n "$drill" ] || { drop_drills; return 0; }
  printf '%s' "$drill" | grep -Eq "$own_name" || { echo "refusing to drop $drill: not a drill of $TENANT" >&2; return 9; }
  master_sql -v role="$drill" <<'SQL' || { echo "could not drop the scratch database $drill" >&2; return 9; }
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'role') \gexec
SQL
  reached=$(master_sql -tA -v role="$drill" <<'SQL' || echo "unknown (the check failed)"
SELECT string_agg(format('%s in %s', m.rolname, r.rolname), ', ' ORDER BY m.rolname, r.rolname)
  FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
 WHERE (r.rolname = :'role' AND m.rolname <> current_user) OR m.rolname = :'role';
SQL
)
  cleaned=0
  [ -z "$reached" ] || { echo "the restored database changed role memberships outside it: $reached" >&2; cleaned=10; }
  master_sql -v role="$drill" <<'SQL' || { echo "the drill role $drill owns or holds something outside its scratch database" >&2; cleaned=10; }
SELECT format('DROP ROLE IF EXISTS %I', :'role') \gexec
SQL
  rm -f "$state/drill"
  return "$cleaned"
}

finish() {
  . "$(dirname "$0")/credentials.sh"
  outcome=0
  registry_verdict || outcome=$?
  # A reach outside the scratch database outweighs any other failure.
  cleanup || outcome=$?
  [ "$outcome" -eq 0 ] || return "$outcome"
  started=$(cat "$state/started")
  finished=$(date +%s)
  duration=$((finished - started))
  printf 'odoo_fleet_restore_drill_last_success_timestamp_seconds %s\nodoo_fleet_restore_drill_duration_seconds %s\nodoo_fleet_restore_drill_rto_seconds %s\n' "$finished" "$duration" "$RTO_SECONDS" | push_metrics
  echo "restore drill of $TENANT from $(cat "$state/backup"): $duration s (RTO $RTO_SECONDS s)"
  if [ "$duration" -gt "$RTO_SECONDS" ]; then
    echo "the restore took longer than the tier's RTO" >&2
    return 6
  fi
}

status=0
case "$phase" in
  # A failed prepare cleans up at once: the finish phase never runs after a failed init container.
  prepare) prepare || { status=$?; cleanup || true; } ;;
  registry) registry || status=$? ;;
  finish) finish || status=$? ;;
  all)
    if prepare; then
      [ "${REGISTRY_CHECK:-odoo}" != "odoo" ] || registry || true
      finish || status=$?
    else
      status=$?
      cleanup || true
    fi
    ;;
  *) echo "DRILL_PHASE must be prepare, registry, finish or all" >&2; exit 2 ;;
esac
# The registry phase records nothing: the finish phase reads its verdict and records the drill.
[ "$status" -eq 0 ] || [ "$phase" = registry ] || record_failure
[ -n "${DRILL_DIR:-}" ] || rm -rf "$work"
exit "$status"

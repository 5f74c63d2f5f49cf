#!/bin/sh
# Restore drill of one tenant: restores its latest backup into a scratch database, verifies it
# (checksums, row counts of key Odoo tables, Odoo's registry loads), drops the scratch database and
# records when it succeeded and how long the restore took, against the tier's RTO.
#
# It runs in two phases so that each runs in the image that has its tools:
#   DRILL_PHASE=fetch     (tools image: AWS CLI) downloads the newest backup into $DRILL_DIR, checks its
#                         checksums and writes a pgpass file for the next phase
#   DRILL_PHASE=restore   (the tenant's Odoo image) restores, checks, loads the registry, cleans up
#   DRILL_PHASE=all       (default) both, in one place
#
# Input (environment):
#   PGHOST, PGPORT, PGSSLMODE; MASTER_SECRET_ARN, or PGUSER + PGPASSWORD(_FILE): a role that may create databases
#   BACKUP_BUCKET, BACKUP_PREFIX, TENANT      where the tenant's backups are
#   RTO_SECONDS                               the tier's recovery time objective
#   DRILL_DIR                                 work folder shared by the phases (default: a temporary one)
#   REGISTRY_CHECK                            "odoo" (default): odoo --stop-after-init on the restored database; "none" to skip
#   PUSHGATEWAY_URL (optional)                where to record the result
#   PUSHGATEWAY_NETRC (optional)              netrc file with the drill's push credential for this tenant
set -eu

: "${TENANT:?}" "${RTO_SECONDS:?}"
phase=${DRILL_PHASE:-all}
work=${DRILL_DIR:-$(mktemp -d)}
mkdir -p "$work"

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

fetch() {
  : "${BACKUP_BUCKET:?}" "${BACKUP_PREFIX:?}"
  . "$(dirname "$0")/credentials.sh"
  date +%s > "$work/started"
  # The newest backup: prefixes are UTC timestamps, so they sort by time.
  latest=$(aws s3 ls "s3://$BACKUP_BUCKET/$BACKUP_PREFIX" | awk '$1 == "PRE" {print $2}' | sort | tail -n 1)
  [ -n "$latest" ] || { echo "no backup of $TENANT under s3://$BACKUP_BUCKET/$BACKUP_PREFIX" >&2; return 3; }
  for file in database.dump filestore.tar.gz SHA256SUMS manifest.json; do
    aws s3 cp --only-show-errors "s3://$BACKUP_BUCKET/$BACKUP_PREFIX$latest$file" "$work/$file"
  done
  (cd "$work" && sha256sum -c --quiet SHA256SUMS) || { echo "checksums of $latest do not match" >&2; return 4; }
  echo "$latest" > "$work/backup"
  # The restore phase may run where neither the AWS CLI nor the secret is: hand it a pgpass file.
  (umask 077 && printf '*:*:*:%s:%s\n' "${PGUSER:-postgres}" "${PGPASSWORD:-}" > "$work/pgpass")
}

restore() {
  export PGPASSFILE="$work/pgpass"
  unset PGPASSWORD
  [ -n "${PGUSER:-}" ] || PGUSER=$(cut -d: -f4 "$PGPASSFILE")
  export PGUSER
  started=$(cat "$work/started")
  latest=$(cat "$work/backup")
  scratch="drill_$(printf '%s' "$TENANT" | tr -c 'a-z0-9\n' '_')_$started"
  trap 'psql -X -w -q -d postgres -c "DROP DATABASE IF EXISTS \"$scratch\"" >/dev/null 2>&1 || true' EXIT

  psql -X -w -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$scratch\" TEMPLATE template0"
  pg_restore --no-password --no-owner --no-privileges --exit-on-error --dbname="$scratch" "$work/database.dump"
  mkdir -p "$work/data/filestore/$scratch" && tar -C "$work/data/filestore/$scratch" --strip-components=1 -xzf "$work/filestore.tar.gz"

  # Key tables must exist and hold rows: users, partners and the installed modules.
  for table in res_users res_partner ir_module_module; do
    rows=$(psql -X -w -tA -v ON_ERROR_STOP=1 -d "$scratch" -c "SELECT count(*) FROM $table")
    [ "$rows" -gt 0 ] || { echo "table $table of the restored database is empty" >&2; return 5; }
    echo "$table: $rows rows"
  done
  installed=$(psql -X -w -tA -v ON_ERROR_STOP=1 -d "$scratch" -c "SELECT count(*) FROM ir_module_module WHERE state = 'installed'")
  [ "$installed" -gt 0 ] || { echo "no installed module in the restored database" >&2; return 5; }

  if [ "${REGISTRY_CHECK:-odoo}" = "odoo" ]; then
    # Connection from the libpq environment (PGHOST, PGPASSFILE...); no config file of the tenant's needed.
    odoo --database="$scratch" --db_host="$PGHOST" --db_port="${PGPORT:-5432}" --db_user="$PGUSER" --db_sslmode="${PGSSLMODE:-require}" \
      --data-dir="$work/data" --no-http --stop-after-init --log-level=warn
  fi

  psql -X -w -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE \"$scratch\""
  finished=$(date +%s)
  duration=$((finished - started))
  printf 'odoo_fleet_restore_drill_last_success_timestamp_seconds %s\nodoo_fleet_restore_drill_duration_seconds %s\nodoo_fleet_restore_drill_rto_seconds %s\n' "$finished" "$duration" "$RTO_SECONDS" | push_metrics
  echo "restore drill of $TENANT from $latest: $duration s (RTO $RTO_SECONDS s)"
  if [ "$duration" -gt "$RTO_SECONDS" ]; then
    echo "the restore took longer than the tier's RTO" >&2
    return 6
  fi
}

status=0
case "$phase" in
  fetch) fetch || status=$? ;;
  restore) restore || status=$? ;;
  all) { fetch && restore; } || status=$? ;;
  *) echo "DRILL_PHASE must be fetch, restore or all" >&2; exit 2 ;;
esac
[ "$status" -eq 0 ] || record_failure
[ -n "${DRILL_DIR:-}" ] || rm -rf "$work"
exit "$status"

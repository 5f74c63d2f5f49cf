#!/bin/sh
# Restore drill of one tenant: restores its latest backup into a scratch database, verifies it
# (checksums, row counts of key Odoo tables, Odoo's registry loads), drops the scratch database and
# records when it succeeded and how long the restore took, against the tier's RTO.
#
# Input (environment):
#   PGHOST, PGPORT, PGSSLMODE; MASTER_SECRET_ARN, or PGUSER + PGPASSWORD(_FILE): a role that may create databases
#   BACKUP_BUCKET, BACKUP_PREFIX, TENANT                         where the tenant's backups are
#   RTO_SECONDS                                                  the tier's recovery time objective
#   REGISTRY_CHECK                                               "odoo" (default): load the registry with
#                                                                odoo --stop-after-init; "none" to skip
#   PUSHGATEWAY_URL (optional)                                   where to record the result
set -eu
. "$(dirname "$0")/credentials.sh"

: "${BACKUP_BUCKET:?}" "${BACKUP_PREFIX:?}" "${TENANT:?}" "${RTO_SECONDS:?}"
started=$(date +%s)
work=$(mktemp -d)
scratch="drill_$(printf '%s' "$TENANT" | tr -c 'a-z0-9\n' '_')_$started"

push_metrics() {
  [ -n "${PUSHGATEWAY_URL:-}" ] || return 0
  curl -fsS --max-time 10 --data-binary @- "$PUSHGATEWAY_URL/metrics/job/odoo_restore_drill/tenant/$TENANT" || echo "warning: could not push metrics" >&2
}
cleanup() {
  status=$?
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$scratch\"" >/dev/null 2>&1 || true
  rm -rf "$work"
  [ "$status" -eq 0 ] || printf 'odoo_fleet_restore_drill_last_failure_timestamp_seconds %s\n' "$(date +%s)" | push_metrics
  exit "$status"
}
trap cleanup EXIT

# The newest backup: prefixes are UTC timestamps, so they sort by time.
latest=$(aws s3 ls "s3://$BACKUP_BUCKET/$BACKUP_PREFIX" | awk '$1 == "PRE" {print $2}' | sort | tail -n 1)
[ -n "$latest" ] || { echo "no backup of $TENANT under s3://$BACKUP_BUCKET/$BACKUP_PREFIX" >&2; exit 3; }
for file in database.dump filestore.tar.gz SHA256SUMS manifest.json; do
  aws s3 cp --only-show-errors "s3://$BACKUP_BUCKET/$BACKUP_PREFIX$latest$file" "$work/$file"
done
(cd "$work" && sha256sum -c --quiet SHA256SUMS) || { echo "checksums of $latest do not match" >&2; exit 4; }

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$scratch\" TEMPLATE template0"
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$scratch" "$work/database.dump"
mkdir -p "$work/filestore" && tar -C "$work/filestore" -xzf "$work/filestore.tar.gz"

# Key tables must exist and hold rows: users, partners and the installed modules.
for table in res_users res_partner ir_module_module; do
  rows=$(psql -X -tA -v ON_ERROR_STOP=1 -d "$scratch" -c "SELECT count(*) FROM $table")
  [ "$rows" -gt 0 ] || { echo "table $table of the restored database is empty" >&2; exit 5; }
  echo "$table: $rows rows"
done
installed=$(psql -X -tA -v ON_ERROR_STOP=1 -d "$scratch" -c "SELECT count(*) FROM ir_module_module WHERE state = 'installed'")
[ "$installed" -gt 0 ] || { echo "no installed module in the restored database" >&2; exit 5; }

if [ "${REGISTRY_CHECK:-odoo}" = "odoo" ]; then
  odoo --config=/run/odoo/odoo.conf --database="$scratch" --data-dir="$work/filestore-root" --no-http --stop-after-init --log-level=warn
fi

finished=$(date +%s)
duration=$((finished - started))
printf 'odoo_fleet_restore_drill_last_success_timestamp_seconds %s\nodoo_fleet_restore_drill_duration_seconds %s\nodoo_fleet_restore_drill_rto_seconds %s\n' "$finished" "$duration" "$RTO_SECONDS" | push_metrics
echo "restore drill of $TENANT from $latest: $duration s (RTO $RTO_SECONDS s)"
if [ "$duration" -gt "$RTO_SECONDS" ]; then
  echo "the restore took longer than the tier's RTO" >&2
  exit 6
fi

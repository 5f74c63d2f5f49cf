#!/bin/sh
# Logical backup of one tenant: its database (pg_dump custom format) and its filestore (tar.gz), with
# a checksum manifest, written to its own prefix of the immutable backup bucket. Runs in the tenant's
# backup CronJob under its own IAM role, which can write nowhere else.
#
# Input (environment):
#   PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE   the tenant's database; PGPASSWORD_FILE or PGPASSWORD
#   FILESTORE_DIR                                   the tenant's data_dir (filestore/<db> inside it)
#   BACKUP_BUCKET, BACKUP_PREFIX                    s3://$BACKUP_BUCKET/$BACKUP_PREFIX<stamp>/
#   BACKUP_TIER_TAG                                 <key>=<tier>: the object tag whose lifecycle rule expires it
#   TENANT                                          for the manifest and the metrics
#   PUSHGATEWAY_URL (optional)                      where to record the result for the staleness alert
#   PUSHGATEWAY_NETRC (optional)                    netrc file with the tenant's push credential
set -eu
. "$(dirname "$0")/credentials.sh"

: "${BACKUP_BUCKET:?}" "${BACKUP_PREFIX:?}" "${BACKUP_TIER_TAG:?}" "${TENANT:?}" "${FILESTORE_DIR:?}" "${PGDATABASE:?}"
started=$(date +%s)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d)

push_metrics() {
  [ -n "${PUSHGATEWAY_URL:-}" ] || return 0
  # The credential comes from a file, never the command line (other processes could read that).
  set -- -fsS --max-time 10 --data-binary @-
  [ -z "${PUSHGATEWAY_NETRC:-}" ] || set -- "$@" --netrc-file "$PUSHGATEWAY_NETRC"
  curl "$@" "$PUSHGATEWAY_URL/metrics/job/odoo_backup/tenant/$TENANT" || echo "warning: could not push metrics" >&2
}
on_failure() {
  printf 'odoo_fleet_backup_last_failure_timestamp_seconds %s\n' "$(date +%s)" | push_metrics
}
trap 'status=$?; [ "$status" -eq 0 ] || on_failure; rm -rf "$work"; exit "$status"' EXIT

pg_dump --format=custom --no-owner --no-privileges --file="$work/database.dump" "$PGDATABASE"
if [ -d "$FILESTORE_DIR/filestore/$PGDATABASE" ]; then
  tar -C "$FILESTORE_DIR/filestore" -czf "$work/filestore.tar.gz" "$PGDATABASE"
else
  # A new tenant has no attachments yet: an empty archive keeps every backup the same shape.
  tar -C "$work" -czf "$work/filestore.tar.gz" --files-from /dev/null
fi
(cd "$work" && sha256sum database.dump filestore.tar.gz > SHA256SUMS)
cat > "$work/manifest.json" <<JSON
{"tenant": "$TENANT", "database": "$PGDATABASE", "created": "$stamp",
 "database_bytes": $(wc -c < "$work/database.dump"), "filestore_bytes": $(wc -c < "$work/filestore.tar.gz"),
 "format": "pg_dump custom + tar.gz"}
JSON

target="s3://$BACKUP_BUCKET/$BACKUP_PREFIX$stamp/"
tag_key=${BACKUP_TIER_TAG%%=*}
tag_value=${BACKUP_TIER_TAG#*=}
for file in database.dump filestore.tar.gz SHA256SUMS manifest.json; do
  aws s3 cp --only-show-errors "$work/$file" "$target$file"
  # The tier's lifecycle rule expires the object by this tag (tags are not locked by Object Lock).
  aws s3api put-object-tagging --bucket "$BACKUP_BUCKET" --key "$BACKUP_PREFIX$stamp/$file" --tagging "TagSet=[{Key=$tag_key,Value=$tag_value}]"
done

finished=$(date +%s)
printf 'odoo_fleet_backup_last_success_timestamp_seconds %s\nodoo_fleet_backup_duration_seconds %s\n' "$finished" "$((finished - started))" | push_metrics
echo "backup of $TENANT written to $target in $((finished - started)) s"

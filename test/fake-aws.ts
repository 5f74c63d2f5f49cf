/**
 * Test double of the AWS CLI calls the backup and restore-drill scripts make (`aws s3 cp|ls`,
 * `aws s3api put-object-tagging`), over the local folder $FAKE_S3_ROOT standing in for the bucket.
 */
export const FAKE_AWS = `#!/bin/sh
# Test double of the two AWS CLI calls the scripts make, over $FAKE_S3_ROOT.
if [ "$1 $2" = "s3api put-object-tagging" ]; then
  # --bucket B --key K --tagging T: the tags land beside the object, as <object>.tags
  [ "$3" = --bucket ] && [ "$5" = --key ] && [ "$7" = --tagging ] || { echo "unexpected aws call: $*" >&2; exit 64; }
  [ -f "$FAKE_S3_ROOT/$4/$6" ] || { echo "NoSuchKey: $4/$6" >&2; exit 254; }
  printf '%s\n' "$8" > "$FAKE_S3_ROOT/$4/$6.tags"; exit 0
fi
[ "$1" = s3 ] || { echo "unexpected aws call: $*" >&2; exit 64; }
cmd=$2; shift 2
[ "$1" = "--only-show-errors" ] && shift
local_path() { case "$1" in s3://*) echo "$FAKE_S3_ROOT/\${1#s3://}" ;; *) echo "$1" ;; esac; }
case "$cmd" in
  cp) src=$(local_path "$1"); dst=$(local_path "$2"); mkdir -p "$(dirname "$dst")"; cp "$src" "$dst" ;;
  ls) dir=$(local_path "$1"); for entry in "$dir"*/; do [ -d "$entry" ] && echo "                           PRE $(basename "$entry")/"; done; true ;;
  *) echo "unexpected aws s3 $cmd" >&2; exit 64 ;;
esac
`;

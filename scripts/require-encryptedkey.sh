#!/bin/sh
# Fails, naming the stack file and the README step, when a stack file's `encryptedkey` is not the real
# one: Pulumi base64-decodes it and sends it to KMS, so the committed placeholder (not base64) makes
# every `pulumi` command of that stack fail with an opaque decoding error. Run by the workflows before
# any `pulumi` command.
#   usage: require-encryptedkey.sh stacks/Pulumi.<stack>.yaml
set -eu
file=${1:?usage: require-encryptedkey.sh <stack file>}
fix="replace it as README \"From an empty AWS account\" step 6 says (pulumi stack init / pulumi stack change-secrets-provider write the real one) and commit the stack file"
if [ ! -f "$file" ]; then
  echo "::error file=$file::$file does not exist" >&2
  exit 1
fi
key=$(sed -n 's/^encryptedkey:[[:space:]]*//p' "$file" | tr -d "\"'[:space:]")
if [ -z "$key" ]; then
  echo "::error file=$file::$file has no encryptedkey: $fix" >&2
  exit 1
fi
# A real one is base64 of KMS ciphertext: base64 characters only, in groups of four.
if ! printf '%s' "$key" | grep -Eq '^[A-Za-z0-9+/]+={0,2}$' || [ $(( ${#key} % 4 )) -ne 0 ]; then
  echo "::error file=$file::$file still holds a placeholder encryptedkey ($key), which Pulumi cannot decode: $fix" >&2
  exit 1
fi

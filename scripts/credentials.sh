# Sourced by the job scripts: PostgreSQL credentials from a file or from the RDS-managed secret,
# never from the command line.
#   PGPASSWORD_FILE     file holding the role's password (a mounted Secret)
#   MASTER_SECRET_ARN   Secrets Manager secret RDS keeps the master credentials in (read with the
#                       job's own IAM role); sets PGUSER and PGPASSWORD
if [ -n "${PGPASSWORD_FILE:-}" ]; then
  PGPASSWORD=$(cat "$PGPASSWORD_FILE")
  export PGPASSWORD
fi
if [ -n "${MASTER_SECRET_ARN:-}" ]; then
  secret=$(aws secretsmanager get-secret-value --secret-id "$MASTER_SECRET_ARN" --query SecretString --output text)
  PGUSER=$(printf '%s' "$secret" | jq -r .username)
  PGPASSWORD=$(printf '%s' "$secret" | jq -r .password)
  export PGUSER PGPASSWORD
  unset secret
fi

/** `odoo.conf` for a tenant, from the sizing rules. Pure; secrets are added at pod start, not here. */
import { createHmac, pbkdf2 } from "node:crypto";
import { promisify } from "node:util";
import type { OdooSizing } from "../../tiers/sizing";

export const ODOO_HTTP_PORT = 8069;
export const ODOO_WEBSOCKET_PORT = 8072;
export const ODOO_DATA_DIR = "/var/lib/odoo";

export interface OdooConfInput {
  readonly database: string;
  readonly dbUser: string;
  readonly dbHost: string;
  readonly dbPort: number;
  readonly sizing: OdooSizing;
}

/** Odoo's request limits, as its deployment guide's worked example sets them. */
export const ODOO_LIMITS = { limitTimeCpu: 600, limitTimeReal: 1200, limitRequest: 8192 } as const;

function render(options: [string, string | number | boolean][]): string {
  const value = (v: string | number | boolean) => (typeof v === "boolean" ? (v ? "True" : "False") : String(v));
  return `[options]\n${options.map(([k, v]) => `${k} = ${value(v)}`).join("\n")}\n`;
}

function common(input: OdooConfInput): [string, string | number | boolean][] {
  return [
    ["db_host", input.dbHost],
    ["db_port", input.dbPort],
    ["db_user", input.dbUser],
    ["db_name", input.database],
    // TLS to PostgreSQL: the server refuses anything else (rds.force_ssl).
    ["db_sslmode", "require"],
    ["db_maxconn", input.sizing.dbMaxconn],
    // One database per tenant, never listed, never selectable: db_name alone pins it. No dbfilter:
    // with one, Odoo lists databases by connecting to `postgres` (odoo/service/db.py list_dbs), which
    // tenant roles may not (scripts/provision-tenant-db.sh); without, it exposes db_name only
    // (odoo/http.py db_filter).
    ["list_db", false],
    ["proxy_mode", true],
    ["data_dir", ODOO_DATA_DIR],
    ["http_port", ODOO_HTTP_PORT],
    ["gevent_port", ODOO_WEBSOCKET_PORT],
    ["server_wide_modules", "base,web,session_redis"],
    ["limit_memory_soft", input.sizing.limitMemorySoft],
    ["limit_memory_hard", input.sizing.limitMemoryHard],
    ["limit_time_cpu", ODOO_LIMITS.limitTimeCpu],
    ["limit_time_real", ODOO_LIMITS.limitTimeReal],
    ["limit_request", ODOO_LIMITS.limitRequest],
    ["without_demo", "all"],
    ["unaccent", true],
    ["log_level", "info"],
  ];
}

/** Web pods: multi-processing workers, no cron (the cron Deployment runs it). */
export function webOdooConf(input: OdooConfInput): string {
  return render([...common(input), ["workers", input.sizing.workersPerPod], ["max_cron_threads", 0]]);
}

/** The cron pod: threaded server (health endpoint only, no Service routes to it) and the cron threads. */
export function cronOdooConf(input: OdooConfInput): string {
  return render([...common(input), ["workers", 0], ["max_cron_threads", input.sizing.cronThreads]]);
}

/** Rounds of Odoo's own admin_passwd hashing (odoo/tools/config.py, 17.0 and later: `pbkdf2_sha512__rounds=600_000`). */
export const ODOO_ADMIN_HASH_ROUNDS = 600_000;

/** passlib's adapted base64: standard base64 with `.` for `+`, no padding (passlib/utils/binary.py ab64_encode). */
function ab64(data: Buffer): string {
  return data.toString("base64").replace(/=+$/, "").replace(/\+/g, ".");
}

/** A password in passlib's pbkdf2_sha512 format, the hash Odoo's verify_admin_password checks. */
export async function passlibPbkdf2Sha512(password: string, salt: Buffer, rounds: number): Promise<string> {
  const checksum = await promisify(pbkdf2)(password, salt, rounds, 64, "sha512");
  return `$pbkdf2-sha512$${rounds}$${ab64(salt)}$${ab64(checksum)}`;
}

/**
 * The `admin_passwd` of odoo.conf for a (random) master password: its hash, so neither the pod nor
 * the Kubernetes API ever holds the password. The 16-byte salt comes from the password itself
 * (HMAC-SHA256), so each deployment renders the same hash and the Secret does not churn; the password
 * is random and per tenant, so no two tenants share a salt and none can be precomputed.
 */
export function odooAdminPasswordHash(password: string): Promise<string> {
  const salt = createHmac("sha256", password).update("odoo-fleet admin_passwd salt").digest().subarray(0, 16);
  return passlibPbkdf2Sha512(password, salt, ODOO_ADMIN_HASH_ROUNDS);
}

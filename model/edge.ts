/**
 * What the edge refuses or slows down, and how metrics pushes are bound to their pusher: names the
 * components write and the policies read back. Pure.
 */

/**
 * Odoo's database manager over HTTP. Odoo's addons/web/controllers/database.py routes every manager
 * action under /web/database/ (selector, manager, create, duplicate, drop, rename, backup, restore,
 * change_password, list); addons/base/controllers/rpc.py serves the `db` service of XML-RPC at
 * /xmlrpc/db and /xmlrpc/2/db. A path rule cannot refuse the third door, JSON-RPC at /jsonrpc with
 * `"service": "db"` in the body (the same path carries every ordinary API call): that one stays closed by
 * `list_db = False` and the hashed `admin_passwd` alone.
 */
export const DATABASE_MANAGER_PATHS = { prefixes: ["/web/database"], exact: ["/xmlrpc/db", "/xmlrpc/2/db"] } as const;

/**
 * Where a password is tried: the login form, the JSON login the web and mobile clients call
 * (web/controllers/session.py), and XML-RPC's `common` service (login, authenticate). XML-RPC `object`
 * calls carry a password too, but also every integration's traffic: they keep the general limit.
 */
export const LOGIN_PATHS = ["/web/login", "/web/session/authenticate", "/xmlrpc/common", "/xmlrpc/2/common"] as const;

/** Password attempts one client address may make per minute (Traefik RateLimit: average per period, burst). */
export const LOGIN_RATE_LIMIT = { average: 10, period: "1m", burst: 10 } as const;

/**
 * Explicit router priorities of the refusing and the login routes. Traefik's default priority is the
 * rule's length (https://doc.traefik.io/traefik/routing/routers/#priority); a tenant's rule is under 400
 * characters (a hostname is at most 253), so these always win.
 */
export const EDGE_ROUTE_PRIORITY = { databaseManager: 10000, login: 9000 } as const;

/** The Traefik router rule matching `paths` on `host`. */
export function pathsRule(host: string, paths: { readonly prefixes?: readonly string[]; readonly exact?: readonly string[] }): string {
  const terms = [...(paths.prefixes ?? []).map((p) => `PathPrefix(\`${p}\`)`), ...(paths.exact ?? []).map((p) => `Path(\`${p}\`)`)];
  return `Host(\`${host}\`) && (${terms.join(" || ")})`;
}

/** Requests per minute of a Traefik rateLimit (average per period; period defaults to 1s). */
export function ratePerMinute(rateLimit: { average?: number; period?: string | number }): number {
  const average = rateLimit.average ?? 0;
  if (average === 0) return Number.POSITIVE_INFINITY; // Traefik: 0 means no limit
  const period = rateLimit.period ?? "1s";
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(period));
  if (!match) return Number.NaN;
  const seconds = Number(match[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as Record<string, number>)[match[2] ?? "s"]!;
  return (average / seconds) * 60;
}

/**
 * The jobs that push to the Pushgateway, and the user name of each one's per-tenant credential: the
 * only grouping key a credential may push to is /metrics/job/<job>/tenant/<its tenant>.
 */
export const PUSH_JOBS = { odoo_backup: "backup", odoo_restore_drill: "drill" } as const;
export type PushJob = keyof typeof PUSH_JOBS;

/** The basic-auth user of a tenant's credential for one job: `backup-acme`, `drill-acme`. */
export function pushUser(job: PushJob, tenant: string): string {
  return `${PUSH_JOBS[job]}-${tenant}`;
}

/** The port of the authenticating proxy in front of the Pushgateway (the Pushgateway itself listens on the loopback). */
export const PUSH_PROXY_PORT = 9093;

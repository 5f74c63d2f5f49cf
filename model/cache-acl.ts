/**
 * What a tenant's cache (Valkey/ElastiCache RBAC) user may do, and the check of an access string
 * against it. Pure; the Valkey component writes the access string, the policy pack and the tests read it.
 *
 * Odoo's only use of the cache is the session store, camptocamp's `session_redis`
 * (odoo-cloud-addons, branches 17.0 and 18.0, session_redis/session.py):
 *   - keys: `self.prefix = "session:"`, then with ODOO_SESSION_REDIS_PREFIX set
 *     `f"{self.prefix}:{prefix}:"`, so a session lives at `session::<prefix>:<sid>` (two colons
 *     after "session", unlike its README says);
 *   - commands: save() is SET then EXPIRE, get() GET, delete() and rotate() DEL; list() is KEYS
 *     `<prefix>*`, which Odoo itself never calls (refused: KEYS ignores key patterns);
 *   - no publish/subscribe (Odoo's bus runs on PostgreSQL NOTIFY).
 * redis-py's connect sends AUTH (never ACL-checked) and CLIENT SETINFO, whose refusal it ignores
 * (redis/connection.py on_connect: `except ResponseError: pass`); with db 0 it sends no SELECT.
 */

/** Every command Odoo's session store sends: the tenant user's whole allow-list. */
export const SESSION_STORE_COMMANDS = ["get", "set", "expire", "del"] as const;

/**
 * Commands a tenant must never run, with their ACL categories in Redis 7.0 / Valkey 8 (`COMMAND INFO`,
 * subcommands included; test/cache-acl.test.ts compares them with a live server). Listing (SCAN, KEYS,
 * RANDOMKEY) and MONITOR, CLIENT, SLOWLOG ignore key patterns and would show other tenants' session
 * ids; the rest administer, flush, or reach other databases, scripts or channels.
 */
export const REFUSED_CACHE_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  scan: ["keyspace", "read", "slow"],
  keys: ["dangerous", "keyspace", "read", "slow"],
  randomkey: ["keyspace", "read", "slow"],
  dbsize: ["fast", "keyspace", "read"],
  monitor: ["admin", "dangerous", "slow"],
  client: ["admin", "connection", "dangerous", "slow"],
  config: ["admin", "dangerous", "slow"],
  flushall: ["dangerous", "keyspace", "slow", "write"],
  flushdb: ["dangerous", "keyspace", "slow", "write"],
  debug: ["admin", "dangerous", "slow"],
  slowlog: ["admin", "dangerous", "slow"],
  info: ["dangerous", "slow"],
  acl: ["admin", "dangerous", "slow"],
  select: ["connection", "fast"],
  swapdb: ["dangerous", "fast", "keyspace", "write"],
  move: ["fast", "keyspace", "write"],
  migrate: ["dangerous", "keyspace", "slow", "write"],
  restore: ["dangerous", "keyspace", "slow", "write"],
  sort: ["dangerous", "list", "set", "slow", "sortedset", "write"],
  eval: ["scripting", "slow"],
  evalsha: ["scripting", "slow"],
  script: ["scripting", "slow"],
  function: ["scripting", "slow", "write"],
  fcall: ["scripting", "slow"],
  pubsub: ["pubsub", "slow"],
  subscribe: ["pubsub", "slow"],
  psubscribe: ["pubsub", "slow"],
  ssubscribe: ["pubsub", "slow"],
  publish: ["fast", "pubsub"],
  spublish: ["fast", "pubsub"],
  latency: ["admin", "dangerous", "slow"],
  module: ["admin", "dangerous", "slow"],
  shutdown: ["admin", "dangerous", "slow"],
  save: ["admin", "dangerous", "slow"],
  bgsave: ["admin", "dangerous", "slow"],
  replicaof: ["admin", "dangerous", "slow"],
  failover: ["admin", "dangerous", "slow"],
};

/** ODOO_SESSION_REDIS_PREFIX of a tenant: its name (a DNS label: no colon, no glob character). */
export function sessionRedisPrefix(tenant: string): string {
  return tenant;
}

/** Where session_redis writes a tenant's sessions: `session::<prefix>:` (see above), then the sid. */
export function sessionKeyPrefix(tenant: string): string {
  return `session::${sessionRedisPrefix(tenant)}:`;
}

/** A tenant's own channel namespace (no command it holds publishes or subscribes; kept fenced anyway). */
export function tenantChannelPrefix(tenant: string): string {
  return `${tenant}:`;
}

/**
 * A tenant user's access string: its own session keys and channels, nothing but the session store's
 * commands. Everything is named (no category), so a command a later engine adds to @read or @keyspace
 * never reaches tenants. Only syntax ElastiCache documents for Valkey (`on`, `~`, `&`, `-@all`, `+cmd`;
 * Clusters.RBAC.html#Access-string).
 */
export function tenantCacheAccessString(tenant: string): string {
  const commands = SESSION_STORE_COMMANDS.map((c) => `+${c}`).join(" ");
  return `on ~${sessionKeyPrefix(tenant)}* &${tenantChannelPrefix(tenant)}* -@all ${commands}`;
}

/** The text of a glob pattern before its first wildcard (`*`, `?`, `[`, or an escape). */
function literalPrefix(pattern: string): string {
  const wildcard = pattern.search(/[*?[\\]/);
  return wildcard < 0 ? pattern : pattern.slice(0, wildcard);
}

/** A glob reaches only within `prefix` when its literal start already holds all of `prefix`. */
function withinPrefix(pattern: string, prefix: string): boolean {
  return literalPrefix(pattern).startsWith(prefix);
}

interface AclState {
  commands: Set<string>;
  keyPatterns: string[];
  channelPatterns: string[];
  categories: string[];
  selectors: boolean;
}

/** Applies one command rule (`+get`, `-@all`, `allcommands`, …); other words (`on`, passwords) change nothing here. */
function applyCommandRule(state: AclState, word: string): void {
  const every = Object.keys(REFUSED_CACHE_COMMANDS);
  const inCategory = (cat: string) => (cat === "all" ? every : every.filter((c) => REFUSED_CACHE_COMMANDS[c]!.includes(cat)));
  const lower = word === "allcommands" ? "+@all" : word === "nocommands" ? "-@all" : word;
  if (lower === "-@all") {
    state.commands.clear();
    state.categories = [];
  } else if (lower.startsWith("+@")) {
    for (const c of inCategory(lower.slice(2))) state.commands.add(c);
    state.categories.push(lower.slice(2));
  } else if (lower.startsWith("-@")) {
    for (const c of inCategory(lower.slice(2))) state.commands.delete(c);
  } else if (lower.startsWith("+")) {
    // `+client|list` grants part of CLIENT: count the whole command, so the check errs towards refusing.
    state.commands.add(lower.slice(1).split("|")[0]!);
  } else if (lower.startsWith("-")) {
    if (!lower.includes("|")) state.commands.delete(lower.slice(1));
  }
}

/** Applies one rule (Redis ACL SETUSER syntax, as ElastiCache takes it) to the state. */
function applyRule(state: AclState, rule: string): void {
  const lower = rule.toLowerCase();
  if (rule.startsWith("(") || lower === "clearselectors") state.selectors = true;
  else if (lower === "allkeys") state.keyPatterns.push("*");
  else if (lower === "resetkeys") state.keyPatterns = [];
  else if (/^(%r?w?)?~/.test(lower)) state.keyPatterns.push(rule.slice(rule.indexOf("~") + 1));
  else if (lower === "allchannels") state.channelPatterns.push("*");
  else if (lower === "resetchannels") state.channelPatterns = [];
  else if (rule.startsWith("&")) state.channelPatterns.push(rule.slice(1));
  else applyCommandRule(state, lower);
}

/**
 * What is wrong with a tenant user's access string, one sentence each (empty: nothing). The policy
 * `tenant-cache-acl` reports these. Rules are read left to right as Redis does; a new user starts with
 * no command, key or channel.
 */
export function tenantCacheAclProblems(tenant: string, accessString: string, allowed: readonly string[] = SESSION_STORE_COMMANDS): string[] {
  const state: AclState = { commands: new Set(), keyPatterns: [], channelPatterns: [], categories: [], selectors: false };
  // A selector `( … )` holds spaces; keep it one rule.
  for (const rule of accessString.match(/\([^)]*\)|\S+/g) ?? []) applyRule(state, rule);
  const problems: string[] = [];
  const refused = [...state.commands].filter((c) => c in REFUSED_CACHE_COMMANDS).sort();
  if (refused.length > 0) problems.push(`allows ${refused.map((c) => c.toUpperCase()).join(", ")}`);
  if (state.categories.length > 0) problems.push(`grants whole categories (${state.categories.map((c) => `@${c}`).join(", ")}) instead of naming the session store's commands`);
  const extra = [...state.commands].filter((c) => !(c in REFUSED_CACHE_COMMANDS) && !allowed.includes(c)).sort();
  if (extra.length > 0) problems.push(`grants ${extra.map((c) => c.toUpperCase()).join(", ")}, which the session store does not use`);
  for (const p of state.keyPatterns) if (!withinPrefix(p, sessionKeyPrefix(tenant))) problems.push(`key pattern ${p} reaches beyond ${sessionKeyPrefix(tenant)}`);
  for (const p of state.channelPatterns) if (!withinPrefix(p, tenantChannelPrefix(tenant))) problems.push(`channel pattern ${p} reaches beyond ${tenantChannelPrefix(tenant)}`);
  if (state.selectors) problems.push("uses selectors, whose rules this check does not follow");
  return problems;
}

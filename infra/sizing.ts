/**
 * Odoo sizing and the PostgreSQL connection budget, from Odoo's deployment documentation
 * (shared/reference/odoo.md). Pure functions: components, validation and policies share them.
 */
import { TIERS, type TierName } from "./tiers";

/** One worker serves about 6 concurrent users (Odoo deployment docs). */
export const USERS_PER_WORKER = 6;
/** More workers than this per pod and we add pods instead: smaller pods reschedule faster. */
export const MAX_WORKERS_PER_POD = 8;
/** Multi-processing mode needs at least two workers (one heavy request must not block the rest). */
export const MIN_WORKERS_PER_POD = 2;
/**
 * Connections each Odoo process may pool. The docs' worked example (8 workers, 1 cron thread, the
 * gevent process, `max_connections = 80`) is exactly (8 + 1 + 1) x 8; Odoo's default of 64 would
 * let one pod exhaust a server.
 */
export const DB_MAXCONN = 8;
/** Connections kept for backup and restore-drill jobs per tenant (pg_dump, verification). */
export const JOB_CONNECTIONS_PER_TENANT = 2;
/** Connections RDS and operators keep: superuser_reserved_connections, rdsadmin, monitoring, migrations. */
export const RESERVED_CONNECTIONS = 15;
/** Headroom over the computed budget when choosing `max_connections`. */
export const CONNECTION_HEADROOM = 1.2;
/** RDS PostgreSQL's default: LEAST(DBInstanceClassMemory / 9531392, 5000). */
export const RDS_BYTES_PER_CONNECTION = 9531392;

export type Environment = "production" | "staging" | "development" | "review";

export interface OdooSizing {
  /** Web pods (replicas); the autoscaler may go up to `maxWebReplicas`. */
  readonly webReplicas: number;
  readonly maxWebReplicas: number;
  readonly workersPerPod: number;
  /** Cron threads of the separate cron Deployment (one pod); web pods run none. */
  readonly cronThreads: number;
  readonly dbMaxconn: number;
  /** Odoo's `limit_memory_soft` / `limit_memory_hard` per worker, in bytes. */
  readonly limitMemorySoft: number;
  readonly limitMemoryHard: number;
  /** Memory a web pod needs by the docs' estimate: workers x (0.8 x 150 MiB + 0.2 x 1 GiB). */
  readonly webPodMemoryMiB: number;
  /** Connections one web pod may open: (workers + 0 cron + 1 gevent) x db_maxconn. */
  readonly connectionsPerWebPod: number;
  /** Connections of the cron pod: (0 workers + cron threads + 1) x db_maxconn. */
  readonly connectionsCronPod: number;
  /** The most this tenant can open at its maximum scale, jobs included. */
  readonly peakConnections: number;
}

const MiB = 1024 * 1024;

/**
 * Sizes one tenant from its expected concurrent users within its tier. Development and review
 * stacks relax the tier's replica count to one.
 */
export function sizeOdoo(tenant: { expectedUsers: number; tier: TierName }, environment: Environment): OdooSizing {
  const tier = TIERS[tenant.tier];
  const totalWorkers = Math.max(MIN_WORKERS_PER_POD, Math.ceil(tenant.expectedUsers / USERS_PER_WORKER));
  const relaxed = environment === "development" || environment === "review";
  const tierReplicas = relaxed ? 1 : tier.odooWeb.minReplicas;
  const webReplicas = Math.max(tierReplicas, Math.ceil(totalWorkers / MAX_WORKERS_PER_POD));
  const maxWebReplicas = tier.odooWeb.autoscaled && !relaxed ? webReplicas * 2 : webReplicas;
  const workersPerPod = Math.min(MAX_WORKERS_PER_POD, Math.max(MIN_WORKERS_PER_POD, Math.ceil(totalWorkers / webReplicas)));
  const cronThreads = tenant.tier === "critical" ? 2 : 1;
  const connectionsPerWebPod = (workersPerPod + 0 + 1) * DB_MAXCONN;
  const connectionsCronPod = (0 + cronThreads + 1) * DB_MAXCONN;
  return {
    webReplicas,
    maxWebReplicas,
    workersPerPod,
    cronThreads,
    dbMaxconn: DB_MAXCONN,
    limitMemorySoft: 640 * MiB,
    limitMemoryHard: 1664 * MiB,
    webPodMemoryMiB: Math.ceil(workersPerPod * (0.8 * 150 + 0.2 * 1024)),
    connectionsPerWebPod,
    connectionsCronPod,
    peakConnections: maxWebReplicas * connectionsPerWebPod + connectionsCronPod + JOB_CONNECTIONS_PER_TENANT,
  };
}

/** Memory of RDS instance classes in GiB (AWS's published figures), for the connection ceiling. */
export const RDS_INSTANCE_MEMORY_GIB: Readonly<Record<string, number>> = {
  "db.t4g.medium": 4,
  "db.t4g.large": 8,
  "db.m6g.large": 8,
  "db.m6g.xlarge": 16,
  "db.m6g.2xlarge": 32,
  "db.m6g.4xlarge": 64,
  "db.m7g.large": 8,
  "db.m7g.xlarge": 16,
  "db.m7g.2xlarge": 32,
  "db.m7g.4xlarge": 64,
  "db.m7g.8xlarge": 128,
  "db.r6g.large": 16,
  "db.r6g.xlarge": 32,
  "db.r6g.2xlarge": 64,
  "db.r7g.large": 16,
  "db.r7g.xlarge": 32,
  "db.r7g.2xlarge": 64,
  "db.r7g.4xlarge": 128,
};

/**
 * The most connections an instance class sustains: RDS's own default formula. DBInstanceClassMemory
 * is the class memory less what RDS reserves; we take 90% of the published figure.
 */
export function maxConnectionsCeiling(instanceClass: string): number | undefined {
  const gib = RDS_INSTANCE_MEMORY_GIB[instanceClass];
  if (gib === undefined) return undefined;
  return Math.min(Math.floor((gib * 1024 ** 3 * 0.9) / RDS_BYTES_PER_CONNECTION), 5000);
}

export interface ConnectionBudget {
  /** Every tenant's peak plus the reserved connections. */
  readonly required: number;
  /** The `max_connections` to set: required plus headroom, rounded up to a multiple of 10. */
  readonly maxConnections: number;
  readonly byTenant: Readonly<Record<string, number>>;
}

export function connectionBudget(tenants: readonly { name: string; expectedUsers: number; tier: TierName }[], environment: Environment): ConnectionBudget {
  const byTenant: Record<string, number> = {};
  let required = RESERVED_CONNECTIONS;
  for (const tenant of tenants) {
    const peak = sizeOdoo(tenant, environment).peakConnections;
    byTenant[tenant.name] = peak;
    required += peak;
  }
  return { required, maxConnections: Math.ceil((required * CONNECTION_HEADROOM) / 10) * 10, byTenant };
}

/**
 * Odoo sizing and the PostgreSQL connection budget, from Odoo's deployment documentation
 * (shared/reference/odoo.md). Pure functions: components, validation and policies share them.
 */
import { TIERS, type TierName } from "./catalogue";
import type { Environment } from "../model/stack";

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
  const cronThreads = tier.cronThreads;
  const connectionsPerWebPod = connectionsPerPod(workersPerPod, 0, DB_MAXCONN);
  const connectionsCronPod = connectionsPerPod(0, cronThreads, DB_MAXCONN);
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

/**
 * The connections one Odoo pod may open: each worker, each cron thread and the main process hold a
 * pool of up to `db_maxconn` (Odoo's deployment docs). The one formula of the sizing and the
 * connection-budget policy, which reads the planned odoo.conf.
 */
export function connectionsPerPod(workers: number, cronThreads: number, dbMaxconn: number): number {
  return (workers + cronThreads + 1) * dbMaxconn;
}

/**
 * Memory of RDS instance classes in GiB, as AWS publishes it: "Hardware specifications for DB instance
 * classes", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html
 * (same figures as the EC2 t4g/m6g/m7g/r6g/r7g families they run on).
 */
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
 * The `max_connections` every shard's parameter group carries: RDS PostgreSQL's own default formula
 * (AWS Prescriptive Guidance, "Tuning PostgreSQL parameters: max_connections",
 * https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/max-connections.html).
 * max_connections is static (a change waits for a reboot), so it must never follow the tenants: RDS
 * evaluates the formula whenever the engine starts, so the group never changes, and a change of
 * instance class (which restarts the engine) brings its own value, larger or smaller, with nothing pending.
 */
export const RDS_MAX_CONNECTIONS_FORMULA = `LEAST({DBInstanceClassMemory/${RDS_BYTES_PER_CONNECTION}},5000)`;

/**
 * What the formula yields on an instance class, at least. DBInstanceClassMemory is the class memory
 * less what the OS and RDS keep; defaults reported from running instances are 92-97% of it (4 GiB
 * gave 413, 8 GiB 856), so
 * 90% of the published figure is a floor the tenants' budget can be checked against.
 */
export function maxConnectionsCeiling(instanceClass: string): number | undefined {
  const gib = RDS_INSTANCE_MEMORY_GIB[instanceClass];
  if (gib === undefined) return undefined;
  return Math.min(Math.floor((gib * 1024 ** 3 * 0.9) / RDS_BYTES_PER_CONNECTION), 5000);
}

/**
 * The max_connections a parameter value gives on an instance class: a number as written, RDS's
 * formula by the class's memory (its floor); `undefined` for anything else or an unknown class.
 */
export function effectiveMaxConnections(parameterValue: string | undefined, instanceClass: string): number | undefined {
  if (parameterValue === undefined || parameterValue === RDS_MAX_CONNECTIONS_FORMULA) return maxConnectionsCeiling(instanceClass);
  return /^\d+$/.test(parameterValue) ? Number(parameterValue) : undefined;
}

export interface ConnectionBudget {
  /** Every tenant's peak plus the reserved connections. */
  readonly required: number;
  /** What the server must sustain: required plus headroom. */
  readonly withHeadroom: number;
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
  return { required, withHeadroom: Math.ceil(required * CONNECTION_HEADROOM), byTenant };
}

/**
 * Why a shard's tenants do not fit its instance class's max_connections, or `undefined` when they do
 * (or the class is unknown: reported on its own). `where` names the tenants, e.g. "shard s01's tenants'".
 */
export function connectionBudgetProblem(
  tenants: readonly { name: string; expectedUsers: number; tier: TierName }[],
  environment: Environment,
  instanceClass: string,
  where = "the tenants'",
): string | undefined {
  const ceiling = maxConnectionsCeiling(instanceClass);
  if (ceiling === undefined) return undefined;
  const budget = connectionBudget(tenants, environment);
  if (budget.withHeadroom <= ceiling) return undefined;
  const worst = Object.entries(budget.byTenant).sort(([, a], [, b]) => b - a).slice(0, 3).map(([t, n]) => `${t} ${n}`).join(", ");
  return (
    `${where} connection budget needs max_connections ${budget.withHeadroom} (${budget.required} at peak plus 20% headroom), ` +
    `but ${instanceClass} sustains ${ceiling} (${RDS_MAX_CONNECTIONS_FORMULA}): over by ${budget.withHeadroom - ceiling}; largest tenants: ${worst}. Choose a larger class or move tenants`
  );
}

/**
 * Workers for one host by Odoo's rule: at most (cores x 2) + 1 processes, one of them kept for cron,
 * and no more than the users need (one worker per 6 concurrent users).
 */
export function workersForHost(cores: number, expectedUsers: number, cronThreads = 1): number {
  return Math.max(1, Math.min(cores * 2 + 1 - cronThreads, Math.ceil(expectedUsers / USERS_PER_WORKER)));
}

/** CPU in millicores and memory in MiB. */
export interface Compute {
  readonly cpuMillis: number;
  readonly memoryMiB: number;
}

export interface PodResources {
  readonly requests: Compute;
  readonly limits: Compute;
}

const podResources = (cpuLimit: number, memoryMiB: number): PodResources => ({
  // Memory is requested in full: an Odoo worker over its request is the first thing the kubelet evicts.
  requests: { cpuMillis: Math.ceil(cpuLimit / 2), memoryMiB },
  limits: { cpuMillis: cpuLimit, memoryMiB },
});

/** A web pod: workers are mostly waiting on PostgreSQL, so a quarter core each plus the gevent process. */
export function webPodResources(sizing: Pick<OdooSizing, "workersPerPod">): PodResources {
  return podResources(250 * sizing.workersPerPod + 500, 400 * sizing.workersPerPod + 400);
}

export function cronPodResources(sizing: Pick<OdooSizing, "cronThreads">): PodResources {
  return podResources(250 * sizing.cronThreads, 512 + 256 * sizing.cronThreads);
}

/** Room kept in each tenant's quota for its backup and restore-drill job pods. */
export const JOB_POD_RESOURCES: PodResources = podResources(250, 512);

/** Rolling updates add the tier's surge of web pods (TierSpec.odooWeb.maxSurge). */
export function webMaxSurge(tier: TierName): number {
  return TIERS[tier].odooWeb.maxSurge;
}

export interface TenantQuota {
  readonly requests: Compute;
  readonly limits: Compute;
  readonly storageGiB: number;
  readonly pods: number;
}

/** Nominal size of a tenant's filestore claim (EFS is elastic; the quota counts this figure). */
export function filestoreClaimGiB(tier: TierName): number {
  return TIERS[tier].quotaCaps?.storageGiB ?? 500;
}

/**
 * A tenant's namespace quota: its web pods at maximum scale plus a rolling-update surge, its cron pod
 * and job room, rounded up to half a core and half a GiB.
 */
export function tenantQuota(tenant: { expectedUsers: number; tier: TierName }, environment: Environment): TenantQuota {
  const sizing = sizeOdoo(tenant, environment);
  const web = webPodResources(sizing);
  const cron = cronPodResources(sizing);
  const webPods = sizing.maxWebReplicas + webMaxSurge(tenant.tier);
  const sum = (pick: (r: PodResources) => Compute) => ({
    cpuMillis: Math.ceil((webPods * pick(web).cpuMillis + pick(cron).cpuMillis + pick(JOB_POD_RESOURCES).cpuMillis) / 500) * 500,
    memoryMiB: Math.ceil((webPods * pick(web).memoryMiB + pick(cron).memoryMiB + pick(JOB_POD_RESOURCES).memoryMiB) / 512) * 512,
  });
  // Web, cron, a backup and a restore-drill job, plus room for a certificate solver pod.
  const pods = webPods + 1 + 2 + 1;
  return { requests: sum((r) => r.requests), limits: sum((r) => r.limits), storageGiB: filestoreClaimGiB(tenant.tier), pods };
}

/** Where a tenant's quota exceeds its tier's caps, what is over (empty when it fits). */
export function quotaOverCaps(quota: TenantQuota, tier: TierName): string[] {
  const caps = TIERS[tier].quotaCaps;
  if (!caps) return [];
  const over: string[] = [];
  if (quota.limits.cpuMillis > caps.cpu * 1000) over.push(`CPU limits ${quota.limits.cpuMillis / 1000} over the cap of ${caps.cpu}`);
  if (quota.limits.memoryMiB > caps.memoryGiB * 1024) over.push(`memory limits ${quota.limits.memoryMiB / 1024} GiB over the cap of ${caps.memoryGiB} GiB`);
  if (quota.storageGiB > caps.storageGiB) over.push(`storage ${quota.storageGiB} GiB over the cap of ${caps.storageGiB} GiB`);
  if (quota.pods > caps.pods) over.push(`${quota.pods} pods over the cap of ${caps.pods}`);
  return over;
}

/** vCPUs and GiB of the EC2 instance types node pools may use. */
export const EC2_INSTANCE_SIZES: Readonly<Record<string, { vcpu: number; memoryGiB: number }>> = {
  "t3.large": { vcpu: 2, memoryGiB: 8 },
  "t3.xlarge": { vcpu: 4, memoryGiB: 16 },
  "t3.2xlarge": { vcpu: 8, memoryGiB: 32 },
  ...Object.fromEntries(
    ["m6i", "m7i", "m7g", "m6g"].flatMap((family) => [
      [`${family}.large`, { vcpu: 2, memoryGiB: 8 }],
      [`${family}.xlarge`, { vcpu: 4, memoryGiB: 16 }],
      [`${family}.2xlarge`, { vcpu: 8, memoryGiB: 32 }],
      [`${family}.4xlarge`, { vcpu: 16, memoryGiB: 64 }],
      [`${family}.8xlarge`, { vcpu: 32, memoryGiB: 128 }],
    ]),
  ),
  ...Object.fromEntries(
    ["r6i", "r7i"].flatMap((family) => [
      [`${family}.large`, { vcpu: 2, memoryGiB: 16 }],
      [`${family}.xlarge`, { vcpu: 4, memoryGiB: 32 }],
      [`${family}.2xlarge`, { vcpu: 8, memoryGiB: 64 }],
      [`${family}.4xlarge`, { vcpu: 16, memoryGiB: 128 }],
    ]),
  ),
};

/** Share of a node the kubelet, system daemons and eviction threshold leave to pods. */
export const ALLOCATABLE_SHARE = 0.85;

/**
 * What a pool offers pods at its maximum size: the smallest of its instance types (the autoscaler may
 * pick any of them) times nodes per zone times zones, less system reservations.
 */
export function poolCapacity(pool: { instanceTypes: readonly string[]; maxPerZone: number }, zones: number): Compute | undefined {
  const capacity = allocatable(pool.instanceTypes, pool.maxPerZone * zones);
  return capacity && { cpuMillis: Math.floor(capacity.cpuMillis), memoryMiB: Math.floor(capacity.memoryMiB) };
}

/**
 * What `nodes` nodes of a pool offer pods: each counted as the smallest of the pool's instance types,
 * less the share the kubelet and system daemons keep. The one capacity rule the spec, the zone-loss
 * analysis and the quotas-fit-capacity policy share. Undefined for a type the table does not know.
 */
export function allocatable(instanceTypes: readonly string[], nodes: number, share = ALLOCATABLE_SHARE): Compute | undefined {
  const node = smallestNode(instanceTypes);
  return node && { cpuMillis: nodes * node.vcpu * 1000 * share, memoryMiB: nodes * node.memoryGiB * 1024 * share };
}

/**
 * The node a pool can count on: the smallest vCPU and the smallest memory among its instance types
 * (the autoscaler may launch any of them). Undefined for no type or a type the table does not know.
 */
export function smallestNode(instanceTypes: readonly string[]): { vcpu: number; memoryGiB: number } | undefined {
  const sizes = instanceTypes.map((t) => EC2_INSTANCE_SIZES[t]);
  if (sizes.length === 0 || sizes.some((s) => s === undefined)) return undefined;
  return { vcpu: Math.min(...sizes.map((s) => s!.vcpu)), memoryGiB: Math.min(...sizes.map((s) => s!.memoryGiB)) };
}

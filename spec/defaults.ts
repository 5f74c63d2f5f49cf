/**
 * What the spec derives when a stack file leaves it out: defaults by environment, names from the
 * stack, the stack's tier and its pools. One home each, for the spec's rules and for its builder.
 */
import type { Environment, NatGatewayMode } from "../model/stack";
import { strictestTier, TIERS, type TierName } from "../tiers/catalogue";

/** Production survives a zone loss only with a NAT gateway per zone; elsewhere one is enough. */
export function natGatewayModeFor(environment: Environment): NatGatewayMode {
  return environment === "production" ? "OnePerAz" : "Single";
}

/** The EKS cluster's name (and the first data shard's ids), derived from the stack so two stacks never collide. */
export function clusterNameFor(stack: string): string {
  return `odoo-${stack}`;
}

export function defaultLogRetentionDays(environment: Environment): number {
  return environment === "production" ? 365 : 30;
}

export function defaultDbInstanceClass(environment: Environment): string {
  return environment === "production" ? "db.m7g.large" : "db.t4g.medium";
}

export function defaultCacheNodeType(environment: Environment): string {
  return environment === "production" ? "cache.m7g.large" : "cache.t4g.small";
}

/** The tier whose contract the stack's shared data stores must meet (essential when it has no tenant). */
export function stackTier(tenants: readonly { tier: TierName }[]): TierName {
  return strictestTier(tenants.map((t) => t.tier)) ?? "essential";
}

/** The longest PITR window among the tenants' tiers (essential's when it has no tenant): the RDS backup retention. */
export function backupRetentionDaysFor(tenants: readonly { tier: TierName }[]): number {
  return Math.max(...tenants.map((t) => TIERS[t.tier].pitrDays), TIERS.essential.pitrDays);
}

/** Production runs a warm standby in the DR region when one of its tenants' tiers asks for one. */
export function wantsWarmStandby(environment: Environment | undefined, tenants: readonly { tier: TierName }[]): boolean {
  return environment === "production" && tenants.some((t) => TIERS[t.tier].crossRegion.warmStandby);
}

/** The pool shared tenants run on: the one named, or the first that is neither dedicated nor "system". */
export function tenantPoolOf(cluster: { tenantPool?: string | undefined; nodePools: readonly { name: string; dedicatedTo?: string | undefined }[] }): string | undefined {
  if (cluster.tenantPool !== undefined) return cluster.tenantPool;
  const shared = cluster.nodePools.filter((p) => p.dedicatedTo === undefined);
  return (shared.find((p) => p.name !== "system") ?? shared[0])?.name;
}

/**
 * The pool the platform's own workloads run on (cluster add-ons, Traefik, monitoring, jobs): the
 * undedicated pool named "system", else the shared tenants' pool.
 */
export function systemPoolOf(cluster: { tenantPool: string; nodePools: readonly { name: string; dedicatedTo?: string | undefined }[] }): string {
  return cluster.nodePools.find((p) => p.name === "system" && p.dedicatedTo === undefined)?.name ?? cluster.tenantPool;
}

/** The tenants a data shard serves: those that name it; the first shard (`undefined`) serves those that name none. */
export function tenantsOfShard<T extends { shard?: string | undefined }>(tenants: readonly T[], shard: string | undefined): T[] {
  return tenants.filter((t) => t.shard === shard);
}

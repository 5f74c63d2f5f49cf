/**
 * Sizing rules: each tenant's quota within its tier's caps, every pool able to hold its tenants'
 * quotas. The arithmetic is tiers/sizing.ts's (tenantQuota, quotaOverCaps, poolCapacity); these
 * rules only compare and word it.
 */
import { PROJECT, type Environment } from "../../model/stack";
import type { TierName } from "../../tiers/catalogue";
import { EC2_INSTANCE_SIZES, poolCapacity, quotaOverCaps, tenantQuota } from "../../tiers/sizing";
import { tenantPoolOf } from "../defaults";
import type { SpecProblem } from "../errors";
import type { ClusterConfig, Parsed, TenantSpec } from "../schema";

/** What a tenant's quota needs beyond its tier's caps (`<users> users need ... of the <tier> tier`), if anything. */
export function quotaOverTierCaps(tenant: { expectedUsers: number; tier: TierName }, environment: Environment): string | undefined {
  const over = quotaOverCaps(tenantQuota(tenant, environment), tenant.tier);
  return over.length > 0 ? `${tenant.expectedUsers} users need ${over.join(", ")} of the ${tenant.tier} tier` : undefined;
}

/** Each tenant's quota within its tier's caps, and every pool able to hold its tenants' quotas. */
export function capacityChecks(parsed: Parsed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const environment = parsed[`${PROJECT}:environment`];
  const tenants = parsed[`${PROJECT}:tenants`];
  const cluster = parsed[`${PROJECT}:cluster`];
  const zones = parsed[`${PROJECT}:zones`];
  if (!environment || !tenants) return problems;

  tenants.forEach((tenant, i) => {
    const over = quotaOverTierCaps(tenant, environment);
    if (over !== undefined) {
      problems.push({ path: `${PROJECT}:tenants[${i}].expectedUsers`, message: `${over}; lower expectedUsers or move the tenant to a larger tier` });
    }
  });
  if (!cluster || !zones) return problems;
  return [...problems, ...poolCapacityChecks(cluster, zones.length, tenants, environment)];
}

/** A tenant pool that is a shared pool; pools of known instance types, able to hold their tenants' quota requests at peak. */
function poolCapacityChecks(cluster: ClusterConfig, zones: number, tenants: readonly TenantSpec[], environment: Environment): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const tenantPool = tenantPoolOf(cluster);
  if (cluster.tenantPool !== undefined && !cluster.nodePools.some((p) => p.name === cluster.tenantPool && p.dedicatedTo === undefined)) {
    problems.push({ path: `${PROJECT}:cluster.tenantPool`, message: `${cluster.tenantPool} is not a shared node pool of this cluster` });
  }
  cluster.nodePools.forEach((pool, i) => {
    const capacity = poolCapacity(pool, zones);
    if (capacity === undefined) {
      const unknown = pool.instanceTypes.filter((t) => EC2_INSTANCE_SIZES[t] === undefined);
      problems.push({ path: `${PROJECT}:cluster.nodePools[${i}].instanceTypes`, message: `${unknown.join(", ")} not in the sizing table (tiers/sizing.ts EC2_INSTANCE_SIZES); add it there with its vCPUs and memory` });
      return;
    }
    const onPool = tenants.filter((t) => (cluster.nodePools.find((p) => p.dedicatedTo === t.name)?.name ?? tenantPool) === pool.name);
    if (onPool.length === 0) return;
    const need = onPool.map((t) => tenantQuota(t, environment).requests).reduce((a, b) => ({ cpuMillis: a.cpuMillis + b.cpuMillis, memoryMiB: a.memoryMiB + b.memoryMiB }));
    const path = `${PROJECT}:cluster.nodePools[${i}].maxPerZone`;
    const nodes = pool.maxPerZone * zones;
    const offer = `${nodes} node${nodes === 1 ? "" : "s"} at most (${pool.maxPerZone} per zone) offer`;
    const who = `its ${onPool.length} tenant${onPool.length === 1 ? "'s quota requests" : "s' quotas request"}`;
    if (need.cpuMillis > capacity.cpuMillis) {
      problems.push({ path, message: `${who} ${need.cpuMillis / 1000} vCPU at peak; ${offer} ${capacity.cpuMillis / 1000}: over by ${(need.cpuMillis - capacity.cpuMillis) / 1000} vCPU` });
    }
    if (need.memoryMiB > capacity.memoryMiB) {
      problems.push({ path, message: `${who} ${(need.memoryMiB / 1024).toFixed(1)} GiB at peak; ${offer} ${(capacity.memoryMiB / 1024).toFixed(1)} GiB: over by ${((need.memoryMiB - capacity.memoryMiB) / 1024).toFixed(1)} GiB` });
    }
  });
  return problems;
}

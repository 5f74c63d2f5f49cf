/** A platform stack's spec, built from its configuration once every key has parsed and every rule holds. */
import { runnerLabel } from "../model/ci";
import { PROJECT, type Environment } from "../model/stack";
import { connectionBudget, maxConnectionsCeiling } from "../tiers/sizing";
import {
  backupRetentionDaysFor,
  clusterNameFor,
  defaultCacheNodeType,
  defaultDbInstanceClass,
  defaultLogRetentionDays,
  natGatewayModeFor,
  stackTier,
  tenantPoolOf,
  tenantsOfShard,
  wantsWarmStandby,
} from "./defaults";
import type { DataConfig, Parsed, TenantSpec } from "./schema";
import type { DataShardSpec, PlatformSpec } from "./types";

/** The spec of a stack whose keys all parsed (so every field read here is present) and whose rules hold. */
export function buildPlatformSpec(parsed: Parsed, stack: string, stackFile: string): PlatformSpec {
  const kind = parsed[`${PROJECT}:kind`]!;
  const environment = parsed[`${PROJECT}:environment`]!;
  const network = parsed[`${PROJECT}:network`]!;
  const cluster = parsed[`${PROJECT}:cluster`]!;
  const tenants = parsed[`${PROJECT}:tenants`]!;
  const data = parsed[`${PROJECT}:data`]!;
  const drNetwork = parsed[`${PROJECT}:drNetwork`];
  const production = environment === "production";
  const shards = dataShardSpecs(data, tenants, environment);
  return {
    mode: "platform",
    project: PROJECT,
    stack,
    stackFile,
    kind,
    environment,
    region: parsed["aws:region"]!,
    drRegion: parsed[`${PROJECT}:drRegion`]!,
    zones: parsed[`${PROJECT}:zones`]!,
    network: {
      cidr: network.cidr,
      natGateways: natGatewayModeFor(environment),
      flowLogRetentionDays: network.flowLogRetentionDays ?? defaultLogRetentionDays(environment),
    },
    cluster: {
      name: clusterNameFor(stack),
      kubernetesVersion: cluster.kubernetesVersion,
      endpointPublicAccessCidrs: cluster.endpointPublicAccessCidrs,
      logRetentionDays: cluster.logRetentionDays ?? defaultLogRetentionDays(environment),
      nodePools: cluster.nodePools,
      tenantPool: tenantPoolOf(cluster)!,
    },
    tenants,
    data: {
      postgres: shards[0]!.postgres,
      redis: shards[0]!.redis,
      shards,
      backupWindow: data.backupWindow,
      maintenanceWindow: data.maintenanceWindow,
      protect: data.protect ?? production,
      strictestTier: stackTier(tenants),
    },
    dr: {
      enabled: production,
      warmStandby: wantsWarmStandby(environment, tenants),
      ...(drNetwork ? { network: drNetwork } : {}),
    },
    ingress: parsed[`${PROJECT}:ingress`]!,
    platformImages: parsed[`${PROJECT}:platformImages`]!,
    owner: parsed[`${PROJECT}:owner`]!,
    costCentre: parsed[`${PROJECT}:costCentre`]!,
    observability: parsed[`${PROJECT}:observability`]!,
    ci: { ...parsed[`${PROJECT}:ci`]!, runnerLabel: runnerLabel(stack) },
  };
}

/** Every shard, the first (`data.postgres`/`data.redis`) first, with the tenants it serves and their connection budget. */
function dataShardSpecs(data: DataConfig, tenants: readonly TenantSpec[], environment: Environment): DataShardSpec[] {
  const production = environment === "production";
  const backupRetentionDays = backupRetentionDaysFor(tenants);
  return [{ postgres: data.postgres, redis: data.redis }, ...data.shards].map((shard) => {
    const served = tenantsOfShard(tenants, "name" in shard ? shard.name : undefined);
    const budget = connectionBudget(served, environment);
    const instanceClass = shard.postgres.instanceClass ?? defaultDbInstanceClass(environment);
    return {
      ...("name" in shard ? { name: shard.name } : {}),
      postgres: {
        version: shard.postgres.version,
        instanceClass,
        storageGiB: shard.postgres.storageGiB,
        maxStorageGiB: shard.postgres.maxStorageGiB,
        multiAz: production,
        backupRetentionDays,
        // The rules (rules/data.ts) hold: a known class whose formula covers the budget.
        maxConnections: maxConnectionsCeiling(instanceClass)!,
        requiredConnections: budget.required,
      },
      redis: { nodeType: shard.redis.nodeType ?? defaultCacheNodeType(environment), multiAz: production },
      tenants: served.map((t) => t.name),
    };
  });
}

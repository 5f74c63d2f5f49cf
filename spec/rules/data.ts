/** Rules on a stack's data tier: its shards (names, tenants, caches, connection budgets, storage) and windows. */
import { dataShardId } from "../../model/naming";
import { PROJECT, type Environment } from "../../model/stack";
import { connectionBudgetProblem, maxConnectionsCeiling, RDS_INSTANCE_MEMORY_GIB } from "../../tiers/sizing";
import { clusterNameFor, defaultDbInstanceClass, tenantsOfShard } from "../defaults";
import type { SpecProblem } from "../errors";
import type { DataConfig, Parsed, TenantSpec } from "../schema";
import { windowsOverlap } from "./windows";

/** ElastiCache allows 100 users per user group; one is the group's disabled `default` user. */
const MAX_TENANTS_PER_CACHE = 99;

/** One shard as the stack file declares it; `name` undefined for the first. */
interface ShardConfig {
  readonly path: string;
  readonly name?: string;
  readonly postgres: { instanceClass?: string | undefined; storageGiB: number; maxStorageGiB: number };
}

export function dataChecks(parsed: Parsed, stack: string): SpecProblem[] {
  const environment = parsed[`${PROJECT}:environment`];
  const tenants = parsed[`${PROJECT}:tenants`] ?? [];
  const data = parsed[`${PROJECT}:data`];
  if (!data || !environment) return [];
  const problems = shardNameChecks(data, parsed[`${PROJECT}:kind`] === "dedicated", tenants);
  const shards: ShardConfig[] = [
    { path: `${PROJECT}:data`, postgres: data.postgres },
    ...data.shards.map((shard, i) => ({ path: `${PROJECT}:data.shards[${i}]`, name: shard.name, postgres: shard.postgres })),
  ];
  for (const shard of shards) {
    // A repeated shard name is reported as a duplicate already.
    if (shard.name !== undefined && shards.find((s) => s.name === shard.name) !== shard) continue;
    problems.push(...shardChecks(shard, tenantsOfShard(tenants, shard.name), environment, clusterNameFor(stack)));
  }
  if (windowsOverlap(data.backupWindow, data.maintenanceWindow)) {
    problems.push({ path: `${PROJECT}:data.maintenanceWindow`, message: `${data.maintenanceWindow} overlaps the backup window ${data.backupWindow}` });
  }
  return problems;
}

/** Shard names declared once, shards only on shared stacks, and tenants that name a declared shard. */
function shardNameChecks(data: DataConfig, dedicated: boolean, tenants: readonly TenantSpec[]): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const shardNames = new Map<string, number>();
  data.shards.forEach((shard, i) => {
    const other = shardNames.get(shard.name);
    if (other !== undefined) add(`${PROJECT}:data.shards[${i}].name`, `shard ${shard.name} is already declared at ${PROJECT}:data.shards[${other}]`);
    else shardNames.set(shard.name, i);
  });
  if (data.shards.length > 0 && dedicated) {
    add(`${PROJECT}:data.shards`, "a dedicated stack serves one tenant: shards are for shared stacks");
  }
  tenants.forEach((tenant, i) => {
    if (tenant.shard !== undefined && !shardNames.has(tenant.shard)) {
      add(`${PROJECT}:tenants[${i}].shard`, `${tenant.shard} is not a declared shard${shardNames.size > 0 ? `; declared: ${[...shardNames.keys()].join(", ")}` : ` (${PROJECT}:data.shards is empty)`}`);
    }
  });
  return problems;
}

/** One shard: ids ElastiCache accepts, users its Valkey group can hold, a known class whose connections cover its tenants, room to grow. */
function shardChecks(shard: ShardConfig, served: readonly TenantSpec[], environment: Environment, clusterName: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const where = shard.name === undefined ? "the tenants'" : `shard ${shard.name}'s tenants'`;
  if (shard.name !== undefined && dataShardId(clusterName, shard.name).length > 40) {
    add(`${shard.path}.name`, `makes the replication group id ${dataShardId(clusterName, shard.name)} longer than ElastiCache's 40 characters`);
  }
  if (served.length > MAX_TENANTS_PER_CACHE) {
    add(shard.name === undefined ? `${PROJECT}:tenants` : `${shard.path}.name`, `${served.length} tenants on ${shard.name === undefined ? "the first shard" : `shard ${shard.name}`}: its Valkey group holds at most ${MAX_TENANTS_PER_CACHE} (ElastiCache allows 100 users per user group, one is the disabled default user); add a shard to ${PROJECT}:data.shards and move tenants with \`shard\``);
  }
  const instanceClass = shard.postgres.instanceClass ?? defaultDbInstanceClass(environment);
  if (maxConnectionsCeiling(instanceClass) === undefined) {
    add(`${shard.path}.postgres.instanceClass`, `${instanceClass} is not a known RDS instance class; known: ${Object.keys(RDS_INSTANCE_MEMORY_GIB).join(", ")}`);
  }
  const overBudget = connectionBudgetProblem(served, environment, instanceClass, where);
  if (overBudget) add(`${shard.path}.postgres.instanceClass`, overBudget);
  if (shard.postgres.maxStorageGiB < shard.postgres.storageGiB) {
    add(`${shard.path}.postgres.maxStorageGiB`, `${shard.postgres.maxStorageGiB} is below storageGiB ${shard.postgres.storageGiB}`);
  }
  return problems;
}

/**
 * Achieved RPO and RTO per tenant, derived from the recovery mechanisms a stack's plan actually
 * creates (not from what the spec intended), compared with each tier's contract. Pure.
 */
import { BACKUP_TIER_TAG } from "../model/tags";
import type { CapturedResource } from "../model/resource";
import type { Environment } from "../model/stack";
import { TIERS, type TierName } from "./catalogue";

/**
 * Minutes each mechanism takes, as AWS documents them (shared/reference/aws-recovery.md) or, where
 * AWS gives no figure, as we budget them. Each figure is the bad end of "typically".
 */
export const RECOVERY_FIGURES = {
  /** RDS Multi-AZ failover: typically 60-120 s. */
  rdsMultiAzFailover: 2,
  /** Point-in-time restore: latest restorable time typically within 5 minutes of now. */
  pitrRpo: 5,
  /** Restoring an RDS instance from PITR or a snapshot (instance creation), budgeted. */
  rdsRestore: 60,
  /** Cross-region read replica: asynchronous; its lag, budgeted at a minute. */
  replicaLag: 1,
  /** Promoting a read replica: a reboot that "can take several minutes". */
  replicaPromotion: 10,
  /** Cross-region automated-backup replication: transaction logs copied as they are ready. */
  automatedBackupReplicationRpo: 15,
  /** Restoring from replicated backups in the DR region, budgeted. */
  drRestore: 120,
  /** EFS replication: most file systems within 15 minutes (AWS's RPO target). */
  efsReplicationRpo: 15,
  /** ElastiCache automatic failover to the replica in another zone. */
  cacheFailover: 1,
  /** Replacing a lost cache node without a replica. */
  cacheRebuild: 15,
  /** Rescheduling a single web pod onto a node in a surviving zone. */
  podReschedule: 5,
  /** Scaling the warm standby cluster from zero and switching DNS. */
  standbyActivation: 20,
  /** Building the platform in the DR region from code when no standby runs there. */
  platformRebuild: 120,
} as const;

export interface RecoveryMechanisms {
  readonly postgres?: {
    readonly multiAz: boolean;
    readonly backupRetentionDays: number;
    readonly automatedBackupReplication: boolean;
    readonly crossRegionReplica: boolean;
    /** Tier of the AWS Backup plan that selects it (by tag), if any. */
    readonly backupTier?: string;
  };
  readonly cache?: { readonly automaticFailover: boolean };
  readonly filestore?: { readonly replication: boolean; readonly backupTier?: string };
  /** AWS Backup plans by tier: hours between recovery points and whether they copy to the DR region. */
  readonly backupPlans: Readonly<Record<string, { readonly everyHours: number; readonly drCopy: boolean }>>;
  /** An EKS cluster in the DR region ready to take over. */
  readonly standbyCluster: boolean;
}

const typeIs = (type: string) => (r: CapturedResource) => r.type === type;
const tagOf = (r: CapturedResource | undefined, key: string) => (r?.inputs.tags as Record<string, string> | undefined)?.[key];

/** Hours between runs of an AWS Backup cron schedule (hourly, every N hours, or daily). */
export function scheduleHours(schedule: string): number {
  const fields = /^cron\((.+)\)$/.exec(schedule)?.[1]?.split(/\s+/) ?? [];
  const hours = fields[1] ?? "";
  if (hours === "*") return 1;
  const step = /^(?:\*|\d+)\/(\d+)$/.exec(hours);
  if (step) return Number(step[1]);
  return 24;
}

/** Reads the recovery mechanisms out of a plan's captured resources. */
export function mechanismsFromResources(resources: readonly CapturedResource[]): RecoveryMechanisms {
  const instances = resources.filter(typeIs("aws:rds/instance:Instance"));
  // With several data shards every tenant is owed its tier on its own shard: the weakest shard counts.
  const primaries = instances.filter((r) => r.inputs.replicateSourceDb === undefined);
  const primary = primaries[0];
  const groups = resources.filter(typeIs("aws:elasticache/replicationGroup:ReplicationGroup"));
  const fileSystem = resources.find(typeIs("aws:efs/fileSystem:FileSystem"));
  const clusters = resources.filter(typeIs("aws:eks/cluster:Cluster"));
  const providers = new Set(clusters.map((c) => c.provider));

  const backupPlans: Record<string, { everyHours: number; drCopy: boolean }> = {};
  for (const plan of resources.filter(typeIs("aws:backup/plan:Plan"))) {
    for (const rule of (plan.inputs.rules as Record<string, unknown>[] | undefined) ?? []) {
      const tier = (rule.recoveryPointTags as Record<string, string> | undefined)?.[BACKUP_TIER_TAG];
      if (!tier) continue;
      const selected = resources.some(
        (s) => s.type === "aws:backup/selection:Selection" && s.parent === plan.parent &&
          ((s.inputs.selectionTags as { key: string; value: string }[] | undefined) ?? []).some((t) => t.key === BACKUP_TIER_TAG && t.value === tier),
      );
      if (!selected) continue;
      backupPlans[tier] = {
        everyHours: scheduleHours(String(rule.schedule)),
        drCopy: ((rule.copyActions as unknown[] | undefined) ?? []).length > 0,
      };
    }
  }

  return {
    ...(primary
      ? {
          postgres: {
            multiAz: primaries.every((p) => p.inputs.multiAz === true),
            backupRetentionDays: Math.min(...primaries.map((p) => Number(p.inputs.backupRetentionPeriod ?? 0))),
            automatedBackupReplication: resources.filter(typeIs("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")).length >= primaries.length,
            crossRegionReplica: instances.some((r) => r.inputs.replicateSourceDb !== undefined && r.provider !== primary.provider),
            ...(tagOf(primary, BACKUP_TIER_TAG) ? { backupTier: tagOf(primary, BACKUP_TIER_TAG)! } : {}),
          },
        }
      : {}),
    ...(groups.length > 0
      ? {
          cache: {
            automaticFailover: groups.every((g) => g.inputs.automaticFailoverEnabled === true && g.inputs.multiAzEnabled === true && Number(g.inputs.numCacheClusters ?? 1) >= 2),
          },
        }
      : {}),
    ...(fileSystem
      ? {
          filestore: {
            replication: resources.some(typeIs("aws:efs/replicationConfiguration:ReplicationConfiguration")),
            ...(tagOf(fileSystem, BACKUP_TIER_TAG) ? { backupTier: tagOf(fileSystem, BACKUP_TIER_TAG)! } : {}),
          },
        }
      : {}),
    backupPlans,
    standbyCluster: providers.size > 1,
  };
}

export type Fault = "single-fault" | "logical-corruption" | "zone-lost" | "region-lost";

export interface RecoveryRow {
  readonly tenant: string;
  readonly tier: TierName;
  readonly objective: "RPO" | "RTO" | "PITR window";
  readonly fault: Fault;
  /** Minutes (days for the PITR window); `null` when no mechanism recovers from the fault. */
  readonly contract: number;
  readonly achieved: number | null;
  readonly meets: boolean;
  /** The mechanisms the figure comes from. */
  readonly via: string;
  /** Non-production stacks may relax recovery; their shortfalls are reported, not enforced. */
  readonly enforced: boolean;
}

export interface TenantWorkload {
  readonly name: string;
  readonly tier: TierName;
  /** Web replicas and the zones they are spread over. */
  readonly webReplicas: number;
  readonly webZones: number;
}

const worst = (...parts: [number | null, string][]): [number | null, string] => {
  if (parts.some(([m]) => m === null)) return [null, parts.filter(([m]) => m === null).map(([, v]) => v).join(" + ")];
  const max = Math.max(...parts.map(([m]) => m as number));
  return [max, parts.map(([, v]) => v).join(" + ")];
};
const best = (...options: [number, string][]): [number | null, string] => {
  if (options.length === 0) return [null, "no mechanism"];
  return options.reduce((a, b) => (b[0] < a[0] ? b : a));
};

/** Per tenant, what the mechanisms achieve for each fault, next to its tier's contract. */
export function achievedRecovery(mechanisms: RecoveryMechanisms, tenants: readonly TenantWorkload[], environment: Environment): RecoveryRow[] {
  const f = RECOVERY_FIGURES;
  const pg = mechanisms.postgres;
  const enforced = environment === "production";
  const planFor = (tier: string | undefined) => (tier ? mechanisms.backupPlans[tier] : undefined);

  // Database and files, per fault.
  const dbSingle: [number | null, string] = !pg ? [null, "no database"] : pg.multiAz ? [0, "RDS Multi-AZ synchronous standby"] : [f.pitrRpo, "RDS point-in-time restore"];
  const dbLogical: [number | null, string] = pg && pg.backupRetentionDays > 0 ? [f.pitrRpo, "RDS point-in-time restore"] : [null, "no automated backups"];
  const dbPlan = planFor(pg?.backupTier);
  const dbRegionRpo = best(
    ...(pg?.crossRegionReplica ? [[f.replicaLag, "cross-region read replica"] as [number, string]] : []),
    ...(pg?.automatedBackupReplication ? [[f.automatedBackupReplicationRpo, "RDS automated backups replicated"] as [number, string]] : []),
    ...(dbPlan?.drCopy ? [[dbPlan.everyHours * 60, `AWS Backup copy every ${dbPlan.everyHours} h`] as [number, string]] : []),
  );
  const filePlan = planFor(mechanisms.filestore?.backupTier);
  const filesRegionRpo = best(
    ...(mechanisms.filestore?.replication ? [[f.efsReplicationRpo, "EFS replication"] as [number, string]] : []),
    ...(filePlan?.drCopy ? [[filePlan.everyHours * 60, `AWS Backup copy of EFS every ${filePlan.everyHours} h`] as [number, string]] : []),
  );
  const dbZoneRto: [number | null, string] = !pg ? [null, "no database"] : pg.multiAz ? [f.rdsMultiAzFailover, "RDS Multi-AZ failover"] : [f.rdsRestore, "RDS restore in another zone"];
  const cacheZoneRto: [number | null, string] = mechanisms.cache?.automaticFailover ? [f.cacheFailover, "ElastiCache failover"] : [f.cacheRebuild, "cache node rebuilt"];
  const regionRto: [number | null, string] =
    pg?.crossRegionReplica && mechanisms.standbyCluster
      ? [f.replicaPromotion + f.standbyActivation, "replica promoted, standby cluster scaled"]
      : pg?.crossRegionReplica
        ? [f.replicaPromotion + f.platformRebuild, "replica promoted, platform built from code"]
        : dbRegionRpo[0] !== null
          ? [f.drRestore + f.platformRebuild, "restore from DR copies, platform built from code"]
          : [null, "nothing in the DR region"];

  const rows: RecoveryRow[] = [];
  for (const tenant of tenants) {
    const contract = TIERS[tenant.tier];
    const webZoneRto: [number, string] = tenant.webReplicas >= 2 && tenant.webZones >= 2 ? [0, `${tenant.webReplicas} web replicas in ${tenant.webZones} zones`] : [f.podReschedule, "web pod rescheduled"];
    const row = (objective: RecoveryRow["objective"], fault: Fault, contractValue: number, [achieved, via]: [number | null, string]) =>
      rows.push({ tenant: tenant.name, tier: tenant.tier, objective, fault, contract: contractValue, achieved, meets: achieved !== null && achieved <= contractValue, via, enforced });
    row("RPO", "single-fault", contract.rpoMinutes.singleFault, dbSingle);
    row("RPO", "logical-corruption", contract.rpoMinutes.logicalCorruption, dbLogical);
    row("RPO", "region-lost", contract.rpoMinutes.regionLost, worst(dbRegionRpo, filesRegionRpo));
    row("RTO", "zone-lost", contract.rtoMinutes.zoneLost, worst(dbZoneRto, cacheZoneRto, webZoneRto));
    row("RTO", "region-lost", contract.rtoMinutes.regionLost, regionRto);
    // PITR reaches back at least as far as the tier promises (days, compared the other way round).
    const days = pg?.backupRetentionDays ?? 0;
    rows.push({ tenant: tenant.name, tier: tenant.tier, objective: "PITR window", fault: "logical-corruption", contract: contract.pitrDays, achieved: days, meets: days >= contract.pitrDays, via: "RDS backup retention", enforced });
  }
  return rows;
}

/** Rows where a tenant falls short of its contract and the environment enforces it. */
export function recoveryShortfalls(rows: readonly RecoveryRow[]): RecoveryRow[] {
  return rows.filter((r) => !r.meets && r.enforced);
}

export function formatMinutes(minutes: number | null): string {
  if (minutes === null) return "none";
  if (minutes === 0) return "0";
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

/**
 * The service-tier catalogue: the table of shared/product/service-tiers.md as typed data.
 * Components, sizing rules and policies read tier numbers from here and nowhere else.
 */

// The EKS release calendar is part of the catalogue: what the platform's clusters may run.
export * from "../model/eks-versions";

export const TIER_NAMES = ["essential", "business", "critical"] as const;
export type TierName = (typeof TIER_NAMES)[number];

export type StackKind = "shared" | "dedicated";

/** Durations are kept in minutes (RPO/RTO, intervals) or days (retention) so they compare directly. */
export interface TierSpec {
  readonly name: TierName;
  /** Stack kinds a tenant of this tier may live on. */
  readonly stackKinds: readonly StackKind[];
  readonly rpoMinutes: {
    /** A single fault inside the region (AZ loss, instance failure). */
    readonly singleFault: number;
    /** Logical corruption (bad deployment, deleted rows): point-in-time restore. */
    readonly logicalCorruption: number;
    readonly regionLost: number;
  };
  readonly rtoMinutes: {
    readonly zoneLost: number;
    readonly regionLost: number;
  };
  readonly odooWeb: {
    readonly minReplicas: number;
    /** Distinct zones the web replicas must span. */
    readonly minZones: number;
    /** `true`: one replica per zone at least, scaled by a HorizontalPodAutoscaler. */
    readonly autoscaled: boolean;
    /** Extra web pods a rolling update may add: 0 where a single replica cannot spare the room. */
    readonly maxSurge: number;
  };
  /** Odoo's cron threads (`max_cron_threads`) in the tenant's cron pod. */
  readonly cronThreads: number;
  readonly podDisruptionBudget:
    | { readonly kind: "none" }
    | { readonly kind: "minAvailable"; readonly value: number }
    | { readonly kind: "maxUnavailable"; readonly value: number };
  readonly database: "shared-multi-az" | "dedicated-multi-az";
  /** RDS automated-backup retention (PITR window). */
  readonly pitrDays: number;
  readonly logicalBackup: { readonly everyHours: number; readonly keepDays: number };
  readonly objectLockMode: "GOVERNANCE" | "COMPLIANCE";
  readonly crossRegion: {
    readonly backupCopies: true;
    /** Backup copies within S3 Replication Time Control (15 min). */
    readonly replicationTimeControl: boolean;
    readonly rdsAutomatedBackupReplication: boolean;
    readonly filestoreReplication: boolean;
    /** Cross-region read replica and a DR-region cluster ready to scale. */
    readonly warmStandby: boolean;
  };
  readonly redis: "shared-acl-user" | "dedicated-replication-group";
  /**
   * Namespace quota caps (limits). `undefined` for critical: sized from the customer's own nodes.
   */
  readonly quotaCaps?: {
    readonly cpu: number;
    readonly memoryGiB: number;
    readonly storageGiB: number;
    readonly pods: number;
  };
  readonly schedulingPriority: "lowest" | "normal" | "highest";
  /** The PriorityClass of the tenant's pods: `schedulingPriority` as Kubernetes schedules it. */
  readonly priorityClass: { readonly value: number; readonly preemption: "Never" | "PreemptLowerPriority" };
  /** Requests per second per client address Traefik lets through to the tenant (bursts of twice that). */
  readonly ingressRateLimitPerSecond: number;
  readonly restoreDrillEveryDays: number;
  readonly syntheticCheck: { readonly everyMinutes: number; readonly regions: number };
  readonly alertRouting: "business-hours" | "24x7" | "24x7-paging";
  /** Thresholds of the tenant's alerts: tighter for the tiers that promise more. */
  readonly alertThresholds: {
    /** OdooHighLatency: the 95th percentile of request time above which requests count as slow. */
    readonly p95LatencySeconds: number;
    /** OdooHighErrorRatio: the share of requests ending in 5xx above which the tenant counts as failing. */
    readonly errorRatio: number;
    /** OdooSyntheticCheckFailing: how long a synthetic check may fail before it alerts. */
    readonly syntheticCheckFailingMinutes: number;
  };
}

export const TIERS: { readonly [K in TierName]: TierSpec & { readonly name: K } } = {
  essential: {
    name: "essential",
    stackKinds: ["shared"],
    rpoMinutes: { singleFault: 5, logicalCorruption: 5, regionLost: 24 * 60 },
    rtoMinutes: { zoneLost: 15, regionLost: 24 * 60 },
    odooWeb: { minReplicas: 1, minZones: 1, autoscaled: false, maxSurge: 0 },
    cronThreads: 1,
    podDisruptionBudget: { kind: "none" },
    database: "shared-multi-az",
    pitrDays: 7,
    logicalBackup: { everyHours: 24, keepDays: 30 },
    objectLockMode: "GOVERNANCE",
    crossRegion: {
      backupCopies: true,
      replicationTimeControl: false,
      rdsAutomatedBackupReplication: false,
      filestoreReplication: false,
      warmStandby: false,
    },
    redis: "shared-acl-user",
    quotaCaps: { cpu: 2, memoryGiB: 4, storageGiB: 20, pods: 20 },
    schedulingPriority: "lowest",
    priorityClass: { value: 1000, preemption: "Never" },
    ingressRateLimitPerSecond: 20,
    restoreDrillEveryDays: 30,
    syntheticCheck: { everyMinutes: 5, regions: 1 },
    alertRouting: "business-hours",
    alertThresholds: { p95LatencySeconds: 3, errorRatio: 0.05, syntheticCheckFailingMinutes: 10 },
  },
  business: {
    name: "business",
    stackKinds: ["shared", "dedicated"],
    rpoMinutes: { singleFault: 5, logicalCorruption: 5, regionLost: 60 },
    rtoMinutes: { zoneLost: 5, regionLost: 8 * 60 },
    odooWeb: { minReplicas: 2, minZones: 2, autoscaled: false, maxSurge: 1 },
    cronThreads: 1,
    podDisruptionBudget: { kind: "minAvailable", value: 1 },
    database: "shared-multi-az",
    pitrDays: 14,
    logicalBackup: { everyHours: 6, keepDays: 90 },
    objectLockMode: "GOVERNANCE",
    crossRegion: {
      backupCopies: true,
      replicationTimeControl: true,
      rdsAutomatedBackupReplication: true,
      filestoreReplication: true,
      warmStandby: false,
    },
    redis: "shared-acl-user",
    quotaCaps: { cpu: 8, memoryGiB: 16, storageGiB: 100, pods: 60 },
    schedulingPriority: "normal",
    priorityClass: { value: 10000, preemption: "PreemptLowerPriority" },
    ingressRateLimitPerSecond: 50,
    restoreDrillEveryDays: 7,
    syntheticCheck: { everyMinutes: 1, regions: 1 },
    alertRouting: "24x7",
    alertThresholds: { p95LatencySeconds: 2, errorRatio: 0.02, syntheticCheckFailingMinutes: 3 },
  },
  critical: {
    name: "critical",
    stackKinds: ["dedicated"],
    // RPO 0 for a single fault comes from the synchronous Multi-AZ standby.
    rpoMinutes: { singleFault: 0, logicalCorruption: 5, regionLost: 15 },
    rtoMinutes: { zoneLost: 2, regionLost: 60 },
    odooWeb: { minReplicas: 3, minZones: 3, autoscaled: true, maxSurge: 1 },
    cronThreads: 2,
    podDisruptionBudget: { kind: "maxUnavailable", value: 1 },
    database: "dedicated-multi-az",
    pitrDays: 35,
    logicalBackup: { everyHours: 1, keepDays: 365 },
    objectLockMode: "COMPLIANCE",
    crossRegion: {
      backupCopies: true,
      replicationTimeControl: true,
      rdsAutomatedBackupReplication: true,
      filestoreReplication: true,
      warmStandby: true,
    },
    redis: "dedicated-replication-group",
    schedulingPriority: "highest",
    priorityClass: { value: 100000, preemption: "PreemptLowerPriority" },
    ingressRateLimitPerSecond: 100,
    restoreDrillEveryDays: 1,
    syntheticCheck: { everyMinutes: 1, regions: 2 },
    alertRouting: "24x7-paging",
    alertThresholds: { p95LatencySeconds: 1, errorRatio: 0.01, syntheticCheckFailingMinutes: 2 },
  },
};

const STRICTNESS: Record<TierName, number> = { essential: 0, business: 1, critical: 2 };

/** The strictest tier among `tiers` (the one whose contract a shared resource must meet). */
export function strictestTier(tiers: Iterable<TierName>): TierName | undefined {
  let best: TierName | undefined;
  for (const tier of tiers) {
    if (best === undefined || STRICTNESS[tier] > STRICTNESS[best]) best = tier;
  }
  return best;
}

/**
 * Object Lock mode of a stack's backups. Production locks in COMPLIANCE whatever its tiers: in
 * GOVERNANCE mode anyone granted s3:BypassGovernanceRetention (an administrator of the account)
 * can delete a locked version, so a shared stack's backups of every tenant would hang on one
 * credential; in COMPLIANCE mode no one can, the root user included, until retention ends.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-retention-modes
 * Elsewhere, the strictest tier's mode.
 */
export function objectLockModeOf(strictest: TierName, production: boolean): "GOVERNANCE" | "COMPLIANCE" {
  return production ? "COMPLIANCE" : TIERS[strictest].objectLockMode;
}

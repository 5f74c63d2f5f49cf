/**
 * The data tier's decisions for a stack, from its spec and the tier catalogue. Pure: the program
 * turns them into resources, tests and policies check them.
 */
import { standbyNodePools } from "../model/node-pools";
import type { VaultLockBounds } from "../model/backup";
import type { BackupPlanSpec } from "../model/backup";
import { systemPoolOf } from "./defaults";
import type { NodePoolSpec } from "./schema";
import type { PlatformSpec } from "./types";
import { objectLockModeOf, TIER_NAMES, TIERS, type TierName } from "../tiers/catalogue";
import { vaultLockBounds } from "../tiers/backup";

export interface DataTierPlan {
  readonly strictestTier: TierName;
  readonly needsDrProvider: boolean;
  readonly warmStandby: boolean;
  readonly postgres: { readonly replicateAutomatedBackups: boolean };
  readonly filestoreReplication: boolean;
  readonly replicationTimeControl: boolean;
  /** Object Lock default retention of the backup bucket: COMPLIANCE in production, else the strictest tier's mode; the longest retention. */
  readonly objectLock: { readonly mode: "GOVERNANCE" | "COMPLIANCE"; readonly days: number };
  /** One AWS Backup plan per tier present (essential when the stack has no tenant). */
  readonly backupPlans: readonly BackupPlanSpec[];
  /** Vault Lock in compliance mode in production; governance mode elsewhere. */
  readonly vaultComplianceLock: boolean;
  /** Vault Lock bounds: those of the whole catalogue, whatever tiers the stack serves today. */
  readonly vaultLock: VaultLockBounds;
  /** The DR cluster's pools: the primary's, idling at zero nodes until a failover scales them, but for one system node. */
  readonly standbyNodePools: readonly (NodePoolSpec & { readonly minNodes?: number })[];
}

export function dataTierPlan(spec: Pick<PlatformSpec, "tenants" | "dr" | "environment" | "data" | "cluster">): DataTierPlan {
  const tiers = [...new Set(spec.tenants.map((t) => t.tier))];
  const present = tiers.length > 0 ? tiers : (["essential"] as TierName[]);
  const any = (wants: (tier: TierName) => boolean) => present.some(wants);
  const strictest = spec.data.strictestTier;
  const dr = spec.dr.enabled;
  return {
    strictestTier: strictest,
    needsDrProvider: dr,
    warmStandby: spec.dr.warmStandby,
    postgres: { replicateAutomatedBackups: dr && any((t) => TIERS[t].crossRegion.rdsAutomatedBackupReplication) },
    filestoreReplication: dr && any((t) => TIERS[t].crossRegion.filestoreReplication),
    replicationTimeControl: any((t) => TIERS[t].crossRegion.replicationTimeControl),
    objectLock: { mode: objectLockModeOf(strictest, spec.environment === "production"), days: Math.max(...present.map((t) => TIERS[t].logicalBackup.keepDays)) },
    backupPlans: TIER_NAMES
      .filter((t) => present.includes(t))
      .map((t) => ({ tier: t, everyHours: TIERS[t].logicalBackup.everyHours, keepDays: TIERS[t].logicalBackup.keepDays })),
    vaultComplianceLock: spec.environment === "production",
    vaultLock: vaultLockBounds(Object.values(TIERS)),
    standbyNodePools: standbyNodePools(spec.cluster.nodePools, systemPoolOf(spec.cluster)),
  };
}

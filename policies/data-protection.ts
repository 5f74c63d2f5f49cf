/** Data protection per tier and environment: RDS, S3, AWS Backup, EFS, ElastiCache and recovery. */
import { validateResourceOfType, type PolicyResource, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import * as aws from "@pulumi/aws";
import { BUCKET_PURPOSE_TAG, SUBNET_ROLE_TAG, TENANT_TAG, TIER_TAG } from "../model/tags";
import { BACKUP_TIER_TAG } from "../model/tags";
import { achievedRecovery, formatMinutes, mechanismsFromResources, type TenantWorkload } from "../tiers/recovery";
import type { CapturedResource } from "../model/resource";
import { vaultLockBounds } from "../tiers/backup";
import { TIERS, type TierName } from "../tiers/catalogue";
import { awsTags, inNamespace, isProduction, metadataOf } from "./common";
import { WEB_LABELS } from "../model/kubernetes";

const tierOf = (props: Record<string, unknown>): TierName | undefined => awsTags(props)[BACKUP_TIER_TAG] as TierName | undefined;

export const rdsDataProtection: ResourceValidationPolicy = {
  name: "rds-data-protection",
  description: "RDS instances are encrypted, private, with a managed master secret, logs, monitoring, PITR as long as their strictest tier asks, and in production Multi-AZ, deletion-protected and protected.",
  enforcementLevel: "mandatory",
  remediationSteps: "Use the PostgresServer component; raise backupRetentionPeriod to the tier's PITR window.",
  validateResource: validateResourceOfType(aws.rds.Instance, (db, args, reportViolation) => {
    const name = db.identifier ?? args.name;
    const replica = db.replicateSourceDb !== undefined;
    if (db.storageEncrypted !== true || !db.kmsKeyId) reportViolation(`RDS ${name} is not encrypted with a customer KMS key`);
    if (db.publiclyAccessible === true) reportViolation(`RDS ${name} is publicly accessible`);
    if (!replica && (db.manageMasterUserPassword !== true || (db as { password?: unknown }).password !== undefined)) reportViolation(`RDS ${name} does not keep its master password in Secrets Manager`);
    if (!(db.enabledCloudwatchLogsExports ?? []).includes("postgresql")) reportViolation(`RDS ${name} does not export PostgreSQL logs`);
    if (!db.monitoringInterval) reportViolation(`RDS ${name} has no enhanced monitoring`);
    if (db.autoMinorVersionUpgrade === false) reportViolation(`RDS ${name} does not take minor version upgrades`);
    if (!replica && db.copyTagsToSnapshot !== true) reportViolation(`RDS ${name} does not copy tags to snapshots`);
    if (!replica && db.skipFinalSnapshot === true) reportViolation(`RDS ${name} skips its final snapshot`);
    const tier = tierOf(args.props);
    const pitr = tier ? TIERS[tier].pitrDays : 1;
    if ((db.backupRetentionPeriod ?? 0) < pitr) reportViolation(`RDS ${name} keeps ${db.backupRetentionPeriod ?? 0} days of backups; the ${tier ?? "minimum"} tier needs ${pitr}`);
    if (isProduction(args.props)) {
      if (!replica && db.multiAz !== true) reportViolation(`RDS ${name} is not Multi-AZ in production`);
      if (db.deletionProtection !== true) reportViolation(`RDS ${name} has no deletion protection in production`);
      if (args.opts.protect !== true) reportViolation(`RDS ${name} is not protected from pulumi destroy in production`);
    }
  }),
};

export const efsDataProtection: ResourceValidationPolicy = {
  name: "efs-data-protection",
  description: "EFS file systems are encrypted with a customer KMS key, and protected in production.",
  enforcementLevel: "mandatory",
  remediationSteps: "Use the Filestore component.",
  validateResource: validateResourceOfType(aws.efs.FileSystem, (fs, args, reportViolation) => {
    if (fs.encrypted !== true || !fs.kmsKeyId) reportViolation(`EFS ${args.name} is not encrypted with a customer KMS key`);
    if (isProduction(args.props) && args.opts.protect !== true) reportViolation(`EFS ${args.name} is not protected from pulumi destroy in production`);
  }),
};

export const cacheDataProtection: ResourceValidationPolicy = {
  name: "cache-data-protection",
  description: "ElastiCache groups encrypt at rest and in transit (required), authenticate with RBAC, keep snapshots, and in production fail over automatically to a replica in another zone.",
  enforcementLevel: "mandatory",
  remediationSteps: "Use the Valkey component.",
  validateResource: validateResourceOfType(aws.elasticache.ReplicationGroup, (group, args, reportViolation) => {
    const id = group.replicationGroupId ?? args.name;
    if (group.atRestEncryptionEnabled !== true || !group.kmsKeyId) reportViolation(`ElastiCache ${id} is not encrypted at rest with a customer KMS key`);
    if (group.transitEncryptionEnabled !== true || group.transitEncryptionMode !== "required") reportViolation(`ElastiCache ${id} does not require TLS`);
    if (!(group.userGroupIds ?? []).length) reportViolation(`ElastiCache ${id} has no RBAC user group`);
    if ((group.snapshotRetentionLimit ?? 0) < 1) reportViolation(`ElastiCache ${id} keeps no snapshots`);
    if (isProduction(args.props)) {
      if (group.automaticFailoverEnabled !== true || group.multiAzEnabled !== true || (group.numCacheClusters ?? 1) < 2) reportViolation(`ElastiCache ${id} has no automatic failover to another zone in production`);
      if (args.opts.protect !== true) reportViolation(`ElastiCache ${id} is not protected from pulumi destroy in production`);
    }
  }),
};

const purposeOf = (r: PolicyResource) => awsTags(r.props)[BUCKET_PURPOSE_TAG];

export const backupStorageImmutable: StackValidationPolicy = {
  name: "backup-storage-immutable",
  description:
    "Backup buckets are object-locked (mode and retention of their strictest tier), versioned, KMS-encrypted, private and protected; production replicates them with RTC where a tier asks; backup vaults are locked, in compliance mode in production, with bounds that admit every tier.",
  enforcementLevel: "mandatory",
  remediationSteps: "Use the BackupBucket and BackupVault components.",
  validateStack: (args, reportViolation) => {
    const dependentsOf = (r: PolicyResource, type: string) => args.resources.filter((d) => d.type === type && d.dependencies.some((x) => x.urn === r.urn));
    for (const bucket of args.resources.filter((r) => r.type === "aws:s3/bucket:Bucket" && purposeOf(r) === "backups")) {
      const tier = tierOf(bucket.props);
      const production = isProduction(bucket.props);
      if (bucket.props.objectLockEnabled !== true) reportViolation(`backup bucket ${bucket.name} has no Object Lock`, bucket.urn);
      if (production && bucket.opts.protect !== true) reportViolation(`backup bucket ${bucket.name} is not protected from pulumi destroy`, bucket.urn);
      const lock = dependentsOf(bucket, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")[0];
      const retention = lock?.props.rule?.defaultRetention as { mode?: string; days?: number } | undefined;
      if (tier && retention) {
        const wanted = TIERS[tier];
        if (wanted.objectLockMode === "COMPLIANCE" && retention.mode !== "COMPLIANCE") reportViolation(`backup bucket ${bucket.name} locks in ${retention.mode} mode; the ${tier} tier needs COMPLIANCE`, bucket.urn);
        if ((retention.days ?? 0) < wanted.logicalBackup.keepDays) reportViolation(`backup bucket ${bucket.name} locks objects for ${retention.days} days; the ${tier} tier keeps backups ${wanted.logicalBackup.keepDays}`, bucket.urn);
      } else if (!retention) {
        reportViolation(`backup bucket ${bucket.name} has no default retention`, bucket.urn);
      }
      if (!dependentsOf(bucket, "aws:s3/bucketVersioning:BucketVersioning").some((v) => v.props.versioningConfiguration?.status === "Enabled")) reportViolation(`backup bucket ${bucket.name} is not versioned`, bucket.urn);
      if (!dependentsOf(bucket, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").some((e) => e.props.rules?.[0]?.applyServerSideEncryptionByDefault?.sseAlgorithm === "aws:kms")) {
        reportViolation(`backup bucket ${bucket.name} is not encrypted with SSE-KMS`, bucket.urn);
      }
    }
    for (const bucket of args.resources.filter((r) => r.type === "aws:s3/bucket:Bucket")) {
      const block = dependentsOf(bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0]?.props;
      if (!block || !["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((k) => block[k] === true)) reportViolation(`bucket ${bucket.name} does not block public access`, bucket.urn);
      const ownership = dependentsOf(bucket, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")[0]?.props;
      if (ownership?.rule?.objectOwnership !== "BucketOwnerEnforced") reportViolation(`bucket ${bucket.name} still accepts ACLs`, bucket.urn);
    }
    const primaries = args.resources.filter((r) => r.type === "aws:s3/bucket:Bucket" && purposeOf(r) === "backups" && isProduction(r.props) && !r.name.endsWith("-dr"));
    for (const bucket of primaries) {
      const tier = tierOf(bucket.props);
      const replication = dependentsOf(bucket, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")[0];
      if (!replication) {
        reportViolation(`backup bucket ${bucket.name} is not replicated to the DR region`, bucket.urn);
        continue;
      }
      const destination = replication.props.rules?.[0]?.destination ?? {};
      if (tier && TIERS[tier].crossRegion.replicationTimeControl && (destination.replicationTime?.status !== "Enabled" || destination.replicationTime?.time?.minutes !== 15 || destination.metrics?.eventThreshold?.minutes !== 15)) {
        reportViolation(`backup bucket ${bucket.name} replicates without Replication Time Control (15 min) and metrics, which the ${tier} tier needs`, bucket.urn);
      }
    }
    for (const vault of args.resources.filter((r) => r.type === "aws:backup/vault:Vault")) {
      const lock = dependentsOf(vault, "aws:backup/vaultLockConfiguration:VaultLockConfiguration")[0];
      if (!lock) reportViolation(`backup vault ${vault.name} has no Vault Lock`, vault.urn);
      else if (isProduction(vault.props) && !((lock.props.changeableForDays ?? 0) >= 3)) reportViolation(`backup vault ${vault.name} is locked in governance mode; production needs compliance mode (changeableForDays >= 3)`, vault.urn);
      // A locked vault's bounds never change: they must admit every tier, not only today's tenants'.
      const needed = vaultLockBounds(Object.values(TIERS));
      if (lock && !(lock.props.minRetentionDays <= needed.minRetentionDays && lock.props.maxRetentionDays >= needed.maxRetentionDays)) {
        reportViolation(`backup vault ${vault.name} locks retention to ${lock.props.minRetentionDays}-${lock.props.maxRetentionDays} days; the tier catalogue needs ${needed.minRetentionDays}-${needed.maxRetentionDays}, or a tenant of another tier could never be backed up there`, vault.urn);
      }
      if (isProduction(vault.props) && vault.opts.protect !== true) reportViolation(`backup vault ${vault.name} is not protected from pulumi destroy`, vault.urn);
    }
  },
};

/** A policy resource in the shape the recovery analysis reads (the plan's captured resources). */
export function asCaptured(r: PolicyResource): CapturedResource {
  return {
    urn: r.urn,
    type: r.type,
    name: r.name,
    custom: true,
    parent: r.parent?.urn ?? null,
    provider: r.provider?.urn ?? null,
    protect: r.opts.protect === true,
    retainOnDelete: false,
    dependsOn: r.dependencies.map((d) => d.urn),
    ignoreChanges: r.opts.ignoreChanges ?? [],
    inputs: r.props,
  };
}

/** Web replicas per tenant and the zones they must spread over, read from the Deployments and autoscalers. */
export function workloadsFromResources(resources: readonly PolicyResource[]): TenantWorkload[] {
  const zoneCount = new Set(resources.filter((r) => r.type === "aws:ec2/subnet:Subnet" && awsTags(r.props)[SUBNET_ROLE_TAG] === "private").map((r) => `${r.provider?.urn}/${r.props.availabilityZone}`)).size;
  return resources
    .filter((r) => r.type === "kubernetes:apps/v1:Deployment" && metadataOf(r.props).labels?.app === WEB_LABELS.app)
    .map((d) => {
      const labels = metadataOf(d.props).labels!;
      const hpa = inNamespace(resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", metadataOf(d.props).namespace ?? "")[0];
      const replicas = (d.props.spec?.replicas as number | undefined) ?? (hpa?.props.spec?.minReplicas as number | undefined) ?? 1;
      const spread = ((d.props.spec?.template?.spec?.topologySpreadConstraints ?? []) as { topologyKey: string; whenUnsatisfiable: string }[]).some(
        (c) => c.topologyKey === "topology.kubernetes.io/zone" && c.whenUnsatisfiable === "DoNotSchedule",
      );
      return { name: labels[TENANT_TAG]!, tier: labels[TIER_TAG] as TierName, webReplicas: replicas, webZones: spread ? Math.min(replicas, Math.max(zoneCount, 1)) : 1 };
    });
}

export const tierRecoveryContract: StackValidationPolicy = {
  name: "tier-recovery-contract",
  description: "Every tenant's achieved RPO and RTO, from the mechanisms the stack creates, meet its tier's contract (production).",
  enforcementLevel: "mandatory",
  remediationSteps: "Restore the missing mechanism (Multi-AZ, backup replication, EFS replication, read replica, retention) or change the tier.",
  validateStack: (args, reportViolation) => {
    const production = args.resources.some((r) => isProduction(r.props));
    const rows = achievedRecovery(mechanismsFromResources(args.resources.map(asCaptured)), workloadsFromResources(args.resources), production ? "production" : "development");
    for (const row of rows.filter((r) => !r.meets && r.enforced)) {
      const achieved = row.objective === "PITR window" ? `${row.achieved ?? 0} days` : formatMinutes(row.achieved);
      const contract = row.objective === "PITR window" ? `${row.contract}` : formatMinutes(row.contract);
      reportViolation(`tenant ${row.tenant} (${row.tier}): ${row.objective} for ${row.fault} is ${achieved}, the tier promises ${contract} (via ${row.via})`);
    }
  },
};

export const dataProtectionPolicies = [rdsDataProtection, efsDataProtection, cacheDataProtection, backupStorageImmutable, tierRecoveryContract];

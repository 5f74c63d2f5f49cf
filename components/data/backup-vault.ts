import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { KeyAdministration } from "./keys";
import { serviceTrustPolicy } from "../iam";
import { sourceOf } from "../trust";
import { withName } from "../tagging";
import { encryptionKey } from "./keys";
import type { BackupPlanSpec } from "../../model/backup";
import type { VaultLockBounds } from "../../model/backup";
import { BACKUP_TIER_TAG } from "../../model/tags";

export interface BackupVaultArgs {
  /** A backup plan (and its selection) per tier; at least one. */
  readonly plans: readonly BackupPlanSpec[];
  /**
   * Vault Lock bounds. A compliance-mode lock cannot change once its cooling-off ends, so they must
   * cover every plan the vault may ever serve, not only today's (spec/data-tier.ts takes them from
   * the whole tier catalogue).
   */
  readonly lockBounds: VaultLockBounds;
  /**
   * Vault Lock in compliance mode (immutable after a 3-day cooling-off) rather than governance mode.
   * @default true
   */
  readonly complianceLock?: boolean;
  /**
   * Copy every recovery point to a locked vault in the DR region.
   * @default none: no DR vault, no copy actions
   */
  readonly dr?: { readonly provider: aws.Provider };
  /**
   * `protect` the vaults and keys.
   * @default true
   */
  readonly protect?: boolean;
  /** Who administers the component's KMS keys, and the break-glass role that alone may delete them. */
  readonly keyAdministration: KeyAdministration;
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Days before a compliance-mode Vault Lock becomes immutable (AWS's minimum is 3). */
export const VAULT_LOCK_COOLING_OFF_DAYS = 3;

/** AWS Backup schedule for a recovery point every `hours` hours (UTC). */
export function backupSchedule(hours: number): string {
  if (hours >= 24) return "cron(0 2 * * ? *)";
  if (hours <= 1) return "cron(0 * * * ? *)";
  return `cron(0 0/${hours} * * ? *)`;
}

/** Plans whose retention a Vault Lock with `bounds` would refuse, one message each. */
export function plansOutsideLock(plans: readonly BackupPlanSpec[], bounds: VaultLockBounds): string[] {
  return plans
    .filter((p) => p.keepDays < bounds.minRetentionDays || p.keepDays > bounds.maxRetentionDays)
    .map((p) => `plan ${p.tier} keeps ${p.keepDays} days, outside the Vault Lock's ${bounds.minRetentionDays}-${bounds.maxRetentionDays}`);
}

/**
 * AWS Backup for the stack's RDS and EFS: a KMS-encrypted vault with Vault Lock, a plan per tier
 * selecting resources by tag, and a copy of each recovery point to a locked vault in the DR region.
 */
export class BackupVault extends pulumi.ComponentResource {
  public readonly vaultArn: pulumi.Output<string>;
  public readonly drVaultArn?: pulumi.Output<string>;

  constructor(name: string, args: BackupVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    // Refused before anything is registered.
    if (args.plans.length === 0) throw new Error(`BackupVault ${name} needs at least one plan`);
    const outside = plansOutsideLock(args.plans, args.lockBounds);
    if (outside.length > 0) throw new Error(`BackupVault ${name}: ${outside.join("; ")}`);
    super("odoo-fleet:data:BackupVault", name, {}, opts);
    const protect = args.protect ?? true;
    const compliance = args.complianceLock ?? true;
    const tagsFor = (resourceName: string) => withName(args.tags, resourceName);
    const bounds = { minRetentionDays: args.lockBounds.minRetentionDays, maxRetentionDays: args.lockBounds.maxRetentionDays };

    const lockedVault = (vaultName: string, alias: string, options: pulumi.CustomResourceOptions) => {
      const key = encryptionKey(vaultName, {
        description: `AWS Backup vault ${vaultName}`,
        alias,
        tags: args.tags,
        // AWS Backup's own copies (EFS), and RDS snapshots copied into the vault across regions.
        access: { administration: args.keyAdministration, use: { viaServices: ["backup", "rds"] } },
      }, { ...options, protect });
      const vault = new aws.backup.Vault(vaultName, {
        name: vaultName,
        kmsKeyArn: key.arn,
        forceDestroy: false,
        tags: tagsFor(vaultName),
      }, { ...options, protect, retainOnDelete: protect });
      new aws.backup.VaultLockConfiguration(vaultName, {
        backupVaultName: vault.name,
        ...bounds,
        // With changeableForDays the lock is in compliance mode; without it, governance mode.
        ...(compliance ? { changeableForDays: VAULT_LOCK_COOLING_OFF_DAYS } : {}),
      }, { ...options, protect });
      return vault;
    };

    // Key aliases say `vault`: the backup bucket's keys take `<stack>-backup-bucket`, and an alias is unique per account and region.
    const vault = lockedVault(`${name}-backup`, `${name}-backup-vault`, { parent: this });
    const drVault = args.dr ? lockedVault(`${name}-backup-dr`, `${name}-backup-vault-dr`, { parent: this, provider: args.dr.provider }) : undefined;

    const role = new aws.iam.Role(`${name}-backup`, {
      // AWS Backup acting for this account only (AWS Backup developer guide, "Cross-service confused
      // deputy prevention"); its jobs span vaults, plans and regions, so no single source ARN.
      assumeRolePolicy: sourceOf({ parent: this }).apply((source) => JSON.stringify(serviceTrustPolicy("backup.amazonaws.com", source))),
      tags: tagsFor(`${name}-backup`),
    }, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    for (const policy of ["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"]) {
      new aws.iam.RolePolicyAttachment(`${name}-backup-${policy}`, {
        role: role.name,
        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/${policy}`,
      }, { parent: this });
    }

    for (const plan of args.plans) {
      const backupPlan = new aws.backup.Plan(`${name}-backup-${plan.tier}`, {
        name: `${name}-${plan.tier}`,
        rules: [
          {
            ruleName: `${plan.tier}-every-${plan.everyHours}h`,
            targetVaultName: vault.name,
            schedule: backupSchedule(plan.everyHours),
            startWindow: 60,
            completionWindow: 180,
            lifecycle: { deleteAfter: plan.keepDays },
            recoveryPointTags: { [BACKUP_TIER_TAG]: plan.tier },
            copyActions: drVault ? [{ destinationVaultArn: drVault.arn, lifecycle: { deleteAfter: plan.keepDays } }] : [],
          },
        ],
        tags: tagsFor(`${name}-backup-${plan.tier}`),
      }, { parent: this });
      new aws.backup.Selection(`${name}-backup-${plan.tier}`, {
        name: `${name}-${plan.tier}`,
        planId: backupPlan.id,
        iamRoleArn: role.arn,
        selectionTags: [{ type: "STRINGEQUALS", key: BACKUP_TIER_TAG, value: plan.tier }],
      }, { parent: this });
    }

    this.vaultArn = vault.arn;
    this.drVaultArn = drVault?.arn;
    this.registerOutputs({ vaultArn: this.vaultArn, drVaultArn: this.drVaultArn });
  }
}

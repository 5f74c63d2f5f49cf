/** What a backup plan and a Vault Lock are, as the data-tier rules decide them and the backup vault applies them. */

export interface BackupPlanSpec {
  /** The tier this plan serves; resources tagged `odoo-fleet/backup-tier=<tier>` are selected. */
  tier: string;
  /** Hours between recovery points (AWS Backup runs at most hourly). */
  everyHours: number;
  keepDays: number;
}

/** Retention bounds of a Vault Lock: a recovery point kept shorter or longer is refused. */
export interface VaultLockBounds {
  minRetentionDays: number;
  maxRetentionDays: number;
}

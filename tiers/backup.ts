import type { VaultLockBounds } from "../model/backup";
import type { TierSpec } from "./catalogue";

/**
 * Vault Lock bounds from every tier of the catalogue, not from the tiers a stack serves: a locked
 * vault's bounds never change again, and a tenant of any tier added later must fit them. A tier
 * whose retention falls outside (a catalogue change) needs a new vault.
 */
export function vaultLockBounds(tiers: readonly Pick<TierSpec, "logicalBackup">[]): VaultLockBounds {
  if (tiers.length === 0) throw new Error("the tier catalogue is empty");
  const days = tiers.map((t) => t.logicalBackup.keepDays);
  return { minRetentionDays: Math.min(...days), maxRetentionDays: Math.max(...days) };
}

/** What a plan changes against a previous plan document: resources added, removed and updated. */
import type { CapturedResource } from "../../model/resource";
import type { PlanDocument, ResourceChange } from "./document";

/** Resources whose loss loses data: removing or replacing one deserves a second look. */
export const STATEFUL_TYPES = [
  "aws:rds/instance:Instance",
  "aws:efs/fileSystem:FileSystem",
  "aws:s3/bucket:Bucket",
  "aws:backup/vault:Vault",
  "aws:kms/key:Key",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "kubernetes:core/v1:PersistentVolume",
] as const;

/**
 * Inputs whose change makes the provider replace the resource (create the new one, delete the old):
 * for a stateful type that is a new, empty store. Taken from the providers' force-new arguments;
 * offline there is no provider to ask, so the table errs on the side of warning.
 */
export const REPLACE_ON_CHANGE: Readonly<Record<(typeof STATEFUL_TYPES)[number], readonly string[]>> = {
  "aws:rds/instance:Instance": ["identifier", "identifierPrefix", "engine", "dbName", "username", "availabilityZone", "storageEncrypted", "kmsKeyId", "characterSetName", "ncharCharacterSetName", "timezone", "snapshotIdentifier", "restoreToPointInTime", "s3Import", "customIamInstanceProfile"],
  "aws:efs/fileSystem:FileSystem": ["creationToken", "encrypted", "kmsKeyId", "performanceMode", "availabilityZoneName"],
  "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix", "objectLockEnabled"],
  "aws:backup/vault:Vault": ["name", "kmsKeyArn"],
  "aws:kms/key:Key": ["customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"],
  "aws:elasticache/replicationGroup:ReplicationGroup": ["replicationGroupId", "atRestEncryptionEnabled", "kmsKeyId", "subnetGroupName", "port", "snapshotArns", "snapshotName", "dataTieringEnabled", "preferredCacheClusterAzs", "globalReplicationGroupId"],
  "kubernetes:core/v1:PersistentVolume": ["metadata.name", "spec.csi", "spec.nfs", "spec.awsElasticBlockStore", "spec.storageClassName", "spec.volumeMode", "spec.accessModes"],
};

/** The changed paths that force a replacement of a resource of `type` (empty: an in-place update). */
export function replacementPaths(type: string, paths: readonly string[]): string[] {
  const keys = (REPLACE_ON_CHANGE as Readonly<Record<string, readonly string[]>>)[type] ?? [];
  return paths.filter((p) => keys.some((k) => p === k || p.startsWith(`${k}.`) || p.startsWith(`${k}[`)));
}

function changedPaths(before: unknown, after: unknown, prefix: string, out: string[]): void {
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  const bothObjects = before !== null && after !== null && typeof before === "object" && typeof after === "object" && Array.isArray(before) === Array.isArray(after);
  if (!bothObjects) {
    out.push(prefix || "(inputs)");
    return;
  }
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    changedPaths(a[key], b[key], Array.isArray(before) ? `${prefix}[${key}]` : prefix ? `${prefix}.${key}` : key, out);
  }
}

export function diffPlans(before: Pick<PlanDocument, "resources">, after: Pick<PlanDocument, "resources">): ResourceChange[] {
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const now = new Set(after.resources.map((r) => r.urn));
  const movedFrom = aliasMatches(old, after.resources, now);
  // Inputs refer to other resources by URN: a moved resource's old URN reads as its new one.
  const renamed = new Map([...movedFrom].map(([to, from]) => [from, to]));
  const stateful = (r: CapturedResource) => (STATEFUL_TYPES as readonly string[]).includes(r.type);
  const changes: ResourceChange[] = [];
  for (const r of after.resources) {
    const previous = old.get(movedFrom.get(r.urn) ?? r.urn);
    if (!previous) {
      changes.push({ urn: r.urn, type: r.type, change: "add", paths: [], stateful: stateful(r) });
      continue;
    }
    const paths: string[] = [];
    changedPaths(withUrnsRenamed(previous.inputs, renamed), r.inputs, "", paths);
    if (previous.protect !== r.protect) paths.push("(protect)");
    if (paths.length === 0) continue;
    const forcing = replacementPaths(r.type, paths);
    changes.push(forcing.length > 0
      ? { urn: r.urn, type: r.type, change: "replace", paths, stateful: stateful(r), replaceBecause: forcing }
      : { urn: r.urn, type: r.type, change: "update", paths, stateful: stateful(r) });
  }
  for (const r of before.resources) if (!now.has(r.urn) && !renamed.has(r.urn)) changes.push({ urn: r.urn, type: r.type, change: "remove", paths: [], stateful: stateful(r) });
  return changes;
}

/**
 * New URN -> old URN for each resource of `after` that is not in the previous plan under its own URN
 * but under one of its aliases (a rename or a move to another parent), as the engine matches them.
 */
export function aliasMatches(old: ReadonlyMap<string, CapturedResource>, after: readonly CapturedResource[], now: ReadonlySet<string>): Map<string, string> {
  const moved = new Map<string, string>();
  const taken = new Set<string>();
  for (const r of after) {
    if (old.has(r.urn)) continue;
    const from = r.aliases?.find((alias) => old.has(alias) && !now.has(alias) && !taken.has(alias));
    if (from === undefined) continue;
    moved.set(r.urn, from);
    taken.add(from);
  }
  return moved;
}

function withUrnsRenamed(value: unknown, renamed: ReadonlyMap<string, string>): unknown {
  if (renamed.size === 0) return value;
  if (typeof value === "string") return renamed.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => withUrnsRenamed(v, renamed));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withUrnsRenamed(v, renamed)]));
}

/** Changes that lose data: a stateful resource replaced or removed. */
export function dataLossRisks(changes: readonly ResourceChange[]): ResourceChange[] {
  return changes.filter((c) => c.stateful && (c.change === "replace" || c.change === "remove"));
}

/** A few lines for the terminal: counts, then every stateful replacement or removal spelled out. */
export function changeSummary(changes: readonly ResourceChange[]): string {
  const count = (kind: ResourceChange["change"]) => changes.filter((c) => c.change === kind).length;
  const lines = [`changes against the previous plan: ${count("add")} to add, ${count("update")} to update, ${count("replace")} to replace, ${count("remove")} to remove`];
  for (const c of dataLossRisks(changes)) {
    lines.push(`  !! DATA LOSS RISK: ${c.change === "replace" ? `replaces ${c.type} (forced by ${c.replaceBecause!.join(", ")})` : `removes ${c.type}`}: ${c.urn}`);
  }
  return lines.join("\n");
}

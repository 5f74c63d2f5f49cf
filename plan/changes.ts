/** What a plan changes against a previous plan document: resources added, removed and updated. */
import type { CapturedResource } from "./capture";
import type { PlanDocument } from "./report";

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

export interface ResourceChange {
  urn: string;
  type: string;
  change: "add" | "remove" | "update";
  /** Input paths that differ (updates only), e.g. `spec.replicas`, `tags.owner`. */
  paths: string[];
  stateful: boolean;
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
  const now = new Map(after.resources.map((r) => [r.urn, r]));
  const stateful = (r: CapturedResource) => (STATEFUL_TYPES as readonly string[]).includes(r.type);
  const changes: ResourceChange[] = [];
  for (const r of after.resources) {
    const previous = old.get(r.urn);
    if (!previous) {
      changes.push({ urn: r.urn, type: r.type, change: "add", paths: [], stateful: stateful(r) });
      continue;
    }
    const paths: string[] = [];
    changedPaths(previous.inputs, r.inputs, "", paths);
    if (previous.protect !== r.protect) paths.push("(protect)");
    if (paths.length > 0) changes.push({ urn: r.urn, type: r.type, change: "update", paths, stateful: stateful(r) });
  }
  for (const r of before.resources) if (!now.has(r.urn)) changes.push({ urn: r.urn, type: r.type, change: "remove", paths: [], stateful: stateful(r) });
  return changes;
}

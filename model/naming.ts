/** Names and ids derived from a tenant's name alone, so other tenants never change them. Pure. */
import { createHash } from "node:crypto";

function hash32(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0);
}

/**
 * A tenant's POSIX uid/gid on the shared file system. The spec rejects the (unlikely) case of two
 * tenants of one stack landing on the same id.
 */
export function tenantPosixId(tenant: string): number {
  return 100_000 + (hash32(tenant) % 1_000_000_000);
}

/** ElastiCache user ids are at most 40 characters: the tenant name plus a short hash of the group. */
export function cacheUserId(replicationGroupId: string, user: string): string {
  return `${user}-${hash32(replicationGroupId).toString(16).padStart(8, "0")}`;
}

/**
 * The RDS identifier and ElastiCache replication group id of a data shard: the cluster's name for
 * the stack's first shard (so stacks from before shards keep theirs), `<cluster>-<shard>` for others.
 */
export function dataShardId(clusterName: string, shard?: string): string {
  return shard === undefined ? clusterName : `${clusterName}-${shard}`;
}

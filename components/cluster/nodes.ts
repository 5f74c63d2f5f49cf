/** Node pool layout: which managed node groups a cluster gets, with their labels and taints. Pure. */

export interface ClusterNodePool {
  readonly name: string;
  readonly instanceTypes: readonly string[];
  readonly minPerZone: number;
  readonly maxPerZone: number;
  /** @default 50 */
  readonly diskGiB?: number;
  /** @default "ON_DEMAND" */
  readonly capacityType?: "ON_DEMAND" | "SPOT";
  /** @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** A tenant whose pods alone may run on this pool: its nodes are labelled and tainted for it. */
  readonly dedicatedTo?: string;
}

export const POOL_LABEL = "odoo-fleet/pool";
export const DEDICATED_KEY = "odoo-fleet/dedicated";

export interface NodeGroupLayout {
  /** Logical name suffix, `<pool>-<zone>`: stable when pools or zones are appended. */
  readonly key: string;
  readonly pool: ClusterNodePool;
  readonly zone: string;
  readonly labels: Record<string, string>;
  readonly taints: { key: string; value: string; effect: "NO_SCHEDULE" }[];
}

/**
 * One managed node group per pool per zone: a group never spans zones, so the cluster autoscaler
 * can scale the zone that lacks capacity and a zone loss removes whole groups, never half of one.
 */
export function planNodeGroups(pools: readonly ClusterNodePool[], zones: readonly string[]): NodeGroupLayout[] {
  return pools.flatMap((pool) =>
    zones.map((zone) => ({
      key: `${pool.name}-${zone}`,
      pool,
      zone,
      labels: {
        ...(pool.labels ?? {}),
        [POOL_LABEL]: pool.name,
        ...(pool.dedicatedTo !== undefined ? { [DEDICATED_KEY]: pool.dedicatedTo } : {}),
      },
      taints: pool.dedicatedTo !== undefined ? [{ key: DEDICATED_KEY, value: pool.dedicatedTo, effect: "NO_SCHEDULE" as const }] : [],
    })),
  );
}

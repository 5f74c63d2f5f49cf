/** Node pool layout: which managed node groups a cluster gets, with their labels and taints. Pure. */

export interface ClusterNodePool {
  readonly name: string;
  readonly instanceTypes: readonly string[];
  readonly minPerZone: number;
  /**
   * The pool's floor as a whole, in place of minPerZone in every zone: nodes go one per zone from the
   * first zone (a standby keeps one system node, not one per zone).
   * @default minPerZone in every zone
   */
  readonly minNodes?: number;
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
  /** The group's minimum (and initial desired) size. */
  readonly minSize: number;
  readonly labels: Record<string, string>;
  readonly taints: { key: string; value: string; effect: "NO_SCHEDULE" }[];
}

/**
 * One managed node group per pool per zone: a group never spans zones, so the cluster autoscaler
 * can scale the zone that lacks capacity and a zone loss removes whole groups, never half of one.
 */
export function planNodeGroups(pools: readonly ClusterNodePool[], zones: readonly string[]): NodeGroupLayout[] {
  return pools.flatMap((pool) =>
    zones.map((zone, i) => ({
      key: `${pool.name}-${zone}`,
      pool,
      zone,
      minSize: zoneMinimum(pool, i, zones.length),
      labels: {
        ...(pool.labels ?? {}),
        [POOL_LABEL]: pool.name,
        ...(pool.dedicatedTo !== undefined ? { [DEDICATED_KEY]: pool.dedicatedTo } : {}),
      },
      taints: pool.dedicatedTo !== undefined ? [{ key: DEDICATED_KEY, value: pool.dedicatedTo, effect: "NO_SCHEDULE" as const }] : [],
    })),
  );
}

/** Minimum size of a pool's group in the `index`-th of `zones` zones. */
export function zoneMinimum(pool: Pick<ClusterNodePool, "name" | "minPerZone" | "minNodes" | "maxPerZone">, index: number, zones: number): number {
  if (pool.minNodes === undefined) return pool.minPerZone;
  const min = Math.floor(pool.minNodes / zones) + (index < pool.minNodes % zones ? 1 : 0);
  if (min > pool.maxPerZone) throw new Error(`node pool ${pool.name}: ${pool.minNodes} nodes over ${zones} zones exceed maxPerZone ${pool.maxPerZone}`);
  return min;
}

/**
 * The DR cluster's pools: each idles at zero until a failover scales it, except the pool the cluster
 * add-ons run on, which keeps one node. CoreDNS and the EBS and EFS CSI controllers are Deployments:
 * with no node to run on, an add-on stays DEGRADED and its create fails after 20 minutes.
 */
export function standbyNodePools<P extends ClusterNodePool>(pools: readonly P[], addonPool: string): P[] {
  const pool = pools.find((p) => p.name === addonPool);
  if (pool === undefined || pool.dedicatedTo !== undefined) throw new Error(`the add-ons' pool ${addonPool} must be a pool of the cluster not dedicated to a tenant`);
  return pools.map((p) => (p.name === addonPool ? { ...p, minPerZone: 0, minNodes: 1 } : { ...p, minPerZone: 0 }));
}

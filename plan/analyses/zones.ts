/**
 * Zone-failure simulation: for each zone of the stack, take it away and work out, per tenant, what
 * still serves (web replicas given their spread constraints and node pools, Traefik, the NAT path,
 * PostgreSQL and Valkey given Multi-AZ) and whether the node pools left can hold every tenant's quota.
 * Everything is read from the planned resources; the tier catalogue says what each tenant is owed.
 */
import { POOL_LABEL } from "../../model/node-pools";
import { dataShardId } from "../../model/naming";
import { WEB_LABELS } from "../../model/kubernetes";
import { allocatable, tenantQuota, type Compute } from "../../tiers/sizing";
import type { Environment } from "../../model/stack";
import { TIERS, type TierName } from "../../tiers/catalogue";
import type { CapturedResource } from "../../model/resource";
import { TENANT_TAG } from "../../model/tags";

/** How a workload's replicas are spread over zones. */
export type ZoneSpread = "hard" | "soft";

export interface ZoneWorkload {
  replicas: number;
  spread: ZoneSpread;
  /** Node pool its pods are pinned to. */
  pool: string | undefined;
}

export interface ZoneModel {
  zones: string[];
  /** One entry per managed node group: its pool, zone, largest size and smallest instance. */
  nodeGroups: { pool: string; zone: string; maxSize: number; perNode: Compute | undefined }[];
  /** For each zone's private subnets, the zone of the NAT gateway their default route uses. */
  natZoneFor: Record<string, string | undefined>;
  /** `multiAz` per PostgreSQL primary, by identifier. */
  databases: { id: string; multiAz: boolean }[];
  caches: { id: string; failover: boolean }[];
  /** Zones with an EFS mount target. */
  filestoreZones: string[];
  traefik: ZoneWorkload | undefined;
  tenants: {
    name: string;
    tier: TierName;
    web: ZoneWorkload | undefined;
    egress: boolean;
    requests: Compute;
    /** The database and cache serving this tenant (all of the stack's when unknown). */
    database?: string;
    cache?: string;
  }[];
}

export type ZoneOutcome = "serving" | "recovers" | "down";

export interface TenantZoneResult {
  tenant: string;
  tier: TierName;
  zone: string;
  outcome: ZoneOutcome;
  /** What the tier promises through a zone loss: no interruption, or recovery within its RTO. */
  required: Exclude<ZoneOutcome, "down">;
  meets: boolean;
  enforced: boolean;
  webReplicasLeft: number;
  webReplicas: number;
  reasons: string[];
}

export interface PoolCapacityLeft {
  zone: string;
  pool: string;
  /** What the pool's groups in the other zones offer at their maximum size. */
  capacity: Compute;
  /** Every quota request of the tenants pinned to the pool. */
  needed: Compute;
  fits: boolean;
}

export interface ZoneAnalysis {
  zones: string[];
  results: TenantZoneResult[];
  capacity: PoolCapacityLeft[];
  traefikReplicasLeft: Record<string, number>;
}

const typeIs = (type: string) => (r: CapturedResource) => r.type === type;
type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (value !== null && typeof value === "object" ? (value as Json) : {});

/** Replicas left in the worst case when one of `zones` zones goes. */
export function replicasLeft(workload: ZoneWorkload, zones: number): number {
  // A hard spread with skew 1 puts at most ceil(R / Z) in one zone; a soft one may put all of them there.
  const inOneZone = workload.spread === "hard" && zones > 0 ? Math.ceil(workload.replicas / zones) : workload.replicas;
  return Math.max(0, workload.replicas - inOneZone);
}

function spreadOf(constraints: unknown): ZoneSpread {
  const list = Array.isArray(constraints) ? constraints.map(obj) : [];
  const zone = list.find((c) => c.topologyKey === "topology.kubernetes.io/zone");
  return zone && zone.whenUnsatisfiable === "DoNotSchedule" && Number(zone.maxSkew ?? 1) === 1 ? "hard" : "soft";
}

/** Reads the zone model out of a plan's captured resources (the primary region's cluster only). */
export function zoneModelFromResources(
  resources: readonly CapturedResource[],
  spec: {
    zones: readonly string[];
    environment: Environment;
    cluster: { name: string };
    tenants: readonly { name: string; tier: TierName; expectedUsers: number; shard?: string | undefined; egress: { https: boolean; smtp: boolean } }[];
  },
): ZoneModel {
  const zones = [...spec.zones];
  const inPrimary = new Set(zones);
  const subnetZone = new Map<string, string>();
  for (const subnet of resources.filter(typeIs("aws:ec2/subnet:Subnet"))) {
    const zone = String(subnet.inputs.availabilityZone ?? "");
    if (subnet.id && inPrimary.has(zone)) subnetZone.set(subnet.id, zone);
  }
  const natZone = new Map<string, string>();
  for (const nat of resources.filter(typeIs("aws:ec2/natGateway:NatGateway"))) {
    const zone = subnetZone.get(String(nat.inputs.subnetId));
    if (nat.id && zone) natZone.set(nat.id, zone);
  }
  const routeNat = new Map<string, string>();
  for (const table of resources.filter(typeIs("aws:ec2/routeTable:RouteTable"))) {
    const nat = ((table.inputs.routes as unknown[] | undefined) ?? []).map(obj).find((r) => r.cidrBlock === "0.0.0.0/0" && r.natGatewayId)?.natGatewayId;
    if (table.id && nat !== undefined) routeNat.set(table.id, String(nat));
  }
  const natZoneFor: Record<string, string | undefined> = Object.fromEntries(zones.map((z) => [z, undefined]));
  for (const association of resources.filter(typeIs("aws:ec2/routeTableAssociation:RouteTableAssociation"))) {
    const zone = subnetZone.get(String(association.inputs.subnetId));
    const nat = routeNat.get(String(association.inputs.routeTableId));
    if (zone && nat) natZoneFor[zone] = natZone.get(nat);
  }

  const nodeGroups: ZoneModel["nodeGroups"] = [];
  for (const group of resources.filter(typeIs("aws:eks/nodeGroup:NodeGroup"))) {
    const zone = subnetZone.get(String(((group.inputs.subnetIds as unknown[] | undefined) ?? [])[0]));
    if (!zone) continue; // the warm standby's groups live in the DR region
    const perNode = allocatable((group.inputs.instanceTypes as string[] | undefined) ?? [], 1);
    nodeGroups.push({ pool: String(obj(group.inputs.labels)[POOL_LABEL]), zone, maxSize: Number(obj(group.inputs.scalingConfig).maxSize ?? 0), perNode });
  }

  // Data stores of the primary region: a replica (replicateSourceDb) is the DR copy, not a primary.
  const databases = resources
    .filter((r) => r.type === "aws:rds/instance:Instance" && r.inputs.replicateSourceDb === undefined)
    .map((r) => ({ id: String(r.inputs.identifier ?? r.name), multiAz: r.inputs.multiAz === true }));
  const caches = resources.filter(typeIs("aws:elasticache/replicationGroup:ReplicationGroup")).map((g) => ({
    id: String(g.inputs.replicationGroupId ?? g.name),
    failover: g.inputs.automaticFailoverEnabled === true && g.inputs.multiAzEnabled === true && Number(g.inputs.numCacheClusters ?? 1) >= 2,
  }));
  const filestoreZones = [...new Set(resources.filter(typeIs("aws:efs/mountTarget:MountTarget")).map((m) => subnetZone.get(String(m.inputs.subnetId))).filter((z): z is string => z !== undefined))];

  const traefikRelease = resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "traefik");
  const traefikValues = obj(traefikRelease?.inputs.values);
  const traefik: ZoneWorkload | undefined = traefikRelease
    ? { replicas: Number(obj(traefikValues.deployment).replicas ?? 1), spread: spreadOf(traefikValues.topologySpreadConstraints), pool: obj(traefikValues.nodeSelector)[POOL_LABEL] as string | undefined }
    : undefined;

  // Web Deployments by tenant; an autoscaler's minimum stands in for replicas it leaves unset.
  const webByTenant = new Map<string, ZoneWorkload>();
  const hpaMin = new Map<string, number>();
  for (const r of resources) {
    if (r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler") {
      const tenant = obj(obj(r.inputs.metadata).labels).tenant as string | undefined;
      if (tenant) hpaMin.set(tenant, Number(obj(r.inputs.spec).minReplicas ?? 1));
    }
    if (r.type !== "kubernetes:apps/v1:Deployment") continue;
    const podTemplate = obj(obj(r.inputs.spec).template);
    const labels = obj(obj(podTemplate.metadata).labels);
    if (labels.app !== WEB_LABELS.app || typeof labels[TENANT_TAG] !== "string") continue;
    const podSpec = obj(podTemplate.spec);
    const replicas = obj(r.inputs.spec).replicas;
    webByTenant.set(labels[TENANT_TAG], {
      replicas: replicas === undefined ? -1 : Number(replicas),
      spread: spreadOf(podSpec.topologySpreadConstraints),
      pool: obj(podSpec.nodeSelector)[POOL_LABEL] as string | undefined,
    });
  }
  for (const [tenant, web] of webByTenant) if (web.replicas < 0) web.replicas = hpaMin.get(tenant) ?? 1;

  return {
    zones,
    nodeGroups,
    natZoneFor,
    databases,
    caches,
    filestoreZones,
    traefik,
    tenants: spec.tenants.map((t) => ({
      name: t.name,
      tier: t.tier,
      web: webByTenant.get(t.name),
      egress: t.egress.https || t.egress.smtp,
      requests: tenantQuota(t, spec.environment).requests,
      // A shard's server and cache share its id.
      database: dataShardId(spec.cluster.name, t.shard),
      cache: dataShardId(spec.cluster.name, t.shard),
    })),
  };
}

/** What the pools in the zones other than `lost` offer, and what their tenants' quotas request. */
function capacityWithout(model: ZoneModel, lost: string): PoolCapacityLeft[] {
  const pools = [...new Set(model.nodeGroups.map((g) => g.pool))];
  return pools.map((pool) => {
    const capacity = { cpuMillis: 0, memoryMiB: 0 };
    for (const g of model.nodeGroups) {
      if (g.pool !== pool || g.zone === lost || !g.perNode) continue;
      capacity.cpuMillis += Math.floor(g.maxSize * g.perNode.cpuMillis);
      capacity.memoryMiB += Math.floor(g.maxSize * g.perNode.memoryMiB);
    }
    const needed = { cpuMillis: 0, memoryMiB: 0 };
    for (const t of model.tenants) {
      if (t.web?.pool !== pool) continue;
      needed.cpuMillis += t.requests.cpuMillis;
      needed.memoryMiB += t.requests.memoryMiB;
    }
    return { zone: lost, pool, capacity, needed, fits: needed.cpuMillis <= capacity.cpuMillis && needed.memoryMiB <= capacity.memoryMiB };
  });
}

/**
 * For each zone: per tenant, `serving` (no interruption beyond a data-store failover), `recovers`
 * (its web pods reschedule onto the zones left, which have room and a way out), or `down`.
 * Tiers that span two zones or more are owed `serving`; the others `recovers`, within their RTO.
 * Non-production stacks relax replicas, so their shortfalls are reported, not enforced.
 */
export function simulateZoneLoss(model: ZoneModel, environment: Environment): ZoneAnalysis {
  const enforced = environment === "production";
  const results: TenantZoneResult[] = [];
  const capacity: PoolCapacityLeft[] = [];
  const traefikReplicasLeft: Record<string, number> = {};
  const zoneCount = model.zones.length;
  for (const lost of model.zones) {
    const left = model.zones.filter((z) => z !== lost);
    const pools = capacityWithout(model, lost);
    capacity.push(...pools);
    const poolFits = new Map(pools.map((p) => [p.pool, p.fits]));
    const poolHasNodes = (pool: string | undefined) => model.nodeGroups.some((g) => g.pool === pool && g.zone !== lost && g.maxSize > 0);
    // Pods rescheduled into a zone pull images and reach AWS through that zone's NAT route.
    const natLeft = left.filter((z) => model.natZoneFor[z] !== undefined && model.natZoneFor[z] !== lost);
    const traefikLeft = model.traefik ? replicasLeft(model.traefik, zoneCount) : 0;
    traefikReplicasLeft[lost] = traefikLeft;

    const edge: string[] = [];
    let edgeRecovers = true;
    if (!model.traefik) {
      edge.push("no Traefik in the plan");
      edgeRecovers = false;
    } else if (traefikLeft === 0) {
      const canMove = poolHasNodes(model.traefik.pool) && natLeft.length > 0;
      edge.push(`Traefik keeps no replica (${model.traefik.replicas}, ${model.traefik.spread} spread)${canMove ? ": rescheduled" : " and cannot be rescheduled"}`);
      edgeRecovers = canMove;
    }
    const singleAzDatabases = model.databases.filter((d) => !d.multiAz);
    const singleAzCaches = model.caches.filter((c) => !c.failover);
    const filestoreLost = !model.filestoreZones.some((z) => z !== lost);

    for (const tenant of model.tenants) {
      const tier = TIERS[tenant.tier];
      const required: TenantZoneResult["required"] = tier.odooWeb.minZones >= 2 ? "serving" : "recovers";
      // A tenant whose stores are known depends on those alone; otherwise on every one of the stack.
      const reasons = [
        ...singleAzDatabases.filter((d) => tenant.database === undefined || d.id === tenant.database).map((d) => `PostgreSQL ${d.id} is single-AZ`),
        ...singleAzCaches.filter((c) => tenant.cache === undefined || c.id === tenant.cache).map((c) => `Valkey ${c.id} has no Multi-AZ failover`),
        ...(filestoreLost ? ["no EFS mount target left"] : []),
      ];
      let outcome: ZoneOutcome = reasons.length > 0 ? "down" : "serving";
      const web = tenant.web;
      const webLeft = web ? replicasLeft(web, zoneCount) : 0;
      if (!web) {
        reasons.push("no web Deployment in the plan");
        outcome = "down";
      } else if (webLeft === 0) {
        const why: string[] = [];
        if (!poolHasNodes(web.pool)) why.push(`pool ${web.pool ?? "(none)"} has no nodes left`);
        else if (poolFits.get(web.pool ?? "") === false) why.push(`pool ${web.pool} cannot hold its tenants' quotas in the zones left`);
        if (natLeft.length === 0) why.push("no NAT route left to pull images");
        reasons.push(`no web replica left (${web.replicas}, ${web.spread} spread)${why.length > 0 ? `; ${why.join("; ")}` : ": rescheduled"}`);
        if (outcome !== "down") outcome = why.length > 0 ? "down" : "recovers";
      }
      if (edge.length > 0) {
        reasons.push(...edge);
        if (outcome !== "down") outcome = edgeRecovers ? "recovers" : "down";
      }
      if (tenant.egress) {
        const cutOff = left.filter((z) => model.natZoneFor[z] === lost || model.natZoneFor[z] === undefined);
        if (cutOff.length > 0) {
          reasons.push(`egress from ${cutOff.join(", ")} went through the NAT gateway in ${lost}`);
          outcome = "down";
        }
      }
      const rank = { serving: 2, recovers: 1, down: 0 } as const;
      results.push({
        tenant: tenant.name,
        tier: tenant.tier,
        zone: lost,
        outcome,
        required,
        meets: rank[outcome] >= rank[required],
        enforced,
        webReplicasLeft: webLeft,
        webReplicas: web?.replicas ?? 0,
        reasons,
      });
    }
  }
  return { zones: model.zones, results, capacity, traefikReplicasLeft };
}

export function zoneShortfalls(analysis: ZoneAnalysis): TenantZoneResult[] {
  return analysis.results.filter((r) => !r.meets && r.enforced);
}

/** Rules that span resources: the connection budget, capacity, domains and each tier's availability. */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { ALLOCATABLE_SHARE, allocatable, connectionsPerPod, effectiveMaxConnections, JOB_CONNECTIONS_PER_TENANT } from "../tiers/sizing";
import { TIERS, type TierName } from "../tiers/catalogue";
import { cores, gibibytes } from "./isolation";
import { inNamespace, isProduction, metadataOf } from "./common";
import { TIER_TAG } from "../model/tags";
import { CRON_LABELS, NAMESPACE_ROLE_LABEL, NAMESPACE_ROLES, ODOO_CONF_CONFIGMAP, WEB_LABELS } from "../model/kubernetes";
import { POOL_LABEL } from "../model/node-pools";

const ofType = (resources: readonly PolicyResource[], type: string) => resources.filter((r) => r.type === type);

/** Reads `key = value` lines of an odoo.conf. */
export function confValue(conf: string, key: string): number | undefined {
  const match = new RegExp(`^${key}\\s*=\\s*(\\d+)\\s*$`, "m").exec(conf);
  return match ? Number(match[1]) : undefined;
}

/** The most connections a tenant's Odoo pods can open, from its ConfigMap, Deployments and autoscaler. */
export function tenantPeakConnections(resources: readonly PolicyResource[], ns: string): number {
  const config = inNamespace(resources, "kubernetes:core/v1:ConfigMap", ns).find((c) => metadataOf(c.props).name === ODOO_CONF_CONFIGMAP);
  if (!config) return 0;
  const web = String(config.props.data?.["web.conf"] ?? "");
  const cron = String(config.props.data?.["cron.conf"] ?? "");
  const deployments = inNamespace(resources, "kubernetes:apps/v1:Deployment", ns);
  const hpa = inNamespace(resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", ns)[0];
  const webDeployment = deployments.find((d) => metadataOf(d.props).labels?.app === WEB_LABELS.app);
  const cronDeployment = deployments.find((d) => metadataOf(d.props).labels?.app === CRON_LABELS.app);
  const webPods = (hpa?.props.spec?.maxReplicas as number | undefined) ?? (webDeployment?.props.spec?.replicas as number | undefined) ?? 0;
  const cronPods = (cronDeployment?.props.spec?.replicas as number | undefined) ?? 0;
  // Odoo's defaults where odoo.conf leaves a key out: db_maxconn 64, max_cron_threads 2, workers 0.
  const perPod = (conf: string) => connectionsPerPod(confValue(conf, "workers") ?? 0, confValue(conf, "max_cron_threads") ?? 2, confValue(conf, "db_maxconn") ?? 64);
  // Backup and provisioning jobs connect too, as the sizing counts them.
  return webPods * perPod(web) + cronPods * perPod(cron) + JOB_CONNECTIONS_PER_TENANT;
}

export const connectionBudgetFits: StackValidationPolicy = {
  name: "connection-budget-fits",
  description: "The connections every tenant's Odoo pods can open at peak fit the PostgreSQL server's max_connections, less what operators reserve.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { reserved: { type: "integer", default: 15, minimum: 0, description: "Connections kept for superusers, monitoring and jobs." } } },
  remediationSteps: "Choose a larger instance class (tiers/sizing.ts), lower db_maxconn, or move tenants to another stack.",
  validateStack: (args, reportViolation) => {
    // Each data shard's primary server (DR copies excluded) and the parameter group it uses.
    const servers = ofType(args.resources, "aws:rds/instance:Instance")
      .filter((i) => i.props.replicateSourceDb === undefined)
      .map((instance) => ({ instance, group: instance.dependencies.find((d) => d.type === "aws:rds/parameterGroup:ParameterGroup") }))
      .filter((s): s is { instance: PolicyResource; group: PolicyResource } => s.group !== undefined);
    const namespaces = ofType(args.resources, "kubernetes:core/v1:Namespace").filter((n) => metadataOf(n.props).labels?.[NAMESPACE_ROLE_LABEL] === NAMESPACE_ROLES.tenant);
    if (servers.length === 0 || namespaces.length === 0) return;
    // A tenant's server is the one its db_host names (RDS addresses start with the identifier).
    const serverOf = (ns: string) => {
      const conf = inNamespace(args.resources, "kubernetes:core/v1:ConfigMap", ns).find((c) => metadataOf(c.props).name === ODOO_CONF_CONFIGMAP);
      const host = /^db_host\s*=\s*(\S+)\s*$/m.exec(String(conf?.props.data?.["web.conf"] ?? ""))?.[1];
      return servers.find((s) => host !== undefined && host.split(".")[0] === s.instance.props.identifier) ?? (servers.length === 1 ? servers[0] : undefined);
    };
    // Each tenant's server, found once rather than once per server.
    const tenantServers = namespaces.map((n) => metadataOf(n.props).name!).map((ns) => ({ ns, server: serverOf(ns) }));
    const reserved = args.getConfig<{ reserved: number }>().reserved;
    for (const server of servers) {
      // A number as written, or RDS's formula (its default when unset) by the class's memory; else 0.
      const value = ((server.group.props.parameters ?? []) as { name: string; value: string }[]).find((p) => p.name === "max_connections")?.value;
      const maxConnections = effectiveMaxConnections(value, String(server.instance.props.instanceClass)) ?? 0;
      const peaks = tenantServers.filter((t) => t.server === server).map(({ ns }) => [ns, tenantPeakConnections(args.resources, ns)] as const);
      const total = peaks.reduce((sum, [, n]) => sum + n, 0);
      const room = maxConnections - reserved;
      if (total > room) {
        const where = servers.length === 1 ? "" : ` on ${String(server.instance.props.identifier)}`;
        reportViolation(`tenants${where} can open ${total} connections at peak (${peaks.map(([ns, n]) => `${ns} ${n}`).join(", ")}) but max_connections ${maxConnections} leaves ${room}: over by ${total - room}`, server.group.urn);
      }
    }
  },
};

/** Cluster name a Kubernetes resource is deployed to, from its provider's kubeconfig. */
function clusterOf(r: PolicyResource): string | undefined {
  const kubeconfig = r.provider?.props?.kubeconfig;
  if (typeof kubeconfig !== "string") return undefined;
  try {
    return (JSON.parse(kubeconfig) as { clusters?: { name: string }[] }).clusters?.[0]?.name;
  } catch {
    return undefined;
  }
}

export const quotasFitCapacity: StackValidationPolicy = {
  name: "quotas-fit-capacity",
  description: "The requests of all tenant quotas on a node pool fit that pool's allocatable capacity at its maximum size.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { allocatableShare: { type: "number", default: ALLOCATABLE_SHARE, minimum: 0.1, maximum: 1 } } },
  remediationSteps: "Raise the pool's maxPerZone, use larger instances, or move tenants.",
  validateStack: (args, reportViolation) => {
    const share = args.getConfig<{ allocatableShare: number }>().allocatableShare;
    const need = new Map<string, { cpu: number; memoryGiB: number; tenants: string[] }>();
    for (const web of ofType(args.resources, "kubernetes:apps/v1:Deployment").filter((d) => metadataOf(d.props).labels?.app === WEB_LABELS.app)) {
      const ns = metadataOf(web.props).namespace!;
      const pool = web.props.spec?.template?.spec?.nodeSelector?.[POOL_LABEL] as string | undefined;
      const quota = inNamespace(args.resources, "kubernetes:core/v1:ResourceQuota", ns)[0]?.props.spec?.hard as Record<string, string> | undefined;
      if (!pool || !quota) continue;
      const key = `${clusterOf(web)}/${pool}`;
      const entry = need.get(key) ?? { cpu: 0, memoryGiB: 0, tenants: [] };
      entry.cpu += cores(quota["requests.cpu"] ?? "0");
      entry.memoryGiB += gibibytes(quota["requests.memory"] ?? "0");
      entry.tenants.push(ns);
      need.set(key, entry);
    }
    for (const [key, entry] of need) {
      const [cluster, pool] = key.split("/");
      const groups = ofType(args.resources, "aws:eks/nodeGroup:NodeGroup").filter((g) => g.props.clusterName === cluster && g.props.labels?.[POOL_LABEL] === pool);
      // A review stack's pool belongs to its host stack, whose own plan checks it.
      if (groups.length === 0) continue;
      let cpu = 0;
      let memoryGiB = 0;
      for (const g of groups) {
        const capacity = allocatable((g.props.instanceTypes ?? []) as string[], Number(g.props.scalingConfig?.maxSize ?? 0), share);
        if (!capacity) continue;
        cpu += capacity.cpuMillis / 1000;
        memoryGiB += capacity.memoryMiB / 1024;
      }
      if (entry.cpu > cpu + 1e-9) reportViolation(`pool ${pool} of ${cluster}: tenant quotas request ${entry.cpu} vCPU, the pool offers ${cpu.toFixed(1)} at its maximum size`);
      if (entry.memoryGiB > memoryGiB + 1e-9) reportViolation(`pool ${pool} of ${cluster}: tenant quotas request ${entry.memoryGiB.toFixed(1)} GiB, the pool offers ${memoryGiB.toFixed(1)} at its maximum size`);
    }
  },
};

export const uniqueDomains: StackValidationPolicy = {
  name: "unique-domains",
  description: "No domain is routed to two tenants.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const owners = new Map<string, string>();
    for (const route of ofType(args.resources, "kubernetes:traefik.io/v1alpha1:IngressRoute")) {
      const ns = metadataOf(route.props).namespace ?? "";
      for (const r of (route.props.spec?.routes ?? []) as { match: string }[]) {
        for (const [, host] of r.match.matchAll(/Host\(`([^`]+)`\)/g)) {
          const owner = owners.get(host!);
          if (owner !== undefined && owner !== ns) reportViolation(`domain ${host} is routed to both ${[owner, ns].sort().join(" and ")}`, route.urn);
          owners.set(host!, ns);
        }
      }
    }
  },
};

export const tierAvailability: StackValidationPolicy = {
  name: "tier-availability",
  description: "Each tenant's web tier runs the replicas, zone spread, disruption budget and autoscaling its tier promises (production).",
  enforcementLevel: "mandatory",
  remediationSteps: "Use the OdooTenant component; it sizes and spreads the web tier per tier.",
  validateStack: (args, reportViolation) => {
    if (!args.resources.some((r) => isProduction(r.props))) return;
    for (const web of ofType(args.resources, "kubernetes:apps/v1:Deployment").filter((d) => metadataOf(d.props).labels?.app === WEB_LABELS.app)) {
      const { namespace: ns, labels } = metadataOf(web.props);
      const tier = labels?.[TIER_TAG] as TierName | undefined;
      if (!ns || !tier) continue;
      const contract = TIERS[tier];
      const hpa = inNamespace(args.resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", ns)[0];
      const replicas = (web.props.spec?.replicas as number | undefined) ?? (hpa?.props.spec?.minReplicas as number | undefined) ?? 1;
      if (replicas < contract.odooWeb.minReplicas) reportViolation(`${ns} runs ${replicas} web replicas; the ${tier} tier promises ${contract.odooWeb.minReplicas}`, web.urn);
      if (contract.odooWeb.minZones >= 2) {
        const spread = ((web.props.spec?.template?.spec?.topologySpreadConstraints ?? []) as { topologyKey: string; whenUnsatisfiable: string }[]).some(
          (c) => c.topologyKey === "topology.kubernetes.io/zone" && c.whenUnsatisfiable === "DoNotSchedule",
        );
        if (!spread) reportViolation(`${ns} does not force its web replicas into different zones; the ${tier} tier promises ${contract.odooWeb.minZones}`, web.urn);
      }
      const pdb = inNamespace(args.resources, "kubernetes:policy/v1:PodDisruptionBudget", ns)[0];
      const budget = contract.podDisruptionBudget;
      if (budget.kind !== "none" && pdb?.props.spec?.[budget.kind] !== budget.value) reportViolation(`${ns} has no PodDisruptionBudget with ${budget.kind} ${budget.value}`, web.urn);
      if (contract.odooWeb.autoscaled && !hpa) reportViolation(`${ns} is not autoscaled; the ${tier} tier promises it`, web.urn);
    }
  },
};

export const stackPolicies = [connectionBudgetFits, quotasFitCapacity, uniqueDomains, tierAvailability];

/**
 * The analyses of a planned stack, each reading the capture step's output (the spec, the captured
 * resources, the policy server's view of them): recovery, tenant isolation, zone loss, add-on nodes,
 * physical names and each tenant's sizing. Findings only; the evaluation turns them into violations.
 */
import { achievedRecovery, mechanismsFromResources, type RecoveryMechanisms, type RecoveryRow } from "../../tiers/recovery";
import { sizeOdoo, tenantQuota, type Compute } from "../../tiers/sizing";
import type { Environment } from "../../model/stack";
import type { TenantSpec } from "../../spec/index";
import type { TierName } from "../../tiers/catalogue";
import { workloadsFromResources } from "../../policies/data-protection";
import type { ValidPlanRun } from "../capture/run";
import { addonNodeFindings, clusterAddonModels, type AddonNodeFinding } from "./addon-nodes";
import { channelResults, type ChannelResult } from "./channels";
import { networkChannel, type IsolationFinding } from "./isolation";
import { analyseNames, type NamesAnalysis } from "./names";
import { simulateZoneLoss, zoneModelFromResources, type ZoneAnalysis } from "./zones";

/** One line per tenant of what the plan sized for it: the reports' tenant table. */
export interface TenantSummary {
  name: string;
  tier: TierName;
  /** The data shard holding its database and sessions ("" for the stack's first). */
  shard: string;
  expectedUsers: number;
  webReplicas: number;
  maxWebReplicas: number;
  workersPerPod: number;
  peakConnections: number;
  quota: { requests: Compute; limits: Compute; pods: number };
}

export function tenantSummaries(tenants: readonly TenantSpec[], environment: Environment): TenantSummary[] {
  return tenants.map((t) => {
    const sizing = sizeOdoo(t, environment);
    const quota = tenantQuota(t, environment);
    return {
      name: t.name,
      tier: t.tier,
      shard: t.shard ?? "",
      expectedUsers: t.expectedUsers,
      webReplicas: sizing.webReplicas,
      maxWebReplicas: sizing.maxWebReplicas,
      workersPerPod: sizing.workersPerPod,
      peakConnections: sizing.peakConnections,
      quota: { requests: quota.requests, limits: quota.limits, pods: quota.pods },
    };
  });
}

export interface Analysis {
  /** Every isolation finding, of every channel. */
  isolation: IsolationFinding[];
  /** Each channel a tenant has (network, database, cache, file system, IAM, jobs, hostnames, RBAC): what it checked and found. */
  isolationChannels: ChannelResult[];
  recovery: { mechanisms: RecoveryMechanisms; rows: RecoveryRow[] };
  /** Absent for review stacks: their zones are their host's. */
  zones?: ZoneAnalysis;
  addonNodes: AddonNodeFinding[];
  tenants: TenantSummary[];
  names: NamesAnalysis;
}

export function analyse(run: Pick<ValidPlanRun, "spec" | "config" | "resources" | "policyResources" | "stack" | "host">): Analysis {
  const { spec, resources } = run;
  const mechanisms = mechanismsFromResources(resources);
  const zones = spec.mode === "platform" ? simulateZoneLoss(zoneModelFromResources(resources, spec), spec.environment) : undefined;
  const isolationChannels = isolationChannelResults(run);
  return {
    isolation: isolationChannels.flatMap((c) => c.findings),
    isolationChannels,
    recovery: { mechanisms, rows: achievedRecovery(mechanisms, workloadsFromResources(run.policyResources), spec.environment) },
    ...(zones ? { zones } : {}),
    addonNodes: addonNodeFindings(clusterAddonModels(resources)),
    tenants: tenantSummaries(spec.mode === "bootstrap" ? [] : spec.tenants, spec.environment),
    names: analyseNames(resources, { defaultRegion: run.config["aws:region"] ?? "(no aws:region)" }),
  };
}

/** The isolation analysis, channel by channel: the network from the policy view, the others from the captured resources. */
export function isolationChannelResults(run: Pick<ValidPlanRun, "spec" | "resources" | "policyResources" | "stack" | "host">): ChannelResult[] {
  const network = networkChannel(run.policyResources);
  const tenantImages = run.spec.mode === "bootstrap" ? [] : run.spec.tenants.map((t) => t.odoo.image);
  return [{ channel: "network", checked: network.checked, unit: "tenant pod groups", findings: network.findings }, ...channelResults(run.resources, { tenantImages, stack: run.stack, ...(run.host ? { host: run.host } : {}) })];
}
